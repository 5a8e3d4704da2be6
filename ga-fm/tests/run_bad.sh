#!/bin/sh
# run_bad.sh MPIEXEC NP PROVIDER PROGRAM CASE PATTERN - a program that makes one invalid call (or
# loses a rank: CASE kill) must end the job with a non-zero status within the time limit (no hang,
# no crash signal) and print an error matching PATTERN (which names the call and the argument).
mpiexec=$1 np=$2 prov=$3 bin=$4 case=$5 pattern=$6
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
if [ "$case" = kill ]; then
  # Hydra ends the whole job when a rank dies by a signal: each rank runs under a shell that
  # waits for it (see mpi-fm/tests/run_kill.sh), so the survivors have to notice by themselves
  timeout -k 10 120 "$mpiexec" -disable-auto-cleanup -n "$np" -genv FM_PROVIDER "$prov" \
    -genv FM_PEER_TIMEOUT_MS 5000 sh -c 'trap : USR1; "$0" kill' "$bin" >"$out" 2>&1
else
  timeout -k 10 120 "$mpiexec" -n "$np" -genv FM_PROVIDER "$prov" "$bin" "$case" >"$out" 2>&1
fi
rc=$?
cat "$out"
echo "run_bad.sh: exit status $rc after $(($(date +%s) - start)) s"
[ $rc -ne 124 ] && [ $rc -ne 137 ] || { echo "FAILED: the job hung (timeout)"; exit 1; }
[ $rc -ne 0 ] || { echo "FAILED: the invalid call did not end the job"; exit 1; }
grep -q "the invalid call returned" "$out" && { echo "FAILED: the invalid call returned"; exit 1; }
grep -q "SIGSEGV\|Segmentation\|core dumped\|signal 11\|signal 6\|AddressSanitizer" "$out" &&
  { echo "FAILED: crashed"; exit 1; }
grep -qE "$pattern" "$out" || { echo "FAILED: no message matching '$pattern'"; exit 1; }
echo "OK: exit status $rc with the expected message"
