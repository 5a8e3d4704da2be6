#!/bin/bash
# jobs.sh FM-DCSD DCS_CLIENT MODE NP CMD... - a real MPI-FM or SHMEM-FM job with more ranks than
# CPUs (NP ranks pinned to CPUs 0 and 1), under fm-dcsd on a private socket:
#   dcs | gang | none   the daemon runs with that policy; every rank registers with it (the log
#                       names NP registrations of one job), the job passes, and no rank is left
#                       SCHED_RR meanwhile once it is gone
#   nodaemon            nothing listens on the socket: the job passes on two-phase waits alone
#   daemon_dies         the daemon is killed (-9) once the job's ranks have registered: the job
#                       still passes
#   place               the daemon places ranks (--place) and FM binds to the CPU it is given
#                       (FM_BIND=daemon): every rank reports a CPU, both CPUs are used
# CMD is the layer's own test runner (mpi-fm/tests/run.sh, shmem-fm/tests/run.sh), which checks
# the program's PASS line.
. "$(dirname "$0")/lib.sh"
mode=$3 np=$4
shift 4
[ "$(nproc --all)" -ge 2 ] || { echo "SKIP: needs 2 CPUs"; exit 77; }
export FM_COSCHED_SOCKET=$SOCK FM_COSCHED=auto
case $mode in
  dcs | gang | none) start_daemon log --policy "$mode" ;;
  daemon_dies) start_daemon log --policy dcs ;;
  place)
    start_daemon log --policy none --place
    export FM_BIND=daemon FM_LOG_LEVEL=info
    ;;
  nodaemon) ;;
  *) fail "unknown mode $mode" ;;
esac

taskset -c 0,1 "$@" >"$tmp/job.out" 2>&1 &
JOB=$!
if [ "$mode" = daemon_dies ]; then
  # once the whole job is in, the daemon goes (as a crash would)
  for _ in $(seq 600); do
    [ "$(grep -c 'registered pid' "$tmp/log" 2>/dev/null)" -ge "$np" ] && break
    kill -0 $JOB 2>/dev/null || break
    sleep 0.05
  done
  kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
fi
wait $JOB || { echo "--- the job:"; cat "$tmp/job.out"; fail "the job failed under $mode"; }
cat "$tmp/job.out"
case $mode in
  dcs | gang | none | daemon_dies | place)
    n=$(grep -c "registered pid" "$tmp/log")
    [ "$n" -eq "$np" ] || fail "$n registrations logged, expected $np"
    jobs=$(sed -n 's/.*registered pid [0-9]* rank [0-9]*\/[0-9]* job \([0-9a-fx]*\).*/\1/p' \
      "$tmp/log" | sort -u | wc -l)
    [ "$jobs" -eq 1 ] || fail "the ranks registered as $jobs jobs"
    if grep -q "refused" "$tmp/log"; then fail "a rank was refused"; fi
    ;;
esac
if [ "$mode" = place ]; then
  placed=$(grep -o "registered with fm-dcsd on .* CPU [0-9]*" "$tmp/job.out" | grep -c "CPU [01]$")
  [ "$placed" -eq "$np" ] || fail "$placed of $np ranks were given CPU 0 or 1"
  cpus=$(grep -o "registered with fm-dcsd on .* CPU [0-9]*" "$tmp/job.out" | awk '{ print $NF }' |
    sort -u | wc -l)
  [ "$cpus" -eq 2 ] || fail "the ranks were placed on $cpus CPUs, not spread over both"
fi
if [ -n "$DPID" ]; then
  # every rank has gone: the registry is empty again
  wait_for "the job to leave --status" status_lacks " pid "
fi
echo PASS
