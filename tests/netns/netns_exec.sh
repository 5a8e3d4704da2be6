#!/bin/sh
# netns_exec.sh [options] HOST COMMAND... - Hydra's launcher hook for namespace "hosts" (used as
# mpiexec.hydra -launcher ssh -launcher-exec netns_exec.sh): runs COMMAND (Hydra's proxy) in the
# network namespace named fmns-HOST, like ssh would run it on HOST.  ssh options are ignored.
while [ $# -gt 0 ]; do
  case $1 in
    -*) shift ;;
    *) break ;;
  esac
done
host=$1
shift
exec ip netns exec "fmns-$host" sh -c "$*"
