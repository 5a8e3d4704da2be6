#!/bin/sh
# run_full.sh PROVIDER BINARY [NP] - senders behind a full transport sleep until the receiver
# makes room (issue 19): the slow_receiver scenario (node 0 takes nothing for 2 s while the
# others send 600 messages of up to 200 KiB each) with waits that sleep at once
# (FM_IDLE=block FM_SPIN_US=0), no sweep and a 60 s liveness nap, so that a wake-up the receiver
# failed to give would stall a sender for a minute each time (the test's time-out).  FM_STATS
# must show, for every sender, sends to node 0 that found its ring full (full) and sleeps they
# waited in (fsleeps); the scenario itself checks every message and its order.
# FULL_SLEEPS=0: the fence protocol (FM_SHM_MEMBARRIER=off), where such senders poll instead:
# full rings and no sleeps in them.
prov=$1 bin=$2 np=${3:-3} want=${FULL_SLEEPS:-1}
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found"; exit 77; }
out=$(timeout -k 10 200 mpiexec.hydra -prepend-rank -n "$np" -genv FM_PROVIDER "$prov" \
  -genv FM_IDLE block -genv FM_SPIN_US 0 -genv FM_LIVENESS_MS 60000 -genv FM_SHM_SWEEP 0 \
  -genv FM_STATS 1 "$bin" slow_receiver 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: exit status $rc"; exit 1; }
echo "$out" | awk -v np="$np" -v want="$want" '
  # "[r] fm stats, node r of np:" then "[r]   peer msgs_out ... full fsleeps ..." and one row per peer
  $2 == "fm" && $3 == "stats," && $4 == "node" { seen[$5] = 1 }
  $2 == "peer" { for (i = 2; i <= NF; i++) col[$i] = i }
  $2 == "0" && NF >= 15 && $1 != "[0]" { r = $1; gsub(/[^0-9]/, "", r); full[r] = $(col["full"]); sl[r] = $(col["fsleeps"]) }
  END {
    for (r = 1; r < np; r++) {
      if (!(r in full)) { print "FAIL: no statistics row from node " r " for node 0"; exit 1 }
      if (full[r] + 0 == 0 || (want && sl[r] + 0 == 0) || (!want && sl[r] + 0 != 0)) {
        print "FAIL: node " r ": " full[r] " sends found node 0 full, " sl[r] " slept"; exit 1
      }
      printf "node %d: %d sends found node 0 full, %d sleeps until it made room\n", r, full[r], sl[r]
    }
    print "PASS"
  }'
