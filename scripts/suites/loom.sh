#!/usr/bin/env bash
# loom: model-checks the reference count and the sync's busy/running/done
# protocol (runtime/src/loom_models.rs) under every interleaving within the
# preemption bound, with the runtime's atomics swapped for loom's
# (`--cfg loom`). Prints the executions explored per model.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

# `--cfg loom` changes every crate's flags: a target dir of its own.
export CARGO_TARGET_DIR="$PWD/target/loom"
export RUSTFLAGS="--cfg loom"
start=$SECONDS
log="$CARGO_TARGET_DIR/loom.log"
mkdir -p "$CARGO_TARGET_DIR"
status=0
# Only the loom models: other tests would touch loom atomics outside a model.
cargo test --release -p mapisync-runtime --lib loom_models -- --nocapture --test-threads 1 >"$log" 2>&1 || status=$?
grep -oE "loom: .* executions explored|^test result.*|.*panicked.*" "$log" || true
if [ "$status" -ne 0 ]; then
  tail -60 "$log"
  echo "FAILED: loom"
  exit 1
fi
models=$(grep -oE "loom: .* executions explored" "$log" | wc -l)
[ "$models" -ge 13 ] || { tail -30 "$log"; echo "FAILED: loom ran $models models, expected 13"; exit 1; }
total=$(grep -oE "[0-9]+ executions explored" "$log" | awk '{s+=$1} END {print s+0}')
echo "loom: $models models, $total executions explored in $((SECONDS - start)) s"
