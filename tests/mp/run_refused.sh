#!/bin/sh
# run_refused.sh STATUS PATTERN NP VAR VALUE BINARY [ARGS...] - a job of NP ranks whose
# FM_initialize is refused (the environment variable VAR=VALUE on every rank) must end at once,
# whichever rank gives up first: mpiexec exits STATUS, the output has a line matching PATTERN
# (grep -E) and a rank says it ends the job (FM_abort after a failed FM_initialize, through the
# launcher it had joined: docs/fm.md).  No hang, no crash.
[ $# -ge 6 ] || { echo "usage: run_refused.sh STATUS PATTERN NP VAR VALUE BINARY [ARGS...]"; exit 2; }
status=$1 pattern=$2 np=$3 var=$4 value=$5
shift 5
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found"; exit 77; }
out=$(timeout -k 5 60 mpiexec.hydra -n "$np" -genv "$var" "$value" "$@" 2>&1)
rc=$?
echo "$out"
[ $rc -ne 124 ] && [ $rc -ne 137 ] || { echo "FAIL: the job hung (timeout)"; exit 1; }
echo "$out" | grep -q "SIGSEGV\|Segmentation\|core dumped" && { echo "FAIL: crashed"; exit 1; }
echo "$out" | grep -qE "$pattern" || { echo "FAIL: no line matching '$pattern'"; exit 1; }
echo "$out" | grep -qE "fm: rank [0-9]+ of $np aborts the job \\(code $status\\)" ||
  { echo "FAIL: no rank said it ends the job with code $status"; exit 1; }
[ $rc -eq "$status" ] || { echo "FAIL: mpiexec exited $rc, expected $status"; exit 1; }
echo "PASS: refused with status $status"
