#!/bin/sh
# run.sh MPIEXEC NP PROVIDER PROGRAM [ARGS...] - an MPI program on MPI-FM with FM_PROVIDER, through
# the launcher every layer's tests share (tests/launch.sh).  Passes when it exits 0 and rank 0
# printed "PASS".  Limit: MPIFM_TEST_LIMIT seconds (default 240).
mpiexec=$1 np=$2 prov=$3
shift 3
exec "$(dirname "$0")/../../tests/launch.sh" --limit "${MPIFM_TEST_LIMIT:-240}" --pass PASS -- \
  "$mpiexec" -n "$np" -genv FM_PROVIDER "$prov" "$@"
