#!/usr/bin/env bash
# The build a provider DLL gets: mapisync (the facade and mapisync-runtime)
# without its `host` feature (the host simulator and conformance checker),
# on Linux and on Windows. A
# workspace build never sees it, since the test crates turn `host` on for
# every member; this checks that it builds with no warning (an item only
# the host uses would otherwise be dead code there) and that it does not
# contain the host module.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

targets=("")
if need_target x86_64-pc-windows-gnu >/dev/null 2>&1; then
  targets+=(x86_64-pc-windows-gnu)
fi
for target in "${targets[@]}"; do
  echo "provider build: cargo clippy -p mapisync-engine -p mapisync-runtime -p mapisync --lib ${target:+--target $target} -- -D warnings"
  cargo clippy --quiet -p mapisync-engine -p mapisync-runtime -p mapisync --lib ${target:+--target "$target"} -- -D warnings
done
# The provider-shaped crate of scripts/compile-time.sh gets no host module.
if cargo tree -e normal,features -p mapisync-example-provider 2>/dev/null | grep -q 'mapisync feature "host"'; then
  echo "FAIL: the example provider DLL's normal build turns on mapisync's host feature"
  exit 1
fi
echo "ok: the example provider DLL builds mapisync without host"
