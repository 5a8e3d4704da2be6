#!/bin/sh
# run_stats.sh PROVIDER BINARY - FM_STATS=1 prints every node's per-peer table and, on node 0,
# the job's traffic matrix at FM_finalize; the matrix must show the rma scenario's traffic
# (every node writes to its right neighbour) and agree with the tables.
prov=$1 bin=$2
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found"; exit 77; }
out=$(timeout -k 10 240 mpiexec.hydra -n 3 -genv FM_PROVIDER "$prov" -genv FM_STATS 1 "$bin" rma 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: exit status $rc"; exit 1; }
for r in 0 1 2; do
  echo "$out" | grep -q "^fm stats, node $r of 3:" || { echo "FAIL: no table from node $r"; exit 1; }
done
for col in stalls full fsleeps zcopy_in zshared rma_bytes_out handler_ms retrans; do
  echo "$out" | grep -q "^ *peer .* $col" || { echo "FAIL: the tables have no $col column"; exit 1; }
done
echo "$out" | awk '
  /traffic matrix/ { m = 1; next }
  m && $1 ~ /^[0-9]+$/ && NF == 4 { row[$1] = $0; cell[$1, 0] = $2; cell[$1, 1] = $3; cell[$1, 2] = $4; rows++ }
  END {
    if (rows != 3) { print "FAIL: matrix has " rows " rows"; exit 1 }
    for (r = 0; r < 3; r++) {
      right = (r + 1) % 3
      if (cell[r, right] < 64 * 1024 * 1024) { print "FAIL: node " r " -> " right ": " cell[r, right] " bytes"; exit 1 }
    }
    print "PASS: tables from 3 nodes and a traffic matrix with each node'"'"'s writes to its right"
  }'
