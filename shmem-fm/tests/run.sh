#!/bin/sh
# run.sh OSHRUN NP PROVIDER BINARY [ARGS...] - one OpenSHMEM test program under oshrun (Hydra).
# Passes when the job exits 0 and PE 0 printed "PASS".  The ranks' output is the test log.  A job
# still running after SHMEM_TEST_LIMIT seconds (default 120; the programs take seconds) fails:
# the stacks of its ranks are printed (gdb) before it is killed.  Environment (SHMEM_FM_DIRECT,
# SHMEM_SYMMETRIC_SIZE ...) passes through.
oshrun=$1 np=$2 prov=$3 bin=$4
shift 4
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found (apt-get install mpich)"; exit 77; }
limit=${SHMEM_TEST_LIMIT:-120}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$oshrun" -n "$np" -genv FM_PROVIDER "$prov" "$bin" "$@" >"$out" 2>&1 &
job=$!
ticks=0
while kill -0 "$job" 2>/dev/null; do
  sleep 0.1
  ticks=$((ticks + 1))
  if [ $ticks -ge $((limit * 10)) ]; then
    echo "TIMEOUT: the job ran for ${limit} s; stacks of its ranks:" >>"$out"
    for p in $(pgrep -f "^$bin"); do
      echo "--- pid $p" >>"$out"
      if command -v gdb >/dev/null; then
        gdb -p "$p" -batch -ex "thread apply all bt 30" >>"$out" 2>&1
      else
        cat "/proc/$p/stack" >>"$out" 2>&1
      fi
    done
    kill -9 "$job" 2>/dev/null
    pkill -9 -f "^$bin" 2>/dev/null
    break
  fi
done
wait "$job"
rc=$?
cat "$out"
[ $rc -eq 0 ] || { echo "FAILED: exit status $rc"; exit 1; }
grep -q '^PASS' "$out" || { echo "FAILED: no PASS line"; exit 1; }
# FM's protocol warnings are failures here (an answer after its operation was given up: a BYE
# handled before the data it followed).
if grep -q "answered an unknown one-sided operation" "$out"; then echo "FAILED: FM protocol warning"; exit 1; fi
