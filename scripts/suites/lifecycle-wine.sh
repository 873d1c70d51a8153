#!/usr/bin/env bash
# The lifecycle (issue 11) under Wine, with the real Windows loader, for x64
# (x86_64-pc-windows-gnu) and again for x86 (i686-pc-windows-gnu, with the
# 32-bit loader of wine32:i386 in the same WoW64 prefix):
#
# 1. `cargo test --target x86_64-pc-windows-gnu -p mapisync-tests --test
#    lifecycle --test lifecycle_kept --test lifecycle_cycles` under Wine: cancel, drain, shutdown and
#    DllCanUnloadNow through raw vtables (thread handles, Win32 events);
# 2. builds mapisync_lifecycle_dll.dll (tests/lifecycle-dll) and the
#    lifecycle host (tests/cpp/lifecycle) with mingw g++, and runs the host:
#    100 cycles of LoadLibrary, a sync cancelled inside Progress, the DLL's
#    shutdown entry, FreeLibrary at once; 100 cycles with a thread-local
#    destructor that sleeps, FreeLibrary at DllCanUnloadNow's first S_OK;
#    10 cycles with a provider that ignores the cancel; then two hosts of
#    their own: an unload right after a shutdown inside a kept job's
#    Progress (kept_unload.cpp), 20 reloads after a timed-out shutdown
#    (stubborn_reload.cpp), and DllCanUnloadNow polled while a job kept
#    past its sync lives (kept_job_can_unload.cpp), and stores shut down
#    in 17 MAPI-like orders (unload_orders modes 3 to 9, 12 to 21), then FreeLibrary: the DLL unloads, no thread
#    handle is left open, no call deadlocks (unload_orders.cpp, a process
#    per mode). Each
#    requires its last line `N passed, 0 failed` and exit 0 (a crash after
#    an unload ends it early).
#
# Locally a missing tool (wine32 included) is a printed skip; under CI=true
# it is a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

suite_start lifecycle-wine
need_wine_suite || exit 0
summary=()

# one_target TRIPLE G++ LABEL: the steps below, for one bitness.
one_target() {
  TARGET="$1"
  local gxx="$2" label="$3"

  section "$label: cargo test --target $TARGET -p mapisync-tests --test lifecycle --test lifecycle_kept --test lifecycle_cycles (under Wine)"
  cargo test --quiet --target "$TARGET" -p mapisync-tests --test lifecycle --test lifecycle_kept --test lifecycle_cycles 2>&1 |
    tee "$target_dir/lifecycle-wine-rust.log"
  results="$(grep -E '^test result:' "$target_dir/lifecycle-wine-rust.log" || true)"
  [ "$(grep -c '^test result: ok\.' <<<"$results")" -eq 3 ] ||
    fail "the Rust lifecycle tests did not all pass under Wine: '$results'"
  rust_result="$(grep -oE '^test result: ok\. [0-9]+ passed' <<<"$results" | awk '{s+=$4} END {print s+0}') passed in 3 binaries"

  section "$label: lifecycle test DLL and host ($gxx)"
  cargo build --quiet --target "$TARGET" -p mapisync-lifecycle-dll
  dll="$target_dir/$TARGET/debug/mapisync_lifecycle_dll.dll"
  [ -f "$dll" ] || fail "cargo build did not produce $dll"
  host="$target_dir/$TARGET/cpp-host/mapisync_lifecycle_host.exe"
  mkdir -p "$(dirname "$host")"
  # -static: libgcc, libstdc++ and winpthread linked in, as Wine has none of mingw's DLLs.
  "$gxx" -std=c++17 -Wall -Wextra -Werror -O1 -static -o "$host" tests/cpp/lifecycle/lifecycle.cpp -luuid
  echo "built: $dll, $host"

  section "$label: lifecycle host under Wine (LoadLibrary, shutdown, FreeLibrary; 100 cycles per scenario)"
  dll_windows="$(wine_run winepath -w "$dll" 2>/dev/null | tr -d '\r')"
  [ -n "$dll_windows" ] || fail "winepath could not name $dll"
  # One process per scenario: each load of the Rust DLL keeps a few TLS
  # indexes after its unload (std's thread-local keys), and 400 loads in one
  # process run out of them ("out of TLS indexes").
  host_log="$target_dir/$TARGET/cpp-host/lifecycle.log"
  total=0
  for scenario in 1 2 3 4; do
    status=0
    scripts/wine/run.sh "$host" "$dll_windows" 100 "$scenario" </dev/null 2>&1 | tr -d '\r' | tee "$host_log" || status=$?
    last="$(tail -n1 "$host_log")"
    [ "$status" -eq 0 ] || fail "the lifecycle host (scenario $scenario) exited with status $status (last line: '$last')"
    [[ "$last" =~ ^([1-9][0-9]*)\ passed,\ 0\ failed$ ]] ||
      fail "the lifecycle host's last line (scenario $scenario) is '$last', expected 'N passed, 0 failed'"
    total=$((total + BASH_REMATCH[1]))
  done
  # Issue 17 item 3's review: a shutdown inside a kept job's Progress and
  # an unload at once must not unmap the DLL under the provider's thread;
  # a timed-out shutdown, then drain, DllCanUnloadNow and FreeLibrary must
  # unload it at once (the next load is fresh); DllCanUnloadNow says
  # S_FALSE while a kept job lives. Stores shut down in MAPI-like orders
  # (each on its own worker, on host threads, waiting or not) must unload
  # the DLL at FreeLibrary (at once after a host thread's Shutdown), leave
  # no thread handle open and never deadlock (unload_orders's modes). Each
  # its own process.
  local -A built=()
  local orders=()
  # Modes 1, 2, 10 and 11 are a known, open leak (unload_orders.cpp says
  # why): not run. 15 to 17 and 21 leave the DLL loaded by design (a
  # Shutdown without waiting, no later call): one cycle each.
  for mode in 3 4 5 6 7 8 9 12 13; do orders+=("unload_orders $mode 3"); done
  for mode in 15 16 17 21; do orders+=("unload_orders $mode 1"); done
  for mode in 14 18 19 20; do orders+=("unload_orders $mode 20"); done
  for repro in "kept_unload 200 1" "stubborn_reload 20" "kept_job_can_unload 200" "${orders[@]}"; do
    read -r name args <<<"$repro"
    exe="$target_dir/$TARGET/cpp-host/$name.exe"
    [ -n "${built[$name]:-}" ] ||
      "$gxx" -std=c++17 -Wall -Wextra -Werror -O1 -static -o "$exe" "tests/cpp/lifecycle/$name.cpp" -luuid
    built[$name]=1
    status=0
    # shellcheck disable=SC2086 # $args: the host's numeric arguments
    scripts/wine/run.sh "$exe" "$dll_windows" $args </dev/null 2>&1 | tr -d '\r' | tee "$host_log" || status=$?
    last="$(tail -n1 "$host_log")"
    [ "$status" -eq 0 ] || fail "$name exited with status $status (last line: '$last')"
    [[ "$last" =~ ^([1-9][0-9]*)\ passed,\ 0\ failed$ ]] || fail "$name's last line is '$last', expected 'N passed, 0 failed'"
    total=$((total + BASH_REMATCH[1]))
  done
  last="$total passed, 0 failed (4 scenarios and 20 unload cases, one process each)"

  summary+=("$label: Rust under Wine: $rust_result" "$label: lifecycle host under Wine: $last")
}

one_target x86_64-pc-windows-gnu x86_64-w64-mingw32-g++ x64
if [ -n "$have_wine32" ]; then
  one_target i686-pc-windows-gnu i686-w64-mingw32-g++ x86
else
  summary+=("x86: not run (no 32-bit Wine; see above)")
fi

section "summary"
printf '%s\n' "${summary[@]}"
