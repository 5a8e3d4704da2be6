#!/bin/bash
# run.sh MPIEXEC NP PROVIDER PROGRAM [ARGS...] - runs an MPI program on MPI-FM with FM_PROVIDER,
# passes when it exits 0 and rank 0 printed "PASS".  Time-limited (MPIFM_TEST_LIMIT, 240 s).
set -u
mpiexec=$1 np=$2 prov=$3
shift 3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout -k 5 "${MPIFM_TEST_LIMIT:-240}" "$mpiexec" -n "$np" -genv FM_PROVIDER "$prov" "$@" >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc -eq 124 ]; then echo "run.sh: TIMEOUT after ${MPIFM_TEST_LIMIT:-240} s" >&2; exit 1; fi
[ $rc -eq 0 ] || { echo "run.sh: exit status $rc" >&2; exit 1; }
grep -q "PASS" "$out" || { echo "run.sh: no PASS line" >&2; exit 1; }
if grep -q "answered an unknown\|malformed message" "$out"; then echo "run.sh: protocol warning" >&2; exit 1; fi
exit 0
