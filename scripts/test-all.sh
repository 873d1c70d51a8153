#!/usr/bin/env bash
# The whole test suite: `cargo test` for the workspace, then every suite in
# scripts/suites/ (C++ hosts, Windows under Wine, Miri, sanitizers, loom,
# fuzzing). Installs what the suites need first (idempotent and quiet).
# Locally a missing tool is a printed skip; under CI=true it is a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(repo_root)"

# The C++ host test (tests/cpp_host.rs) builds with g++ inside cargo test.
need_apt g++ || true

echo "== cargo test --workspace"
cargo test --workspace --quiet

status=0
for suite in scripts/suites/*.sh; do
  [ -e "$suite" ] || continue
  echo "== $suite"
  bash "$suite" || { echo "FAILED: $suite"; status=1; }
done
exit $status
