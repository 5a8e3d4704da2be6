#!/bin/sh
# run_kill.sh NP PROVIDER BINARY [VICTIM] - one rank (the last, or VICTIM) SIGKILLs itself during
# a flood; every survivor must report the failure (naming the rank) within 10 s, keep talking to
# the others and finalize.  Afterwards nothing the job made may be left in /dev/shm (FM's shm
# keeps its segments in anonymous memory files, which die with their last mapping; libfabric's
# shm names its regions there, and the survivors remove the dead process's): a name created
# during the run that no live process maps is a leftover.
#
# Hydra (4.0.2) tears the whole job down when a launched process dies by a signal, even with
# -disable-auto-cleanup.  So each rank runs under a small sh that waits for it: the FM process is
# really SIGKILLed, Hydra sees the wrapper exit normally, closes the rank's PMI connection and
# sends SIGUSR1 to the others (FM takes it as a hint to check its peers at once).  The wrapper
# catches that SIGUSR1 (`trap :`; the exec'd FM process gets the default disposition back).
np=$1 prov=$2 bin=$3 victim=${4:-$(($1 - 1))}
command -v mpiexec.hydra >/dev/null || { echo "SKIP: mpiexec.hydra not found"; exit 77; }
out=$(mktemp)
mark=$(mktemp)  # /dev/shm names newer than this were made during the run
timeout -k 10 200 mpiexec.hydra -disable-auto-cleanup -n "$np" -genv FM_PROVIDER "$prov" \
  -genv FM_TEST_VICTIM "$victim" \
  sh -c 'trap : USR1; "$0" kill; echo "rank $PMI_RANK: fm_mptest exit status $?"' "$bin" \
  >"$out" 2>&1
cat "$out"
ok=$(grep -c '^SURVIVOR OK' "$out")
rm -f "$out"
left=""
for f in $(find /dev/shm -maxdepth 1 -type f -newer "$mark" 2>/dev/null); do
  # still mapped by a live process (another test running beside this one): not ours to judge
  grep -qsF "$f" /proc/[0-9]*/maps || left="$left $f"
done
rm -f "$mark"
if [ "$ok" -ne $((np - 1)) ]; then
  echo "FAIL: $ok of $((np - 1)) survivors passed (victim rank $victim)"
  exit 1
fi
if [ -n "$left" ]; then
  echo "FAIL: left behind in /dev/shm after the job:$left"
  exit 1
fi
echo "PASS: all $ok survivors reported the failed rank $victim and carried on; nothing left in /dev/shm"
