#!/usr/bin/env bash
# What a new user meets before the first line of code, checked:
# 1. the license files (LICENSE-MIT, LICENSE-APACHE) at the root and in the
#    four packages (mapisync/, runtime/, engine/, macros/), the same bytes
#    everywhere;
# 2. `cargo package --list` of mapisync, mapisync-runtime, mapisync-engine
#    and mapisync-macros: the license files, the README and (mapisync, the crate
#    users name) include/imapisync.h are in, and nothing else outside src/
#    (no stray test files);
# 3. CHANGELOG.md in Keep a Changelog's shape;
# 4. the README (also the crates.io page of mapisync, where a relative link
#    resolves against mapisync/ and 404s) has no relative link, and gives the
#    install line that works today (git) and the one for crates.io;
# 5. the contract is docs/contract.md: no tracked file cites a contract file
#    outside the repository;
# 6. include/imapisync.h compiles as C and as C++ for x86 and x64 (gcc -m32
#    and -m64, i686 and x86_64 mingw-w64), alone and together with
#    mingw-w64's mapidefs.h/mapicode.h in either order, and its HRESULTs,
#    IIDs, flags and MAPISIB layout are the values the Rust crate defines;
# 7. `cargo doc --no-deps` of mapisync and of mapisync-runtime, with and
#    without `--features host`, and of mapisync-macros, are warning-free;
# 8. a user's build of mapisync resolves both halves, no loom and one
#    windows-core;
# 9. a release provider DLL (examples/provider-dll, x86_64 and i686 mingw)
#    exports exactly the names the README lists (scripts/check-exports.sh).
#
# Locally a missing tool is a printed skip; under CI=true it is a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$(repo_root)"
root="$PWD"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}
section() {
  echo
  echo "== packaging: $*"
}

section "license files"
for file in LICENSE-MIT LICENSE-APACHE; do
  [ -f "$file" ] || { fail "$file is missing at the root"; continue; }
  for package in mapisync runtime engine macros; do
    if ! cmp -s "$file" "$package/$file"; then
      fail "$package/$file is missing or differs from the root's $file"
    fi
  done
done
grep -qx "Copyright (c) The mapisync developers" LICENSE-MIT 2>/dev/null || fail "LICENSE-MIT: no 'Copyright (c) The mapisync developers' line"
grep -q "Version 2.0, January 2004" LICENSE-APACHE 2>/dev/null || fail "LICENSE-APACHE is not the Apache License 2.0 text"
for manifest in mapisync/Cargo.toml runtime/Cargo.toml engine/Cargo.toml macros/Cargo.toml; do
  grep -qE '^license(\.workspace = true| = "MIT OR Apache-2.0")' "$manifest" || fail "$manifest has no MIT OR Apache-2.0 license"
done
[ "$failed" -eq 0 ] && echo "ok: LICENSE-MIT and LICENSE-APACHE at the root, in mapisync/, runtime/, engine/ and macros/"

section "cargo package --list"
# package_list PACKAGE: the files the .crate holds.
package_list() { cargo package --quiet --list --allow-dirty -p "$1" 2>/dev/null; }
# Files a package may hold besides its sources: cargo's own, the README,
# the licenses; per package, what else belongs there.
common='^(\.cargo_vcs_info\.json|Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|README\.md|LICENSE-MIT|LICENSE-APACHE|src/.*\.rs)$'
check_package() {
  local package="$1" extra="$2" list
  shift 2
  list="$(package_list "$package")" || { fail "cargo package --list -p $package failed"; return; }
  for wanted in LICENSE-MIT LICENSE-APACHE README.md "$@"; do
    grep -qx "$wanted" <<<"$list" || fail "$package's package lacks $wanted"
  done
  local stray
  stray="$(grep -vE "$common" <<<"$list" | grep -vE "$extra" || true)"
  [ -z "$stray" ] || fail "$package's package holds files it should not: $(tr '\n' ' ' <<<"$stray")"
  echo "$package: $(wc -l <<<"$list") files"
}
# mapisync, the crate users name, ships the C header; the macros' unit
# tests read their snapshot; the runtime holds nothing but sources (its
# unit-test modules are sources, src/: they belong) and its own README, a
# paragraph that sends readers to mapisync.
check_package mapisync '^include/imapisync\.h$' include/imapisync.h
check_package mapisync-runtime '^$'
check_package mapisync-engine '^build\.rs$' build.rs
check_package mapisync-macros '^tests/snapshots/[a-z_]+\.expanded\.rs$'

section "the packaged bytes"
# mapisync/README.md and mapisync/include/imapisync.h are symlinks to the
# root files; a checkout without symlinks (core.symlinks=false, Git for
# Windows' default) has short text files there, which cargo would ship as
# they are. So the .crate's own files must be the root's, byte for byte.
crates="$(mktemp -d)"
if cargo package --quiet --no-verify --allow-dirty -p mapisync -p mapisync-runtime -p mapisync-engine -p mapisync-macros --target-dir "$crates" >/dev/null 2>&1; then
  for crate in "$crates"/package/mapisync-*.crate; do
    tar -xzf "$crate" -C "$crates"
  done
  facade_dir="$(find "$crates" -maxdepth 1 -type d -name 'mapisync-[0-9]*' | head -n 1)"
  runtime_dir="$(find "$crates" -maxdepth 1 -type d -name 'mapisync-runtime-[0-9]*' | head -n 1)"
  engine_dir="$(find "$crates" -maxdepth 1 -type d -name 'mapisync-engine-[0-9]*' | head -n 1)"
  macros_dir="$(find "$crates" -maxdepth 1 -type d -name 'mapisync-macros-[0-9]*' | head -n 1)"
  for pair in "$facade_dir/README.md README.md" "$facade_dir/include/imapisync.h include/imapisync.h" \
    "$facade_dir/LICENSE-MIT LICENSE-MIT" "$facade_dir/LICENSE-APACHE LICENSE-APACHE" \
    "$runtime_dir/LICENSE-MIT LICENSE-MIT" "$runtime_dir/LICENSE-APACHE LICENSE-APACHE" \
    "$engine_dir/LICENSE-MIT LICENSE-MIT" "$engine_dir/LICENSE-APACHE LICENSE-APACHE" \
    "$macros_dir/LICENSE-MIT LICENSE-MIT" "$macros_dir/LICENSE-APACHE LICENSE-APACHE"; do
    read -r packaged original <<<"$pair"
    if cmp -s "$packaged" "$original"; then
      echo "ok: the package's ${packaged#"$crates"/} is the root's $original"
    else
      fail "the package's ${packaged#"$crates"/} is not the root's $original (a symlink checked out as text?)"
    fi
  done
else
  fail "cargo package --no-verify of the four crates failed"
fi
rm -rf "$crates"

section "CHANGELOG.md"
if [ -f CHANGELOG.md ]; then
  grep -q "keepachangelog.com" CHANGELOG.md || fail "CHANGELOG.md does not say it follows Keep a Changelog"
  grep -q '^## \[Unreleased\]' CHANGELOG.md || fail "CHANGELOG.md has no '## [Unreleased]' section"
  version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
  # A published version has a section of its own; before publication its
  # contents are [Unreleased], which names it.
  grep -qE "^## \[$version\]|^The first release, $version, is not published yet" CHANGELOG.md ||
    fail "CHANGELOG.md has no section for $version (the workspace's version), nor says it is unpublished"
  grep -q '^\[Unreleased\]: https://' CHANGELOG.md || fail "CHANGELOG.md has no [Unreleased] link"
  bad="$(grep -E '^### ' CHANGELOG.md | grep -vE '^### (Added|Changed|Deprecated|Removed|Fixed|Security)$' || true)"
  [ -z "$bad" ] || fail "CHANGELOG.md: headings Keep a Changelog does not use: $bad"
else
  fail "CHANGELOG.md is missing"
fi
[ "$failed" -eq 0 ] && echo "ok: CHANGELOG.md"

section "README links and install lines"
# Markdown links [text](target) and reference definitions [name]: target.
relative="$(grep -noE '\]\([^)]+\)|^\[[^]]+\]: *[^ ]+' README.md | grep -vE '\]\((https?://|#)|\]: *(https?://|#)' || true)"
if [ -n "$relative" ]; then
  fail "README.md has relative links (crates.io resolves them against mapisync/):"
  echo "$relative"
else
  echo "ok: README.md has no relative link"
fi
grep -qF 'mapisync = { git = "https://github.com/mapisync/mapisync" }' README.md ||
  fail "README.md has no install line that works before the crate is published (a git dependency)"
grep -qE '^mapisync = "0\.1"' README.md || fail "README.md has no install line for crates.io"
for command in "cargo run --example mailbox_sync" "bash scripts/test-all.sh"; do
  grep -qF "$command" README.md || fail "README.md lost its command: $command"
done

section "the contract is docs/contract.md"
[ -f docs/contract.md ] || fail "docs/contract.md is missing"
# The contract file the code once cited lived outside the repository.
outside="$(git grep -n -e 'imapisync[.]md' -- . || true)"
if [ -n "$outside" ]; then
  fail "these lines cite a contract file outside the repository; cite docs/contract.md:"
  echo "$outside"
else
  echo "ok: no tracked file cites a contract outside the repository"
fi

section "include/imapisync.h"
if [ -f include/imapisync.h ]; then
  bash scripts/check-header.sh || failed=1
else
  fail "include/imapisync.h is missing"
fi

section "cargo doc, warning-free"
for package in mapisync mapisync-runtime; do
  for features in "" "--features host"; do
    if RUSTDOCFLAGS="-D warnings" cargo doc --quiet -p "$package" --no-deps $features --target-dir "$target_dir/packaging-doc"; then
      echo "ok: cargo doc -p $package --no-deps $features"
    else
      fail "cargo doc -p $package --no-deps $features has warnings"
    fi
  done
done
# The engine and the macro crate have no `host` feature.
for package in mapisync-engine mapisync-macros; do
  if RUSTDOCFLAGS="-D warnings" cargo doc --quiet -p "$package" --no-deps --target-dir "$target_dir/packaging-doc"; then
    echo "ok: cargo doc -p $package --no-deps"
  else
    fail "cargo doc -p $package --no-deps has warnings"
  fi
done

section "a user's dependency graph"
# A crate that depends on mapisync, as a user's does (a path stands in for
# the registry): its Cargo.lock lists every package any target or cfg could
# build, so a cfg(loom) normal dependency would show here.
user="$(mktemp -d)"
trap 'rm -rf "$user"' EXIT
mkdir -p "$user/src"
printf '[package]\nname = "user"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\nmapisync = { path = "%s/mapisync" }\n' \
  "$root" >"$user/Cargo.toml"
: >"$user/src/lib.rs"
if (cd "$user" && { cargo generate-lockfile --quiet --offline 2>/dev/null || cargo generate-lockfile --quiet; }); then
  names="$(sed -n 's/^name = "\(.*\)"/\1/p' "$user/Cargo.lock")"
  grep -qx loom <<<"$names" && fail "a user's Cargo.lock lists loom"
  for half in mapisync-runtime mapisync-engine mapisync-macros; do
    grep -qx "$half" <<<"$names" || fail "a user's Cargo.lock lacks $half"
  done
  cores="$(grep -cx windows-core <<<"$names" || true)"
  [ "$cores" -eq 1 ] || fail "a user's Cargo.lock lists $cores windows-core packages"
  echo "a user's Cargo.lock: $(wc -l <<<"$names") packages, $cores windows-core, loom: $(grep -cx loom <<<"$names" || true)"
else
  fail "cargo generate-lockfile for a crate depending on mapisync failed"
fi

# loom is mapisync-runtime's dev-dependency: a provider that runs loom
# models of its own builds mapisync with --cfg loom, and it must build there
# on std.
loom_target="$(mktemp -d)"
if RUSTFLAGS="--cfg loom" cargo check --quiet -p mapisync --target-dir "$loom_target" >/dev/null 2>"$loom_target/log"; then
  echo "ok: mapisync builds with --cfg loom outside its own tests"
else
  fail "mapisync does not build with --cfg loom outside its own tests:"
  grep -E "^error" "$loom_target/log" | head -5
fi
rm -rf "$loom_target"

section "the exports of a release provider DLL"
bash scripts/check-exports.sh || failed=1

exit "$failed"
