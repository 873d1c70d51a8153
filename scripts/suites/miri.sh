#!/usr/bin/env bash
# Miri: the engine's and the runtime's unit tests and doctests and the facade's doctests
# (the README's examples), then the integration tests
# that drive objects through raw vtables (threads and the worker path
# included), once under Stacked Borrows (Miri's default) and once under Tree
# Borrows. Any undefined behaviour, data race or leak fails the run.
# Prints how many tests ran under each model.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

need_component miri nightly || exit 0
need_component rust-src nightly || exit 0
export CARGO_TARGET_DIR="$PWD/target/miri"
cargo +nightly miri setup >/dev/null 2>&1 || cargo +nightly miri setup

# Tests that cannot run under Miri are skipped in their own files, each with
# its reason: the C++ host (spawns g++), trybuild (runs rustc), the
# windows-core #[implement] store (windows-core itself fails Stacked
# Borrows) and the mailbox example (reads files under isolation).
integration=(--test raw_vtable --test stress --test hardening --test conformance --test aggregation --test lifecycle --test lifecycle_kept)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for model in stacked tree; do
  flags="${MIRIFLAGS:-}"
  [ "$model" = tree ] && flags="$flags -Zmiri-tree-borrows"
  start=$SECONDS
  : >"$log"
  MIRIFLAGS="$flags" cargo +nightly miri test -p mapisync-engine -p mapisync-runtime -p mapisync --features mapisync/host 2>&1 | tee -a "$log" | grep -E "^test result|^error|panicked" || true
  MIRIFLAGS="$flags" cargo +nightly miri test -p mapisync-tests "${integration[@]}" 2>&1 | tee -a "$log" | grep -E "^test result|^error|panicked" || true
  if grep -qE "^error|test result: FAILED" "$log"; then
    grep -B2 -A30 -E "^error" "$log" | head -80
    echo "FAILED: miri ($model borrows)"
    exit 1
  fi
  passed=$(grep -oE "test result: ok\. [0-9]+ passed" "$log" | awk '{s+=$4} END {print s+0}')
  echo "miri ($model borrows): $passed tests passed in $((SECONDS - start)) s"
done
