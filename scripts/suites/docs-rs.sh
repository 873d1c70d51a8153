#!/usr/bin/env bash
# docs.rs: builds mapisync's documentation the way docs.rs does
# ([package.metadata.docs.rs] in mapisync/Cargo.toml: the Windows target,
# --cfg docsrs for rustdoc, its rustc-args for every rustc, every feature)
# and checks that the Windows-only items (register, unregister, install,
# Scope) are there with their "Available on Windows only" badge, and that
# the test-only host module is documented with its feature's badge.
#
# The items are mapisync-runtime's, shown inline on mapisync's pages; their
# #[doc(cfg)] is set when rustc compiles the runtime, which rustdoc's
# --cfg docsrs does not reach: docs.rs passes the metadata's rustc-args
# (--cfg mapisync_docsrs, a name no other crate reacts to) as RUSTFLAGS.
#
# docs.rs uses nightly for #[doc(cfg)]; this uses the stable toolchain with
# RUSTC_BOOTSTRAP=1 for that one feature, since nightly here has no Windows
# standard library.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

readonly TARGET=x86_64-pc-windows-gnu
need_target "$TARGET" || exit 0
grep -q "default-target = \"x86_64-pc-windows-msvc\"" mapisync/Cargo.toml ||
  { echo "FAIL: mapisync/Cargo.toml: docs.rs does not build for Windows"; exit 1; }
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/docs-rs"
# metadata KEY: the docs.rs table's list KEY = [...], without quotes and commas.
metadata() { sed -n "/^\[package.metadata.docs.rs\]/,/^\[/s/^$1 = \[\(.*\)\]/\1/p" mapisync/Cargo.toml | tr -d '"' | tr ',' ' '; }
features="$(metadata features | tr -d ' ')"
rustc_args="$(metadata rustc-args)"
[ -n "$rustc_args" ] || { echo "FAIL: mapisync/Cargo.toml: no rustc-args for docs.rs (the runtime's badges)"; exit 1; }
# shellcheck disable=SC2086 # the arguments are words
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$(echo $rustc_args)" RUSTDOCFLAGS="--cfg docsrs -D warnings" \
  cargo doc --quiet -p mapisync --no-deps --target "$TARGET" --target-dir "$target_dir" ${features:+--features "$features"}
docs="$target_dir/$TARGET/doc/mapisync"
failed=0
for page in server/enum.Scope.html server/fn.register.html server/fn.unregister.html server/fn.install.html; do
  if grep -q "Available on <strong>Windows</strong> only" "$docs/$page" 2>/dev/null; then
    echo "ok: $page (Windows only)"
  else
    echo "FAIL: $page is missing or has no Windows-only badge"
    failed=1
  fi
done
for page in host/index.html struct.GUID.html; do
  if [ -f "$docs/$page" ]; then
    echo "ok: $page documented"
  else
    echo "FAIL: $page is not documented"
    failed=1
  fi
done
if grep -q "Available on <strong>crate feature <code>host</code></strong> only" "$docs/host/index.html" 2>/dev/null; then
  echo "ok: host/index.html (feature host only)"
else
  echo "FAIL: host/index.html has no badge for the host feature"
  failed=1
fi
exit "$failed"
