#!/bin/bash
# ga.sh [-r ROUNDS] [-I ITERS] [-o OUT.md] - Global Arrays latency and patch bandwidth between 2
# processes on this host: Debian's GA on GA-FM (MPI-FM; on-host direct access, and through FM over
# shm, tcp and udp: the network path on loopback) against the same GA on ARMCI-MPI over Debian's
# MPICH (ch4:ucx; UCX's defaults, and UCX_TLS=tcp) and over Open MPI (its defaults, and the tcp
# BTL), all running bench/ga_perf.c, alternately in every round.  ARMCI-MPI runs with
# ARMCI_USE_WIN_ALLOCATE=0: with its default (1) GA's accumulates give wrong totals here.
# Writes OUT.md (default bench/results/ga.md), its CSV and a bandwidth plot beside it.
# Needs: libarmci-mpi-dev and libmpich-dev for the MPICH column; openmpi-bin, libopenmpi-dev and
# libscalapack-openmpi-dev for Open MPI's (a column whose stack is missing is left empty).
set -eu
ROUNDS=3 ITERS=20000 OUT=""
while getopts "r:I:o:" o; do
  case $o in r) ROUNDS=$OPTARG ;; I) ITERS=$OPTARG ;; o) OUT=$OPTARG ;; *) exit 2 ;; esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
OUT=${OUT:-$top/bench/results/ga.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
deb=/usr/lib/x86_64-linux-gnu/ga
src=$top/bench/ga_perf.c
# GA-FM: MPI-FM's mpicc and our ga-config, as a user builds
"$build/mpich/bin/mpicc" -O2 -I"$top/bench" -o "$tmp/perf_fm" "$src" $("$build/bin/ga-config" --libs)
peer() { # MPI (mpich|openmpi) OUT PACKAGES: Debian's GA on ARMCI-MPI over that MPI; 1 if built
  if command -v "mpicc.$1" >/dev/null &&
    "mpicc.$1" -O2 -I"$top/bench" -o "$tmp/$2" "$src" $("$deb/$1/bin/ga-config" --libs) \
      $("$deb/$1/bin/ga-config" --flibs) 2>"$tmp/$2.err"; then
    echo 1
  else
    echo "ga.sh: GA on ARMCI-MPI with $1 not built (apt-get install $3); its columns are empty:" >&2
    tail -3 "$tmp/$2.err" >&2 || true
    echo 0
  fi
}
have_mpich=$(peer mpich perf_mpich "libmpich-dev libarmci-mpi-dev")
have_ompi=$(peer openmpi perf_ompi "openmpi-bin libopenmpi-dev libscalapack-openmpi-dev")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
res=$tmp/results.csv # config,op,bytes,p50_us,mean_us,MBps
rows() {
  awk -F, -v c="$1" '
    /^# test: / { op = $0; sub(/^# test: /, "", op); sub(/ .*/, "", op) }
    $1 ~ /^[0-9]+$/ { print c "," op "," $1 "," $3 "," $5 "," $6 }'
}
run() { # NAME COMMAND...: one ga_perf run, its rows into the results (a failed run is reported)
  local name=$1
  shift
  if ! timeout 600 "$@" --csv -I "$ITERS" >"$tmp/run.out" 2>"$tmp/run.err"; then
    echo "ga.sh: $name failed:" >&2
    tail -5 "$tmp/run.err" >&2
  fi
  rows "$name" <"$tmp/run.out" >>"$res"
}
fm() { # NAME PROVIDER DIRECT
  run "$1" "$build/mpich/bin/mpiexec" -n 2 -genv FM_PROVIDER "$2" -genv GA_FM_DIRECT "$3" \
    -genv GA_PERF_STACK "GA-FM $1" "$tmp/perf_fm"
}
mpich() { # NAME [UCX_TLS]
  run "$1" mpiexec.mpich -n 2 -genv ARMCI_USE_WIN_ALLOCATE 0 ${2:+-genv UCX_TLS "$2"} \
    -genv GA_PERF_STACK "ARMCI-MPI MPICH $1" "$tmp/perf_mpich"
}
ompi() { # NAME [tcp]
  local mca=()
  [ "${2:-}" = tcp ] && mca=(--mca pml ob1 --mca btl tcp,self --mca osc pt2pt)
  run "$1" mpiexec.openmpi --oversubscribe -n 2 "${mca[@]}" -x ARMCI_USE_WIN_ALLOCATE=0 \
    -x GA_PERF_STACK="ARMCI-MPI Open MPI $1" "$tmp/perf_ompi"
}
configs="fm-direct fm-shm fm-tcp fm-udp"
[ $have_mpich = 1 ] && configs="$configs mpich mpich-tcp"
[ $have_ompi = 1 ] && configs="$configs ompi ompi-tcp"
for r in $(seq 1 "$ROUNDS"); do
  order=$configs
  [ $((r % 2)) = 0 ] && order=$(echo "$configs" | tr ' ' '\n' | tac | tr '\n' ' ')
  for c in $order; do
    echo "round $r/$ROUNDS: $c" >&2
    case $c in
      fm-direct) fm fm-direct shm 1 ;;
      fm-shm) fm fm-shm shm 0 ;;
      fm-tcp) fm fm-tcp tcp 0 ;;
      fm-udp) fm fm-udp udp 0 ;;
      mpich) mpich mpich ;;
      mpich-tcp) mpich mpich-tcp tcp,self ;;
      ompi) ompi ompi ;;
      ompi-tcp) ompi ompi-tcp tcp ;;
    esac
  done
done
base=${OUT%.md}
cp "$res" "$base.csv"
median='function median(s,   a, n, i, j, t) { n = split(s, a, " ");
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  return n == 0 ? "" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) }'
table() {
  awk -F, "$median"'
    { k = $1 SUBSEP $2 SUBSEP $3; p50[k] = p50[k] " " $4; mb[k] = mb[k] " " $6 }
    function cell(v) { return v == "" ? "-" : v }
    function ratio(a, b) { return (a != "" && b != "" && b > 0) ? sprintf("**%.2f**", a / b) : "-" }
    END {
      split("fm-direct fm-shm fm-tcp fm-udp mpich mpich-tcp ompi ompi-tcp", C, " ")
      print "Latency: p50 of each operation, microseconds (8 bytes; rank 0 to an element rank 1 owns)."
      print ""
      print "| op | GA-FM direct | GA-FM via FM shm | via FM tcp | via FM udp | ARMCI-MPI MPICH/UCX | MPICH/UCX tcp | ARMCI-MPI Open MPI | Open MPI tcp | direct / MPICH | FM tcp / MPICH tcp |"
      print "|---|---|---|---|---|---|---|---|---|---|---|"
      n = split("put get acc readinc putfence", L, " ")
      for (i = 1; i <= n; i++) { line = "| " L[i]
        for (c = 1; c <= 8; c++) { v[c] = median(p50[C[c] SUBSEP L[i] SUBSEP 8]); line = line " | " cell(v[c]) }
        print line " | " ratio(v[1], v[5]) " | " ratio(v[3], v[6]) " |" }
      print ""
      print "Patch bandwidth, MB/s (10^6 bytes/s; patches of rank 1, back to back)."
      print ""
      print "| op | bytes | GA-FM direct | GA-FM via FM shm | via FM tcp | via FM udp | ARMCI-MPI MPICH/UCX | MPICH/UCX tcp | ARMCI-MPI Open MPI | Open MPI tcp | direct / MPICH | FM tcp / MPICH tcp |"
      print "|---|---|---|---|---|---|---|---|---|---|---|---|"
      n = split("putbw getbw accbw", O, " ")
      for (o = 1; o <= n; o++) for (b = 8192; b <= 4194304; b *= 2) { line = "| " O[o] " | " b
        for (c = 1; c <= 8; c++) { v[c] = median(mb[C[c] SUBSEP O[o] SUBSEP b]); line = line " | " cell(v[c]) }
        print line " | " ratio(v[1], v[5]) " | " ratio(v[3], v[6]) " |" }
    }' "$res"
}
plot() { # the put and get bandwidth curves
  awk -F, "$median"'
    $2 == "putbw" || $2 == "getbw" { k = $2 SUBSEP $1 SUBSEP $3; mb[k] = mb[k] " " $6; seen[$1] = 1 }
    END { for (k in mb) { split(k, p, SUBSEP); print p[1], p[2], p[3], median(mb[k]) } }' "$res" |
    sort -k1,1 -k2,2 -k3,3n >"$tmp/plot.dat"
  command -v gnuplot >/dev/null || { echo "ga.sh: gnuplot not found: no plot" >&2; return; }
  local cmds="" first=1
  for op in putbw getbw; do
    for c in fm-direct fm-tcp mpich mpich-tcp ompi ompi-tcp; do
      grep -q "^$op $c " "$tmp/plot.dat" || continue
      [ $first = 1 ] || cmds="$cmds, "
      first=0
      cmds="$cmds'< grep \"^$op $c \" $tmp/plot.dat' using 3:4 with linespoints title '$op $c'"
    done
  done
  gnuplot <<EOF
set terminal png size 1000,600
set output '$base-bw.png'
set logscale x 2
set logscale y 10
set xtics ('8K' 8192, '16K' 16384, '32K' 32768, '64K' 65536, '128K' 131072, '256K' 262144, '512K' 524288, '1M' 1048576, '2M' 2097152, '4M' 4194304)
set xlabel 'patch bytes'
set ylabel 'MB/s'
set key outside right
set title 'Global Arrays patch bandwidth, 2 processes on one host ($(date -u +%Y-%m-%d))'
plot $cmds
EOF
}
{
  echo "# Global Arrays: GA-FM against ARMCI-MPI, 2 processes on one host"
  echo
  echo "- command: \`bench/ga.sh -r $ROUNDS -I $ITERS\` ($(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r), commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "- program: bench/ga_perf.c, Debian's GA $(dpkg-query -W -f='${Version}' libglobalarrays-dev 2>/dev/null || echo '?') on each stack; each cell the median over $ROUNDS rounds, configurations alternating"
  echo "- GA-FM: MPI-FM with GA-FM's ARMCI; \"direct\" = on-host access through mapped segments; \"via FM\" = GA_FM_DIRECT=0, every access an FM message over that provider (tcp and udp: the network path, on loopback)"
  echo "- ARMCI-MPI $(dpkg-query -W -f='${Version}' libarmci-mpi-dev 2>/dev/null || echo '?') with ARMCI_USE_WIN_ALLOCATE=0, on Debian's MPICH $(dpkg-query -W -f='${Version}' libmpich12 2>/dev/null || echo '?') (ch4:ucx; \"tcp\": UCX_TLS=tcp,self) and Open MPI $(dpkg-query -W -f='${Version}' openmpi-bin 2>/dev/null || echo '?') (\"tcp\": pml ob1, btl tcp,self, osc pt2pt)"
  echo "- put and acc return when the source may be reused (GA's blocking semantics; remote completion is GA_Fence/GA_Sync); putfence = NGA_Put + GA_Fence, a completed round trip"
  echo
  table
  echo
  echo "Plot: $(basename "$base")-bw.png. Raw rows (config,op,bytes,p50_us,mean_us,MB/s): $(basename "$base").csv."
} >"$tmp/table.md"
plot
cp "$tmp/table.md" "$OUT"
cat "$OUT"
