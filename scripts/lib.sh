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
