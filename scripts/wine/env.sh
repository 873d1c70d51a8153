# Wine settings for running this project's Windows builds, and the
# function that makes the Wine prefix ready. Source it; it defines
# variables and functions only.
#
# The prefix lives inside the clone (target/wine-prefix, git-ignored): it
# is created on first use (about 7 s) and reused after that (runs then start
# in under a second). Set MAPISYNC_WINE_PREFIX to put it elsewhere.
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
wine_binary() {
  local candidate
  for candidate in wine64 wine /usr/lib/wine/wine64 /usr/lib64/wine/wine64; do
    if command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# wineserver_binary: prints the wineserver that goes with wine_binary.
wineserver_binary() {
  local candidate
  for candidate in wineserver /usr/lib/wine/wineserver /usr/lib/wine/wineserver64 /usr/lib64/wine/wineserver; do
    if command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
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
    local shim="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
    if [ ! -e "$shim" ] || [ "$_wine_dir/bcryptprimitives.c" -nt "$shim" ]; then
      x86_64-w64-mingw32-gcc -shared -O2 -s -static-libgcc -Wall -Wextra -Werror \
        -o "$shim.tmp" "$_wine_dir/bcryptprimitives.c" -ladvapi32 \
        || { echo "wine: building the bcryptprimitives.dll shim failed" >&2; exit 1; }
      mv -f "$shim.tmp" "$shim"
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

# wine_run PROGRAM [ARGS...]: runs a Windows program (or Wine's own, such as
# regsvr32 or reg) in the ready prefix.
wine_run() {
  wine_prefix_ready || return 1
  "$(wine_binary)" "$@"
}
