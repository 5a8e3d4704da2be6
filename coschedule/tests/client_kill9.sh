#!/bin/bash
# A boosted client killed with -9: dropped from --status, no live entry left in the state file.
. "$(dirname "$0")/lib.sh"
load_host  # dcs boosts only on a contended host
start_daemon log --policy dcs --tick-us 1000 --boost-us 30000000 --window-ms 60000
start_pair --state spinning
wait_for "pid $PAIR to be SCHED_RR" is_policy "$PAIR" SCHED_RR
"$CLIENT" state "$tmp/state" | grep -q "pid $PAIR tid $PAIR" || fail "boost not in the state file"
kill -9 "$PAIR"
wait_for "pid $PAIR to leave --status" status_lacks "pid $PAIR "
wait_for "its departure in the log" grep -Eq "pid $PAIR (gone|closed its connection)" "$tmp/log"
"$CLIENT" state "$tmp/state" | grep -q "pid $PAIR " && fail "state file still lists pid $PAIR"
status >/dev/null || fail "--status no longer answers"
echo PASS
