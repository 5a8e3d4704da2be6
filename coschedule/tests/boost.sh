#!/bin/bash
# dcs: a rank with packets pending is boosted to SCHED_RR, its page says so, and it is demoted
# to SCHED_OTHER after --boost-us.
. "$(dirname "$0")/lib.sh"
load_host  # dcs boosts only on a contended host
start_daemon log --policy dcs --tick-us 1000 --boost-us 3000000 --window-ms 60000
start_pair --state spinning
wait_for "pid $PAIR to be SCHED_RR" is_policy "$PAIR" SCHED_RR
wait_for "--status to say boosted" \
  status_has "pid $PAIR tid $PAIR state spinning pending 5 boosted yes"
wait_for "pid $PAIR to be demoted after the bound" is_policy "$PAIR" SCHED_OTHER
status | grep -Eq "pid $PAIR .* boosts [1-9]" || fail "no boost counted"
# rank 1 (blocked, nothing pending) is never boosted
status | grep -q "state blocked pending 0 boosted no boosts 0 " || fail "rank 1 was boosted"
echo PASS
