#!/usr/bin/env bash
# Windows under Wine: the Rust tests built for x86_64-pc-windows-gnu, and the
# example provider DLL driven by the C++ host through real Windows COM
# (regsvr32, CoCreateInstance, Win32 events, WaitForSingleObject).
#
# Every step runs for x64 (x86_64-pc-windows-gnu, Wine's 64-bit loader) and
# again for x86 (i686-pc-windows-gnu, the 32-bit loader of wine32:i386, in
# the same WoW64 prefix; 32-bit reg and regsvr32, so the registry checks
# read the 32-bit view).
#
# 1. installs mingw-w64 and Wine 8 (apt: wine64, wine32:i386) and the rustup
#    targets, if absent;
# 2. makes the Wine prefix (target/wine-prefix) and its bcryptprimitives.dll
#    shims, and makes it run 32-bit programs (scripts/wine/env.sh);
# 3. runs `cargo test --target TRIPLE` under Wine for the
#    runtime's unit tests (done event, in-proc server, registration), the
#    integration tests of mapisync-tests that do not need a compiler
#    (trybuild tests are left to the Linux run) and the example provider's
#    tests;
# 4. builds mapisync_example_provider.dll and the C++ host (tests/cpp) with
#    mingw g++ and runs the host, which registers the DLL itself (HKCU, then
#    HKLM: Wine's CoCreateInstance ignores HKCU), creates the object with
#    CoCreateInstance and unregisters; requires its last line
#    `N passed, 0 failed` and exit 0, and that it left no key behind;
# 5. registers the DLL with regsvr32 (HKLM) and regsvr32 /n /i:user (HKCU),
#    checks InprocServer32 (this DLL, ThreadingModel Both), and checks that
#    /u removes each key.
#
# Locally a missing tool (wine32 included) is a printed skip; under CI=true
# it is a failure. Any failing step makes the script exit non-zero.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

readonly CLSID="{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}"
suite_start windows-wine
# Failed test runs are collected, so one failing binary does not hide the
# rest; the script still exits non-zero at the end.
failed=()
# finish: ends the script (after a printed skip, or at the end), failing if a
# test run failed.
finish() {
  if [ ${#failed[@]} -gt 0 ]; then
    printf 'FAILED: %s\n' "${failed[@]}" >&2
    exit 1
  fi
  exit 0
}
cargo_test() {
  local what="cargo test --target $TARGET $*"
  cargo test --quiet --no-fail-fast --target "$TARGET" "$@" 2>&1 | tee -a "$log" || {
    echo "FAILED: $what" >&2
    failed+=("$what")
  }
}

need_wine_suite || exit 0
wine64="$(wine_binary)"
echo "wine: $wine64 ($("$wine64" --version))"
echo "prefix ready, with the bcryptprimitives.dll shim${have_wine32:+s (x64 and x86), running 32-bit programs}"
summary=()

# wine_as PROGRAM [ARGS...]: runs Wine's own PROGRAM (reg, regsvr32,
# winepath) with this pass's loader: 64- or 32-bit, so the registry is seen
# as a program of that bitness sees it.
wine_as() { "$wine" "$@"; }

# one_target TRIPLE G++ WINE LABEL: every step below, for one bitness.
one_target() {
  TARGET="$1"
  local gxx="$2" label="$4"
  wine="$3"
  log="$target_dir/$TARGET/windows-wine.log"
  mkdir -p "$(dirname "$log")"
  : >"$log"

  section "$label: cargo test --target $TARGET -p mapisync-runtime --lib --tests (under Wine)"
  cargo_test -p mapisync-runtime --lib --tests

  # Every [[test]] of mapisync-tests except those that run trybuild, which
  # would need a Rust compiler inside Wine.
  integration=()
  while read -r name path; do
    if grep -q "trybuild::" "tests/$path"; then
      echo "not under Wine: $name (trybuild compiles Rust code; it runs on Linux)"
    else
      integration+=(--test "$name")
    fi
  done < <(awk '
    /^\[\[test\]\]/ { in_test = 1; name = ""; path = ""; next }
    /^\[/ { in_test = 0 }
    in_test && /^name *=/ { gsub(/.*= *"|".*/, ""); name = $0 }
    in_test && /^path *=/ { gsub(/.*= *"|".*/, ""); path = $0 }
    in_test && name != "" && path != "" { print name, path; in_test = 0 }
  ' tests/Cargo.toml)
  [ ${#integration[@]} -gt 0 ] || fail "no integration tests found in tests/Cargo.toml"

  section "$label: cargo test --target $TARGET -p mapisync-tests ${integration[*]} (under Wine)"
  cargo_test -p mapisync-tests "${integration[@]}"

  section "$label: example provider DLL: its tests under Wine, then the DLL (-p mapisync-example-provider)"
  if [ ! -f examples/provider-dll/Cargo.toml ]; then
    missing "examples/provider-dll (the example provider DLL) is not in the tree" || return 0
  fi
  cargo_test -p mapisync-example-provider --lib --tests
  cargo build --quiet --target "$TARGET" -p mapisync-example-provider
  dll="$target_dir/$TARGET/debug/mapisync_example_provider.dll"
  [ -f "$dll" ] || fail "cargo build did not produce $dll"
  echo "built: $dll"
  # Totals over every test binary's "test result:" line (a binary that
  # crashed or aborted prints none; the failed cargo runs count those).
  rust_summary="$(awk -v runs="${#failed[@]}" '
    /^test result:/ { binaries++; passed += $4; failed += $6 }
    END { printf "%d passed, %d failed, in the %d test binaries that reported; failed cargo test runs: %d", passed, failed, binaries, runs }
  ' "$log")"
  echo "Rust under Wine: $rust_summary"

  section "$label: C++ host ($gxx)"
  host_sources=(tests/cpp/*.cpp)
  [ -f "${host_sources[0]}" ] || { missing "tests/cpp/*.cpp (the C++ host) is not in the tree" || return 0; }
  host="$target_dir/$TARGET/cpp-host/mapisync_host.exe"
  mkdir -p "$(dirname "$host")"
  # -static: libgcc, libstdc++ and winpthread linked in, as Wine has none of
  # mingw's DLLs.
  "$gxx" -std=c++17 -Wall -Wextra -Werror -O1 -static \
    -o "$host" "${host_sources[@]}" -lole32 -luuid -ladvapi32
  echo "built: $host"

  dll_windows="$(wine_as winepath -w "$dll" 2>/dev/null | tr -d '\r')"
  [ -n "$dll_windows" ] || fail "winepath could not name $dll"
  machine_key="HKLM\\Software\\Classes\\CLSID\\$CLSID"
  user_key="HKCU\\Software\\Classes\\CLSID\\$CLSID"

  # reg_value KEY NAME: prints a REG_SZ value ("" for the default value), or fails.
  reg_value() {
    local out
    if [ -z "$2" ]; then
      out="$(wine_as reg query "$1" /ve 2>/dev/null | tr -d '\r')" || return 1
    else
      out="$(wine_as reg query "$1" /v "$2" 2>/dev/null | tr -d '\r')" || return 1
    fi
    printf '%s\n' "$out" | sed -n 's/^ *[^ ].*REG_SZ *//p' | head -n1
  }
  key_exists() { wine_as reg query "$1" >/dev/null 2>&1; }

  # expect_registered KEY: the key names this DLL, threading model Both.
  expect_registered() {
    local path model
    path="$(reg_value "$1\\InprocServer32" "")" || fail "$1\\InprocServer32 is missing"
    model="$(reg_value "$1\\InprocServer32" ThreadingModel)" || fail "$1\\InprocServer32 has no ThreadingModel"
    [ "${path,,}" = "${dll_windows,,}" ] || fail "$1\\InprocServer32 names '$path', expected '$dll_windows'"
    [ "$model" = "Both" ] || fail "$1\\InprocServer32 ThreadingModel is '$model', expected 'Both'"
    echo "ok: $1\\InprocServer32 = $path, ThreadingModel = $model"
  }
  expect_absent() {
    if key_exists "$1"; then fail "$1 is still there $2"; fi
    echo "ok: no $1 $2"
  }

  # The class is registered in the shared prefix from here on: one run at a time.
  exec 8>"$WINEPREFIX.registration.lock"
  flock 8

  section "$label: C++ host under Wine (registration, CoCreateInstance, WaitForSingleObject, CloseHandle)"
  # The host registers the DLL itself (DllInstall "user", DllRegisterServer),
  # creates the object with CoCreateInstance and unregisters at the end.
  # Start from a prefix where no earlier run left the class registered.
  wine_as reg delete "$machine_key" /f >/dev/null 2>&1 || true
  wine_as reg delete "$user_key" /f >/dev/null 2>&1 || true
  host_log="$target_dir/$TARGET/cpp-host/host.log"
  status=0
  scripts/wine/run.sh "$host" "$dll_windows" </dev/null 2>&1 | tr -d '\r' | tee "$host_log" || status=$?
  [ "$status" -eq 0 ] || fail "the C++ host exited with status $status"
  last="$(tail -n1 "$host_log")"
  [[ "$last" =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]] || fail "the C++ host's last line is '$last', expected 'N passed, 0 failed'"
  echo "C++ host under Wine: $last"
  expect_absent "$machine_key" "after the host's DllUnregisterServer"
  expect_absent "$user_key" "after the host's DllInstall(FALSE, \"user\")"

  section "$label: regsvr32 (DllRegisterServer, HKLM) and regsvr32 /u (DllUnregisterServer)"
  wine_as regsvr32 /s "$dll" </dev/null || fail "regsvr32 $dll failed with status $?"
  expect_registered "$machine_key"
  expect_absent "$user_key" "after a machine-wide registration"
  wine_as regsvr32 /s /u "$dll" </dev/null || fail "regsvr32 /u $dll failed with status $?"
  expect_absent "$machine_key" "after regsvr32 /u"

  section "$label: regsvr32 /n /i:user (DllInstall, HKCU) and regsvr32 /u /n /i:user"
  wine_as regsvr32 /s /n /i:user "$dll" </dev/null || fail "regsvr32 /n /i:user $dll failed with status $?"
  expect_registered "$user_key"
  expect_absent "$machine_key" "after a per-user registration"
  wine_as regsvr32 /s /u /n /i:user "$dll" </dev/null || fail "regsvr32 /u /n /i:user $dll failed with status $?"
  expect_absent "$user_key" "after regsvr32 /u /n /i:user"

  flock -u 8
  summary+=("$label: Rust under Wine: $rust_summary" "$label: C++ host under Wine: $last" "$label: regsvr32 round trips (HKLM, HKCU): ok")
}

one_target x86_64-pc-windows-gnu x86_64-w64-mingw32-g++ "$wine64" x64
if [ -n "$have_wine32" ]; then
  one_target i686-pc-windows-gnu i686-w64-mingw32-g++ "$(wine32_binary)" x86
else
  summary+=("x86: not run (no 32-bit Wine; see above)")
fi

section "summary"
printf '%s\n' "${summary[@]}"
finish
