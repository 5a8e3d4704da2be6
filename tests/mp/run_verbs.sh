#!/bin/sh
# run_verbs.sh BINARY [verbs|verbs-ud] - FM_PROVIDER=verbs (verbs;ofi_rxm) or verbs-ud (verbs UD
# datagrams under FM's reliability) without an RDMA device: a clean one-line error and exit 77
# (provider not available) from fm_mptest, no crash and no hang.
#
# fm_mptest ends the job with FM_abort(77) after FM_initialize fails (PMI's abort through the
# launcher FM joined: docs/fm.md), so mpiexec exits 77 with 1 rank and with 2, whichever rank
# aborts first, and says which rank aborted.  (It used to return 77 without finalizing PMI, and
# Hydra 4.0.2 then now and then reported the rank killed by SIGHUP, status 1: its proxy, reaping
# the rank before it read the PMI socket's close, overwrote the status with 1 (pmip_cb.c), 7 of
# 60 runs on a loaded CPU.)
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
for n in 1 2; do
  out=$(timeout -k 5 60 mpiexec.hydra -n $n -genv FM_PROVIDER "$prov" "$bin" send11 2>&1)
  rc=$?
  echo "$out"
  echo "$out" | grep -qF "$want" || { echo "FAIL: no clear message ($n ranks)"; exit 1; }
  echo "$out" | grep -qE "fm: rank [0-9]+ of $n aborts the job \(code 77\)" ||
    { echo "FAIL: no rank said it ends the job ($n ranks)"; exit 1; }
  [ $rc -eq 77 ] || { echo "FAIL: exit status $rc with $n ranks, expected 77"; exit 1; }
done
echo "PASS: $prov refused cleanly"
