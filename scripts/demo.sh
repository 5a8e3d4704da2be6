#!/bin/sh
# demo.sh - the main job: installs what is missing, builds FM, and runs the 2-process ping-pong +
# bandwidth demo over shm and over tcp (launched by Hydra's mpiexec), printing a table per provider.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
if ! log=$("$top/scripts/build.sh" "$top/build" 2>&1); then
  echo "$log" >&2
  echo "demo: build failed" >&2
  exit 1
fi
for prov in shm tcp; do
  echo
  echo "== FM over $prov (mpiexec.hydra -n 2 -genv FM_PROVIDER $prov build/examples/fm_demo)"
  timeout 300 mpiexec.hydra -n 2 -genv FM_PROVIDER "$prov" "$top/build/examples/fm_demo"
done
