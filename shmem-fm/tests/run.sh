#!/bin/sh
# run.sh OSHRUN NP PROVIDER BINARY [ARGS...] - one OpenSHMEM test program under oshrun (Hydra).
# Passes when the job exits 0 and PE 0 printed "PASS"; a hang is cut by timeout.  The ranks'
# output is the test log.  Environment (SHMEM_FM_DIRECT, SHMEM_SYMMETRIC_SIZE ...) passes through.
oshrun=$1 np=$2 prov=$3 bin=$4
shift 4
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found (apt-get install mpich)"; exit 77; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout -k 10 240 "$oshrun" -n "$np" -genv FM_PROVIDER "$prov" "$bin" "$@" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 0 ] || { echo "FAILED: exit status $rc"; exit 1; }
grep -q '^PASS' "$out" || { echo "FAILED: no PASS line"; exit 1; }
# FM's protocol warnings are failures here (an answer after its operation was given up: a BYE
# handled before the data it followed).
if grep -q "answered an unknown one-sided operation" "$out"; then echo "FAILED: FM protocol warning"; exit 1; fi
