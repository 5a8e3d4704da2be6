#!/usr/bin/env bash
# onesided.sh - FM one-sided operations: put/get latency and bandwidth, atomic latency, over shm
# and tcp, on both paths (FM_RMA=emulated, the default, and FM_RMA=native), in one run.
#
#   bench/onesided.sh [-b BUILD_DIR] [-o OUTDIR] [-r rounds]
#
# Latency = time of one blocking operation (FM_put/FM_get/FM_atomic: a full round trip, not
# halved), median over rounds of the per-run mean; bandwidth = windows of 64 non-blocking
# operations closed by FM_flush.  Writes OUTDIR/onesided.md and onesided.csv; progress on stderr.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build OUTDIR="" ROUNDS=3
while getopts "b:o:r:h" o; do
  case $o in
    b) BUILD=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    *) sed -n 2,9p "$0"; exit 2 ;;
  esac
done
OUTDIR=${OUTDIR:-$BUILD/bench/onesided}
FM_PERF=$BUILD/bench/fm_perf
[ -x "$FM_PERF" ] || { echo "onesided.sh: $FM_PERF not built" >&2; exit 1; }
command -v mpiexec.hydra >/dev/null || { echo "onesided.sh: mpiexec.hydra not found" >&2; exit 1; }
mkdir -p "$OUTDIR"
CSV=$OUTDIR/onesided.csv
echo "provider,mode,test,bytes,round,lat_mean_us,bw_MBps" >"$CSV"

run() {  # provider mode test bytes round
  local out
  out=$(FM_RMA=$2 timeout -k 5 120 mpiexec.hydra -n 2 -genv FM_PROVIDER "$1" "$FM_PERF" -t "$3" \
    -S "$4" --csv 2>&1) || { echo "onesided.sh: FAILED: FM_RMA=$2 $1 $3 $4" >&2; return 1; }
  awk -F, -v p="$1" -v m="$2" -v t="$3" -v b="$4" -v r="$5" \
    '$1 == b { printf "%s,%s,%s,%s,%s,%s,%s\n", p, m, t, b, r, $5, $6 }' <<<"$out" >>"$CSV"
}

for ((r = 1; r <= ROUNDS; r++)); do
  for p in shm tcp; do
    for m in emulated native; do
      for t in put get; do
        for b in 8 65536 1048576; do
          echo "onesided.sh: round $r/$ROUNDS: $p $m $t $b B" >&2
          run $p $m $t $b $r
        done
      done
      echo "onesided.sh: round $r/$ROUNDS: $p $m atomic" >&2
      run $p $m atomic 8 $r
    done
  done
done

{
  echo "# FM one-sided operations"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), host: $(hostname), $(nproc) cores"
  echo "- commit: $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- command: bench/onesided.sh -r $ROUNDS (each row: median over $ROUNDS rounds)"
  echo "- per run: \`FM_RMA=<mode> mpiexec.hydra -n 2 -genv FM_PROVIDER <p> fm_perf -t put|get|atomic -S <bytes> --csv\`"
  echo
  echo "Latency: one blocking operation (a full round trip, not halved), microseconds.  Bandwidth:"
  echo "windows of 64 non-blocking operations, each closed by FM_flush, MB/s (10^6 B).  Atomic:"
  echo "64-bit fetch-add (always carried by FM messages; the mode column only changes puts/gets)."
  echo
  echo "| provider | mode | op | bytes | latency us | bandwidth MB/s |"
  echo "|---|---|---|---:|---:|---:|"
  awk -F, 'NR > 1 { k = $1 "," $2 "," $3 "," $4; lat[k] = lat[k] " " $6; bw[k] = bw[k] " " $7;
                    if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
    function med(s,   a, m, i, j, t) {
      m = split(s, a, " ")
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END { for (i = 1; i <= n; i++) { split(order[i], f, ",");
            printf "| %s | %s | %s | %s | %.2f | %.0f |\n", f[1], f[2], f[3], f[4], med(lat[order[i]]), med(bw[order[i]]) } }' "$CSV"
} >"$OUTDIR/onesided.md"
cat "$OUTDIR/onesided.md"
