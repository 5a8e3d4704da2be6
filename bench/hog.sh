#!/bin/bash
# bench/hog.sh - one MPI job beside a CPU-bound process that is not MPI (a build, another user's
# solver): issue 18's "jobs that share CPUs do not collapse" when the other load is not an FM
# job, so neither FM's waits nor fm-dcsd can coordinate with it.  bench/bsp_loop.c with NRANKS
# ranks at a small grain, alone and beside one `yes >/dev/null` (a CPU-bound loop), for MPI-FM
# with its default scheduler slice (FM_SLICE_US=100), without it (FM_SLICE_US=0), busy-polling,
# and for Debian's MPICH/UCX and Open MPI (default, and with mpi_yield_when_idle) in the same
# rounds.  Not asserted anywhere (BENCHMARKS.md): a table in bench/results/hog.md.
#
#   bench/hog.sh [-r ROUNDS] [-n NRANKS] [-g GRAIN_US] [-i ITERS] [-t TIMEOUT_S] [-o OUT.md]
#
# Needs MPI-FM built ($BUILD, default build/: scripts/build.sh), and for the peers libmpich-dev
# and openmpi-bin/libopenmpi-dev (scripts/install-deps.sh installs all of them).
set -euo pipefail
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
cmdline=bench/hog.sh
for a in "$@"; do cmdline="$cmdline $a"; done
ROUNDS=3 NRANKS=8 GRAIN=20 ITERS=5000 TMO=60 OUT=""
while getopts "r:n:g:i:t:o:h" o; do
  case $o in
    r) ROUNDS=$OPTARG ;; n) NRANKS=$OPTARG ;; g) GRAIN=$OPTARG ;; i) ITERS=$OPTARG ;;
    t) TMO=$OPTARG ;; o) OUT=$OPTARG ;; h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# = 0 ] || { usage >&2; exit 2; }
for v in "$ROUNDS" "$NRANKS" "$GRAIN" "$ITERS" "$TMO"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "hog.sh: \"$v\": expected a positive integer" >&2; exit 2; }
done
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
mpifm=$build/mpich/bin
OUT=${OUT:-$top/bench/results/hog.md}
mkdir -p "$(dirname "$OUT")"
tmp=$(mktemp -d)
hog=""
cleanup() {
  [ -z "$hog" ] || kill "$hog" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

configs=""
build_one() { # MPICC OUT
  [ -x "$1" ] && "$1" -std=c11 -O2 -o "$tmp/$2" "$top/bench/bsp_loop.c" 2>"$tmp/$2.err"
}
if [ -x "$mpifm/mpiexec" ] && build_one "$mpifm/mpicc" bsp_fm; then
  configs="fm-slice fm-noslice fm-poll"
else
  echo "hog.sh: MPI-FM not found in $mpifm (scripts/build.sh builds it)" >&2
  exit 1
fi
build_one /usr/bin/mpicc.mpich bsp_mpich && configs="$configs mpich-ucx"
build_one /usr/bin/mpicc.openmpi bsp_ompi && configs="$configs ompi ompi-yield"

launch() { # CONFIG: the command in the array cmd
  local fm=("$mpifm/mpiexec" -n "$NRANKS" -bind-to none -genv FM_COSCHED off)
  local ompi=(/usr/bin/mpirun.openmpi --oversubscribe --bind-to none -n "$NRANKS")
  case $1 in
    fm-slice) cmd=("${fm[@]}" "$tmp/bsp_fm") ;;
    fm-noslice) cmd=("${fm[@]}" -genv FM_SLICE_US 0 "$tmp/bsp_fm") ;;
    fm-poll) cmd=("${fm[@]}" -genv FM_IDLE poll "$tmp/bsp_fm") ;;
    mpich-ucx) cmd=(/usr/bin/mpiexec.hydra -n "$NRANKS" -bind-to none "$tmp/bsp_mpich") ;;
    ompi) cmd=("${ompi[@]}" "$tmp/bsp_ompi") ;;
    ompi-yield) cmd=("${ompi[@]}" --mca mpi_yield_when_idle 1 "$tmp/bsp_ompi") ;;
  esac
}

# the computation's speed, once, so that every run does the same work
rate=$("$mpifm/mpiexec" -n 1 "$tmp/bsp_fm" -g "$GRAIN" -i 1 -w 0 2>&1 >/dev/null |
  sed -n 's/.* \([0-9.]*\) spins\/us.*/\1/p' | head -1)
[ -n "$rate" ] || { echo "hog.sh: calibration failed" >&2; exit 1; }

run() { # CONFIG: the timed loop's wall seconds (or ">TMO")
  launch "$1"
  local line
  if line=$(timeout -k 5 "$TMO" "${cmd[@]}" -g "$GRAIN" -i "$ITERS" -k "$rate" 2>"$tmp/err"); then
    echo "$line" | cut -d, -f4
  else
    echo ">$TMO"
  fi
}

: >"$tmp/rows"
start=$(date +%s)
for r in $(seq "$ROUNDS"); do
  order=$configs
  [ $((r % 2)) = 0 ] && order=$(echo "$configs" | tr ' ' '\n' | tac | tr '\n' ' ')
  for c in $order; do
    alone=$(run "$c")
    yes >/dev/null &
    hog=$!
    beside=$(run "$c")
    kill "$hog" 2>/dev/null || true
    wait "$hog" 2>/dev/null || true
    hog=""
    echo "$r $c $alone $beside" >>"$tmp/rows"
    echo "round $r $c: alone $alone s, beside a CPU-bound process $beside s" >&2
  done
done
took=$(($(date +%s) - start))

{
  echo "# One MPI job beside a CPU-bound process that is not MPI"
  echo
  echo "- command: \`$cmdline\` ($(date -u +%Y-%m-%dT%H:%MZ), $(hostname), $(nproc) CPUs, kernel $(uname -r), commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo ?))"
  echo "- program: bench/bsp_loop.c, $NRANKS ranks, $GRAIN us of computation per iteration ($rate spins/us), $ITERS iterations (+50 warm-up): 1 KiB ring exchange and an 8-byte allreduce per iteration"
  echo "- each round runs every configuration alone, then beside \`yes >/dev/null\` started just before it; $ROUNDS rounds, the order reversed every other round; each run limited to $TMO s (\">\": stopped, a lower bound); the runs took $took s"
  echo "- configurations: fm-slice = MPI-FM's defaults (FM_IDLE=auto: this job alone has more ranks than CPUs, so waits block; FM_SLICE_US=100); fm-noslice = FM_SLICE_US=0; fm-poll = FM_IDLE=poll; FM_COSCHED=off for all three (no daemon); mpich-ucx = Debian's MPICH 4.0.2 (ch4:ucx) defaults; ompi = Open MPI 4.1.4 defaults; ompi-yield = --mca mpi_yield_when_idle 1; nothing bound"
  echo "- FM_SLICE_US asks the kernel for a 100 us slice (sched_setattr's sched_runtime, Linux 6.12 and later): a rank woken by a message then preempts the CPU-bound process at once instead of after that process's slice; on an earlier kernel fm-slice and fm-noslice are the same"
  echo
  echo "| config | alone, median (s) | beside the CPU-bound process, median (s) | worst (s) | beside / alone, median |"
  echo "|---|---|---|---|---|"
  for c in $configs; do
    awk -v c="$c" '
      function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      $2 == c { n++; al[n] = ($3 ~ /^>/) ? substr($3, 2) + 0 : $3; lo[n] = ($3 ~ /^>/);
                be[n] = ($4 ~ /^>/) ? substr($4, 2) + 0 : $4; hi[n] = ($4 ~ /^>/); if (be[n] > w) w = be[n]; if (hi[n]) wl = 1 }
      END { if (!n) exit; for (i = 1; i <= n; i++) { a2[i] = al[i]; b2[i] = be[i] }
            ma = med(a2, n); mb = med(b2, n)
            for (i = 1; i <= n; i++) if (lo[i]) ll = 1
            # a run stopped at the limit counts its limit: the median is then a lower bound too
            ratio = (ll && wl) ? "-" : sprintf("%s%.1f", (wl && !ll ? "> " : ""), mb / ma)  # bound / bound: unknown
            printf "| %s | %s%.3f | %s%.3f | %s%.3f | %s |\n", c, (ll ? "> " : ""), ma, (wl ? "> " : ""), mb,
                   (wl ? "> " : ""), w, ratio }' "$tmp/rows"
  done
  echo
  echo "Raw rows (round, config, alone s, beside s):"
  echo
  echo '```'
  cat "$tmp/rows"
  echo '```'
} >"$OUT"
echo "hog.sh: wrote $OUT" >&2
