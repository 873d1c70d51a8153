#!/usr/bin/env bash
# Runs a Windows program under Wine, in this project's prefix, with the
# bcryptprimitives.dll shim in place; exits with the program's status.
#
# It is cargo's runner for x86_64-pc-windows-gnu (see .cargo/config.toml), so
#   cargo test --target x86_64-pc-windows-gnu -p mapisync --lib
# runs each test binary as `scripts/wine/run.sh path/to/test.exe ARGS...`.
# It also runs any other .exe:  scripts/wine/run.sh host.exe
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if [ $# -eq 0 ]; then
  echo "usage: $0 PROGRAM.exe [ARGS...]" >&2
  exit 2
fi
wine_prefix_ready
exec "$(wine_binary)" "$@"
