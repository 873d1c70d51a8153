#!/usr/bin/env bash
# include/imapisync.h, the C and C++ header the mapisync package ships:
# 1. compiles as C11 and C++11 (-Wall -Wextra -Werror -pedantic) for x86 and
#    x64: gcc/g++ -m32 and -m64 on Linux, i686 and x86_64 mingw-w64; its
#    static asserts check MAPISIB's size and offsets and the vtables there;
# 2. with mingw-w64's MAPI headers (mapidefs.h, mapicode.h, mapix.h) included
#    before it and after it: no conflict, and every name both declare has
#    the same value;
# 3. declares every HRESULT of engine/src/hresult.rs, every SYNC_* bit of
#    engine/src/flags.rs and the IIDs of runtime/src/abi.rs with the Rust
#    values, and MAPISIB's size and offsets as the Rust asserts give them
#    (a generated program, built with -m64 and -m32, prints them).
# Run by scripts/suites/packaging.sh. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(repo_root)"
root="$PWD"

need_apt gcc-multilib g++-multilib gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 gcc-mingw-w64-i686 g++-mingw-w64-i686 || exit 0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

# The names both the header and mapicode.h declare.
shared_codes=(MAPI_E_NO_SUPPORT MAPI_E_BUSY MAPI_E_USER_CANCEL MAPI_E_NETWORK_ERROR MAPI_E_END_OF_SESSION
  E_NOINTERFACE E_POINTER E_FAIL E_UNEXPECTED E_INVALIDARG E_OUTOFMEMORY S_OK S_FALSE
  E_ACCESSDENIED MAPI_E_NO_ACCESS MAPI_E_UNKNOWN_FLAGS MAPI_E_INVALID_ENTRYID MAPI_E_INVALID_OBJECT
  MAPI_E_OBJECT_CHANGED MAPI_E_OBJECT_DELETED MAPI_E_NOT_ENOUGH_DISK MAPI_E_NOT_ENOUGH_RESOURCES
  MAPI_E_NOT_FOUND MAPI_E_VERSION MAPI_E_LOGON_FAILED MAPI_E_SESSION_LIMIT MAPI_E_DISK_ERROR
  MAPI_E_EXTENDED_ERROR MAPI_E_CORRUPT_DATA MAPI_E_UNCONFIGURED MAPI_E_FAILONEPROVIDER
  MAPI_E_PASSWORD_CHANGE_REQUIRED MAPI_E_PASSWORD_EXPIRED MAPI_E_ACCOUNT_DISABLED MAPI_E_UNKNOWN_ENTRYID
  MAPI_E_UNABLE_TO_COMPLETE MAPI_E_TIMEOUT MAPI_E_CANCEL MAPI_E_NOT_ME MAPI_E_CORRUPT_STORE
  MAPI_E_NOT_INITIALIZED MAPI_E_COLLISION MAPI_W_ERRORS_RETURNED MAPI_W_PARTIAL_COMPLETION)

# overlap_source ORDER: a translation unit with the MAPI headers before or
# after the header; "after" keeps the header's values and compares.
overlap_source() {
  local name mapi='#include <mapidefs.h>
#include <mapicode.h>
#include <mapix.h>'
  [ "$1" = before ] && echo "$mapi"
  echo "#include \"$root/include/imapisync.h\""
  if [ "$1" = after ]; then
    for name in "${shared_codes[@]}"; do
      echo "MAPISYNC_CONSTANT(HRESULT, ours_$name, $name)"
    done
    echo "$mapi"
    for name in "${shared_codes[@]}"; do
      echo "MAPISYNC_STATIC_ASSERT($name == ours_$name, \"$name: mapicode.h and imapisync.h differ\");"
    done
  fi
  echo "int imapisync_h_compiles(void) { return (int)sizeof(MAPISIB); }"
}

echo "-- compiles alone and beside mingw-w64's MAPI headers"
for lang in c c++; do
  std=c11
  [ "$lang" = c++ ] && std=c++11
  for compiler in "gcc -m64" "gcc -m32" x86_64-w64-mingw32-gcc i686-w64-mingw32-gcc; do
    [ "$lang" = c++ ] && compiler="${compiler/gcc/g++}"
    orders=(alone)
    [[ "$compiler" == *mingw* ]] && orders+=(before after)
    for order in "${orders[@]}"; do
      if [ "$order" = alone ]; then
        echo "#include \"$root/include/imapisync.h\"" >"$work/tu"
        echo "int imapisync_h_compiles(void) { return (int)sizeof(MAPISIB); }" >>"$work/tu"
      else
        overlap_source "$order" >"$work/tu"
      fi
      if out="$($compiler -x "$lang" -std="$std" -Wall -Wextra -Werror -pedantic -c "$work/tu" -o "$work/tu.o" 2>&1)"; then
        echo "ok: $compiler -x $lang -std=$std ($([ "$order" = alone ] && echo alone || echo "MAPI headers $order it"))"
      else
        fail "$compiler -x $lang ($order):"
        echo "$out" | head -20
      fi
    done
  done
done

echo "-- what C and C++ stores do with it (mingw-w64, x86 and x64)"
# use_case NAME LANG SOURCE: compiles and links SOURCE with both mingw-w64
# compilers (a program: main() returns 0 where the IIDs agree).
use_case() {
  local name="$1" lang="$2" source="$3" compiler
  printf '%s\n' "$source" >"$work/use.src"
  for compiler in x86_64-w64-mingw32-g++ i686-w64-mingw32-g++; do
    if out="$($compiler -x "$lang" -Wall -Wextra -Werror -o "$work/use.exe" "$work/use.src" -luuid -lole32 2>&1)"; then
      echo "ok: $name ($compiler -x $lang)"
    else
      fail "$name ($compiler -x $lang):"
      echo "$out" | head -10
    fi
  done
}
use_case "its own DEFINE_GUID IIDs, with MAPISYNC_NO_IIDS" c++ "#include <initguid.h>
#include <windows.h>
DEFINE_GUID(IID_IMAPISync, 0x5024A385, 0x2D44, 0x486A, 0x81, 0xA8, 0x8F, 0x0E, 0xCB, 0x60, 0x71, 0xDD);
#define MAPISYNC_NO_IIDS
#include \"$root/include/imapisync.h\"
int main() { return IID_IMAPISync.Data1 == 0x5024A385 ? 0 : 1; }"
use_case "__uuidof and IID_PPV_ARGS" c++ "#include \"$root/include/imapisync.h\"
int main() {
  IMAPISync *sync = 0;
  void **out = IID_PPV_ARGS_Helper(&sync);
  return (out != 0 && IsEqualIID(__uuidof(IMAPISync), IID_IMAPISync) &&
          IsEqualIID(__uuidof(IMAPISyncProgressCallback), IID_IMAPISyncProgressCallback)) ? 0 : 1;
}"
# REFIID is a pointer in C and a reference in C++.
callback_macros="#ifdef __cplusplus
#define RIID(iid) iid
#else
#define RIID(iid) &iid
#endif
static ULONG release(IMAPISyncProgressCallback *cb) {
  void *same = 0;
  IMAPISyncProgressCallback_AddRef(cb);
  IMAPISyncProgressCallback_QueryInterface(cb, RIID(IID_IMAPISyncProgressCallback), &same);
  return IMAPISyncProgressCallback_Release(cb);
}
int main(void) { (void)release; return 0; }"
use_case "C vtables and COBJMACROS" c "#define COBJMACROS
#include \"$root/include/imapisync.h\"
$callback_macros"
use_case "CINTERFACE in C++ (the C vtables)" c++ "#define CINTERFACE
#define COBJMACROS
#include \"$root/include/imapisync.h\"
$callback_macros"

echo "-- the values the Rust crate defines"
# name value lines from the Rust sources.
rust_codes="$(sed -E 's/_u32 as i32//' engine/src/hresult.rs |
  sed -nE 's/^pub const ([A-Z_]+): HRESULT = HRESULT\((0x[0-9A-Fa-f_]+|[0-9]+)\);/\1 \2/p' |
  awk '{ gsub("_", "", $2); if ($2 !~ /^0x/) $2 = sprintf("0x%08X", $2); print $1, toupper(substr($2, 3)) }')"
rust_flags="$(sed -nE 's/^ *pub const ([A-Z_]+): Self = Self\((0x[0-9A-Fa-f_]+)\);/SYNC_\1 \2/p' engine/src/flags.rs |
  grep -v '^SYNC_KNOWN ' | awk '{ gsub("_", "", $2); print $1, toupper(substr($2, 3)) }')"
# IID_IMAPIProviderShutdown is left to Microsoft's MAPI headers (mapiguid.h
# of the Outlook MAPI headers declares it with DEFINE_OLEGUID, which a second
# definition here would collide with); the header declares what no MAPI
# header does.
rust_iids="$(sed -nE 's/^pub const (IID_[A-Za-z]+): GUID = GUID::from_u128\(0x([0-9a-f_]+)\);/\1 \2/p' runtime/src/abi.rs |
  grep -v '^IID_IMAPIProviderShutdown ' | awk '{ gsub("_", "", $2); print $1, toupper($2) }')"
[ -n "$rust_codes" ] && [ -n "$rust_flags" ] && [ -n "$rust_iids" ] || fail "could not read the Rust constants"
{
  echo "#include <stdio.h>"
  echo "#include \"$root/include/imapisync.h\""
  echo "static void iid(const char *name, const IID *g) {"
  echo '  printf("%s %08X%04X%04X", name, (unsigned)g->Data1, (unsigned)g->Data2, (unsigned)g->Data3);'
  echo '  for (int i = 0; i < 8; i++) printf("%02X", (unsigned)g->Data4[i]);'
  echo '  printf("\n");'
  echo "}"
  echo "int main(void) {"
  while read -r name _; do echo "  printf(\"$name %08X\\n\", (unsigned)(HRESULT)$name);"; done <<<"$rust_codes"
  while read -r name _; do echo "  printf(\"$name %08X\\n\", (unsigned)$name);"; done <<<"$rust_flags"
  while read -r name _; do echo "  iid(\"$name\", &$name);"; done <<<"$rust_iids"
  for field in ulSize ulFlags psesSync punkCallBack phSyncDoneEvent; do
    echo "  printf(\"offset $field %u\\n\", (unsigned)offsetof(MAPISIB, $field));"
  done
  echo '  printf("size %u\n", (unsigned)sizeof(MAPISIB));'
  echo "  return 0;"
  echo "}"
} >"$work/values.c"
expected="$(printf '%s\n%s\n%s\n' "$rust_codes" "$rust_flags" "$rust_iids")"
# MAPISIB as runtime/src/abi.rs asserts it, per pointer width.
layout() {
  local width="$1"
  sed -n "/^#\[cfg(target_pointer_width = \"$width\")\]/,/^};/p" runtime/src/abi.rs |
    sed -nE 's/.*offset_of!\(MAPISIB, ([A-Za-z]+)\) == ([0-9]+).*/offset \1 \2/p; s/.*size_of::<MAPISIB>\(\) == ([0-9]+).*/size \1/p'
}
for bits in 64 32; do
  if ! out="$(gcc -m"$bits" -std=c11 -Wall -Wextra -Werror -o "$work/values$bits" "$work/values.c" 2>&1)"; then
    fail "the header lacks a constant the Rust crate defines (gcc -m$bits):"
    echo "$out" | grep -E "error" | head -10
    continue
  fi
  printed="$("$work/values$bits")"
  want="$(printf '%s\n%s\n' "$expected" "$(layout "$bits")" | sort)"
  if diff <(sort <<<"$printed") - <<<"$want" >"$work/diff"; then
    echo "ok: -m$bits: $(wc -l <<<"$want") values and offsets match the Rust crate's"
  else
    fail "-m$bits: the header and the Rust crate differ (< header, > Rust):"
    cat "$work/diff"
  fi
done
exit "$failed"
