#!/usr/bin/env bash
# The outlook-store example the way Outlook reaches it, under Wine: MAPI's
# entry points and MAPISVC.INF, for x64 and, where 32-bit Wine installs, x86.
#
# 1. installs mingw-w64 (x86-64 and i686), Wine and the rust targets, if absent;
# 2. x64: runs the example's Rust tests under Wine; builds the DLL and
#    stages it as mapisync_outlook_store32.dll (the name MAPI loads); merges
#    it into a sample MAPISVC.INF with `rundll32 ...,MergeWithMAPISVC`
#    (twice: the second run must change nothing); builds the C++ host
#    tests/cpp/mapi_host/mapi_host.cpp against mingw-w64's MAPI headers and runs it
#    (50 rounds of LoadLibrary, MSProviderInit, Logon, two syncs,
#    StoreLogoff, Logoff, Shutdown, FreeLibrary), requiring its last line
#    `N passed, 0 failed`; then `RemoveFromMAPISVC` must give back the
#    original file byte for byte;
# 3. x86: builds the DLL for i686-pc-windows-gnu and the host with
#    i686-w64-mingw32-g++, then tries to install 32-bit Wine
#    (dpkg --add-architecture i386; apt-get install wine32). If apt
#    refuses, its error is printed and only the 32-bit run is skipped (also
#    under CI=true: the cause is outside this repository); if it installs,
#    steps 2's merge, host and remove run again with the x86 builds.
#
# Locally a missing tool is a printed skip; under CI=true it is a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

readonly ROUNDS="${MAPISYNC_OUTLOOK_ROUNDS:-50}"
readonly DLL_NAME=mapisync_outlook_store
step="setup"
section() {
  step="$*"
  echo
  echo "== outlook-wine: $*"
}
trap 'echo "FAIL: outlook-wine: $step" >&2' ERR
fail() {
  echo "$*" >&2
  false
}

section "tools (mingw-w64 x86-64 and i686, Wine, rust targets)"
need_apt gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 gcc-mingw-w64-i686 g++-mingw-w64-i686 wine64 || exit 0
need_target x86_64-pc-windows-gnu || exit 0
need_target i686-pc-windows-gnu || exit 0
source scripts/wine/env.sh
wine_binary >/dev/null || { missing "a Wine loader (wine64 package installed, but no wine64 binary found)" || exit 0; }
wine_prefix_ready
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/scripts/wine/run.sh"
export MAPISYNC_WINE_TIMEOUT="${MAPISYNC_WINE_TIMEOUT:-300}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

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
  summary+=("$label: $last")
}

# run_host WINE EXE ARGS...: the host under WINE, with the suite's time limit.
run_host() {
  local wine="$1"
  shift
  timeout --kill-after=10 "$MAPISYNC_WINE_TIMEOUT" "$wine" "$@" "$ROUNDS" </dev/null 2>&1
}

summary=()

section "x64: cargo test --target x86_64-pc-windows-gnu -p mapisync-outlook-store (under Wine)"
cargo test --quiet --target x86_64-pc-windows-gnu -p mapisync-outlook-store 2>&1 | grep -E "^test result|FAILED|panicked"

section "x64: the DLL, MAPISVC.INF and the MAPI host ($ROUNDS rounds)"
dir64="$(stage x86_64-pc-windows-gnu)"
build_host x86_64-w64-mingw32-g++ "$dir64"
mapi_round_trip "$(wine_binary)" "$dir64" "x64"

section "x86: the DLL (i686-pc-windows-gnu) and the host (i686-w64-mingw32-g++)"
dir32="$(stage i686-pc-windows-gnu)"
build_host i686-w64-mingw32-g++ "$dir32"
echo "built: $dir32/${DLL_NAME}32.dll and $dir32/mapi_host.exe"

# wine32_installed: installs wine32 (i386) unless it is there; on apt's
# refusal prints apt's error lines and returns 1.
wine32_installed() {
  dpkg-query -W -f='${Status}' wine32:i386 2>/dev/null | grep -q "install ok installed" && return 0
  local sudo="" update install
  [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  $sudo dpkg --add-architecture i386 || { echo "dpkg --add-architecture i386 failed" >&2; return 1; }
  update="$($sudo apt-get update 2>&1)" || true
  if install="$(DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends wine32:i386 2>&1)"; then
    return 0
  fi
  echo "apt-get could not install wine32. apt's errors:" >&2
  printf '%s\n' "$update" | grep -E '^(E|Err):' >&2 || true
  printf '%s\n' "$install" | grep -E '^(E:| [^ ].*: (Pre)?Depends:| +Depends:)' >&2 || printf '%s\n' "$install" | tail -n 20 >&2
  return 1
}

# wine32_ready: prints the 32-bit Wine loader once wine32 is installed and
# the prefix runs x86 programs (syswow64 populated, with an x86 build of the
# bcryptprimitives.dll shim); returns 1 when wine32 cannot be had.
wine32_ready() {
  local loader=/usr/lib/wine/wine
  wine32_installed || return 1
  [ -x "$loader" ] || { echo "wine32 is installed, but there is no $loader" >&2; return 1; }
  "$loader" wineboot -u </dev/null >/dev/null 2>&1 || { echo "wineboot -u with $loader failed" >&2; return 1; }
  i686-w64-mingw32-gcc -shared -O2 -s -static-libgcc -Wall -Wextra -Werror \
    -o "$WINEPREFIX/drive_c/windows/syswow64/bcryptprimitives.dll" scripts/wine/bcryptprimitives.c -ladvapi32
  echo "$loader"
}

section "x86: 32-bit Wine (wine32)"
if wine32="$(wine32_ready)"; then
  mapi_round_trip "$wine32" "$dir32" "x86"
else
  echo "SKIP: x86 under Wine: wine32 is not installable here (see apt's error above); the x86 builds were checked"
  summary+=("x86: built; not run (wine32 not installable)")
fi

section "summary"
printf '%s\n' "${summary[@]}"
