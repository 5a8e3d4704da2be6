#!/bin/bash
# A client registers, --status lists it, and once it leaves (BYE, or killed) it is gone.
. "$(dirname "$0")/lib.sh"
start_daemon log --policy dcs

"$CLIENT" --socket "$SOCK" register-self --hold 120 >"$tmp/c1.out" &
C1=$!; KIDS="$KIDS $C1"
wait_for "the ACK" grep -q '^ACK policy=dcs cpus=[0-9]* host_ranks=1 ' "$tmp/c1.out"
status_has "rank 0 pid $C1 tid $C1 state spinning" || fail "--status does not list pid $C1"
status_has "name dcs_client ranks 1/1" || fail "--status does not list the job"
has "$tmp/log" "registered pid $C1 rank 0/1 job" || fail "no registration logged"

kill -USR1 $C1  # ends the hold: BYE
wait $C1 || fail "client exited with $?"
wait_for "pid $C1 to leave --status" status_lacks "pid $C1 "
wait_for "the bye in the log" has "$tmp/log" "bye pid $C1"

# one that dies without a BYE goes too
"$CLIENT" --socket "$SOCK" register-self --hold 120 >"$tmp/c2.out" &
C2=$!; KIDS="$KIDS $C2"
wait_for "the second ACK" grep -q '^ACK' "$tmp/c2.out"
status_has "pid $C2 " || fail "--status does not list pid $C2"
kill -9 $C2
wait_for "pid $C2 to leave --status" status_lacks "pid $C2 "
wait_for "its departure in the log" grep -Eq "pid $C2 (gone|closed its connection)" "$tmp/log"
echo PASS
