#!/usr/bin/env bash
# Runs a Windows program under Wine, in this project's prefix, with the
# bcryptprimitives.dll shim in place; exits with the program's status.
#
# It is cargo's runner for x86_64-pc-windows-gnu (see .cargo/config.toml), so
#   cargo test --target x86_64-pc-windows-gnu -p mapisync-runtime --lib
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
limit=()
[ -n "${MAPISYNC_WINE_TIMEOUT:-}" ] && limit=(timeout --kill-after=10 "$MAPISYNC_WINE_TIMEOUT")
# A crash in a Windows program makes Wine start its debugger, which prints
# the crash and ends the process with status 0 (Wine passes on only the low
# byte of the exception code, and a stub's 0x80000100 has none). Wine says
# "starting debugger" on stderr every time: keep a copy of stderr and turn
# such a run into a failure.
loader="$(wine_loader_for "$1")"
# 32-bit programs run without RUST_BACKTRACE: under Wine 8 the default panic
# hook's stack walk in an i686-pc-windows-gnu test binary that links the
# `windows` crate page-faults (a caught panic then crashes the test binary).
# The panic's text is still printed.
[ "$loader" = "$(wine32_binary 2>/dev/null)" ] && export RUST_BACKTRACE=0
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
set +e
{ "${limit[@]}" "$loader" "$@" 2>&1 1>&3 3>&- | tee "$errors" >&2; } 3>&1
status=${PIPESTATUS[0]}
set -e
if [ "$status" -eq 0 ] && grep -q "starting debugger" "$errors"; then
  echo "wine: $1 crashed (Wine started its debugger; see above) although its status was 0" >&2
  status=1
fi
# Wine passes on the low byte of a Windows exit code; name the two that a
# crashing test binary gives.
case $status in
  9) echo "wine: $1 exited with status 9, likely 0xC0000409 (a fail-fast abort, e.g. std::process::abort);" \
       "libtest captures the message of a test that aborts: rerun it with -- --nocapture" >&2 ;;
  53) echo "wine: $1 exited with status 53, likely 0xC0000135 (a DLL it imports is missing from the prefix)" >&2 ;;
  124) echo "wine: $1 ran longer than MAPISYNC_WINE_TIMEOUT=$MAPISYNC_WINE_TIMEOUT s and was stopped" >&2 ;;
esac
exit "$status"
