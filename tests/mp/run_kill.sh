#!/bin/sh
# run_kill.sh NP PROVIDER BINARY - the last rank SIGKILLs itself during a flood; every survivor
# must report the failure (naming the rank) within 10 s, keep talking to the others and finalize.
# Hydra must not tear the job down when a rank dies: -disable-auto-cleanup.
np=$1 prov=$2 bin=$3
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found"; exit 77; }
out=$(mktemp)
timeout -k 10 200 mpiexec.hydra -disable-auto-cleanup -n "$np" -genv FM_PROVIDER "$prov" \
  "$bin" kill >"$out" 2>&1
cat "$out"
ok=$(grep -c '^SURVIVOR OK' "$out")
rm -f "$out"
if [ "$ok" -ne $((np - 1)) ]; then
  echo "FAIL: $ok of $((np - 1)) survivors passed"
  exit 1
fi
echo "PASS: all $ok survivors reported the failed rank and carried on"
