#!/bin/bash
# 300 connections of junk (random bytes, bad fields, stray descriptors): each refused with a log
# line, every received descriptor closed (the daemon's fd count back to its baseline), and the
# daemon still answers and registers.
. "$(dirname "$0")/lib.sh"
start_daemon log --policy dcs
base=$(ls /proc/$DPID/fd | wc -l)
"$CLIENT" --socket "$SOCK" garbage 300 >"$tmp/g.out" || fail "garbage client failed"
cat "$tmp/g.out"
has "$tmp/log" "refused pid" || fail "nothing refused"
fds() { [ "$(ls /proc/$DPID/fd | wc -l)" = "$base" ]; }
wait_for "the daemon's fd count back to $base (now $(ls /proc/$DPID/fd | wc -l))" fds
status >/dev/null || fail "--status no longer answers"
"$CLIENT" --socket "$SOCK" register-self | grep -q '^ACK' || fail "no registration after garbage"
kill -0 $DPID || fail "daemon died"
echo "refusals logged: $(grep -c 'refused pid' "$tmp/log")"
echo PASS
