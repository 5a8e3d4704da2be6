#!/bin/sh
# run.sh OSHRUN NP PROVIDER BINARY [ARGS...] - one OpenSHMEM test program under oshrun (Hydra),
# through the launcher every layer's tests share (tests/launch.sh).  Passes when the job exits 0
# and PE 0 printed "PASS".  Limit: SHMEM_TEST_LIMIT seconds (default 120; the programs take
# seconds).  Environment (SHMEM_FM_DIRECT, SHMEM_SYMMETRIC_SIZE ...) passes through.
oshrun=$1 np=$2 prov=$3 bin=$4
shift 4
exec "$(dirname "$0")/../../tests/launch.sh" --limit "${SHMEM_TEST_LIMIT:-120}" --pass '^PASS' -- \
  "$oshrun" -n "$np" -genv FM_PROVIDER "$prov" "$bin" "$@"
