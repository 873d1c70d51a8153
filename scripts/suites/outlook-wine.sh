#!/usr/bin/env bash
# The outlook-store example the way Outlook reaches it, under Wine: MAPI's
# entry points and MAPISVC.INF, for x64 and x86 alike.
#
# 1. installs mingw-w64 (x86-64 and i686), Wine (wine64 and wine32:i386)
#    and the rust targets, if absent; makes the Wine prefix run 32-bit
#    programs (scripts/wine/env.sh);
# 2. for each of x64 (x86_64-pc-windows-gnu, the 64-bit loader) and x86
#    (i686-pc-windows-gnu, the 32-bit loader and the 32-bit rundll32):
#    runs the example's Rust tests under Wine; builds the DLL and stages it
#    as mapisync_outlook_store32.dll (the name MAPI loads); merges it into a
#    sample MAPISVC.INF with `rundll32 ...,MergeWithMAPISVC` (twice: the
#    second run must change nothing); builds the C++ host
#    tests/cpp/mapi_host/mapi_host.cpp against mingw-w64's MAPI headers and
#    runs it (50 rounds of LoadLibrary, MSProviderInit, Logon, two syncs,
#    the first with a session that answers IID_IMAPISession, StoreLogoff,
#    Logoff, Shutdown, FreeLibrary; then two provider instances in one
#    process, Shutdown racing MSProviderInit, StoreLogoff on another
#    thread), requiring its last line `N passed, 0 failed`; runs it again
#    as `mapi_host.exe MAPISVC.INF fast-shutdown` (IMAPIProviderShutdown
#    while a sync runs, then exit without Shutdown), requiring exit status
#    0 and the state the cancelled sync persisted; then `RemoveFromMAPISVC` must give back the
#    original file byte for byte; then MAPISVC.INF files as they are found:
#    UTF-16LE and UTF-8 with a byte order mark (merged and restored byte for
#    byte), in a folder whose name is not ASCII, and read-only (refused,
#    untouched, no temporary file left).
#
# Locally a missing tool is a printed skip; under CI=true it is a failure
# (wine32 included).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

readonly ROUNDS="${MAPISYNC_OUTLOOK_ROUNDS:-50}"
readonly DLL_NAME=mapisync_outlook_store
suite_start outlook-wine
need_wine_suite || exit 0

# sample_inf FILE: a MAPISVC.INF as Office ships one (CRLF, a Windows-1252
# byte in another service's display name).
sample_inf() {
  printf '%s\r\n' "[Services]" "MSPST MS=Personal Folders" "CONTAB=Outlook Address Book" "" \
    "[Default Services]" "MSPST MS=Personal Folders" "" \
    "[MSPST MS]" "PR_DISPLAY_NAME=Dossiers personnels (caf$(printf '\351'))" "Providers=MSPST MSP" \
    "PR_SERVICE_DLL_NAME=mspst.dll" "PR_SERVICE_ENTRY_NAME=PSTServiceEntry" "" \
    "[MSPST MSP]" "PR_PROVIDER_DLL_NAME=mspst.dll" "PR_RESOURCE_TYPE=MAPI_STORE_PROVIDER" >"$1"
}

# stage TRIPLE: builds the DLL for TRIPLE and copies it where the runs use it,
# under the name MAPI loads; prints the staging directory. It is inside the
# prefix's C: drive, so the DLL's Windows path (C:\mapisync-outlook\...)
# has no period but the one MAPI inserts "32" before, wherever the clone is.
stage() {
  local dir="$WINEPREFIX/drive_c/mapisync-outlook/$1"
  cargo build --quiet --target "$1" -p mapisync-outlook-store
  mkdir -p "$dir"
  cp -f "$target_dir/$1/debug/$DLL_NAME.dll" "$dir/${DLL_NAME}32.dll"
  echo "$dir"
}

# build_host COMPILER DIR: the C++ host, statically linked (Wine has no mingw DLLs).
build_host() {
  "$1" -std=c++17 -Wall -Wextra -Werror -O1 -static -o "$2/mapi_host.exe" tests/cpp/mapi_host/mapi_host.cpp -lole32 -luuid
}

# rundll32 WINE DIR EXPORT: runs DIR's DLL's EXPORT on DIR/MAPISVC.INF.
rundll32() {
  local dll inf
  dll="$("$1" winepath -w "$2/${DLL_NAME}32.dll" 2>/dev/null | tr -d '\r')"
  inf="$("$1" winepath -w "$2/MAPISVC.INF" 2>/dev/null | tr -d '\r')"
  "$1" rundll32 "$dll,$3" "$inf" </dev/null
}

# mapi_round_trip WINE DIR LABEL: merge, host, remove, with DIR's builds.
mapi_round_trip() {
  local wine="$1" dir="$2" label="$3" inf_windows log last
  sample_inf "$dir/original.inf"
  cp -f "$dir/original.inf" "$dir/MAPISVC.INF"
  rundll32 "$wine" "$dir" MergeWithMAPISVC
  grep -q "^PR_PROVIDER_DLL_NAME=.*\\\\${DLL_NAME}.dll"$'\r'"$" "$dir/MAPISVC.INF" \
    || fail "$label: MergeWithMAPISVC did not add the provider section to $dir/MAPISVC.INF"
  cp -f "$dir/MAPISVC.INF" "$dir/merged-once.inf"
  rundll32 "$wine" "$dir" MergeWithMAPISVC
  cmp "$dir/merged-once.inf" "$dir/MAPISVC.INF" || fail "$label: a second MergeWithMAPISVC changed the file"
  echo "ok: $label: MergeWithMAPISVC added the service, and a second run changed nothing"

  inf_windows="$("$wine" winepath -w "$dir/MAPISVC.INF" 2>/dev/null | tr -d '\r')"
  log="$dir/mapi_host.log"
  status=0
  run_host "$wine" "$dir/mapi_host.exe" "$inf_windows" >"$log.raw" || status=$?
  tr -d '\r' <"$log.raw" >"$log"
  # The first round's checks, and every failed check of the later rounds.
  grep -v '^ok   - round [2-9]' "$log" | grep -v '^ok   - round [1-9][0-9]' || true
  last="$(tail -n1 "$log")"
  [[ "$last" =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]] || fail "$label: the host's last line is '$last'"
  [ "$status" -eq 0 ] || fail "$label: the host exited with status $status"
  echo "ok: $label: mapi_host: $last"
  summary+=("$label: $last")
  fast_shutdown "$wine" "$dir" "$label" "$inf_windows"

  rundll32 "$wine" "$dir" RemoveFromMAPISVC
  cmp "$dir/original.inf" "$dir/MAPISVC.INF" || fail "$label: RemoveFromMAPISVC did not restore the file byte for byte"
  echo "ok: $label: RemoveFromMAPISVC restored MAPISVC.INF byte for byte"

  # From a folder with a period in its name MAPI could not load the DLL
  # (it inserts "32" at the first period): Merge must leave the file alone.
  mkdir -p "$dir/My.App"
  cp -f "$dir/${DLL_NAME}32.dll" "$dir/original.inf" "$dir/My.App/"
  cp -f "$dir/original.inf" "$dir/My.App/MAPISVC.INF"
  rundll32 "$wine" "$dir/My.App" MergeWithMAPISVC 2>/dev/null
  cmp "$dir/original.inf" "$dir/My.App/MAPISVC.INF" || fail "$label: MergeWithMAPISVC wrote a path MAPI cannot load"
  echo "ok: $label: MergeWithMAPISVC refuses a DLL path with another period (My.App), leaving the file alone"
}

# fast_shutdown WINE DIR LABEL INF: the host's fast-shutdown run, a process
# of its own: its checks, exit status 0 (nothing crashed at the exit without
# Shutdown or FreeLibrary), and the state the provider's cancelled sync
# persisted beside MAPISVC.INF.
fast_shutdown() {
  local wine="$1" dir="$2" label="$3" log="$2/mapi_host-fast.log" last status=0
  rm -f "$dir/mapisync-sync.state"
  run_host "$wine" "$dir/mapi_host.exe" "$4" fast-shutdown >"$log.raw" || status=$?
  tr -d '\r' <"$log.raw" >"$log"
  cat "$log"
  last="$(tail -n1 "$log")"
  [[ "$last" =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]] || fail "$label: fast shutdown: the host's last line is '$last'"
  [ "$status" -eq 0 ] || fail "$label: fast shutdown: the host exited with status $status"
  grep -q '^cancelled after [0-9] of 3 steps' "$dir/mapisync-sync.state" 2>/dev/null \
    || fail "$label: fast shutdown: the provider's sync persisted no state in $dir/mapisync-sync.state"
  echo "ok: $label: fast shutdown: $last, exit status 0, the sync's state: $(tr -d '\r' <"$dir/mapisync-sync.state")"
  summary+=("$label: fast shutdown: $last")
}

# run_host WINE EXE ARGS...: the host under WINE, with the suite's time limit.
run_host() {
  local wine="$1"
  shift
  timeout --kill-after=10 "$MAPISYNC_WINE_TIMEOUT" "$wine" "$@" "$ROUNDS" </dev/null 2>&1
}

# real_world_infs WINE DIR LABEL: MAPISVC.INF files as they are found.
real_world_infs() {
  local wine="$1" dir="$2" label="$3" case_dir
  # UTF-16LE and UTF-8, each with its byte order mark.
  sample_inf "$dir/original.inf"
  { printf '\377\376'; iconv -f WINDOWS-1252 -t UTF-16LE "$dir/original.inf"; } >"$dir/utf16.inf"
  { printf '\357\273\277'; iconv -f WINDOWS-1252 -t UTF-8 "$dir/original.inf"; } >"$dir/utf8.inf"
  for kind in utf16 utf8; do
    cp -f "$dir/$kind.inf" "$dir/MAPISVC.INF"
    rundll32 "$wine" "$dir" MergeWithMAPISVC
    if [ "$kind" = utf16 ]; then
      iconv -f UTF-16 -t UTF-8 "$dir/MAPISVC.INF" | grep -q "^PR_PROVIDER_DLL_NAME=.*${DLL_NAME}.dll"$'\r'"$" \
        || fail "$label: MergeWithMAPISVC did not add the provider section, as UTF-16, to a UTF-16LE file"
    else
      [ "$(grep -c '\[Services\]' "$dir/MAPISVC.INF")" -eq 1 ] || fail "$label: a UTF-8 file with a BOM got a second [Services]"
      grep -q "^PR_PROVIDER_DLL_NAME=.*${DLL_NAME}.dll" "$dir/MAPISVC.INF" || fail "$label: nothing merged into the UTF-8 file"
    fi
    rundll32 "$wine" "$dir" RemoveFromMAPISVC
    cmp "$dir/$kind.inf" "$dir/MAPISVC.INF" || fail "$label: $kind: RemoveFromMAPISVC did not restore the file byte for byte"
    echo "ok: $label: a $kind MAPISVC.INF with a byte order mark: merged in its encoding, restored byte for byte"
  done

  # A folder whose name is not ASCII ("é": 0xE9 in Windows-1252).
  case_dir="$dir/caf$(printf '\303\251')"
  mkdir -p "$case_dir"
  cp -f "$dir/original.inf" "$case_dir/MAPISVC.INF"
  rundll32_inf "$wine" "$dir" "$case_dir/MAPISVC.INF" MergeWithMAPISVC
  grep -q "^PR_PROVIDER_DLL_NAME=.*${DLL_NAME}.dll" "$case_dir/MAPISVC.INF" \
    || fail "$label: MergeWithMAPISVC did not reach a MAPISVC.INF in a folder named café"
  rundll32_inf "$wine" "$dir" "$case_dir/MAPISVC.INF" RemoveFromMAPISVC
  cmp "$dir/original.inf" "$case_dir/MAPISVC.INF" || fail "$label: café: RemoveFromMAPISVC did not restore the file"
  echo "ok: $label: a MAPISVC.INF in a folder named café: merged and restored byte for byte"

  # Read-only: refused with a message, the file untouched, nothing left beside it.
  cp -f "$dir/original.inf" "$dir/MAPISVC.INF"
  chmod a-w "$dir/MAPISVC.INF"
  local said
  said="$(rundll32 "$wine" "$dir" MergeWithMAPISVC 2>&1 | tr -d '\r')"
  chmod u+w "$dir/MAPISVC.INF"
  cmp "$dir/original.inf" "$dir/MAPISVC.INF" || fail "$label: MergeWithMAPISVC changed a read-only MAPISVC.INF"
  [ ! -e "$dir/MAPISVC.INF.mapisync-tmp" ] || fail "$label: a temporary file was left beside the read-only MAPISVC.INF"
  grep -q "read-only" <<<"$said" || fail "$label: no read-only message from MergeWithMAPISVC (it said: '$said')"
  echo "ok: $label: a read-only MAPISVC.INF is refused ($said), untouched"
}

# rundll32_inf WINE DIR INF EXPORT: DIR's DLL's EXPORT on the file INF.
rundll32_inf() {
  local dll inf
  dll="$("$1" winepath -w "$2/${DLL_NAME}32.dll" 2>/dev/null | tr -d '\r')"
  inf="$("$1" winepath -w "$3" 2>/dev/null | tr -d '\r')"
  "$1" rundll32 "$dll,$4" "$inf" </dev/null
}

# platform TRIPLE COMPILER WINE LABEL: every step for one bitness.
platform() {
  local triple="$1" compiler="$2" wine="$3" label="$4" dir tests
  section "$label: cargo test --target $triple -p mapisync-outlook-store (under Wine)"
  tests="$(cargo test --quiet --target "$triple" -p mapisync-outlook-store 2>&1)" || { printf '%s\n' "$tests"; fail "$label: the Rust tests failed"; }
  grep -E "^test result|FAILED|panicked" <<<"$tests"
  summary+=("$label: Rust tests under Wine: $(grep -E '^test result' <<<"$tests" | awk '{ p += $4; f += $6 } END { print p " passed, " f " failed" }')")

  section "$label: the DLL, MAPISVC.INF and the MAPI host ($ROUNDS rounds)"
  dir="$(stage "$triple")"
  build_host "$compiler" "$dir"
  mapi_round_trip "$wine" "$dir" "$label"

  section "$label: real-world MAPISVC.INF files (UTF-16LE, UTF-8 BOM, non-ASCII folder, read-only)"
  real_world_infs "$wine" "$dir" "$label"
}

summary=()
platform x86_64-pc-windows-gnu x86_64-w64-mingw32-g++ "$(wine_binary)" x64
if [ -n "$have_wine32" ]; then
  platform i686-pc-windows-gnu i686-w64-mingw32-g++ "$(wine32_binary)" x86
else
  section "x86: the DLL (i686-pc-windows-gnu) and the host (i686-w64-mingw32-g++), not run"
  dir32="$(stage i686-pc-windows-gnu)"
  build_host i686-w64-mingw32-g++ "$dir32"
  echo "SKIP: x86 under Wine: no 32-bit Wine (see above); the x86 builds were checked"
  summary+=("x86: built; not run (no 32-bit Wine)")
fi

section "summary"
printf '%s\n' "${summary[@]}"
