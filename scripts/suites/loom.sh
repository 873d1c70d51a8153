#!/usr/bin/env bash
# loom: model-checks the reference count and the sync's busy/running/done
# protocol (runtime/src/loom_models.rs, and the engine's gate in
# engine/src/gate.rs) under every interleaving within the
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
: >"$log"
status=0
# Only the loom models: other tests would touch loom atomics outside a model.
# The runtime's models compile the engine's source into the runtime (its
# lib.rs), so they run on loom's atomics in both halves; the engine's own
# (the gate's) run in the engine's tests too.
for package in mapisync-engine mapisync-runtime; do
  cargo test --release -p "$package" --lib loom_models -- --nocapture --test-threads 1 >>"$log" 2>&1 || status=$?
done
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
