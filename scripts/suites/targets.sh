#!/usr/bin/env bash
# The other targets a provider ships for: 32-bit Windows (x86 Outlook is
# still common) and the MSVC toolchain.
#
# 1. builds the example DLLs (examples/provider-dll, examples/outlook-store)
#    for i686-pc-windows-gnu and checks, with objdump, that each exports
#    its entry points under their plain names (DllGetClassObject,
#    MSProviderInit, MergeWithMAPISVC...), not decorated (_X@N, X@N):
#    hosts find them with GetProcAddress by the plain name; and that each
#    returns the way its calling convention says (MSProviderInit is cdecl:
#    plain `ret`; the COM and rundll32 exports stdcall: `ret $N`), which on
#    x86 is the difference between working and a corrupted stack;
# 2. runs the workspace's tests on i686-unknown-linux-gnu (gcc-multilib), so
#    32-bit layouts, sizes and reference counts run natively (nothing needs
#    excluding; tests that cannot run there are compiled out by their cfg);
# 3. `cargo check` for x86_64-pc-windows-msvc and i686-pc-windows-msvc (a
#    check only: there is no MSVC linker here), without the benchmarks
#    (their criterion needs MSVC's C compiler in a build script).
#
# Locally a missing tool is a printed skip; under CI=true it is a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"

suite_start targets

section "tools (mingw-w64 i686, gcc-multilib, rust targets)"
need_apt gcc-mingw-w64-i686 binutils-mingw-w64-i686 gcc-multilib || exit 0
for triple in i686-pc-windows-gnu i686-unknown-linux-gnu x86_64-pc-windows-msvc i686-pc-windows-msvc; do
  need_target "$triple" || exit 0
done

# exports DLL: the names in DLL's export table, one per line.
exports() {
  i686-w64-mingw32-objdump -p "$1" | awk '
    /^\[Ordinal\/Name Pointer\] Table/ { table = 1; next }
    table && /^\t\[ *[0-9]+\]/ { print $NF; next }
    { table = 0 }'  # reads to the end: an early exit would fail objdump with SIGPIPE
}

# expect_exports DLL NAME...: every NAME is exported as is, and no export is decorated.
expect_exports() {
  local dll="$1" names
  shift
  names="$(exports "$dll")"
  [ -n "$names" ] || fail "$dll exports nothing (or objdump could not read it)"
  for name in "$@"; do
    grep -qx "$name" <<<"$names" || fail "$dll does not export $name; its exports: $(tr '\n' ' ' <<<"$names")"
  done
  if grep -E '@[0-9]+$|^_[A-Z]' <<<"$names"; then
    fail "$dll has decorated (stdcall) export names, listed above"
  fi
  echo "ok: $(basename "$dll") exports $* undecorated"
}

section "i686-pc-windows-gnu: the example DLLs and their export names"
cargo build --quiet --target i686-pc-windows-gnu -p mapisync-example-provider -p mapisync-outlook-store
dlls="$target_dir/i686-pc-windows-gnu/debug"
for dll in "$dlls/mapisync_example_provider.dll" "$dlls/mapisync_outlook_store.dll"; do
  i686-w64-mingw32-objdump -f "$dll" | grep -q "file format pei-i386" || fail "$dll is not an x86 DLL"
done
expect_exports "$dlls/mapisync_example_provider.dll" DllGetClassObject DllCanUnloadNow DllRegisterServer \
  DllUnregisterServer DllInstall
expect_exports "$dlls/mapisync_outlook_store.dll" MSProviderInit MergeWithMAPISVC RemoveFromMAPISVC

# returns DLL NAME: the return instructions of the function NAME (symbol
# _NAME or _NAME@N in the DLL's COFF symbol table), up to the next function.
returns() {
  local symbols start stop
  symbols="$(i686-w64-mingw32-nm -n "$1")"
  start="$(awk -v n="$2" '$3 == "_" n || index($3, "_" n "@") == 1 { print $1; exit }' <<<"$symbols")"
  [ -n "$start" ] || fail "$1 has no symbol for $2 (stripped?)"
  # Compared as strings ("x" prefix): nm's fixed-width hex sorts as text,
  # while awk would read an address like 10003e30 as the number 1.0003e34.
  stop="$(awk -v a="$start" '("x" $1) > ("x" a) && ($2 == "T" || $2 == "t") { print $1; exit }' <<<"$symbols")"
  i686-w64-mingw32-objdump -d --start-address="0x$start" --stop-address="0x$stop" "$1" \
    | awk '$0 ~ /\tret/ { sub(/.*\tret */, ""); print "ret " $0 }'
}

# expect_convention DLL NAME RET: every return of NAME is RET ("ret " for
# cdecl, where the caller pops the arguments; "ret $0x10" for stdcall with
# 16 bytes of arguments).
expect_convention() {
  local rets
  rets="$(returns "$1" "$2" | sort -u)"
  [ "$rets" = "$3" ] || fail "$(basename "$1"): $2 returns with '$(tr '\n' ',' <<<"$rets")', expected '$3'"
  echo "ok: $(basename "$1"): $2 returns with '$3'"
}

section "i686-pc-windows-gnu: calling conventions (cdecl MSProviderInit, stdcall COM and rundll32 exports)"
expect_convention "$dlls/mapisync_outlook_store.dll" MSProviderInit "ret "
expect_convention "$dlls/mapisync_outlook_store.dll" MergeWithMAPISVC 'ret $0x10'
expect_convention "$dlls/mapisync_outlook_store.dll" RemoveFromMAPISVC 'ret $0x10'
expect_convention "$dlls/mapisync_example_provider.dll" DllGetClassObject 'ret $0xc'

section "i686-unknown-linux-gnu: cargo test --workspace"
# Nothing needs excluding: every package builds for i686 Linux. Not run there
# by their own cfg: tests/cpp_host.rs (a 64-bit g++ host loading the .so),
# Windows-only and Miri-only tests.
echo "excluded: none (tests/cpp_host.rs is compiled out on 32-bit targets by its own cfg)"
log="$target_dir/i686-unknown-linux-gnu/targets-test.log"
mkdir -p "$(dirname "$log")"
status=0
cargo test --quiet --no-fail-fast --workspace --target i686-unknown-linux-gnu >"$log" 2>&1 || status=$?
grep -E '^test result|FAILED|panicked|^error' "$log" || true
if [ "$status" -ne 0 ]; then
  tail -n 40 "$log" >&2
  fail "cargo test --target i686-unknown-linux-gnu failed (status $status; log: $log)"
fi
echo "ok: the workspace's tests pass on i686-unknown-linux-gnu"

# Excluded from the MSVC check: mapisync-benches, whose criterion pulls in
# alloca, a build script that compiles C with MSVC's cl.exe and lib.exe.
for triple in x86_64-pc-windows-msvc i686-pc-windows-msvc; do
  section "$triple: cargo check --workspace --all-targets (no MSVC linker here: check only)"
  echo "excluded: mapisync-benches (criterion -> alloca builds C code with cl.exe/lib.exe, absent here)"
  cargo check --quiet --workspace --all-targets --exclude mapisync-benches --target "$triple"
  echo "ok: cargo check --target $triple"
done
