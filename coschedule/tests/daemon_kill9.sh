#!/bin/bash
# The daemon killed with -9 while a client is boosted: the client stays SCHED_RR until a new
# daemon on the same state file starts and restores it.
. "$(dirname "$0")/lib.sh"
load_host  # dcs boosts only on a contended host
start_daemon log --policy dcs --tick-us 1000 --boost-us 30000000 --window-ms 60000
start_pair --state spinning
wait_for "pid $PAIR to be SCHED_RR" is_policy "$PAIR" SCHED_RR
kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
is_policy "$PAIR" SCHED_RR || fail "pid $PAIR lost its boost without a daemon"
"$CLIENT" state "$tmp/state" | grep -q "pid $PAIR tid $PAIR" || fail "no entry in the state file"
start_daemon log2 --policy dcs
wait_for "pid $PAIR back to SCHED_OTHER" is_policy "$PAIR" SCHED_OTHER
has "$tmp/log2" "restored pid $PAIR tid $PAIR (boosted by an earlier daemon)" ||
  fail "no restore logged"
"$CLIENT" state "$tmp/state" | grep -q "pid $PAIR " && fail "state file still lists pid $PAIR"
echo PASS
