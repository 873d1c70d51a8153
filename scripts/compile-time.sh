#!/usr/bin/env bash
# Compile time of a minimal provider: mapisync against the same provider
# written with windows-core's #[implement] (benches/compile-time/*).
#
# The provider gets mapisync the way a user of the README's quick start
# does: as packages from a registry. This checkout's crates are packaged
# (`cargo package`) into a local directory registry that stands in for
# crates.io, beside the published crates both providers need (`cargo
# vendor`), and both providers build from it, so they use the same syn and
# windows-core and cargo treats every dependency as a registry crate
# (no incremental compilation for them, as for any crates.io dependency).
# SOURCE=path measures the older way instead: mapisync as a path
# dependency on this checkout, which makes cargo compile the facade, the
# runtime and the macro incrementally, as workspace code (slower for a
# clean build).
#
# Every build runs --offline, so only compiling is timed. A clean build
# starts from an empty target directory; the incremental rebuild edits one
# line of the method body and builds again. Each figure is the median of
# RUNS runs (default 3), wall clock, dev profile. The two providers' builds
# alternate, so a load change on a shared machine hits both; each run's
# ratio is printed, and the CPU time of the clean builds (user + system).
#
#   bash scripts/compile-time.sh              # the table
#   RUNS=5 bash scripts/compile-time.sh       # more runs
#   bash scripts/compile-time.sh --timings    # also cargo's per-crate timings
#                                             # of one clean build of each
#   BASELINE=/path/to/other/checkout bash scripts/compile-time.sh
#                                             # a third crate in the rotation: the
#                                             # same provider on that checkout's
#                                             # crates (before/after a change)
#   TARGET=x86_64-pc-windows-gnu bash scripts/compile-time.sh
#                                             # the providers' build for Windows,
#                                             # what a provider author builds (an
#                                             # rlib: no linker needed; the rustup
#                                             # target must be installed)
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

# engine CHECKOUT: whether CHECKOUT has the runtime's windows-core-free half
# as a package of its own (engine/, mapisync-engine), which an older
# BASELINE may not.
engine() { [ -f "$1/engine/Cargo.toml" ]; }

# facade CHECKOUT: whether CHECKOUT has the three-package layout (mapisync/
# the facade, runtime/ the package mapisync-runtime) rather than the older
# two (runtime/ the package mapisync), which BASELINE may name.
facade() { [ -f "$1/mapisync/Cargo.toml" ]; }

# registry CHECKOUT NAME: a local directory registry at $work/NAME holding
# CHECKOUT's packages (mapisync, mapisync-runtime, mapisync-engine,
# mapisync-macros; or the older three or two) and every published crate the two providers need; prints its
# path.
registry() {
  local checkout="$1" dir="$work/$2" crate packages=(-p mapisync-macros -p mapisync)
  ! facade "$checkout" || packages+=(-p mapisync-runtime)
  ! engine "$checkout" || packages+=(-p mapisync-engine)
  if ! out=$(cd "$checkout" && cargo package --quiet --no-verify --allow-dirty "${packages[@]}" --target-dir "$dir.pkg" 2>&1); then
    echo "compile-time: cargo package failed in $checkout:" >&2
    echo "$out" >&2
    exit 1
  fi
  mkdir -p "$dir/packages" "$dir/seed/src" "$dir/vendor"
  for crate in "$dir.pkg"/package/*.crate; do tar -xzf "$crate" -C "$dir/packages"; done
  # The seed depends on what the providers depend on; `cargo vendor` copies
  # the published crates of its graph (all targets' dependencies included).
  : >"$dir/seed/src/lib.rs"
  {
    printf '[package]\nname = "seed"\nversion = "0.0.0"\nedition = "2024"\n'
    printf '[dependencies]\nwindows-core = "0.62.2"\nmapisync = { path = "%s" }\n' "$(ls -d "$dir"/packages/mapisync-0*)"
    printf '[patch.crates-io]\n'
    for crate in "$dir"/packages/mapisync-*-0*; do
      printf '%s = { path = "%s" }\n' "$(basename "${crate%-*}")" "$crate"
    done
  } >"$dir/seed/Cargo.toml"
  (cd "$dir/seed" && cargo vendor --quiet --versioned-dirs "$dir/vendor") >/dev/null
  for crate in "$dir"/packages/*; do
    cp -r "$crate" "$dir/vendor/"
    echo '{"files":{},"package":null}' >"$dir/vendor/$(basename "$crate")/.cargo-checksum.json"
  done
  echo "$dir/vendor"
}

# prepare NAME [SOURCE [CHECKOUT]]: copies benches/compile-time/SOURCE
# (default NAME) to $work/NAME, building from CHECKOUT's registry
# (SOURCE=path: CHECKOUT's mapisync package, mapisync/ or in the older
# layout runtime/); prints the copy's path.
prepare() {
  local name="$1" source="${2:-$1}" checkout="${3:-$root}" copy="$work/$1" package=runtime
  cp -r "$root/benches/compile-time/$source" "$copy"
  if [ "${SOURCE:-package}" = path ]; then
    ! facade "$checkout" || package=mapisync
    sed -i "s#^mapisync = .*#mapisync = { path = \"$checkout/$package\" }#" "$copy/Cargo.toml"
  else
    sed -i 's#^mapisync = .*#mapisync = "0.1"#' "$copy/Cargo.toml"
    mkdir -p "$copy/.cargo"
    printf '[source.crates-io]\nreplace-with = "local"\n[source.local]\ndirectory = "%s"\n' \
      "${vendor[$checkout]}" >"$copy/.cargo/config.toml"
  fi
  (cd "$copy" && cargo fetch --quiet)
  echo "$copy"
}

# build DIR TARGET_DIR [extra cargo args]: prints the seconds the build
# took, wall clock; adds the CPU seconds (user + system, every rustc
# included) to $work/cpu-$(basename DIR).
build() {
  local dir="$1" target="$2"
  shift 2
  local start end
  start=$(now)
  (cd "$dir" && /usr/bin/time -f "%U %S" -o "$work/last-cpu" cargo build --offline --quiet --target-dir "$target" ${TARGET:+--target "$TARGET"} "$@")
  end=$(now)
  awk '{ printf "%.2f\n", $1 + $2 }' "$work/last-cpu" >>"$work/cpu-$(basename "$dir")"
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }'
}

# Rewrites the body's `let steps = N;` line, a real edit of the method body.
edit_body() {
  sed -i "s/let steps = [0-9]*;/let steps = $2;/" "$1/src/lib.rs"
}

# The two crates alternate run by run (mapisync, windows-rs, mapisync, ...),
# so load that comes and goes on a shared machine falls on both alike.
names=(mapisync-provider windows-rs-provider)
declare -A dir clean_runs edit_runs clean incremental vendor
[ -z "${BASELINE:-}" ] || BASELINE="$(cd "$BASELINE" && pwd)"
if [ "${SOURCE:-package}" != path ]; then
  vendor[$root]="$(registry "$root" registry)"
  [ -z "${BASELINE:-}" ] || vendor[$BASELINE]="$(registry "$BASELINE" registry-baseline)"
fi
for name in "${names[@]}"; do
  dir[$name]="$(prepare "$name")"
done
if [ -n "${BASELINE:-}" ]; then
  names+=(mapisync-baseline)
  dir[mapisync-baseline]="$(prepare mapisync-baseline mapisync-provider "$BASELINE")"
fi
ratios=()
b_ratios=()
for run in $(seq "$runs"); do
  pair=()
  for name in "${names[@]}"; do
    target="$work/target-$name"
    rm -rf "$target"
    seconds="$(build "${dir[$name]}" "$target")"
    tail -n1 "$work/cpu-$name" >>"$work/clean-cpu-$name"
    pair+=("$seconds")
    clean_runs[$name]+="$seconds "
    edit_body "${dir[$name]}" "$((run + 1))"
    edit_runs[$name]+="$(build "${dir[$name]}" "$target") "
  done
  ratios+=("$(awk -v a="${pair[0]}" -v b="${pair[1]}" 'BEGIN { printf "%.3f", a / b }')")
  [ ${#pair[@]} -lt 3 ] || b_ratios+=("$(awk -v a="${pair[2]}" -v b="${pair[1]}" 'BEGIN { printf "%.3f", a / b }')")
done
for name in "${names[@]}"; do
  clean[$name]="$(printf '%s\n' ${clean_runs[$name]} | median)"
  incremental[$name]="$(printf '%s\n' ${edit_runs[$name]} | median)"
  echo "$name: clean ${clean_runs[$name]}s; incremental ${edit_runs[$name]}s"
done
echo "clean ratio of each run (mapisync / windows-rs, built one after the other): ${ratios[*]}"
m_cpu="$(median <"$work/clean-cpu-mapisync-provider")"
w_cpu="$(median <"$work/clean-cpu-windows-rs-provider")"
echo "clean build CPU seconds (user + system), median: mapisync $m_cpu, windows-rs $w_cpu, ratio $(awk -v a="$m_cpu" -v b="$w_cpu" 'BEGIN { printf "%.2f", a / b }')x"
if [ -n "$timings" ]; then
  for name in "${names[@]}"; do
    rm -rf "$work/timings-$name"
    (cd "${dir[$name]}" && cargo build --offline --quiet --timings --target-dir "$work/timings-$name" ${TARGET:+--target "$TARGET"})
    report="$(ls "$work/timings-$name"/cargo-timings/cargo-timing-*.html | head -n 1)"
    echo "  cargo --timings, $name (unit: start s, duration s):"
    python3 - "$report" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S).group(1))
for u in sorted(units, key=lambda u: u["start"]):
    print(f"    {u['name']:<28} {u.get('target', ''):<16} start {u['start']:6.2f}  took {u['duration']:6.2f}")
PY
  done
fi

m_clean="${clean[mapisync-provider]}"
w_clean="${clean[windows-rs-provider]}"
echo
printf '%-26s %12s %14s\n' "median of $runs runs" "clean (s)" "incremental (s)"
printf '%-26s %12.2f %14.2f\n' "mapisync" "$m_clean" "${incremental[mapisync-provider]}"
printf '%-26s %12.2f %14.2f\n' "windows-core #[implement]" "$w_clean" "${incremental[windows-rs-provider]}"
if [ -n "${BASELINE:-}" ]; then
  b_clean="${clean[mapisync-baseline]}"
  printf '%-26s %12.2f %14.2f\n' "mapisync at BASELINE" "$b_clean" "${incremental[mapisync-baseline]}"
  printf 'clean ratio BASELINE mapisync / windows-rs: %.2fx of the medians, %.2fx median of the per-run ratios (%s); CPU %s s\n' \
    "$(awk -v a="$b_clean" -v b="$w_clean" 'BEGIN { print a / b }')" "$(printf '%s\n' "${b_ratios[@]}" | median)" \
    "${b_ratios[*]}" "$(median <"$work/clean-cpu-mapisync-baseline")"
fi
printf 'clean ratio mapisync / windows-rs: %.2fx of the medians, %.2fx median of the per-run ratios (target <= 1.10x); mapisync incremental %.2f s (target < 0.2 s)\n' \
  "$(awk -v a="$m_clean" -v b="$w_clean" 'BEGIN { print a / b }')" "$(printf '%s\n' "${ratios[@]}" | median)" "${incremental[mapisync-provider]}"
