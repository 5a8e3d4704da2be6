#!/bin/sh
# run_abort.sh MPIEXEC NP PROVIDER ERRORS_BIN [RUNS] - every rank calls MPI_Abort(MPI_COMM_WORLD, 3)
# at once (errors.c abort), RUNS times (default 5): each run must end within the time limit,
# mpiexec exit 3, and the output keep at least one "Abort(3) on node R" line.  Hydra kills the
# job as soon as it reads an abort and drops output it has not yet forwarded: without MPI-FM's
# patch 0003 (a pause before PMI's abort) every Abort line was lost in 14 of 40 runs of 3 ranks.
mpiexec=$1 np=$2 prov=$3 bin=$4 runs=${5:-5}
i=1
while [ $i -le "$runs" ]; do
  out=$(timeout -k 5 60 "$mpiexec" -n "$np" -genv FM_PROVIDER "$prov" "$bin" abort 2>&1)
  rc=$?
  echo "$out"
  [ $rc -ne 124 ] && [ $rc -ne 137 ] || { echo "FAIL: run $i hung (timeout)"; exit 1; }
  [ $rc -eq 3 ] || { echo "FAIL: run $i: mpiexec exited $rc, expected 3"; exit 1; }
  echo "$out" | grep -qE "^Abort\(3\) on node [0-9]+" ||
    { echo "FAIL: run $i: no rank's Abort(3) line reached the output"; exit 1; }
  i=$((i + 1))
done
echo "PASS: $runs runs of MPI_Abort, each with its message and status 3"
