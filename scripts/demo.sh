#!/bin/sh
# demo.sh - the main job: installs what is missing, builds FM (and MPI-FM: MPICH with the FM netmod,
# 5 to 20 minutes the first time on 2 cores, then cached), and runs the 2-process ping-pong +
# bandwidth demo over shm and over tcp (launched by Hydra's mpiexec), printing a table per provider.
# The build's progress is shown as it happens; its whole output is in build/build.log.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
"$top/scripts/install-deps.sh"
echo "== build (progress below; whole output in build/build.log)"
run_logged "$top/build/build.log" "demo: the build" "$top/scripts/build.sh" "$top/build" || exit 1
for prov in shm tcp; do
  echo
  echo "== FM over $prov (mpiexec.hydra -n 2 -genv FM_PROVIDER $prov build/examples/fm_demo)"
  timeout 300 mpiexec.hydra -n 2 -genv FM_PROVIDER "$prov" "$top/build/examples/fm_demo"
done
