#!/usr/bin/env bash
# Instructions per call of each object's QueryInterface, AddRef and Release,
# counted by valgrind's callgrind while the criterion benchmark's routines
# run (--profile-time). Unlike the times, the counts repeat exactly from run
# to run and do not depend on what else the machine is doing, so they show
# what a change to the runtime did.
#
#   bash benches/instructions.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$(repo_root)"
command -v valgrind >/dev/null || need_apt valgrind || exit 0

bench="$(cargo bench -p mapisync-benches --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "com_calls" and m.get("executable"):
        print(m["executable"])')"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# The vtable entries of each subject, as callgrind names them.
declare -A functions=(
  [mapisync]='mapisync::object::(query_interface|add_ref|release)$'
  [windows-rs]='IUnknown_Vtbl::new::(QueryInterface|AddRef|Release)$'
  [C++]='Sync::(QueryInterface|AddRef|Release)\('
)

printf '%-28s %-11s %s\n' "operation" "subject" "instructions per call (inclusive)"
for operation in 'AddRef+Release' 'QI IUnknown hit + Release' 'QI IMAPISync hit + Release' 'QI miss'; do
  for subject in mapisync windows-rs C++; do
    filter="^$(printf '%s/%s' "$operation" "$subject" | sed 's/[+]/\\+/g')\$"
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bench" --bench "$filter" --profile-time 1 >/dev/null 2>&1
    callgrind_annotate --tree=caller --inclusive=yes "$out/cg" 2>/dev/null | python3 -c '
import re, sys
pattern = re.compile(sys.argv[1])
costs, calls, block = {}, {}, []
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line.strip():
        block = []
        continue
    block.append(line)
    star = re.match(r"\s*([\d,]+) \(.*\)\s+\*\s+\S*?:(.*?)(?: \[.*\])?$", line)
    if star and pattern.search(star.group(2)):
        name = star.group(2).split("::")[-1]
        for caller in block[:-1]:
            m = re.match(r"\s*([\d,]+) \(.*\)\s+<.*\(([\d,]+)x\)", caller)
            if m:
                costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
                calls[name] = calls.get(name, 0) + int(m.group(2).replace(",", ""))
print("  ".join(f"{n} {costs[n] / calls[n]:.1f}" for n in sorted(costs) if calls[n] > 1000))
' "${functions[$subject]}" | sed "s/^/$(printf '%-28s %-11s ' "$operation" "$subject")/"
  done
done
