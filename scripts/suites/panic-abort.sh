#!/usr/bin/env bash
# panic = "abort" is said at build time: a provider crate that calls
# mapisync::export_server! and is built with panic = "abort" (common in
# cdylib release profiles, where it would turn every provider panic into
# the death of OUTLOOK.EXE) gets a warning naming the problem; the same
# crate built with the default panic = "unwind" gets none.
#
# The crate is written to a temporary directory with a path dependency on
# this checkout's mapisync; only `cargo check` runs (a few seconds once the
# dependencies are built in target/panic-abort).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
root="$(repo_root)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
target="${CARGO_TARGET_DIR:-$root/target}/panic-abort"

mkdir -p "$work/src"
cat >"$work/src/lib.rs" <<'RS'
#[derive(Default)]
pub struct Store;

#[mapisync::provider]
impl mapisync::MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

mapisync::export_server!(Store => "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}", Store::default);
RS

# check PANIC: prints cargo's output of a `cargo check` of the crate built with that panic strategy.
check() {
  cat >"$work/Cargo.toml" <<TOML
[workspace]
[package]
name = "panic-abort-provider"
version = "0.0.0"
edition = "2024"
publish = false
[lib]
crate-type = ["cdylib"]
[dependencies]
mapisync = { path = "$root/mapisync" }
[profile.dev]
panic = "$1"
TOML
  # Touch the source so cargo reports the crate's warnings again.
  touch "$work/src/lib.rs"
  (cd "$work" && cargo check --quiet --target-dir "$target" 2>&1)
}

failed=0
note='panic = "abort": a panic in a provider ends the host process'
abort="$(check abort)"
if grep -qF "$note" <<<"$abort"; then
  echo "ok: panic = \"abort\" is reported:"
  grep -F -A3 "$note" <<<"$abort" | sed 's/^/    /'
else
  echo "FAIL: a provider built with panic = \"abort\" got no warning. cargo said:"
  printf '%s\n' "$abort" | sed 's/^/    /'
  failed=1
fi
unwind="$(check unwind)"
if [ -z "$unwind" ]; then
  echo "ok: panic = \"unwind\" builds without a warning"
else
  echo "FAIL: a provider built with panic = \"unwind\" got output:"
  printf '%s\n' "$unwind" | sed 's/^/    /'
  failed=1
fi
exit "$failed"
