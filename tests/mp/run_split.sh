#!/bin/sh
# run_split.sh BINARY SCENARIO [NP] - shm reads of FM_SHM_SPLIT bytes or more are copied by the
# reader and the memory's owner together (issue 19): SCENARIO (streams: zero-copy pieces up to
# 16 MiB received in 1 MiB buffers among others; rma: gets up to 64 MiB) checks every byte, and
# FM_STATS must show, on every node, bytes its senders copied for it (zshared > 0): the senders
# wait for their pieces to be read, so they are in FM's progress and take chunks.
# SPLIT=0: FM_SHM_SPLIT=0, the reader copies alone (zshared 0 everywhere), same results.
bin=$1 scen=$2 np=${3:-2} split=${SPLIT:-1M}
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found"; exit 77; }
out=$(timeout -k 10 240 mpiexec.hydra -prepend-rank -n "$np" -genv FM_PROVIDER shm \
  -genv FM_SHM_SPLIT "$split" -genv FM_STATS 1 "$bin" "$scen" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: exit status $rc"; exit 1; }
echo "$out" | awk -v np="$np" -v want="$split" '
  # "[r]   peer msgs_out ... zshared ..." then one row per peer: "[r] p ..."
  $2 == "peer" { for (i = 2; i <= NF; i++) col[$i] = i }
  ("zshared" in col) && $2 ~ /^[0-9]+$/ && NF >= 16 {
    r = $1; gsub(/[^0-9]/, "", r); got[r] += $(col["zshared"]); rows[r]++
  }
  END {
    if (!("zshared" in col)) { print "FAIL: no zshared column in the FM_STATS tables"; exit 1 }
    for (r = 0; r < np; r++) {
      if (!(r in rows)) { print "FAIL: no statistics from node " r; exit 1 }
      if (want != "0" && got[r] + 0 == 0) { print "FAIL: node " r ": no bytes copied by its peers"; exit 1 }
      if (want == "0" && got[r] + 0 != 0) { print "FAIL: node " r ": " got[r] " bytes shared with FM_SHM_SPLIT=0"; exit 1 }
      printf "node %d: %d bytes of its reads copied by their owners\n", r, got[r]
    }
    print "PASS"
  }'
