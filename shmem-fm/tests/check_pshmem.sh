#!/bin/sh
# check_pshmem.sh LIBRARY SHMEM_H PSHMEM_H CC - the profiling interface is complete and current:
#  - pshmem.h is what tools/make-pshmem.sh makes from shmem.h today;
#  - for every function shmem.h declares, libshmem-fm exports the p-name at the same address.
set -eu
lib=$1 shmem_h=$2 pshmem_h=$3 cc=$4
make="$(cd "$(dirname "$0")" && pwd)/../tools/make-pshmem.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh "$make" header "$shmem_h" >"$tmp/pshmem.h"
if ! cmp -s "$tmp/pshmem.h" "$pshmem_h"; then
  echo "$pshmem_h is out of date: run tools/make-pshmem.sh header include/shmem.h >include/pshmem.h"
  diff -u "$pshmem_h" "$tmp/pshmem.h" | head -20
  exit 1
fi
sh "$make" names "$shmem_h" "$cc" >"$tmp/names"
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3, $1 }' | sort >"$tmp/syms"
awk 'NR == FNR { addr[$1] = $2; next }
     { n++; a = addr[$1]; p = addr["p" $1]
       if (a == "" || a != p) { printf "p%s: not exported at the address of %s (%s vs %s)\n", $1, $1, p == "" ? "missing" : p, a == "" ? "missing" : a; bad = 1 } }
     END { if (bad) exit 1; printf "%d\n", n > "/dev/stderr" }' "$tmp/syms" "$tmp/names" 2>"$tmp/count" || exit 1
n=$(cat "$tmp/count")
echo "pshmem.h current; $n profiling names exported at their routines' addresses"
