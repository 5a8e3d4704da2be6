#!/bin/sh
# run.sh MPIEXEC NP PROVIDER PROGRAM [ARGS...] - a GA-FM test program on MPI-FM with FM_PROVIDER,
# through the launcher every layer's tests share (tests/launch.sh).  Passes when it exits 0 and
# printed "PASS".  Limit: GAFM_TEST_LIMIT seconds (default 240).  Environment set by the caller
# (GA_FM_DIRECT, GA_FM_PROGRESS, FM_*) reaches the ranks: Hydra passes it on.
mpiexec=$1 np=$2 prov=$3
shift 3
exec "$(dirname "$0")/../../tests/launch.sh" --limit "${GAFM_TEST_LIMIT:-240}" --pass PASS -- \
  "$mpiexec" -n "$np" -genv FM_PROVIDER "$prov" "$@"
