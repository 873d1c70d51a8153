#!/usr/bin/env bash
# Runs a Windows program under Wine, in this project's prefix, with the
# bcryptprimitives.dll shim in place; exits with the program's status.
#
# It is cargo's runner for x86_64-pc-windows-gnu (see .cargo/config.toml), so
#   cargo test --target x86_64-pc-windows-gnu -p mapisync --lib
# runs each test binary as `scripts/wine/run.sh path/to/test.exe ARGS...`.
# It also runs any other .exe:  scripts/wine/run.sh host.exe
#
# MAPISYNC_WINE_TIMEOUT=SECONDS (optional) ends a program that runs longer,
# with status 124, so a hang fails a test run instead of stalling it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if [ $# -eq 0 ]; then
  echo "usage: $0 PROGRAM.exe [ARGS...]" >&2
  exit 2
fi
wine_prefix_ready
if [ -n "${MAPISYNC_WINE_TIMEOUT:-}" ]; then
  exec timeout --kill-after=10 "$MAPISYNC_WINE_TIMEOUT" "$(wine_binary)" "$@"
fi
exec "$(wine_binary)" "$@"
