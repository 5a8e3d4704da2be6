#!/bin/bash
# shmem.sh [-r ROUNDS] [-o OUT.md] - OpenSHMEM latency and bandwidth, 2 PEs on this host:
# SHMEM-FM (on-host direct access; through FM over shm; through FM over tcp and udp, i.e. the
# network path on loopback) against Open MPI's OpenSHMEM (oshrun from openmpi-bin, UCX), and
# FM's own one-way latency (fm_perf) on tcp and udp, run alternately in every round.
# Table: median over rounds of each run's figure (bench/shmem_perf.c says what each op measures).
set -eu
ROUNDS=3 OUT=""
while getopts "r:o:" o; do
  case $o in r) ROUNDS=$OPTARG ;; o) OUT=$OPTARG ;; *) exit 2 ;; esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
ours=$build/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ours/oshcc" -O2 -o "$tmp/perf_fm" "$top/bench/shmem_perf.c"
have_ompi=0
if [ -x /usr/bin/oshcc ] && /usr/bin/oshcc -O2 -o "$tmp/perf_ompi" "$top/bench/shmem_perf.c" 2>/dev/null; then
  have_ompi=1
else
  echo "shmem.sh: Open MPI's oshcc not found (apt-get install openmpi-bin libopenmpi-dev): its column is empty" >&2
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ops="put get fadd pingpong putbw getbw"
res=$tmp/results.csv   # config,op,bytes,usec,MBps
# The common format's CSV rows (bench/perf_report.h) as config,op,bytes,usec,MBps: latency tests
# give their mean, bandwidth tests the time per operation.
rows() {
  awk -F, -v c="$1" '
    /^# test: / { op = $0; sub(/^# test: /, "", op); sub(/ .*/, "", op) }
    $1 ~ /^[0-9]+$/ { us = ($5 != "") ? $5 : ($7 > 0 ? 1 / $7 : 0); print c "," op "," $1 "," us "," $6 }'
}
run_fm() {  # NAME PROVIDER DIRECT
  timeout 300 "$ours/oshrun" -n 2 -genv FM_PROVIDER "$2" -genv SHMEM_FM_DIRECT "$3" \
    "$tmp/perf_fm" --csv $ops | rows "$1" >>"$res"
}
run_ompi() {
  # Open MPI's OpenSHMEM crashes in shmem_finalize on this machine: its figures are printed
  # before that, so the exit status is ignored.
  timeout 300 /usr/bin/oshrun -np 2 "$tmp/perf_ompi" --csv $ops 2>/dev/null | rows ompi >>"$res" || true
}
run_fmperf() {  # PROVIDER: FM's one-way latency, answered from the handler and from the main loop
  for reply in handler main; do
    timeout 120 mpiexec.hydra -n 2 -genv FM_PROVIDER "$1" "$build/bench/fm_perf" -t latency -S 8 \
      -I 20000 --reply $reply --csv 2>/dev/null |
      awk -F, -v c="fm-$1" -v r="$reply" '$1 == 8 { print c ",fm_lat_" r ",8," $5 ",0" }' >>"$res"
  done
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  if [ $((r % 2)) = 1 ]; then
    run_fm direct shm 1; run_fm fm-shm shm 0; run_fm fm-tcp tcp 0; run_fm fm-udp udp 0
    [ $have_ompi = 1 ] && run_ompi
    run_fmperf tcp; run_fmperf udp
  else
    run_fmperf udp; run_fmperf tcp
    [ $have_ompi = 1 ] && run_ompi
    run_fm fm-udp udp 0; run_fm fm-tcp tcp 0; run_fm fm-shm shm 0; run_fm direct shm 1
  fi
done
table() {
  awk -F, '
    function median(s,   a, n, i, j, t) { n = split(s, a, " ");
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n == 0 ? "" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) }
    { k = $1 SUBSEP $2 SUBSEP $3; us[k] = us[k] " " $4; mb[k] = mb[k] " " $5 }
    END {
      split("direct fm-shm fm-tcp fm-udp ompi", C, " ")
      print "| op | bytes | SHMEM-FM direct | SHMEM-FM via FM shm | via FM tcp | via FM udp | Open MPI (UCX) | direct / Open MPI |"
      print "|---|---|---|---|---|---|---|---|"
      n = split("put,8 get,8 fadd,8 pingpong,8", L, " ")
      for (i = 1; i <= n; i++) { split(L[i], p, ","); line = "| " p[1] " (us) | " p[2]
        for (c = 1; c <= 5; c++) { v = median(us[C[c] SUBSEP p[1] SUBSEP p[2]]); line = line " | " v; val[c] = v }
        print line " | " (val[5] > 0 ? sprintf("**%.2f**", val[1] / val[5]) : "") " |" }
      n = split("putbw,8192 putbw,131072 putbw,2097152 getbw,8192 getbw,131072 getbw,2097152", L, " ")
      for (i = 1; i <= n; i++) { split(L[i], p, ","); line = "| " p[1] " (MB/s) | " p[2]
        for (c = 1; c <= 5; c++) { v = median(mb[C[c] SUBSEP p[1] SUBSEP p[2]]); line = line " | " v; val[c] = v }
        print line " | " (val[5] > 0 ? sprintf("**%.2f**", val[1] / val[5]) : "") " |" }
      print ""
      print "Network path on loopback (SHMEM-FM with direct access off) against FM'"'"'s own one-way latency"
      print "(fm_perf -t latency -S 8, mean; the answer sent from the handler, or from the main loop as"
      print "the SHMEM ping-pong does). One-way put latency = pingpong; put+quiet is a round trip."
      print ""
      print "| provider | FM one-way, handler (us) | FM one-way, main loop (us) | SHMEM pingpong one-way (us) | pingpong / FM handler | pingpong / FM main | put+quiet (us) | put+quiet / (2 x FM main) |"
      print "|---|---|---|---|---|---|---|---|"
      split("tcp udp", P, " ")
      for (i = 1; i <= 2; i++) { fh = median(us["fm-" P[i] SUBSEP "fm_lat_handler" SUBSEP 8]);
        fmn = median(us["fm-" P[i] SUBSEP "fm_lat_main" SUBSEP 8]);
        pp = median(us["fm-" P[i] SUBSEP "pingpong" SUBSEP 8]); pq = median(us["fm-" P[i] SUBSEP "put" SUBSEP 8]);
        printf "| %s | %s | %s | %s | **%.2f** | **%.2f** | %s | **%.2f** |\n", P[i], fh, fmn, pp, (fh > 0 ? pp / fh : 0), (fmn > 0 ? pp / fmn : 0), pq, (fmn > 0 ? pq / (2 * fmn) : 0) }
    }' "$res"
}
{
  echo "# OpenSHMEM: SHMEM-FM against Open MPI's OpenSHMEM, 2 PEs on one host"
  echo
  echo "- command: \`bench/shmem.sh -r $ROUNDS\` ($(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r))"
  echo "- each cell: median over $ROUNDS rounds of the run's figure; configurations alternate in every round"
  echo "- Open MPI $(dpkg-query -W -f='${Version}' openmpi-bin 2>/dev/null || echo '?'), UCX defaults"
  echo
  table
} >"$tmp/table.md"
cat "$tmp/table.md"
[ -n "$OUT" ] && cp "$tmp/table.md" "$OUT"
exit 0
