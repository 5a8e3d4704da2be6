#!/bin/bash
# launch.sh [--limit SECONDS] [--pass PATTERN] -- COMMAND [ARGS...]
#
# The one launcher of every layer's multi-process tests (FM, SHMEM-FM, MPI-FM): runs COMMAND (an
# mpiexec/oshrun line) as a job in its own process group with its output kept as the test log,
#  * time-limited: after SECONDS (default $FM_TEST_LIMIT, else 240) the ranks' stacks are printed
#    (gdb, else /proc/PID/stack) and the whole job is killed: the launcher and every process
#    descended from it (Hydra puts its proxies and ranks in sessions of their own, so process
#    groups do not reach them), nothing else;
#  * passes when the job exits 0, its output has a line matching PATTERN (if given), and no FM
#    protocol warning ("answered an unknown one-sided operation", "malformed message");
#  * exits 77 (skipped) when Hydra's mpiexec is not installed.
set -u
limit=${FM_TEST_LIMIT:-240} pass=""
while [ $# -gt 0 ]; do
  case $1 in
  --limit) limit=$2; shift 2 ;;
  --pass) pass=$2; shift 2 ;;
  --) shift; break ;;
  *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: launch.sh [--limit S] [--pass PATTERN] -- COMMAND [ARGS...]" >&2; exit 2; }
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found (apt-get install mpich)"; exit 77; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1 &
job=$!
descendants() {
  for c in $(pgrep -P "$1"); do
    echo "$c"
    descendants "$c"
  done
}
ticks=0 timed_out=0
while kill -0 "$job" 2>/dev/null; do
  sleep 0.1
  ticks=$((ticks + 1))
  if [ $ticks -ge $((limit * 10)) ]; then
    timed_out=1
    echo "TIMEOUT: the job ran for ${limit} s; stacks of its processes:" >>"$out"
    procs=$(descendants "$job")
    for p in $procs; do
      [ -z "$(pgrep -P "$p")" ] || continue  # the leaves: the ranks
      echo "--- pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >>"$out"
      if command -v gdb >/dev/null; then
        timeout 20 gdb -p "$p" -batch -ex "thread apply all bt 30" >>"$out" 2>&1
      else
        cat "/proc/$p/stack" >>"$out" 2>&1
      fi
    done
    kill -9 "$job" $procs 2>/dev/null
    break
  fi
done
wait "$job" 2>/dev/null
rc=$?
cat "$out"
[ $timed_out = 0 ] || { echo "FAILED: time-out after ${limit} s"; exit 1; }
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] || { echo "FAILED: exit status $rc"; exit 1; }
if [ -n "$pass" ] && ! grep -q -- "$pass" "$out"; then echo "FAILED: no line matching '$pass'"; exit 1; fi
if grep -q "answered an unknown one-sided operation\|malformed message" "$out"; then
  echo "FAILED: FM protocol warning"
  exit 1
fi
exit 0
