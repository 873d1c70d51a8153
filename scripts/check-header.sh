#!/usr/bin/env bash
# include/imapisync.h, the C and C++ header the mapisync package ships:
# 1. compiles as C11 and C++11 (-Wall -Wextra -Werror -pedantic) for x86 and
#    x64: gcc/g++ -m32 and -m64 on Linux, i686 and x86_64 mingw-w64; its
#    static asserts check MAPISIB's size and offsets and the vtables there;
# 2. with mingw-w64's MAPI headers (mapidefs.h, mapicode.h, mapix.h) included
#    before it and after it: no conflict, and every name both declare has
#    the same value;
# 3. declares every HRESULT of runtime/src/hresult.rs, every SYNC_* bit of
#    runtime/src/flags.rs and the IIDs of runtime/src/abi.rs with the Rust
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
  E_NOINTERFACE E_POINTER E_FAIL E_UNEXPECTED E_INVALIDARG E_OUTOFMEMORY S_OK S_FALSE)

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

echo "-- the values the Rust crate defines"
# name value lines from the Rust sources.
rust_codes="$(sed -E 's/_u32 as i32//' runtime/src/hresult.rs |
  sed -nE 's/^pub const ([A-Z_]+): HRESULT = HRESULT\((0x[0-9A-Fa-f_]+|[0-9]+)\);/\1 \2/p' |
  awk '{ gsub("_", "", $2); if ($2 !~ /^0x/) $2 = sprintf("0x%08X", $2); print $1, toupper(substr($2, 3)) }')"
rust_flags="$(sed -nE 's/^ *pub const ([A-Z_]+): Self = Self\((0x[0-9A-Fa-f_]+)\);/SYNC_\1 \2/p' runtime/src/flags.rs |
  grep -v '^SYNC_KNOWN ' | awk '{ gsub("_", "", $2); print $1, toupper(substr($2, 3)) }')"
rust_iids="$(sed -nE 's/^pub const (IID_[A-Za-z]+): GUID = GUID::from_u128\(0x([0-9a-f_]+)\);/\1 \2/p' runtime/src/abi.rs |
  awk '{ gsub("_", "", $2); print $1, toupper($2) }')"
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
