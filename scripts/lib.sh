# Shared shell functions for the test scripts: finding the repository,
# installing tools idempotently and quietly, and the CI/local skip rule.
# Source it; it defines functions only.

repo_root() { git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel; }

# A missing tool fails under CI=true and is a printed skip locally.
# Usage: missing "what is missing" || return   (returns 1 locally, exits 1 in CI)
missing() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $1 (required under CI=true)" >&2
    exit 1
  fi
  echo "SKIP: $1" >&2
  return 1
}

_apt_updated=""
# need_apt PACKAGE...: installs the Debian packages that are not installed yet.
need_apt() {
  local absent=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || absent+=("$p")
  done
  [ ${#absent[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  if [ -z "$_apt_updated" ]; then
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    _apt_updated=1
  fi
  echo "installing: ${absent[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${absent[@]}" >/dev/null 2>&1 \
    || missing "apt packages ${absent[*]} could not be installed"
}

# need_target TRIPLE [TOOLCHAIN]: rustup target add, if absent.
need_target() {
  local tc="${2:-stable}"
  rustup "+$tc" target list --installed 2>/dev/null | grep -qx "$1" && return 0
  rustup "+$tc" target add "$1" >/dev/null 2>&1 || missing "rust target $1 ($tc)"
}

# need_component COMPONENT [TOOLCHAIN]: rustup component add, if absent.
need_component() {
  local tc="${2:-nightly}"
  rustup "+$tc" component list --installed 2>/dev/null | grep -q "^$1" && return 0
  rustup "+$tc" component add "$1" >/dev/null 2>&1 || missing "rust component $1 ($tc)"
}

# need_cargo_tool BINARY CRATE: cargo install, if the binary is absent.
need_cargo_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing: cargo $2"
  cargo install --quiet --locked "$2" >/dev/null 2>&1 || missing "cargo tool $2"
}

# need_wine32: installs Debian's 32-bit Wine (wine32:i386, beside wine64)
# if absent, adding the i386 architecture first. On failure prints apt's
# exact errors, then fails under CI=true and is a printed skip locally.
need_wine32() {
  dpkg-query -W -f='${Status}' wine32:i386 2>/dev/null | grep -q "install ok installed" && return 0
  local sudo="" update install
  [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  echo "installing: wine32:i386"
  if ! install="$($sudo dpkg --add-architecture i386 2>&1)"; then
    printf 'dpkg --add-architecture i386: %s\n' "$install" >&2
    missing "wine32:i386 (dpkg --add-architecture i386 failed)"
    return
  fi
  update="$($sudo apt-get update 2>&1)" || true
  if install="$(DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=900 install -y \
    --no-install-recommends wine32:i386 2>&1)"; then
    return 0
  fi
  echo "apt-get could not install wine32:i386. apt's errors:" >&2
  printf '%s\n' "$update" | grep -E '^(E|Err):' >&2 || true
  printf '%s\n' "$install" | grep -E '^(E:| [^ ].*: (Pre)?Depends:| +Depends:)' >&2 || printf '%s\n' "$install" | tail -n 20 >&2
  missing "wine32:i386 (see apt's errors above)"
}

# suite_start NAME: what every suite script sets up first. Defines
# `section TITLE` (prints a heading and names the current step) and
# `fail MESSAGE` (prints MESSAGE and fails the step), makes any failing
# command print "FAIL: NAME: STEP", and sets target_dir to cargo's target
# directory. Call it after `cd "$(repo_root)"`.
suite_start() {
  _suite="$1"
  step="setup"
  section() {
    step="$*"
    echo
    echo "== $_suite: $*"
  }
  fail() {
    echo "$*" >&2
    false
  }
  trap 'echo "FAIL: $_suite: $step" >&2' ERR
  target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
}

# need_wine_suite: the setup of a suite that runs Windows builds under Wine,
# x64 and x86 (after suite_start): mingw-w64, Wine and the rust targets
# x86_64- and i686-pc-windows-gnu installed, scripts/wine/env.sh sourced,
# the prefix ready, cargo's runners set to scripts/wine/run.sh with a time
# limit (MAPISYNC_WINE_TIMEOUT, 300 s unless set). Sets have_wine32 to 1 when
# the prefix runs 32-bit programs, otherwise to "" (a printed skip; under
# CI=true a failure). Returns 1 when a tool is missing (a printed skip
# locally: the caller exits 0); exits 1 when the prefix cannot be made.
need_wine_suite() {
  section "tools (mingw-w64, Wine, rust targets x86_64- and i686-pc-windows-gnu)"
  need_apt gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 gcc-mingw-w64-i686 g++-mingw-w64-i686 wine64 || return 1
  need_target x86_64-pc-windows-gnu || return 1
  need_target i686-pc-windows-gnu || return 1
  have_wine32=1
  need_wine32 || have_wine32=""
  source "$(repo_root)/scripts/wine/env.sh"
  wine_binary >/dev/null || { missing "a Wine loader (wine64 package installed, but no wine64 binary found)" || return 1; }

  section "Wine prefix ($WINEPREFIX)"
  # Called as `need_wine_suite || exit 0`, where set -e does not apply: exit here.
  wine_prefix_ready || { echo "FAIL: $_suite: the Wine prefix $WINEPREFIX is not ready (see above)" >&2; exit 1; }
  if [ -n "$have_wine32" ] && ! wine32_ready; then
    missing "a Wine prefix that runs 32-bit programs (see the error above)" || have_wine32=""
  fi
  # The runner is in .cargo/config.toml too; the absolute path here also
  # holds when a developer's own config names another runner. Every test
  # binary and host gets a time limit, so a hang fails instead of stalling.
  local runner
  runner="$(repo_root)/scripts/wine/run.sh"
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$runner"
  export CARGO_TARGET_I686_PC_WINDOWS_GNU_RUNNER="$runner"
  export MAPISYNC_WINE_TIMEOUT="${MAPISYNC_WINE_TIMEOUT:-300}"
}
