#!/bin/bash
# test_mpich_cache.sh - the MPICH build cache (mpi-fm/tools/mpich-cache.sh) in every state it can be
# found in, with a stand-in builder instead of MPICH's 17-minute build: an empty cache, one cached
# build, several, a half-finished one (a builder killed mid-build), a failing builder, a cache
# directory that cannot be written (read-only file system, a path under a regular file), a
# read-only cache that already holds the build, and two builders at once.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tools/mpich-cache.sh
. "$here/../tools/mpich-cache.sh"

tmp=$(mktemp -d)
trap 'umount "$tmp/ro" 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0 passed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failures=$((failures + 1))
    echo "FAIL: $what" >&2
  fi
}
# strict CMD...: CMD in a subshell in build-mpich.sh's mode (set -euo pipefail), where a pipeline
# whose grep finds nothing ends the script (the fresh-machine failure this test was written for)
# (a new bash: errexit is ignored in a subshell run as an if condition)
strict() { bash -c 'set -euo pipefail; . "$0"; "$@"' "$here/../tools/mpich-cache.sh" "$@"; }
export count=$tmp/builds
builds() { cat "$count" 2>/dev/null || echo 0; }
fake_build() { # the stand-in for build_mpich: an install with a marker naming the build
  echo $(($(builds) + 1)) >"$count"
  mkdir -p "$1/install/bin" && echo "$1" >"$1/install/bin/mpicc"
}
export -f builds fake_build
failing_build() { mkdir -p "$1/install"; return 1; }
names() { (cd "$1" && ls -d 4.0.2-* 2>/dev/null | sort | tr '\n' ' '); }

# 1. empty cache: builds, marks complete, prunes nothing (the case that failed on fresh machines)
c=$tmp/empty
check "empty cache: mc_ensure succeeds" strict mc_ensure "$c" 4.0.2 "$c/4.0.2-a" 2 fake_build
check "empty cache: built once" [ "$(builds)" = 1 ]
check "empty cache: complete" [ "$(mc_state "$c/4.0.2-a")" = complete ]

# 2. one cached build, the one we want: no build; under set -e and pipefail too (the script's mode)
check "one cached build: used" bash -c "set -euo pipefail; . '$here/../tools/mpich-cache.sh';
  mc_ensure '$c' 4.0.2 '$c/4.0.2-a' 2 false >/dev/null"
# one cached build of another key: builds ours, keeps the other
check "one other build: builds ours" bash -c "set -euo pipefail; . '$here/../tools/mpich-cache.sh';
  b() { mkdir -p \"\$1/install\"; }; mc_ensure '$c' 4.0.2 '$c/4.0.2-b' 2 b >/dev/null"
check "one other build: both kept" [ "$(names "$c")" = "4.0.2-a 4.0.2-b " ]

# 3. several: the two most recent others are kept, older ones removed, the current never
c=$tmp/several
for k in k1 k2 k3 k4; do
  mkdir -p "$c/4.0.2-$k/install" && touch "$c/4.0.2-$k/install/.complete"
  touch -d "-$((10 - ${k#k})) min" "$c/4.0.2-$k"
done
check "several: builds the new one" strict mc_ensure "$c" 4.0.2 "$c/4.0.2-new" 2 fake_build
check "several: keeps the new one and the two newest others" [ "$(names "$c")" = "4.0.2-k3 4.0.2-k4 4.0.2-new " ]
# using an old build again never removes it
check "several: using an older build" strict mc_ensure "$c" 4.0.2 "$c/4.0.2-k3" 2 false
check "several: nothing removed when nothing is built" [ "$(names "$c")" = "4.0.2-k3 4.0.2-k4 4.0.2-new " ]

# 4. half-finished: a builder killed mid-build leaves a directory without the marker
c=$tmp/killed
mkdir -p "$c"
( slow_build() { mkdir -p "$1/install/bin" "$1/obj"; touch "$1/obj/half.o"; sleep 30; }
  mc_ensure "$c" 4.0.2 "$c/4.0.2-a" 2 slow_build ) &
pid=$!
for _ in $(seq 100); do [ -e "$c/4.0.2-a/obj/half.o" ] && break; sleep 0.1; done
pkill -KILL -P "$pid" sleep 2>/dev/null
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check "killed: left partial" [ "$(mc_state "$c/4.0.2-a")" = partial ]
rm -f "$count"
check "killed: next run rebuilds" strict mc_ensure "$c" 4.0.2 "$c/4.0.2-a" 2 fake_build
check "killed: rebuilt once, from scratch" [ "$(builds)" = 1 ] && [ ! -e "$c/4.0.2-a/obj/half.o" ]
check "killed: complete" [ "$(mc_state "$c/4.0.2-a")" = complete ]
# a partial build of another key (killed earlier) is removed when we prune
mkdir -p "$c/4.0.2-old/obj"
check "killed other: builds ours" strict mc_ensure "$c" 4.0.2 "$c/4.0.2-b" 2 fake_build
check "killed other: its leftovers removed" [ ! -e "$c/4.0.2-old" ]

# 5. a failing builder: reported, never marked complete
c=$tmp/failing
check "failing builder: error" bash -c "! { . '$here/../tools/mpich-cache.sh';
  failing_build() { mkdir -p \"\$1/install\"; return 1; }; mc_ensure '$c' 4.0.2 '$c/4.0.2-a' 2 failing_build; } 2>/dev/null"
check "failing builder: not complete" [ "$(mc_state "$c/4.0.2-a")" = partial ]

# 6. unwritable cache directory
#    a path under a regular file: falls back, saying why
touch "$tmp/file"
out=$(mc_choose "$tmp/file/cache" "$tmp/fallback" 4.0.2-a 2>"$tmp/err")
check "under a file: falls back" [ "$out" = "$tmp/fallback" ]
check "under a file: says why" grep -q "cannot write to the MPICH cache $tmp/file/cache" "$tmp/err"
#    a read-only file system (root passes permission checks, not this): a tmpfs mounted read-only
#    in a private mount namespace, one empty and one holding the build
if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
  mkdir -p "$tmp/ro" "$tmp/ro-src/4.0.2-a/install" && touch "$tmp/ro-src/4.0.2-a/install/.complete"
  out=$(unshare -m bash -c "mount --bind '$tmp/ro-src' '$tmp/ro' && mount -o remount,bind,ro '$tmp/ro' &&
    . '$here/../tools/mpich-cache.sh' && mc_choose '$tmp/ro' '$tmp/fb2' 4.0.2-a && mc_choose '$tmp/ro' '$tmp/fb2' 4.0.2-b" 2>"$tmp/err")
  check "read-only with the build: used read-only, the other falls back" [ "$out" = "$tmp/ro
$tmp/fb2" ]
  check "read-only: says so" grep -q "using its complete build 4.0.2-a read-only" "$tmp/err"
  check "read-only: a complete build needs no lock" unshare -m bash -c "mount --bind '$tmp/ro-src' '$tmp/ro' &&
    mount -o remount,bind,ro '$tmp/ro' && . '$here/../tools/mpich-cache.sh' &&
    mc_ensure '$tmp/ro' 4.0.2 '$tmp/ro/4.0.2-a' 2 false >/dev/null"
else
  echo "note: no mount namespaces here; the read-only file system cases were not run"
fi
#    neither the cache nor the fallback writable: an error, not a crash
check "nothing writable: error" bash -c "! { . '$here/../tools/mpich-cache.sh'; mc_choose '$tmp/file/a' '$tmp/file/b' x; } 2>/dev/null"

# 7. two builders at once: the second waits for the first and then uses its build
c=$tmp/concurrent
mkdir -p "$c"
( slow() { sleep 1; mkdir -p "$1/install"; echo first >"$1/install/who"; }
  mc_ensure "$c" 4.0.2 "$c/4.0.2-a" 2 slow >/dev/null ) &
sleep 0.3
out=$(mc_ensure "$c" 4.0.2 "$c/4.0.2-a" 2 fake_build)
wait
check "concurrent: the second waited" grep -q "waiting for it" <<<"$out"
check "concurrent: and used the first's build" grep -q "finished by another build" <<<"$out"
check "concurrent: built once" [ "$(cat "$c/4.0.2-a/install/who")" = first ]

echo "$passed passed, $failures failed"
[ "$failures" = 0 ]
