#!/usr/bin/env bash
# Builds the Debian package, target/debian/carrier-gateway_<version>-1_<arch>.deb,
# with cargo deb (metadata in Cargo.toml, [package.metadata.deb]; maintainer
# scripts, the unit's drop-in, man page and lintian overrides in
# packaging/debian/), then checks it with lintian: an error fails the build.
#
#   scripts/package-deb.sh                  # the release package: cargo build --profile dist (fat LTO, ~9 min on 2 cores)
#   scripts/package-deb.sh --no-build       # package target/dist/carrier-gateway as it is
#   scripts/package-deb.sh --dbgsym         # also carrier-gateway-dbgsym_*.ddeb with the line tables, for gdb
#   scripts/package-deb.sh --binary PATH --output DIR [--no-lintian]
#                                           # package that binary instead (tests/deb_package.rs packages the
#                                           # debug binary `cargo test` built); fast compression; not for shipping
#
# The packaged binary is stripped, as Debian wants (lintian: an unstripped
# binary is an error): 10 MB instead of 49 with the dist profile's line
# tables, a 3 MB .deb. With --dbgsym the line tables go to a separate -dbgsym
# package (/usr/lib/debug/.build-id/, zlib-compressed); lintian is not run on
# that one: cargo-deb writes its control fields (Priority: extra, no copyright
# or changelog) and lintian rejects them.
#
# Needs cargo-deb 3.8.0 and lintian; scripts/setup-test-deps.sh installs both.
set -euo pipefail
cd "$(dirname "$0")/.."

build=yes
binary=
output=
dbgsym=no
lint=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=no ;;
    --binary) binary="$2"; build=no; shift ;;
    --output) output="$2"; shift ;;
    --dbgsym) dbgsym=yes ;;
    --no-lintian) lint=no ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "package-deb.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if ! cargo deb --version >/dev/null 2>&1; then
  echo "package-deb.sh: cargo-deb is missing: cargo install cargo-deb --version 3.8.0 --locked" >&2
  exit 1
fi
if [ "$lint" = yes ] && ! command -v lintian >/dev/null 2>&1; then
  echo "package-deb.sh: lintian is missing: apt-get install lintian (or --no-lintian)" >&2
  exit 1
fi

args=(--profile dist --locked)
[ "$build" = yes ] || args+=(--no-build)
if [ "$dbgsym" = yes ]; then
  args+=(--dbgsym --compress-debug-symbols=zlib)
else
  args+=(--strip --no-separate-debug-symbols --no-dbgsym)
fi

if [ -n "$binary" ]; then
  # cargo deb packages <target dir>/dist/carrier-gateway: give it a target
  # dir of its own holding a link to that binary (strip writes a copy; the
  # binary itself is not changed).
  [ -n "$output" ] || { echo "package-deb.sh: --binary needs --output DIR" >&2; exit 2; }
  [ -x "$binary" ] || { echo "package-deb.sh: no executable at $binary" >&2; exit 2; }
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir "$stage/dist"
  ln "$binary" "$stage/dist/carrier-gateway" 2>/dev/null || cp "$binary" "$stage/dist/carrier-gateway"
  export CARGO_TARGET_DIR="$stage"
  args+=(--fast)
fi
[ -z "$output" ] || args+=(--output "$output")

# cargo deb prints the paths it wrote, the .deb last.
deb=$(cargo deb "${args[@]}" | tail -n 1)
[ -f "$deb" ] || { echo "package-deb.sh: cargo deb made no package ($deb)" >&2; exit 1; }
echo "$deb"

if [ "$lint" = yes ]; then
  # Warnings are printed; justified ones are overridden in
  # packaging/debian/lintian-overrides. lintian leaves files in TMPDIR: give
  # it one that goes away.
  lint_tmp=$(mktemp -d)
  status=0
  TMPDIR="$lint_tmp" lintian --fail-on error --tag-display-limit 0 "$deb" >&2 || status=$?
  rm -rf "$lint_tmp"
  exit "$status"
fi
