#!/bin/bash
# shmem.sh [-r ROUNDS] [-o OUT.md] - OpenSHMEM latency and bandwidth, 2 PEs on this host:
# SHMEM-FM (on-host direct access; through FM over shm; through FM over tcp and udp, i.e. the
# network path on loopback) against Open MPI's OpenSHMEM (oshrun from openmpi-bin, UCX), and
# FM's own one-way latency (fm_perf) on tcp and udp, run alternately in every round; with the
# providers' own figures for bulk transfers (fi_pingpong over tcp, bench/dgram_stream's datagram
# rate over udp) in the same rounds.
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
ops="put get fadd pingpong putbw getbw getlat gput gget bulk coll"
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
run_raw() {  # the providers' own bulk figures: fi_pingpong over tcp (16 MiB), raw datagrams
  if command -v fi_pingpong >/dev/null; then
    local port=$((20000 + RANDOM % 20000))
    timeout 60 fi_pingpong -p tcp -e rdm -S 16777216 -I 20 -B "$port" >/dev/null 2>&1 &
    sleep 0.5
    timeout 60 fi_pingpong -p tcp -e rdm -S 16777216 -I 20 -P "$port" localhost 2>/dev/null |
      awk '$1 == "16m" { print "raw,tcp_pingpong,16777216,0," $6 }' >>"$res"
    wait
  fi
  # the udp provider's streaming ceiling, 1472-byte datagrams (its largest, FM's packet size)
  "$build/bench/dgram_stream" -p udp -S 1472 2>/dev/null |
    awk -F, '$1 == "udp" { print "raw,udp_datagrams,1472,0," $7 }' >>"$res"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  if [ $((r % 2)) = 1 ]; then
    run_fm direct shm 1; run_fm fm-shm shm 0; run_fm fm-tcp tcp 0; run_fm fm-udp udp 0
    [ $have_ompi = 1 ] && run_ompi
    run_fmperf tcp; run_fmperf udp; run_raw
  else
    run_raw; run_fmperf udp; run_fmperf tcp
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
      n = split("put,8 get,8 gput,8 gget,8 fadd,8 pingpong,8", L, " ")
      for (i = 1; i <= n; i++) { split(L[i], p, ","); line = "| " p[1] " (us) | " p[2]
        for (c = 1; c <= 5; c++) { v = median(us[C[c] SUBSEP p[1] SUBSEP p[2]]); line = line " | " v; val[c] = v }
        print line " | " (val[5] > 0 ? sprintf("**%.2f**", val[1] / val[5]) : "") " |" }
      n = split("putbw,8192 putbw,131072 putbw,2097152 getbw,8192 getbw,131072 getbw,2097152", L, " ")
      for (i = 1; i <= n; i++) { split(L[i], p, ","); line = "| " p[1] " (MB/s) | " p[2]
        for (c = 1; c <= 5; c++) { v = median(mb[C[c] SUBSEP p[1] SUBSEP p[2]]); line = line " | " v; val[c] = v }
        print line " | " (val[5] > 0 ? sprintf("**%.2f**", val[1] / val[5]) : "") " |" }
      print ""
      print "Blocking `shmem_getmem` latency (mean us) by size: through FM (`SHMEM_FM_DIRECT=0`) on each"
      print "provider, on-host direct access, and Open MPI."
      print ""
      print "| bytes | via FM shm | via FM tcp | via FM udp | direct | Open MPI | FM shm / Open MPI |"
      print "|---|---|---|---|---|---|---|"
      for (b = 1024; b <= 1048576; b *= 2) { line = "| " b
        split("fm-shm fm-tcp fm-udp direct ompi", G, " ")
        for (c = 1; c <= 5; c++) { v = median(us[G[c] SUBSEP "getlat" SUBSEP b]); line = line " | " v; val[c] = v }
        print line " | " (val[5] > 0 ? sprintf("**%.2f**", val[1] / val[5]) : "") " |" }
      print ""
      print "8-byte collectives with pSync/pWrk and data in globals (both PEs; broadcast64 and"
      print "sum_to_all followed by a barrier, as the standard benchmarks call them), mean us."
      print ""
      print "| collective | direct | via FM shm | Open MPI | direct / Open MPI |"
      print "|---|---|---|---|---|"
      n = split("barrier_all barrier broadcast64 sum_to_all team_sync sum_reduce", L, " ")
      for (i = 1; i <= n; i++) { d = median(us["direct" SUBSEP L[i] SUBSEP 8]); f = median(us["fm-shm" SUBSEP L[i] SUBSEP 8])
        o = median(us["ompi" SUBSEP L[i] SUBSEP 8])
        printf "| %s | %s | %s | %s | %s |\n", L[i], d, f, o, (o > 0 ? sprintf("**%.2f**", d / o) : "") }
      print ""
      print "Bulk: 16 MiB blocking gets through FM (`SHMEM_FM_DIRECT=0`), MB/s, against the"
      print "provider'"'"'s own figure in the same rounds (fi_pingpong tcp 16 MiB; the udp provider'"'"'s"
      print "streaming ceiling with 1472-byte datagrams, its largest, `bench/dgram_stream`)."
      print ""
      print "| path | SHMEM-FM 16 MiB get (MB/s) | provider'"'"'s own (MB/s) | ratio |"
      print "|---|---|---|---|"
      t = median(mb["fm-tcp" SUBSEP "bulk" SUBSEP 16777216]); tr = median(mb["raw" SUBSEP "tcp_pingpong" SUBSEP 16777216])
      u = median(mb["fm-udp" SUBSEP "bulk" SUBSEP 16777216]); ur = median(mb["raw" SUBSEP "udp_datagrams" SUBSEP 1472])
      printf "| tcp | %s | %s (fi_pingpong) | **%.2f** |\n", t, tr, (tr > 0 ? t / tr : 0)
      printf "| udp | %s | %s (dgram_stream) | **%.2f** |\n", u, ur, (ur > 0 ? u / ur : 0)
      printf "| shm | %s | | |\n", median(mb["fm-shm" SUBSEP "bulk" SUBSEP 16777216])
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
