#!/bin/bash
# netns_gang.sh FM-DCSD DCS_CLIENT FM_MPTEST - gang slices agreed across hosts: a real FM job
# across two network-namespace hosts (2 ranks each, tcp), one fm-dcsd --policy gang per host (on
# its namespace's @fm-dcsd, found by the ranks themselves), and a second job (a raw client with a
# fixed id) on both hosts.  Both daemons must log the real job's two ranks, and for every slice
# both logged with both jobs present, the same owner: from the clock alone, no message between
# the daemons.
. "$(dirname "$0")/lib.sh"
mptest=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$tmp/logs"
FM_NETNS_LOGS=$tmp/logs "$top/tests/netns/run.sh" \
  --daemon "$DCSD --policy gang --slice-ms 100 --boost-us 100000 --log-slices" \
  --per-host "$CLIENT register-self --job 0x2222 --state blocked --hold 120" \
  2 2 tcp "$mptest" flood >"$tmp/job.out" 2>&1
rc=$?
[ $rc = 77 ] && { cat "$tmp/job.out"; exit 77; }
[ $rc = 0 ] || { cat "$tmp/job.out"; fail "the job failed ($rc)"; }
a=$tmp/logs/dcsd-0.log b=$tmp/logs/dcsd-1.log
[ -f "$a" ] && [ -f "$b" ] || fail "no daemon logs kept"
for l in "$a" "$b"; do
  [ "$(grep -c 'registered pid .* rank [0-9]/4 ' "$l")" -eq 2 ] || fail "$l: not the job's 2 ranks"
done
# slices logged while both jobs were registered: after the last registration, before any leaves
slices() { awk '/registered/ { out = ""; on = 1; next } /bye|gone|closed/ { on = 0 }
                on && / slice / { out = out $3 " " $5 "\n" } END { printf "%s", out }' "$1" | sort; }
both=$(join <(slices "$a") <(slices "$b"))
n=$(echo "$both" | grep -c .)
[ "$n" -ge 3 ] || fail "only $n slices in common with both jobs on both hosts: $both"
echo "$both" | awk '$2 != $3 { bad = 1 } END { exit bad }' || fail "owners differ: $both"
owners=$(echo "$both" | awk '{ print $2 }' | sort -u | wc -l)
echo "slices in common: $n, owners agree on every one ($owners distinct owners)"
echo PASS
