#!/bin/bash
# Registering for another pid, or with a bad page, is refused with a reason; the daemon serves on.
. "$(dirname "$0")/lib.sh"
start_daemon log --policy dcs
out=$("$CLIENT" --socket "$SOCK" register-pid 1); rc=$?
[ $rc = 3 ] || fail "register-pid 1 exited $rc: $out"
echo "$out" | grep -q "^NAK a process registers only itself" || fail "wrong answer: $out"
has "$tmp/log" "refused pid [0-9]* uid 0: a process registers only itself" || fail "not logged"
for kind in unsealed size magic tid nofd twofds; do
  out=$("$CLIENT" --socket "$SOCK" register-bad-page $kind); rc=$?
  [ $rc = 3 ] || fail "bad page '$kind' exited $rc: $out"
  echo "$kind: $out"
done
[ "$(grep -c 'refused pid' "$tmp/log")" = 7 ] || fail "expected 7 refusals logged"
status | grep -q "0 ranks" || fail "--status does not answer, or lists a rank"
echo PASS
