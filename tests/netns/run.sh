#!/bin/bash
# run.sh HOSTS RANKS_PER_HOST PROVIDER BINARY ARGS... - runs an FM job across HOSTS network
# namespaces ("hosts" with their own addresses, joined by veth pairs to a bridge), launched by
# Hydra's mpiexec through its launcher hook (netns_exec.sh), and removes the namespaces, veths and
# bridge afterwards, whatever happens.  Needs root and iproute2: otherwise exits 77 (skipped)
# saying why.
set -u
hosts=$1 ppn=$2 prov=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v ip >/dev/null || skip "ip (iproute2) not found"
command -v mpiexec.hydra >/dev/null || skip "mpiexec.hydra not found"
tag=$$                        # one job's names: fmns-<addr>, fmbr<tag>, fmv<tag>x<i>
net=10.$((100 + tag % 100)).$(((tag / 100) % 250)).
br=fmbr$tag
cleanup() {
  for ((i = 0; i < hosts; i++)); do
    ip netns del "fmns-${net}$((10 + i))" 2>/dev/null
    ip link del "fmv${tag}x$i" 2>/dev/null
  done
  ip link del "$br" 2>/dev/null
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
timeout -k 10 240 mpiexec.hydra -launcher ssh -launcher-exec "$here/netns_exec.sh" \
  -localhost "${net}1" -hosts "$hostlist" -n $((hosts * ppn)) -genv FM_PROVIDER "$prov" "$@"
