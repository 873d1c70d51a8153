#!/usr/bin/env bash
# MSRV: the four published crates (mapisync, mapisync-runtime,
# mapisync-engine, mapisync-macros) and the example provider DLLs build with the oldest Rust
# the workspace promises (`rust-version` in Cargo.toml). Installs that
# toolchain with rustup if it is absent (minimal profile); locally a refused
# install is a printed skip, under CI=true a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
[ -n "$msrv" ] || { echo "FAILED: msrv: no rust-version in Cargo.toml"; exit 1; }
if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
  echo "installing: rust $msrv"
  rustup toolchain install "$msrv" --profile minimal >/dev/null 2>&1 || { missing "rust toolchain $msrv" || exit 0; }
fi
# Its own target dir: another compiler's artifacts would only evict the main build's.
export CARGO_TARGET_DIR="$PWD/target/msrv"
packages=(-p mapisync -p mapisync-runtime -p mapisync-engine -p mapisync-macros)
for manifest in examples/*/Cargo.toml; do
  packages+=(-p "$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -1)")
done
echo "msrv: cargo +$msrv check --lib ${packages[*]}"
if ! out=$(cargo "+$msrv" check --lib "${packages[@]}" 2>&1); then
  echo "$out" | tail -40
  echo "FAILED: msrv: rust $msrv cannot build the crates"
  exit 1
fi
# The published crates build without warnings too: an older compiler's
# lints (Rust 1.85 found a constant used only by `const _` blocks dead)
# reach every user on it. (Cargo replays a crate's warnings on every check.)
if grep -qE '^warning: `mapisync(-macros|-runtime|-engine)?` \(lib\) generated' <<<"$out"; then
  echo "$out" | grep -B2 -A12 -E '^warning' | head -60
  echo "FAILED: msrv: rust $msrv warns about mapisync, mapisync-runtime, mapisync-engine or mapisync-macros"
  exit 1
fi
echo "msrv: rust $msrv builds the libraries of $(( ${#packages[@]} / 2 )) packages"
