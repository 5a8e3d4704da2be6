#!/bin/sh
# run_verbs.sh BINARY - FM_PROVIDER=verbs without an RDMA device: a clean one-line error, exit 77
# from fm_mptest (provider not available), no crash and no hang.
bin=$1
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found"; exit 77; }
out=$(timeout -k 5 60 mpiexec.hydra -n 2 -genv FM_PROVIDER verbs "$bin" send11 2>&1)
rc=$?
echo "$out"
if [ -e /sys/class/infiniband ] && [ -n "$(ls /sys/class/infiniband 2>/dev/null)" ]; then
  echo "an RDMA device exists here: verbs is expected to work"; [ $rc -eq 0 ] && exit 0 || exit 1
fi
echo "$out" | grep -q "verbs;ofi_rxm not available" || { echo "FAIL: no clear message"; exit 1; }
[ $rc -eq 77 ] || { echo "FAIL: exit status $rc, expected 77 (provider not available)"; exit 1; }
echo "PASS: verbs refused cleanly"
