#!/bin/bash
# shm.sh [-r ROUNDS] [-o OUT.md] - two ranks on this host, every on-host path side by side in each
# round (the order reverses every other round): FM over its own shm transport and over libfabric's
# (ofi-shm), fi_pingpong -p shm (the libfabric floor), MPI-FM over FM's shm, Open MPI (vader) and
# Debian's MPICH (ch4:ucx).  Per configuration: 8-byte one-way latency (ping-pong, mean), 8-byte
# message rate (streaming: windows of 64 sends, one acknowledgement each), and ping-pong bandwidth
# (size / one-way time, as fi_pingpong reports it) at 64 KiB, 1 MiB and 16 MiB.  Table: medians
# over rounds within one mode of the VM (see run_floor), and the issue-19 ratios.  Writes OUT.md
# and OUT.csv (raw rows: config,metric,bytes,value,mode) when -o is given.
set -eu
ROUNDS=5 OUT=""
while getopts "r:o:" o; do
  case $o in r) ROUNDS=$OPTARG ;; o) OUT=$OPTARG ;; *) echo "usage: bench/shm.sh [-r ROUNDS] [-o OUT.md]" >&2; exit 2 ;; esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
mpifm=$build/mpich/bin
fm_perf=$build/bench/fm_perf
cacheline=$build/bench/cacheline
[ -x "$fm_perf" ] || { echo "shm.sh: $fm_perf not built" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
have_mpifm=0 have_mpich=0 have_ompi=0
if [ -x "$mpifm/mpicc" ] && "$mpifm/mpicc" -O2 -Wno-stringop-overflow -o "$tmp/perf_mpifm" "$top/bench/mpi_perf.c" 2>/dev/null; then
  have_mpifm=1
else echo "shm.sh: MPI-FM ($mpifm/mpicc) not built: its rows are empty" >&2; fi
if [ -x /usr/bin/mpicc.mpich ] && /usr/bin/mpicc.mpich -O2 -Wno-stringop-overflow -o "$tmp/perf_mpich" "$top/bench/mpi_perf.c" 2>/dev/null; then
  have_mpich=1
else echo "shm.sh: Debian's MPICH (libmpich-dev) not found: its rows are empty" >&2; fi
if [ -x /usr/bin/mpicc.openmpi ] && /usr/bin/mpicc.openmpi -O2 -Wno-stringop-overflow -o "$tmp/perf_ompi" "$top/bench/mpi_perf.c" 2>/dev/null; then
  have_ompi=1
else echo "shm.sh: Open MPI (libopenmpi-dev) not found: its rows are empty" >&2; fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
res=$tmp/results.csv  # config,metric,bytes,value
: >"$res"
SIZES="65536 1048576 16777216"
iters_for() { case $1 in 65536) echo 5000 ;; 1048576) echo 1000 ;; *) echo 100 ;; esac; }
# the common format (bench/perf_report.h): latency's mean (column 5), bandwidth (6), rate (7)
rows() {  # CONFIG METRIC: picks the figure of every size row (tagged with the current mode)
  awk -F, -v c="$1" -v m="$2" -v mode="$mode" '$1 ~ /^[0-9]+$/ {
    v = (m == "lat") ? $5 : (m == "rate") ? $7 : $6; print c "," m "," $1 "," v "," mode }'
}
# The cache line between two processes (bench/cacheline.c) just before each configuration: its
# floor, and the mode the VM is in (vCPUs on one core complex, "near", about 80 ns here, or on
# two, "far", about 300 ns; the host moves them now and then).  Every row carries the mode, and
# configurations are compared within one mode only.
mode=unknown
run_floor() {
  [ -x "$cacheline" ] || return 0
  local ns
  ns=$("$cacheline" -I 200000 2>/dev/null) || return 0
  mode=$(awk -v ns="$ns" 'BEGIN { print (ns < 160) ? "near" : "far" }')
  awk -v ns="$ns" -v mode="$mode" 'BEGIN { printf "floor,lat,8,%.4f,%s\n", ns / 1000, mode }' >>"$res"
}
run_fm() {  # FM over provider $1
  local c=fm-$1 s
  run_floor
  timeout 120 mpiexec.hydra -n 2 -genv FM_PROVIDER "$1" "$fm_perf" -t latency -S 8 -I 50000 \
    --csv 2>/dev/null | rows "$c" lat >>"$res" || true
  timeout 120 mpiexec.hydra -n 2 -genv FM_PROVIDER "$1" "$fm_perf" -t stream -S 8 -I 1000000 \
    --csv 2>/dev/null | rows "$c" rate >>"$res" || true
  for s in $SIZES; do
    timeout 120 mpiexec.hydra -n 2 -genv FM_PROVIDER "$1" "$fm_perf" -t bw -S $s -I "$(iters_for $s)" \
      --reply main --csv 2>/dev/null | rows "$c" bw >>"$res" || true
  done
}
port=$((20000 + ($$ * 7) % 20000))
fi_pp() {  # bytes iterations -> one client row (bytes #sent #ack total time MB/sec usec/xfer)
  port=$((port + 1))
  timeout 60 fi_pingpong -p shm -e rdm -S "$1" -I "$2" -B $port >/dev/null 2>&1 &
  sleep 0.3
  timeout 60 fi_pingpong -p shm -e rdm -S "$1" -I "$2" -P $port 127.0.0.1 2>/dev/null |
    awk 'NF >= 8 && $1 != "bytes" { l = $7; b = $6 } END { print l, b }'
  wait
}
run_fi() {
  command -v fi_pingpong >/dev/null || return 0
  local l b s
  run_floor
  read -r l b < <(fi_pp 8 50000)
  [ -n "$l" ] && echo "fi_pingpong,lat,8,$l,$mode" >>"$res"
  for s in $SIZES; do
    read -r l b < <(fi_pp $s "$(iters_for $s)")
    [ -n "$b" ] && echo "fi_pingpong,bw,$s,$b,$mode" >>"$res"
  done
  return 0
}
mpi() {  # CONFIG COMMAND...
  local c=$1 s; shift
  run_floor
  timeout 120 "$@" -t latency -S 8 -I 50000 --csv 2>/dev/null | rows "$c" lat >>"$res" || true
  timeout 120 "$@" -t bw -S 8 -I 1000000 -W 64 --csv 2>/dev/null | rows "$c" rate >>"$res" || true
  # ping-pong bandwidth: the latency test's mean one-way time at size S
  for s in $SIZES; do
    timeout 120 "$@" -t latency -S $s -I "$(iters_for $s)" --csv 2>/dev/null |
      awk -F, -v c="$c" -v mode="$mode" '$1 ~ /^[0-9]+$/ && $5 > 0 { print c ",bw," $1 "," $1 / $5 "," mode }' >>"$res" || true
  done
}
run_mpi() {
  [ $have_mpifm = 1 ] && mpi mpifm-shm "$mpifm/mpiexec" -n 2 -genv FM_PROVIDER shm "$tmp/perf_mpifm"
  [ $have_ompi = 1 ] && mpi ompi-vader /usr/bin/mpiexec.openmpi -n 2 --mca pml ob1 --mca btl self,vader "$tmp/perf_ompi"
  [ $have_mpich = 1 ] && mpi mpich-ucx /usr/bin/mpiexec.hydra -n 2 "$tmp/perf_mpich"
  return 0
}
for r in $(seq 1 "$ROUNDS"); do
  echo "shm.sh: round $r/$ROUNDS" >&2
  if [ $((r % 2)) = 1 ]; then run_fm shm; run_fm ofi-shm; run_fi; run_mpi
  else run_mpi; run_fi; run_fm ofi-shm; run_fm shm; fi
done
report() {
  awk -F, '
    function median(s,   a, n, i, j, t) { n = split(s, a, " ");
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n == 0 ? "" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) }
    { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $5; v[k] = v[k] " " $4; if ($1 == "floor") { if (!($5 in seen)) nseen++; seen[$5]++ } }
    function m(c, t, b) { return median(v[c SUBSEP t SUBSEP b SUBSEP md]) }
    function cell(x, f) { return x == "" ? "-" : sprintf(f, x) }
    function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
    function min2(a, b) { return a == "" ? b : b == "" ? a : (a + 0 < b + 0 ? a : b) }
    END {
      nm = split("near far unknown", M, " ")
      for (x = 1; x <= nm; x++) {
        md = M[x]
        if (!(md in seen) && md != "unknown") continue
        if (md == "unknown" && nseen > 0) continue
        printf "### vCPUs %s: cache line %s us one way (%d configuration runs in this mode)\n\n", md,
          cell(m("floor", "lat", 8), "%.3f"), seen[md]
        print "| configuration | 8 B latency (us) | 8 B rate (Mmsg/s) | 64 KiB (MB/s) | 1 MiB (MB/s) | 16 MiB (MB/s) |"
        print "|---|---|---|---|---|---|"
        n = split("fm-shm fm-ofi-shm fi_pingpong mpifm-shm ompi-vader mpich-ucx", C, " ")
        for (i = 1; i <= n; i++) printf "| %s | %s | %s | %s | %s | %s |\n", C[i],
          cell(m(C[i], "lat", 8), "%.3f"), cell(m(C[i], "rate", 8), "%.2f"), cell(m(C[i], "bw", 65536), "%.0f"),
          cell(m(C[i], "bw", 1048576), "%.0f"), cell(m(C[i], "bw", 16777216), "%.0f")
        print ""
        print "| issue 19 figure | value | target |"
        print "|---|---|---|"
        printf "| FM 8 B one-way latency (us) | %s | <= 0.25 |\n", cell(m("fm-shm", "lat", 8), "%.3f")
        f = m("floor", "lat", 8); l = m("fm-shm", "lat", 8)
        printf "| FM 8 B latency above the cache line (us) | %s | (software cost) |\n", (f == "" || l == "") ? "-" : sprintf("%.3f", l - f)
        best = min2(m("ompi-vader", "lat", 8), m("mpich-ucx", "lat", 8))
        printf "| MPI-FM 8 B / faster of Open MPI, MPICH-UCX | %s | <= 0.8 |\n", ratio(m("mpifm-shm", "lat", 8), best)
        printf "| FM 1 MiB bandwidth / fi_pingpong shm | %s | >= 1.1 |\n", ratio(m("fm-shm", "bw", 1048576), m("fi_pingpong", "bw", 1048576))
        printf "| FM 8 B message rate / Open MPI | %s | >= 1.0 |\n", ratio(m("fm-shm", "rate", 8), m("ompi-vader", "rate", 8))
        printf "| MPI-FM 8 B message rate / Open MPI | %s | (MPI to MPI) |\n", ratio(m("mpifm-shm", "rate", 8), m("ompi-vader", "rate", 8))
        printf "| FM shm / FM ofi-shm, 8 B latency | %s | (issue 19 vs before) |\n", ratio(m("fm-shm", "lat", 8), m("fm-ofi-shm", "lat", 8))
        print ""
      }
    }' "$1"
}
{
  echo "# On-host paths: FM's shm transport against libfabric's, Open MPI and MPICH/UCX"
  echo
  echo "- date: $(date -Iseconds); host: $(hostname) ($(nproc) CPUs); rounds: $ROUNDS; commit: $(git -C "$top" rev-parse --short HEAD)$(git -C "$top" diff --quiet HEAD -- fm mpi-fm bench 2>/dev/null || echo "+changes")"
  echo "- command: bench/shm.sh -r $ROUNDS; libfabric $(fi_info --version 2>/dev/null | awk '/^libfabric:/ { print $2 }'); Open MPI $(/usr/bin/mpiexec.openmpi --version 2>/dev/null | head -1 | awk '{ print $NF }') (--mca btl self,vader); Debian MPICH $(/usr/bin/mpichversion 2>/dev/null | sed -n 's/^MPICH Version:[[:space:]]*//p')"
  echo
  echo "Latency: ping-pong, one-way = round trip / 2, mean of 50000 (FM: fm_perf, the reply sent from"
  echo "the handler; MPI: bench/mpi_perf.c MPI_Send/MPI_Recv; fi_pingpong's usec/xfer). Rate: 10^6"
  echo "8-byte messages streamed in windows of 64 with one acknowledgement per window. Bandwidth:"
  echo "ping-pong, size / one-way time (fi_pingpong's MB/sec), MB = 10^6 bytes. Medians over rounds."
  echo "The cache line (bench/cacheline.c, two processes passing one line) is measured before each"
  echo "configuration: the hardware's floor, which on this VM moves with where the host puts the two"
  echo "vCPUs (near: about 80 ns, far: about 300 ns). Rows are medians within one mode, so every"
  echo "comparison is between runs that had the same floor."
  echo
  report "$res"
} | tee "${OUT:-/dev/null}"
[ -n "$OUT" ] && cp "$res" "${OUT%.md}.csv"
exit 0
