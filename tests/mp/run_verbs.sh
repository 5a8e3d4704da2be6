#!/bin/sh
# run_verbs.sh BINARY [verbs|verbs-ud] - FM_PROVIDER=verbs (verbs;ofi_rxm) or verbs-ud (verbs UD
# datagrams under FM's reliability) without an RDMA device: a clean one-line error and exit 77
# (provider not available) from fm_mptest, no crash and no hang.
#
# With one rank the launcher passes the rank's own exit status through, so 77 is asserted
# exactly.  With two ranks the first rank to exit without PMI finalize makes Hydra take the job
# down (by design: a rank that failed FM_initialize must not leave the others waiting in the
# set-up fence), so mpiexec's status then depends on which rank exits first: there only the
# message, a non-zero status and the absence of a hang (timeout) are asserted.
bin=$1 prov=${2:-verbs}
case $prov in
  verbs) want="verbs;ofi_rxm not available" ;;
  verbs-ud) want="provider verbs not available" ;;
  *) echo "run_verbs.sh: provider verbs or verbs-ud, not $prov"; exit 2 ;;
esac
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found"; exit 77; }
if [ -e /sys/class/infiniband ] && [ -n "$(ls /sys/class/infiniband 2>/dev/null)" ]; then
  out=$(timeout -k 5 60 mpiexec.hydra -n 2 -genv FM_PROVIDER "$prov" "$bin" send11 2>&1)
  rc=$?
  echo "$out"
  echo "an RDMA device exists here: $prov is expected to work"; [ $rc -eq 0 ] && exit 0 || exit 1
fi
out=$(timeout -k 5 60 mpiexec.hydra -n 1 -genv FM_PROVIDER "$prov" "$bin" send11 2>&1)
rc=$?
echo "$out"
echo "$out" | grep -qF "$want" || { echo "FAIL: no clear message (1 rank)"; exit 1; }
# Now and then (2 of about 40 runs in CI, 2026-12-07) Hydra reports the rank that printed its SKIP
# line and returned 77 as "terminated with the exit string: Hangup (signal 1)" and exits 1: not
# explained yet (FM keeps the PMI descriptor open until the process exits, bootstrap/pmi.cpp).
# That report, and only it, is run again once; the second run must give 77 as well.
if [ $rc -eq 1 ] && echo "$out" | grep -qF "EXIT STRING: Hangup (signal 1)"; then
  echo "run_verbs.sh: Hydra reported a hangup for the exiting rank; running the 1-rank case again"
  out=$(timeout -k 5 60 mpiexec.hydra -n 1 -genv FM_PROVIDER "$prov" "$bin" send11 2>&1)
  rc=$?
  echo "$out"
  echo "$out" | grep -qF "$want" || { echo "FAIL: no clear message (1 rank, again)"; exit 1; }
fi
[ $rc -eq 77 ] || { echo "FAIL: exit status $rc with 1 rank, expected 77"; exit 1; }
out=$(timeout -k 5 60 mpiexec.hydra -n 2 -genv FM_PROVIDER "$prov" "$bin" send11 2>&1)
rc=$?
echo "$out"
echo "$out" | grep -qF "$want" || { echo "FAIL: no clear message (2 ranks)"; exit 1; }
[ $rc -ne 0 ] || { echo "FAIL: 2 ranks exited 0 without a provider"; exit 1; }
[ $rc -ne 124 ] && [ $rc -ne 137 ] || { echo "FAIL: 2 ranks hung (timeout)"; exit 1; }
echo "PASS: $prov refused cleanly"
