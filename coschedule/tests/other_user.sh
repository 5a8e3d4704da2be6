#!/bin/bash
# A client running as nobody cannot make the daemon touch root's processes: neither by naming
# a root pid, nor by naming a root tid as its own thread.
. "$(dirname "$0")/lib.sh"
start_daemon log --policy dcs --tick-us 1000
sleep 300 &
ROOT=$!; KIDS="$KIDS $ROOT"
before=$(chrt -p $ROOT)
# nobody must be able to run the client: a copy in a directory it can read
mkdir "$tmp/bin" && cp "$CLIENT" "$tmp/bin/" && chmod 755 "$tmp" "$tmp/bin"
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups $tmp/bin/$(basename "$CLIENT")"
out=$($NOBODY --socket "$SOCK" register-pid $ROOT); rc=$?
[ $rc = 3 ] || fail "register-pid $ROOT as nobody exited $rc: $out"
echo "$out" | grep -q "^NAK a process registers only itself" || fail "wrong answer: $out"
out=$($NOBODY --socket "$SOCK" register-bad-page tid --tid $ROOT); rc=$?
[ $rc = 3 ] || fail "registering root's tid as nobody exited $rc: $out"
echo "$out" | grep -q "^NAK tid $ROOT is not a thread of pid" || fail "wrong answer: $out"
has "$tmp/log" "refused pid [0-9]* uid 65534: a process registers only itself" || fail "not logged"
has "$tmp/log" "refused pid [0-9]* uid 65534: tid $ROOT is not a thread" || fail "not logged"
# and nobody's own registration is accepted, as its own job
$NOBODY --socket "$SOCK" register-self --hold 120 >"$tmp/n.out" &
KIDS="$KIDS $!"
wait_for "nobody's ACK" grep -q '^ACK' "$tmp/n.out"
status_has "uid 65534 name dcs_client" || fail "nobody's job not listed"
[ "$(chrt -p $ROOT)" = "$before" ] || fail "root's process changed: $(chrt -p $ROOT)"
echo PASS
