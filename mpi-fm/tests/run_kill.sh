#!/bin/bash
# run_kill.sh MPIEXEC NP PROVIDER PROGRAM - the last rank kills itself while the others wait for
# it: every survivor must report an MPI error (not hang) within the limit, then finalize.
#
# Hydra 4.0.2 tears the whole job down when a launched process dies by a signal, even with
# -disable-auto-cleanup; so each rank runs under a small sh that waits for it (as in FM's own
# tests/mp/run_kill.sh): the MPI process is really SIGKILLed, Hydra sees the wrapper exit, closes
# the rank's PMI connection and sends SIGUSR1 to the others (the wrapper ignores it with `trap :`).
set -u
mpiexec=$1 np=$2 prov=$3 prog=$4
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
timeout -k 5 60 "$mpiexec" -disable-auto-cleanup -n "$np" -genv FM_PROVIDER "$prov" \
  -genv FM_PEER_TIMEOUT_MS 5000 sh -c 'trap : USR1; "$0" kill' "$prog" >"$out" 2>&1
rc=$?
cat "$out"
echo "run_kill.sh: mpiexec exit status $rc after $(( $(date +%s) - start )) s"
[ $rc -eq 124 ] && { echo "run_kill.sh: TIMEOUT: survivors hung" >&2; exit 1; }
got=$(grep -c "errors: kill: rank .* got error class" "$out")
[ "$got" -eq $((np - 1)) ] || { echo "run_kill.sh: $got of $((np - 1)) survivors reported the failure" >&2; exit 1; }
# each survivor also checks the error's class and its text (errors.c), and says so if wrong
grep -q "expected MPIX_ERR_PROC_FAILED" "$out" && { echo "run_kill.sh: wrong class or text" >&2; exit 1; }
# and MPI_Finalize returns in every survivor (it waited for the dead rank before patch 0005)
fin=$(grep -c "errors: kill: rank .* finalized" "$out")
[ "$fin" -eq $((np - 1)) ] || { echo "run_kill.sh: $fin of $((np - 1)) survivors got out of MPI_Finalize" >&2; exit 1; }
exit 0
