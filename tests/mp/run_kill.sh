#!/bin/sh
# run_kill.sh NP PROVIDER BINARY - the last rank SIGKILLs itself during a flood; every survivor
# must report the failure (naming the rank) within 10 s, keep talking to the others and finalize.
#
# Hydra (4.0.2) tears the whole job down when a launched process dies by a signal, even with
# -disable-auto-cleanup.  So each rank runs under a small sh that waits for it: the FM process is
# really SIGKILLed, Hydra sees the wrapper exit normally, closes the rank's PMI connection and
# sends SIGUSR1 to the others (FM takes it as a hint to check its peers at once).  The wrapper
# catches that SIGUSR1 (`trap :`; the exec'd FM process gets the default disposition back).
np=$1 prov=$2 bin=$3
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found"; exit 77; }
out=$(mktemp)
timeout -k 10 200 mpiexec.hydra -disable-auto-cleanup -n "$np" -genv FM_PROVIDER "$prov" \
  sh -c 'trap : USR1; "$0" kill; echo "rank $PMI_RANK: fm_mptest exit status $?"' "$bin" \
  >"$out" 2>&1
cat "$out"
ok=$(grep -c '^SURVIVOR OK' "$out")
rm -f "$out"
if [ "$ok" -ne $((np - 1)) ]; then
  echo "FAIL: $ok of $((np - 1)) survivors passed"
  exit 1
fi
echo "PASS: all $ok survivors reported the failed rank and carried on"
