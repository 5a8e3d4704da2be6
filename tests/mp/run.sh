#!/bin/sh
# run.sh NP PROVIDER BINARY SCENARIO - one multi-process FM test under Hydra's mpiexec, through the
# launcher every layer's tests share (tests/launch.sh: time limit, stacks on a hang, skip code).
np=$1 prov=$2 bin=$3 sc=$4
exec "$(dirname "$0")/../launch.sh" -- mpiexec.hydra -n "$np" -genv FM_PROVIDER "$prov" "$bin" "$sc"
