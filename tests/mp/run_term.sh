#!/bin/sh
# run_term.sh PROVIDER FM_PERF - a 2-rank job is stopped with SIGTERM, as mpiexec does on Ctrl-C
# or a job's time limit: every rank must be gone within 10 s.  (Debian's libfabric brings
# libinfinipath, whose SIGTERM handler called exit() inside the interrupted libfabric call,
# which then deadlocked in FM's teardown: the ranks never exited.)
prov=$1 bin=$2
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found"; exit 77; }
marker=$(( $$ * 7919 + 1000003 ))  # an iteration count that names this test's processes
out=$(mktemp)
mpiexec.hydra -n 2 -genv FM_PROVIDER "$prov" stdbuf -oL "$bin" -t latency -S 8 -I "$marker" -w 0 --csv >"$out" 2>&1 &
ranks() { pgrep -f -- "-I $marker" | while read -r p; do
  [ "$(basename "$(readlink /proc/"$p"/exe 2>/dev/null)")" = fm_perf ] && echo "$p"; done; }
i=0  # up to 30 s for both ranks to be in their ping-pong loop (rank 0 has printed its header)
while { [ "$(ranks | wc -l)" -lt 2 ] || ! grep -q '^bytes,' "$out"; } && [ $i -lt 300 ]; do
  sleep 0.1
  i=$((i + 1))
done
sleep 1  # a second of ping-pong: inside libfabric most of the time
pids=$(ranks | tr '\n' ' ')
if [ "$(echo $pids | wc -w)" -ne 2 ]; then
  cat "$out"; rm -f "$out"; pkill -9 -f -- "-I $marker"
  echo "FAIL: the ranks did not start"; exit 1
fi
echo "ranks: $pids; sending SIGTERM"
kill -TERM $pids
i=0
while [ -n "$(ranks)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
left=$(ranks | tr '\n' ' ')
if [ -n "$left" ]; then
  for p in $left; do echo "rank pid $p still alive 10 s after SIGTERM: $(cat /proc/"$p"/wchan)"; done
  kill -9 $left
  wait
  rm -f "$out"
  echo "FAIL: SIGTERM did not end the job"
  exit 1
fi
wait
rm -f "$out"
echo "PASS: both ranks exited within $((i / 10)).$((i % 10)) s of SIGTERM"
