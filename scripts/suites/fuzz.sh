#!/usr/bin/env bash
# cargo-fuzz: the `synchronize` target (fuzz/fuzz_targets/synchronize.rs)
# for a bounded time, starting from the checked-in seed corpus
# (fuzz/corpus/synchronize). Arbitrary MAPISIB contents and host behaviour;
# every invariant the contract promises is checked on every input, under
# AddressSanitizer and LeakSanitizer. Prints the executions count.
# FUZZ_SECONDS sets the time (default 60).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

seconds="${FUZZ_SECONDS:-60}"
[ "$(uname -s)" = Linux ] || { missing "cargo-fuzz run (needs Linux)" || exit 0; }
rustup toolchain list | grep -q '^nightly' || { missing "the nightly toolchain" || exit 0; }
# cargo-fuzz from crates.io (about a minute to build on two cores).
need_cargo_tool cargo-fuzz cargo-fuzz || exit 0

export CARGO_TARGET_DIR="$PWD/target/fuzz"
# New inputs go to a scratch corpus; the checked-in seeds are only read.
scratch="$CARGO_TARGET_DIR/corpus/synchronize"
mkdir -p "$scratch"
log="$CARGO_TARGET_DIR/fuzz.log"
cd fuzz
status=0
cargo +nightly fuzz run synchronize "$scratch" corpus/synchronize -- \
  -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1 || status=$?
runs=$(grep -oE "^Done [0-9]+ runs in [0-9]+ second" "$log" | tail -1 || true)
if [ "$status" -ne 0 ] || [ -z "$runs" ]; then
  grep -vE "^#[0-9]+" "$log" | tail -80
  echo "FAILED: cargo fuzz run synchronize (the failing input is in fuzz/artifacts/synchronize/)"
  exit 1
fi
grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" || true
echo "fuzz: synchronize: $(echo "$runs" | awk '{print $2}') executions in $(echo "$runs" | awk '{print $5}') s, no invariant broken"
