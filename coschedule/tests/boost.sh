#!/bin/bash
# dcs: a rank with packets pending is boosted to SCHED_RR, its page says so, and it is demoted
# to SCHED_OTHER after --boost-us, with the scheduler slice it had asked for (FM_SLICE_US's
# sched_runtime, Linux 6.12 and later: /proc/PID/sched's se.slice) given back too.
. "$(dirname "$0")/lib.sh"
load_host  # dcs boosts only on a contended host
start_daemon log --policy dcs --tick-us 1000 --boost-us 3000000 --window-ms 60000
start_pair --state spinning --slice 300
slice_of() { sed -n 's/^se\.slice *: *\([0-9]*\).*/\1/p' "/proc/$1/sched"; }
slice0=$(slice_of "$PAIR")  # empty: a kernel without slices
[ -z "$slice0" ] || [ "$slice0" = 300000 ] || fail "the client's slice is $slice0 ns, not 300000"
wait_for "pid $PAIR to be SCHED_RR" is_policy "$PAIR" SCHED_RR
wait_for "--status to say boosted" \
  status_has "pid $PAIR tid $PAIR state spinning pending 5 boosted yes"
wait_for "pid $PAIR to be demoted after the bound" is_policy "$PAIR" SCHED_OTHER
[ -z "$slice0" ] || [ "$(slice_of "$PAIR")" = 300000 ] ||
  fail "the demotion left the slice at $(slice_of "$PAIR") ns, not the client's 300000"
status | grep -Eq "pid $PAIR .* boosts [1-9]" || fail "no boost counted"
# rank 1 (blocked, nothing pending) is never boosted
status | grep -q "state blocked pending 0 boosted no boosts 0 " || fail "rank 1 was boosted"
echo PASS
