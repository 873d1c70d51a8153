#!/usr/bin/env bash
# AddressSanitizer with leak detection: the runtime's tests and the
# integration tests built with nightly `-Zsanitizer=address`, then the C++
# host of tests/cpp built with `g++ -fsanitize=address` running against the
# example provider .so built with the same nightly ASan flags. (The .so is
# not linked against an ASan runtime of its own: rustc leaves that to the
# executable, and the g++-built host brings GCC's libasan, which serves the
# Rust code's instrumentation too.) Any memory error or leak fails the run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

target=x86_64-unknown-linux-gnu
[ "$(uname -sm)" = "Linux x86_64" ] || { missing "AddressSanitizer run (needs Linux x86_64)" || exit 0; }
rustup toolchain list | grep -q '^nightly' || { missing "the nightly toolchain" || exit 0; }
need_target "$target" nightly || exit 0

# A target dir of its own: instrumented artefacts never mix with plain ones.
export CARGO_TARGET_DIR="$PWD/target/asan"
export RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes"
export RUSTDOCFLAGS="$RUSTFLAGS"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="report_objects=1"

start=$SECONDS
echo "-- Rust tests under ASan + LeakSanitizer"
# trybuild (runs rustc itself) and cpp_host (rebuilds the .so without these
# flags) are left out here; the C++ host runs under ASan below.
log="$CARGO_TARGET_DIR/asan-tests.log"
mkdir -p "$CARGO_TARGET_DIR"
status=0
{
  cargo +nightly test --target "$target" -p mapisync-engine -p mapisync-runtime -p mapisync --features mapisync/host &&
  cargo +nightly test --target "$target" -p mapisync-tests \
    --test raw_vtable --test stress --test hardening --test conformance --test aggregation --test object_size
} >"$log" 2>&1 || status=$?
grep -E "^test result|ERROR: |SUMMARY: |panicked" "$log" || true
if [ "$status" -ne 0 ] || grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer" "$log"; then
  grep -B5 -A40 -E "ERROR: |^error|FAILED" "$log" | head -120
  echo "FAILED: Rust tests under AddressSanitizer"
  exit 1
fi
passed=$(grep -oE "test result: ok\. [0-9]+ passed" "$log" | awk '{s+=$4} END {print s+0}')
echo "rust tests under ASan: $passed tests passed in $((SECONDS - start)) s"

start=$SECONDS
echo "-- C++ host (g++ -fsanitize=address) against the ASan-built provider .so"
command -v g++ >/dev/null || need_apt g++ || exit 0
cargo +nightly build --quiet --target "$target" -p mapisync-example-provider
library="$CARGO_TARGET_DIR/$target/debug/libmapisync_example_provider.so"
host="$CARGO_TARGET_DIR/cpp-host-asan"
g++ -std=c++17 -Wall -Wextra -Werror -O1 -g -fsanitize=address -fno-omit-frame-pointer \
  -o "$host" tests/cpp/host.cpp -ldl -pthread
output=$("$host" "$library" 2>&1) || { echo "$output" | tail -60; echo "FAILED: C++ host under AddressSanitizer"; exit 1; }
last=$(echo "$output" | tail -1)
echo "$last"
case "$last" in
  *" passed, 0 failed") ;;
  *) echo "$output" | tail -60; echo "FAILED: C++ host under AddressSanitizer"; exit 1 ;;
esac
if echo "$output" | grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer"; then
  echo "$output" | grep -A30 "ERROR: "; echo "FAILED: sanitizer report from the C++ host"; exit 1
fi
echo "C++ host under ASan: passed in $((SECONDS - start)) s"
