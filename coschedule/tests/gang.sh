#!/bin/bash
# gang: two daemons (two "hosts", here two sockets) running the same two jobs pick the same owner
# for every slice from the clock alone; the owner's ranks are SCHED_RR during its slices.
. "$(dirname "$0")/lib.sh"
start_daemon log --policy gang --slice-ms 200 --boost-us 100000 --log-slices
A=$DPID
SOCK_A=$SOCK
SOCK=@fm-dcsd-test-b-$$
"$DCSD" --socket "$SOCK" --foreground --log "$tmp/log_b" --state "$tmp/state_b" --policy gang \
  --slice-ms 200 --boost-us 100000 --log-slices &
B=$!; KIDS="$KIDS $B"
wait_for "daemon b" status
# the same two jobs (ids fixed by --job) on both
for s in "$SOCK_A" "$SOCK"; do
  for j in 0x1111 0x2222; do
    "$CLIENT" --socket "$s" register-self --job $j --state blocked --hold 120 >"$tmp/c-$s-$j.out" &
    KIDS="$KIDS $!"
  done
done
for s in "$SOCK_A" "$SOCK"; do
  for j in 0x1111 0x2222; do
    wait_for "ACK of job $j on $s" grep -q '^ACK policy=gang' "$tmp/c-$s-$j.out"
  done
done
P=$(sed -n 's/.* pid=//p' "$tmp/c-$SOCK_A-0x1111.out")
wait_for "a gang boost" is_policy "$P" SCHED_RR
wait_for "its demotion in the other job's slices" is_policy "$P" SCHED_OTHER
# the same owner for each slice both logged once both have both jobs (slices logged after
# their last registration)
slices() { awk '/registered/ { out = ""; next } / slice / { out = out $3 " " $5 "\n" }
                END { printf "%s", out }' "$1" | sort; }
enough() {
  [ "$(slices "$tmp/log" | wc -l)" -ge 10 ] && [ "$(slices "$tmp/log_b" | wc -l)" -ge 10 ]
}
wait_for "10 slices in both logs" enough
both=$(join <(slices "$tmp/log") <(slices "$tmp/log_b"))
[ -n "$both" ] || fail "no slice in common"
echo "$both" | awk '$2 != $3 { bad = 1 } END { exit bad }' || fail "owners differ: $both"
echo "slices in common: $(echo "$both" | wc -l), owners agree"
echo PASS
