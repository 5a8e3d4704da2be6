#!/bin/bash
# run.sh [OPTIONS] HOSTS RANKS_PER_HOST PROVIDER BINARY ARGS... - runs an FM job across HOSTS
# network namespaces ("hosts" with their own addresses, joined by veth pairs to a bridge), launched
# by Hydra's mpiexec through its launcher hook (netns_exec.sh), and removes the namespaces, veths
# and bridge afterwards, whatever happens.  Needs root and iproute2: otherwise exits 77 (skipped)
# saying why.
#
# Real packet loss, by nftables inside every host (only UDP: Hydra's PMI connections are TCP):
#   --drop PCT   each host drops PCT % of the UDP packets it receives (random, per packet)
#   --dup PCT    each host sends PCT % of its UDP packets twice
# The counts of packets dropped and duplicated are printed; with --drop or --dup the run fails if
# nftables touched no packet (the test would have tested nothing).  nftables cannot delay or
# reorder packets (tc netem is not available here); FM's fault decorator covers those.
#   --cut-host   the job gets FM_TEST_CUT_FILE; when a rank creates that file, the last host is
#                cut off from the other hosts (every packet between them dropped, both ways, TCP
#                too; its launcher connection stays), as if unreachable.
# Coscheduling (coschedule/): one fm-dcsd per host, as on real hosts:
#   --daemon "FM-DCSD ARGS"  starts FM-DCSD ARGS --foreground in every host (on its namespace's
#                abstract socket @fm-dcsd, where FM's ranks find it) before the job, stops it
#                after; its log is kept in $FM_NETNS_LOGS/dcsd-HOST.log when that is set
#   --per-host "CMD"         runs CMD in every host (in the background) once its daemon answers
# Other options are passed to mpiexec.hydra before the program (e.g. -genv NAME VALUE).
set -u
drop=0 dup=0 cut=0
daemon="" perhost=""
mpiopts=()
while [ $# -gt 0 ]; do
  case $1 in
    --drop) drop=$2; shift 2 ;;
    --dup) dup=$2; shift 2 ;;
    --cut-host) cut=1; shift ;;
    --daemon) daemon=$2; shift 2 ;;
    --per-host) perhost=$2; shift 2 ;;
    -genv) mpiopts+=("$1" "$2" "$3"); shift 3 ;;
    *) break ;;
  esac
done
[ $# -ge 4 ] || { echo "usage: run.sh [--drop PCT] [--dup PCT] [--cut-host] [-genv N V] HOSTS PPN PROVIDER BINARY ARGS..." >&2; exit 2; }
hosts=$1 ppn=$2 prov=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v ip >/dev/null || skip "ip (iproute2) not found"
command -v mpiexec.hydra >/dev/null || skip "mpiexec.hydra not found"
if [ "$drop" != 0 ] || [ "$dup" != 0 ] || [ $cut = 1 ]; then
  command -v nft >/dev/null || skip "nft (nftables) not found: needed for --drop/--dup/--cut-host"
fi
per_mille() { awk -v p="$1" 'BEGIN { if (p !~ /^[0-9]+(\.[0-9]+)?$/ || p > 100) exit 1;
  printf "%d\n", p * 10 + 0.5 }'; }
drop_pm=$(per_mille "$drop") || { echo "run.sh: --drop wants a percentage, not $drop" >&2; exit 2; }
dup_pm=$(per_mille "$dup") || { echo "run.sh: --dup wants a percentage, not $dup" >&2; exit 2; }
tag=$$                        # one job's names: fmns-<addr>, fmbr<tag>, fmv<tag>x<i>
net=10.$((100 + tag % 100)).$(((tag / 100) % 250)).
br=fmbr$tag
tmp=$(mktemp -d)
watcher=""
bg_pids=""
cleanup() {
  [ -n "$watcher" ] && kill "$watcher" 2>/dev/null
  for p in $bg_pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ -n "$daemon" ] && [ -n "${FM_NETNS_LOGS:-}" ]; then cp "$tmp"/dcsd-*.log "$FM_NETNS_LOGS"/ 2>/dev/null; fi
  for ((i = 0; i < hosts; i++)); do
    ip netns del "fmns-${net}$((10 + i))" 2>/dev/null
    ip link del "fmv${tag}x$i" 2>/dev/null
  done
  ip link del "$br" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "fmns-probe$tag" 2>/dev/null || skip "cannot create network namespaces here"
ip netns del "fmns-probe$tag"
ip link add "$br" type bridge || skip "cannot create a bridge"
ip addr add "${net}1/24" dev "$br"
ip link set "$br" up
hostlist=""
for ((i = 0; i < hosts; i++)); do
  addr=${net}$((10 + i))
  ns=fmns-$addr
  ip netns add "$ns" || exit 1
  ip link add "fmv${tag}x$i" type veth peer name eth0 netns "$ns" || exit 1
  ip link set "fmv${tag}x$i" master "$br" up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  hostlist+="${hostlist:+,}$addr:$ppn"
done
echo "namespace hosts: $hostlist (bridge $br, ${net}0/24)"
if [ "$drop_pm" != 0 ] || [ "$dup_pm" != 0 ]; then
  rules="table ip fmloss {"
  [ "$drop_pm" != 0 ] && rules+="
  chain in {
    type filter hook input priority 0;
    meta l4proto udp numgen random mod 1000 < $drop_pm counter drop
  }"
  [ "$dup_pm" != 0 ] && rules+="
  chain out {
    type filter hook output priority 0;
    meta l4proto udp numgen random mod 1000 < $dup_pm counter dup to ip daddr
  }"
  rules+="
}"
  for ((i = 0; i < hosts; i++)); do
    ip netns exec "fmns-${net}$((10 + i))" nft -f - <<<"$rules" || { echo "run.sh: nft rules failed in host $i"; exit 1; }
  done
  echo "nftables: every host drops $drop % of the UDP packets it receives, sends $dup % twice"
fi
if [ -n "$daemon" ]; then
  read -r -a dargs <<<"$daemon"
  for ((i = 0; i < hosts; i++)); do
    ns=fmns-${net}$((10 + i))
    ip netns exec "$ns" "${dargs[@]}" --foreground --log "$tmp/dcsd-$i.log" \
      --state "$tmp/dcsd-$i.state" &
    bg_pids+=" $!"
    for _ in $(seq 100); do
      ip netns exec "$ns" "${dargs[0]}" --status >/dev/null 2>&1 && break
      sleep 0.1
    done
    ip netns exec "$ns" "${dargs[0]}" --status >/dev/null 2>&1 || { echo "run.sh: fm-dcsd did not start in host $i"; cat "$tmp/dcsd-$i.log"; exit 1; }
    if [ -n "$perhost" ]; then
      ip netns exec "$ns" sh -c "$perhost" >"$tmp/perhost-$i.out" 2>&1 &
      bg_pids+=" $!"
    fi
  done
  echo "fm-dcsd running in every host: ${dargs[*]}"
fi
if [ $cut = 1 ]; then
  mpiopts+=(-genv FM_TEST_CUT_FILE "$tmp/cut")
  victim=fmns-${net}$((10 + hosts - 1))
  (
    while [ ! -e "$tmp/cut" ]; do sleep 0.05; done
    ip netns exec "$victim" nft -f - <<<"table inet fmcut {
  chain in {
    type filter hook input priority 0;
    iifname eth0 ip saddr != ${net}1 counter drop
  }
  chain out {
    type filter hook output priority 0;
    oifname eth0 ip daddr != ${net}1 counter drop
  }
}"
    echo "run.sh: host ${victim#fmns-} cut off from the other hosts at $(date +%T.%N | cut -c1-12)"
  ) &
  watcher=$!
fi
timeout -k 10 240 mpiexec.hydra -launcher ssh -launcher-exec "$here/netns_exec.sh" \
  -localhost "${net}1" -hosts "$hostlist" -n $((hosts * ppn)) -genv FM_PROVIDER "$prov" \
  "${mpiopts[@]}" "$@"
rc=$?
if [ "$drop_pm" != 0 ] || [ "$dup_pm" != 0 ]; then
  dropped=0 dupped=0
  for ((i = 0; i < hosts; i++)); do
    read -r d u < <(ip netns exec "fmns-${net}$((10 + i))" nft list table ip fmloss |
      awk '/drop/ { for (k = 1; k < NF; k++) if ($k == "packets") d += $(k + 1) }
           /dup to/ { for (k = 1; k < NF; k++) if ($k == "packets") u += $(k + 1) }
           END { print d + 0, u + 0 }')
    dropped=$((dropped + d)) dupped=$((dupped + u))
  done
  echo "nftables: $dropped UDP packets dropped, $dupped duplicated"
  if [ $rc = 0 ] && [ $((dropped + dupped)) = 0 ]; then
    echo "FAIL: nftables touched no packet: the job did not run over lossy UDP"
    rc=1
  fi
fi
exit $rc
