#!/usr/bin/env bash
# docs.rs: builds mapisync's documentation the way docs.rs does
# ([package.metadata.docs.rs] in runtime/Cargo.toml: the Windows target,
# --cfg docsrs, every feature) and checks that the Windows-only items
# (register, unregister, install, Scope) are there with their "Available
# on Windows only" badge, and that the test-only host module is documented.
#
# docs.rs uses nightly for #[doc(cfg)]; this uses the stable toolchain with
# RUSTC_BOOTSTRAP=1 for that one feature, since nightly here has no Windows
# standard library.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

readonly TARGET=x86_64-pc-windows-gnu
need_target "$TARGET" || exit 0
grep -q "default-target = \"x86_64-pc-windows-msvc\"" runtime/Cargo.toml ||
  { echo "FAIL: runtime/Cargo.toml: docs.rs does not build for Windows"; exit 1; }
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/docs-rs"
features="$(sed -n '/^\[package.metadata.docs.rs\]/,/^\[/s/^features = \[\(.*\)\]/\1/p' runtime/Cargo.toml | tr -d '" ')"
RUSTC_BOOTSTRAP=1 RUSTDOCFLAGS="--cfg docsrs -D warnings" \
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
exit "$failed"
