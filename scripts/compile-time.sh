#!/usr/bin/env bash
# Compile time of a minimal provider: mapisync against the same provider
# written with windows-core's #[implement] (benches/compile-time/*).
#
# For each crate: dependencies are fetched first (cargo fetch), then every
# build runs --offline, so only compiling is timed. A clean build starts
# from an empty target directory; the incremental rebuild edits one line of
# the method body and builds again. Each figure is the median of RUNS runs
# (default 3), wall clock, dev profile.
#
#   bash scripts/compile-time.sh              # the table
#   RUNS=5 bash scripts/compile-time.sh       # more runs
#   bash scripts/compile-time.sh --timings    # also cargo's per-crate timings
#                                             # of one clean build of each
#
# Not part of the test suite: compile time is a benchmark, not a test.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root="$(repo_root)"
runs="${RUNS:-3}"
timings=""
[ "${1:-}" = "--timings" ] && timings=1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# A copy of the crate outside the repository, so the edits never touch the
# tree; its path dependency points back at this checkout's runtime.
prepare() {
  local name="$1" copy="$work/$1"
  cp -r "$root/benches/compile-time/$name" "$copy"
  sed -i "s#path = \"../../../runtime\"#path = \"$root/runtime\"#" "$copy/Cargo.toml"
  (cd "$copy" && cargo fetch --quiet)
  echo "$copy"
}

# build DIR TARGET_DIR [extra cargo args]: prints the seconds the build took.
build() {
  local dir="$1" target="$2"
  shift 2
  local start end
  start=$(now)
  (cd "$dir" && cargo build --offline --quiet --target-dir "$target" "$@")
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }'
}

# Rewrites the body's `let steps = N;` line, a real edit of the method body.
edit_body() {
  sed -i "s/let steps = [0-9]*;/let steps = $2;/" "$1/src/lib.rs"
}

declare -A clean incremental
for name in mapisync-provider windows-rs-provider; do
  dir="$(prepare "$name")"
  clean_runs=()
  edit_runs=()
  for run in $(seq "$runs"); do
    target="$work/target-$name"
    rm -rf "$target"
    clean_runs+=("$(build "$dir" "$target")")
    edit_body "$dir" "$((run + 1))"
    edit_runs+=("$(build "$dir" "$target")")
  done
  clean[$name]="$(printf '%s\n' "${clean_runs[@]}" | median)"
  incremental[$name]="$(printf '%s\n' "${edit_runs[@]}" | median)"
  echo "$name: clean ${clean_runs[*]} s; incremental ${edit_runs[*]} s"
  if [ -n "$timings" ]; then
    rm -rf "$work/timings-$name"
    (cd "$dir" && cargo build --offline --quiet --timings --target-dir "$work/timings-$name")
    report="$(ls "$work/timings-$name"/cargo-timings/cargo-timing-*.html | head -n 1)"
    echo "  cargo --timings, $name (unit: start s, duration s):"
    python3 - "$report" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S).group(1))
for u in sorted(units, key=lambda u: u["start"]):
    print(f"    {u['name']:<28} {u.get('target', ''):<16} start {u['start']:6.2f}  took {u['duration']:6.2f}")
PY
  fi
done

m_clean="${clean[mapisync-provider]}"
w_clean="${clean[windows-rs-provider]}"
echo
printf '%-26s %12s %14s\n' "median of $runs runs" "clean (s)" "incremental (s)"
printf '%-26s %12.2f %14.2f\n' "mapisync" "$m_clean" "${incremental[mapisync-provider]}"
printf '%-26s %12.2f %14.2f\n' "windows-core #[implement]" "$w_clean" "${incremental[windows-rs-provider]}"
printf 'clean ratio mapisync / windows-rs: %.2fx (target <= 0.8x); mapisync incremental %.2f s (target < 1 s)\n' \
  "$(awk -v a="$m_clean" -v b="$w_clean" 'BEGIN { print a / b }')" "${incremental[mapisync-provider]}"
