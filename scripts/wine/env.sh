# Wine settings for running this project's Windows builds, and the
# function that makes the Wine prefix ready. Source it; it defines
# variables and functions only.
#
# The prefix lives inside the clone (target/wine-prefix, git-ignored): it
# is created on first use (about 7 s) and reused after that (runs then start
# in under a second). Set MAPISYNC_WINE_PREFIX to put it elsewhere.
#
# x86: with Debian's wine32:i386 installed beside wine64, the same (win64,
# WoW64) prefix runs 32-bit programs with the 32-bit loader
# (/usr/lib/wine/wine), provided its C:\windows\syswow64 was filled while
# wine32 was installed. A prefix that wine64 made before wine32 came has an
# empty syswow64, and every 32-bit program fails there ("could not load
# kernel32.dll, status c0000135"). wine_prefix_ready therefore records, in
# the marker .mapisync-wow64, that the prefix was made or updated with
# wine32 present and a 32-bit program ran; without the marker (and with
# wine32 there) it runs `wineboot -u` with the 64-bit loader, and if 32-bit
# programs still fail, makes the prefix anew.
#
# Wine runs quiet (WINEDEBUG=-all) and headless: the Mono and Gecko
# installers, the only parts of prefix creation that ask questions, are
# disabled, and no display is needed. Nothing is written outside the prefix.

_wine_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_wine_repo="$(git -C "$_wine_dir" rev-parse --show-toplevel)"

export WINEPREFIX="${MAPISYNC_WINE_PREFIX:-$_wine_repo/target/wine-prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
# mscoree (Mono) and mshtml (Gecko) disabled, so wineboot never offers to
# download them; winemenubuilder disabled, so Wine writes no menu entries or
# file associations into the user's home directory.
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=;winemenubuilder.exe=d}"
export WINEARCH=win64

# wine_binary: prints the 64-bit Wine loader. Debian's wine64 package puts it
# in /usr/lib/wine without a link on PATH unless the `wine` package is there.
wine_binary() { _wine_first_command wine64 wine /usr/lib/wine/wine64 /usr/lib64/wine/wine64; }

# _wine_first_command CANDIDATE...: prints the first CANDIDATE (a name on
# PATH or an absolute path) that is an executable command.
_wine_first_command() {
  local candidate
  for candidate in "$@"; do
    if command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# wine32_binary: prints the 32-bit Wine loader, when wine32 is installed.
wine32_binary() { _wine_first_command /usr/lib/wine/wine /usr/lib/i386-linux-gnu/wine/wine; }

# wine_loader_for PROGRAM: prints the loader for a Windows program: the
# 32-bit one for an x86 PE file (machine 0x14c), the 64-bit one otherwise
# (Wine's own programs, such as rundll32, are named without a path: 64-bit).
wine_loader_for() {
  local machine=""
  if [ -f "$1" ]; then
    local pe
    pe=$(od -An -tu4 -j60 -N4 "$1" 2>/dev/null | tr -d ' ')
    [ -n "$pe" ] && machine=$(od -An -tx2 -j$((pe + 4)) -N2 "$1" 2>/dev/null | tr -d ' ')
  fi
  if [ "$machine" = "014c" ]; then
    wine32_binary || { echo "wine: $1 is a 32-bit program, and wine32 (the 32-bit loader) is not installed" >&2; return 1; }
  else
    wine_binary
  fi
}

# wineserver_binary: prints the wineserver that goes with wine_binary.
wineserver_binary() {
  _wine_first_command wineserver /usr/lib/wine/wineserver /usr/lib/wine/wineserver64 /usr/lib64/wine/wineserver
}

# wine_prefix_ready: creates the prefix if needed and installs the
# bcryptprimitives.dll shim (rebuilt when its source changes). Safe to call
# from several processes at once: they take turns on a lock file.
# Returns non-zero, with a message on stderr, when something is missing.
wine_prefix_ready() {
  local wine server
  wine="$(wine_binary)" || { echo "wine: no Wine loader (install the wine64 package)" >&2; return 1; }
  server="$(wineserver_binary)" || { echo "wine: no wineserver (install the wine64 package)" >&2; return 1; }
  command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 \
    || { echo "wine: no x86_64-w64-mingw32-gcc to build the bcryptprimitives.dll shim (install gcc-mingw-w64-x86-64)" >&2; return 1; }

  mkdir -p "$(dirname "$WINEPREFIX")"
  (
    flock 9
    local ready="$WINEPREFIX/.mapisync-ready"
    if [ ! -e "$ready" ]; then
      # A prefix without the marker was interrupted half-way: start over.
      rm -rf "$WINEPREFIX"
      echo "wine: creating the prefix $WINEPREFIX" >&2
      # No display: wineboot's "updating configuration" window is skipped.
      DISPLAY= WAYLAND_DISPLAY= "$wine" wineboot -i </dev/null >/dev/null 2>&1 \
        || { echo "wine: wineboot -i failed in $WINEPREFIX" >&2; exit 1; }
      : >"$ready"
    fi
    _wine_shim x86_64-w64-mingw32-gcc system32 || exit 1
    if wine32_binary >/dev/null; then
      _wine_wow64_ready "$wine" || exit 1
      if command -v i686-w64-mingw32-gcc >/dev/null 2>&1; then
        _wine_shim i686-w64-mingw32-gcc syswow64 || exit 1
      fi
    fi
  ) 9>"$WINEPREFIX.lock" || return 1
  # Start the prefix's wineserver and Wine's own background programs
  # (services.exe, winedevice.exe, ...) here, detached from our output,
  # unless the server already runs. Otherwise the first program started them
  # with its stdout and stderr, and a caller reading those through a pipe
  # would wait until they exit. They stay up for a while after the last
  # program ends, so consecutive test binaries start fast.
  if "$server" -p"${MAPISYNC_WINESERVER_LINGER:-10}" </dev/null >/dev/null 2>&1; then
    "$wine" cmd.exe /c exit 0 </dev/null >/dev/null 2>&1 || true
  fi
}

# _wine_shim COMPILER DIR: builds the bcryptprimitives.dll shim into
# C:\windows\DIR (system32: x64; syswow64: x86) when absent or older than
# its source or this file. --kill-at: the x86 export is `ProcessPrng`, as
# Windows names it, not stdcall's decorated `ProcessPrng@8`.
_wine_shim() {
  local shim="$WINEPREFIX/drive_c/windows/$2/bcryptprimitives.dll"
  [ -e "$shim" ] && [ ! "$_wine_dir/bcryptprimitives.c" -nt "$shim" ] && [ ! "${BASH_SOURCE[0]}" -nt "$shim" ] && return 0
  mkdir -p "$(dirname "$shim")"
  "$1" -shared -O2 -s -static-libgcc -Wall -Wextra -Werror -Wl,--kill-at \
    -o "$shim.tmp" "$_wine_dir/bcryptprimitives.c" -ladvapi32 \
    || { echo "wine: building the $2 bcryptprimitives.dll shim with $1 failed" >&2; return 1; }
  mv -f "$shim.tmp" "$shim"
}

# _wine_wow64_ready WINE64: makes the prefix run 32-bit programs (see the
# top of this file), once; records it in .mapisync-wow64. Called under the
# prefix lock. On failure prints what the 32-bit loader said.
_wine_wow64_ready() {
  local wine="$1" wine32 marker="$WINEPREFIX/.mapisync-wow64" out
  [ -e "$marker" ] && return 0
  wine32="$(wine32_binary)"
  echo "wine: filling $WINEPREFIX's syswow64 for 32-bit programs (wineboot -u with $wine)" >&2
  DISPLAY= WAYLAND_DISPLAY= "$wine" wineboot -u </dev/null >/dev/null 2>&1 || true
  if ! out="$(WINEDEBUG=err+all "$wine32" cmd.exe /c exit 0 </dev/null 2>&1)"; then
    echo "wine: 32-bit programs still fail after wineboot -u: making the prefix anew" >&2
    "$(wineserver_binary)" -k 2>/dev/null || true
    rm -rf "$WINEPREFIX"
    DISPLAY= WAYLAND_DISPLAY= "$wine" wineboot -i </dev/null >/dev/null 2>&1 \
      || { echo "wine: wineboot -i failed in $WINEPREFIX" >&2; return 1; }
    : >"$WINEPREFIX/.mapisync-ready"
    _wine_shim x86_64-w64-mingw32-gcc system32 || return 1
    if ! out="$(WINEDEBUG=err+all "$wine32" cmd.exe /c exit 0 </dev/null 2>&1)"; then
      echo "wine: the 32-bit loader $wine32 cannot run programs in the new prefix $WINEPREFIX:" >&2
      printf '%s\n' "$out" | tail -n 5 >&2
      return 1
    fi
  fi
  : >"$marker"
}

# wine32_ready: returns 0 when the prefix runs 32-bit programs (wine32
# installed, syswow64 filled, the x86 shim built); otherwise prints why.
wine32_ready() {
  wine32_binary >/dev/null || { echo "wine: wine32 (the 32-bit loader, package wine32:i386) is not installed" >&2; return 1; }
  command -v i686-w64-mingw32-gcc >/dev/null 2>&1 \
    || { echo "wine: no i686-w64-mingw32-gcc to build the x86 bcryptprimitives.dll shim (install gcc-mingw-w64-i686)" >&2; return 1; }
  wine_prefix_ready || return 1
  [ -e "$WINEPREFIX/.mapisync-wow64" ] || { echo "wine: $WINEPREFIX does not run 32-bit programs (see above)" >&2; return 1; }
}

# wine_run PROGRAM [ARGS...]: runs a Windows program (or Wine's own, such as
# regsvr32 or reg) in the ready prefix.
wine_run() {
  wine_prefix_ready || return 1
  "$(wine_loader_for "$1")" "$@"
}
