#!/usr/bin/env bash
# The export table of a release provider DLL is exactly what its author
# asked for: examples/provider-dll (one export_server! line), built with
# --release for x86_64-pc-windows-gnu and i686-pc-windows-gnu, exports the
# names the README lists ("The DLL exports ...") and nothing else: no
# helper of the runtime (mapisync_wait_event, mapisync_close_event are for
# hosts on other platforms) rides along into OUTLOOK.EXE.
# Run by scripts/suites/packaging.sh. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(repo_root)"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

need_apt gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 binutils-mingw-w64-x86-64 binutils-mingw-w64-i686 || exit 0
need_target x86_64-pc-windows-gnu || exit 0
need_target i686-pc-windows-gnu || exit 0

# The README's sentence "The DLL exports `A`, `B`, and on Windows `C` ...".
documented="$(tr '\n' ' ' <README.md | grep -oE 'The DLL exports [^.(]*' | head -1 | grep -oE '`[A-Za-z_]+`' | tr -d '`' | sort)"
[ -n "$documented" ] || { echo "FAIL: README.md has no sentence 'The DLL exports ...'"; exit 1; }
echo "README: the DLL exports $(tr '\n' ' ' <<<"$documented")"

# exports OBJDUMP DLL: the names in the DLL's export table, one per line.
exports() {
  "$1" -p "$2" | awk '
    /^\[Ordinal\/Name Pointer\] Table/ { table = 1; next }
    table && /^\t\[ *[0-9]+\]/ { print $NF; next }
    { table = 0 }'  # reads to the end: an early exit would fail objdump with SIGPIPE
}

failed=0
for pair in x86_64-pc-windows-gnu:x86_64-w64-mingw32-objdump i686-pc-windows-gnu:i686-w64-mingw32-objdump; do
  triple="${pair%%:*}"
  objdump="${pair#*:}"
  cargo build --quiet --release --target "$triple" -p mapisync-example-provider
  dll="$target_dir/$triple/release/mapisync_example_provider.dll"
  actual="$(exports "$objdump" "$dll" | sort)"
  if [ "$actual" = "$documented" ]; then
    echo "ok: $triple: the release DLL exports exactly the README's $(wc -l <<<"$actual") names"
  else
    echo "FAIL: $triple: the release DLL's exports differ from the README's list (< DLL, > README):"
    diff <(echo "$actual") - <<<"$documented" || true
    failed=1
  fi
done
exit "$failed"
