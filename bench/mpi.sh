#!/bin/bash
# mpi.sh [-r ROUNDS] [-o OUT.md] - MPI ping-pong latency and streaming bandwidth, 2 ranks on this
# host, alternating in every round: MPI-FM over FM's shm, tcp and udp; FM's own figures on the
# same providers (fm_perf); Debian's MPICH (ch4:ucx; default transports, then UCX_TLS=tcp,self);
# Debian's Open MPI (default, then --mca pml ob1 --mca btl self,tcp).  Table: medians over rounds.
set -eu
ROUNDS=3 OUT=""
while getopts "r:o:" o; do
  case $o in r) ROUNDS=$OPTARG ;; o) OUT=$OPTARG ;; *) exit 2 ;; esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
mpifm=$build/mpich/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$mpifm/mpicc" -O2 -Wno-stringop-overflow -o "$tmp/perf_mpifm" "$top/bench/mpi_perf.c"
have_mpich=0 have_ompi=0
if [ -x /usr/bin/mpicc.mpich ] && /usr/bin/mpicc.mpich -O2 -Wno-stringop-overflow -o "$tmp/perf_mpich" "$top/bench/mpi_perf.c" 2>/dev/null; then
  have_mpich=1
else echo "mpi.sh: Debian's MPICH (mpicc.mpich; apt-get install libmpich-dev) not found: its columns are empty" >&2; fi
if [ -x /usr/bin/mpicc.openmpi ] && /usr/bin/mpicc.openmpi -O2 -Wno-stringop-overflow -o "$tmp/perf_ompi" "$top/bench/mpi_perf.c" 2>/dev/null; then
  have_ompi=1
else echo "mpi.sh: Open MPI (mpicc.openmpi; apt-get install openmpi-bin libopenmpi-dev) not found: its columns are empty" >&2; fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
res=$tmp/results.csv   # config,test,bytes,value
LAT="-t latency -S 8 -I 50000"
BW="-t bw -S 1048576 -I 200 -W 16"
BW64="-t bw -S 65536 -I 2000 -W 64"
perf() {  # CONFIG COMMAND...: runs the three measurements
  local c=$1; shift
  for args in "$LAT" "$BW64" "$BW"; do
    # shellcheck disable=SC2086
    # the common format (bench/perf_report.h), CSV rows: latency's mean, bw's bandwidth
    timeout 300 "$@" $args --csv 2>/dev/null | awk -F, -v c="$c" '
      /^# test: / { t = $0; sub(/^# test: /, "", t); sub(/ .*/, "", t) }
      $1 ~ /^[0-9]+$/ { print c "," t "," $1 "," (t == "latency" ? $5 : $6) }' >>"$res" || true
  done
}
run_mpifm() { perf "mpifm-$1" "$mpifm/mpiexec" -n 2 -genv FM_PROVIDER "$1" "$tmp/perf_mpifm"; }
run_fm() {
  for reply in handler main; do
    timeout 120 mpiexec.hydra -n 2 -genv FM_PROVIDER "$1" "$build/bench/fm_perf" -t latency -S 8 \
      -I 50000 --reply $reply --csv 2>/dev/null |
      awk -F, -v c="fm-$1" -v r="$reply" '$1 == 8 { print c ",latency_" r ",8," $5 }' >>"$res" || true
  done
  for s in 65536 1048576; do
    timeout 120 mpiexec.hydra -n 2 -genv FM_PROVIDER "$1" "$build/bench/fm_perf" -t stream -S $s \
      -I $((s == 65536 ? 2000 * 64 / 64 : 200)) -W $((s == 65536 ? 64 : 16)) --csv 2>/dev/null |
      awk -F, -v c="fm-$1" -v s=$s '$1 == s { print c ",bw," s "," $6 }' >>"$res" || true
  done
}
run_mpich() {
  [ $have_mpich = 1 ] || return 0
  perf mpich-ucx /usr/bin/mpiexec.hydra -n 2 "$tmp/perf_mpich"
  perf mpich-ucx-tcp /usr/bin/mpiexec.hydra -n 2 -genv UCX_TLS tcp,self "$tmp/perf_mpich"
}
run_ompi() {
  [ $have_ompi = 1 ] || return 0
  perf ompi /usr/bin/mpiexec.openmpi -n 2 "$tmp/perf_ompi"
  perf ompi-tcp /usr/bin/mpiexec.openmpi -n 2 --mca pml ob1 --mca btl self,tcp "$tmp/perf_ompi"
}
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  if [ $((r % 2)) = 1 ]; then
    run_mpifm shm; run_fm shm; run_mpifm tcp; run_fm tcp; run_mpifm udp; run_fm udp; run_mpich; run_ompi
  else
    run_ompi; run_mpich; run_fm udp; run_mpifm udp; run_fm tcp; run_mpifm tcp; run_fm shm; run_mpifm shm
  fi
done
cp "$res" "$tmp/keep.csv"
report() {
  awk -F, '
    function median(s,   a, n, i, j, t) { n = split(s, a, " ");
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n == 0 ? "" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) }
    { k = $1 SUBSEP $2 SUBSEP $3; v[k] = v[k] " " $4 }
    function m(c, t, b) { return median(v[c SUBSEP t SUBSEP b]) }
    function cell(x) { return x == "" ? "-" : x }
    function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
    END {
      print "| provider | MPI-FM 8 B latency (us) | FM latency handler / main (us) | MPI-FM - FM (us) | MPI-FM 64 KiB bw (MB/s) | FM 64 KiB | MPI-FM 1 MiB bw (MB/s) | FM 1 MiB | MPI-FM/FM at 1 MiB |";
      print "|---|---|---|---|---|---|---|---|---|";
      split("shm tcp udp", P, " ");
      for (i = 1; i <= 3; i++) { p = P[i];
        l = m("mpifm-" p, "latency", 8); fh = m("fm-" p, "latency_handler", 8); fmn = m("fm-" p, "latency_main", 8);
        best = (fh != "" && (fmn == "" || fh + 0 < fmn + 0)) ? fh : fmn;
        printf "| %s | %s | %s / %s | %s | %s | %s | %s | %s | %s |\n", p, cell(l), cell(fh), cell(fmn),
          (l == "" || best == "") ? "-" : sprintf("%+.2f", l - best),
          cell(m("mpifm-" p, "bw", 65536)), cell(m("fm-" p, "bw", 65536)),
          cell(m("mpifm-" p, "bw", 1048576)), cell(m("fm-" p, "bw", 1048576)),
          ratio(m("mpifm-" p, "bw", 1048576), m("fm-" p, "bw", 1048576)) }
      print "";
      print "| MPI | 8 B latency (us) | 64 KiB bw (MB/s) | 1 MiB bw (MB/s) |";
      print "|---|---|---|---|";
      n = split("mpifm-shm mpifm-tcp mpifm-udp mpich-ucx mpich-ucx-tcp ompi ompi-tcp", C, " ");
      for (i = 1; i <= n; i++) printf "| %s | %s | %s | %s |\n", C[i], cell(m(C[i], "latency", 8)),
        cell(m(C[i], "bw", 65536)), cell(m(C[i], "bw", 1048576));
      print "";
      net = m("mpifm-udp", "latency", 8); t = m("mpifm-tcp", "latency", 8);
      if (t != "" && (net == "" || t + 0 < net + 0)) { net = t; np = "tcp" } else np = "udp";
      printf "Network path on loopback: MPI-FM over FM %s (its faster network provider) %s us; ", np, cell(net);
      printf "/ Open MPI btl tcp: %s; / MPICH-UCX tcp: %s\n", ratio(net, m("ompi-tcp", "latency", 8)),
        ratio(net, m("mpich-ucx-tcp", "latency", 8)) }' "$1"
}
{
  echo "# MPI-FM vs FM, MPICH/UCX and Open MPI"
  echo
  echo "- date: $(date -Iseconds); host: $(hostname) ($(nproc) CPUs); rounds: $ROUNDS; commit: $(git -C "$top" rev-parse --short HEAD)$(git -C "$top" diff --quiet HEAD -- fm mpi-fm bench 2>/dev/null || echo "+changes")"
  echo "- MPI-FM: $($mpifm/mpichversion 2>/dev/null | sed -n 's/^MPICH Device:[[:space:]]*//p' | head -1) (MPICH 4.0.2, $(readlink -f "$mpifm/..")); Debian MPICH: $(/usr/bin/mpichversion 2>/dev/null | sed -n 's/^MPICH Device:[[:space:]]*//p' | head -1); Open MPI: $(/usr/bin/mpiexec.openmpi --version 2>/dev/null | head -1)"
  echo
  echo "Latency: ping-pong (MPI_Send/MPI_Recv), one-way = round trip / 2, mean over 50000 iterations (bench/mpi_perf.c)."
  echo "Bandwidth: streaming, a window of MPI_Isend (64 x 64 KiB, 16 x 1 MiB) then a 4-byte acknowledgement;"
  echo "FM's bandwidth is fm_perf -t stream (the same pattern, FM messages); FM's latency is fm_perf -t latency"
  echo "with node 1 replying from its handler / from its main loop. MB = 10^6 bytes. Medians over rounds."
  echo
  report "$tmp/keep.csv"
} | tee "${OUT:-/dev/null}"
[ -n "$OUT" ] && cp "$tmp/keep.csv" "${OUT%.md}.csv"
exit 0
