# lib.sh - shared by the daemon's tests: each test starts its own fm-dcsd on a private socket and
# state file, polls (never times) what it checks, and prints the daemon's log on failure.
# Sourced with "$@" = FM-DCSD DCS_CLIENT.
set -u
DCSD=$1
CLIENT=$2
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (CAP_SYS_NICE)"; exit 77; fi
if ! chrt -f 1 true 2>/dev/null; then echo "SKIP: chrt -f 1 fails here"; exit 77; fi
tmp=$(mktemp -d /tmp/fm-dcsd-test.XXXXXX)
SOCK=@fm-dcsd-test-$$
DPID=
KIDS=

cleanup() {
  for p in $KIDS; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ -n "$DPID" ]; then kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for f in "$tmp"/log*; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
  for f in "$tmp"/*.out; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done
  exit 1
}

# wait_for WHAT CMD...: polls CMD for up to 30 s
wait_for() {
  what=$1; shift
  for _ in $(seq 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "timed out waiting for $what"
}

status() { "$DCSD" --status --socket "$SOCK"; }

# load_host: two busy loops per CPU until the test ends.  dcs acts only on a contended host: a
# fake pair uses no CPU, so tests of its boosts make the contention themselves (every CPU then
# has a task waiting: FM_load_sample reads about 1000, whatever else the host runs).
load_host() {
  for _ in $(seq $((2 * $(nproc)))); do
    sh -c 'while :; do :; done' &
    KIDS="$KIDS $!"
  done
}

# start_daemon [LOG] [OPTION...]
start_daemon() {
  log=$1; shift
  "$DCSD" --socket "$SOCK" --foreground --log "$tmp/$log" --state "$tmp/state" "$@" &
  DPID=$!
  wait_for "the daemon to answer" status
}

# policy_of PID: its scheduling policy as chrt says it (SCHED_OTHER, SCHED_RR...; no |flags)
policy_of() { chrt -p "$1" | sed -n 's/.*current scheduling policy: \([A-Z_]*\).*/\1/p'; }
is_policy() { [ "$(policy_of "$1")" = "$2" ]; }
has() { grep -q -- "$2" "$1"; }
status_has() { status | grep -q -- "$1"; }
status_lacks() { ! status | grep -q -- "$1"; }

# start_pair [OPTION...]: a 2-rank fake job whose rank 0 has packets pending; sets PAIR (its pid)
start_pair() {
  "$CLIENT" --socket "$SOCK" register-pair --pending 5 --hold 120 "$@" >"$tmp/pair.out" &
  KIDS="$KIDS $!"
  wait_for "the pair's ACK" grep -q '^ACK' "$tmp/pair.out"
  PAIR=$(sed -n 's/^ACK .* pid=\([0-9]*\)$/\1/p' "$tmp/pair.out")
  KIDS="$KIDS $(sed -n 's/^rank1: ACK .* pid=\([0-9]*\)$/\1/p' "$tmp/pair.out")"
  [ -n "$PAIR" ] || fail "no pid in the pair's ACK"
}
