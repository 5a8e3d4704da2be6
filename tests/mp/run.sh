#!/bin/sh
# run.sh NP PROVIDER BINARY SCENARIO - one multi-process FM test under Hydra's mpiexec.
# Rank output is kept (stdout/stderr of the ranks are the test log); a hang is cut by timeout.
np=$1 prov=$2 bin=$3 sc=$4
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found (apt-get install mpich)"; exit 77; }
exec timeout -k 10 240 mpiexec.hydra -n "$np" -genv FM_PROVIDER "$prov" "$bin" "$sc"
