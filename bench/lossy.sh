#!/usr/bin/env bash
# lossy.sh - FM over udp under real packet loss: two namespace hosts (tests/netns/run.sh), nftables
# in each dropping a random PCT % of the UDP packets it receives; 8-byte latency and 1 MiB
# ping-pong bandwidth (fm_perf) at each loss rate, median of ROUNDS runs, with the packets
# dropped and retransmitted.  Needs root (namespaces) and nftables.
#
#   bench/lossy.sh [-r ROUNDS] [-b BUILD_DIR] [-o OUTDIR] [-l "0 1 5"]
#
# Writes OUTDIR/lossy.csv and OUTDIR/lossy.md; progress on stderr, the table on stdout.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=3 BUILD="$ROOT/build" OUTDIR="" LOSSES="0 1 5"
while getopts "r:b:o:l:h" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;;
    b) BUILD=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    l) LOSSES=$OPTARG ;;
    *) sed -n 2,9p "$0" >&2; exit 2 ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "lossy.sh: -r needs a positive number" >&2; exit 2; }
FM_PERF=$BUILD/bench/fm_perf
[ -x "$FM_PERF" ] || { echo "lossy.sh: $FM_PERF not built" >&2; exit 2; }
OUTDIR=${OUTDIR:-$BUILD/bench/lossy}
mkdir -p "$OUTDIR" || exit 2
RUN=$ROOT/tests/netns/run.sh
say() { echo "lossy.sh: $*" >&2; }
CSV=$OUTDIR/lossy.csv
echo "loss_pct,round,test,bytes,lat_us,bw_MBps,nft_dropped,retransmitted" >"$CSV"
# one run: loss test(latency|bw) bytes iters -> a CSV row
one() {
  local loss=$1 t=$2 bytes=$3 iters=$4 k=$5 out reply=handler
  [ "$t" = bw ] && reply=main
  out=$("$RUN" --drop "$loss" -genv FM_STATS 1 2 1 udp "$FM_PERF" -t "$t" -S "$bytes" -I "$iters" \
    -w 0 --reply $reply --csv 2>&1)
  local rc=$?
  if [ $rc = 77 ]; then say "skipped: $(grep SKIP <<<"$out")"; exit 77; fi
  local row drop resent
  row=$(awk -F, -v b="$bytes" '$1 == b && NF >= 6 { print $5 "," $6 }' <<<"$out" | tail -1)
  drop=$(sed -n 's/^nftables: \([0-9]*\) UDP packets dropped.*/\1/p' <<<"$out")
  # FM_STATS tables: the "retrans" column summed over both nodes' rows
  resent=$(awk '/retrans/ { for (i = 1; i <= NF; i++) if ($i == "retrans") c = i; next }
    c && $1 ~ /^[0-9]+$/ && NF >= c { s += $c } END { print s + 0 }' <<<"$out")
  if [ $rc != 0 ] || [ -z "$row" ]; then
    say "FAILED at $loss % ($t $bytes): $(tail -3 <<<"$out")"
    row="NA,NA"
  fi
  echo "$loss,$k,$t,$bytes,$row,${drop:-0},$resent" >>"$CSV"
  say "loss $loss %, round $k, $t $bytes B: lat_us,bw = $row; dropped ${drop:-0}, resent $resent"
}
for ((k = 1; k <= ROUNDS; k++)); do
  for loss in $LOSSES; do
    one "$loss" latency 8 20000 "$k"
    one "$loss" bw 1048576 300 "$k"
  done
done
med() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "NA"; exit }
  print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
{
  echo "# FM over udp under real packet loss"
  echo
  echo "- date: $(date -Iseconds); host: $(hostname) ($(nproc) CPUs, $(uname -sr))"
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
  echo "- command: bench/lossy.sh -r $ROUNDS -l \"$LOSSES\""
  echo "- each run: tests/netns/run.sh --drop PCT -genv FM_STATS 1 2 1 udp fm_perf -t latency -S 8"
  echo "  -I 20000 -w 0 --reply handler, and -t bw -S 1048576 -I 300 -w 0 --reply main (two"
  echo "  namespace hosts, one rank each; nftables drops PCT % of the UDP packets each host receives)"
  echo
  echo "| loss | 8 B latency (us) | 1 MiB bandwidth (MB/s) | bandwidth vs 0 % | packets dropped (1 MiB run) | retransmitted (1 MiB run) |"
  echo "|---|---|---|---|---|---|"
  base=""
  for loss in $LOSSES; do
    lat=$(awk -F, -v l="$loss" '$1 == l && $3 == "latency" && $5 != "NA" { print $5 }' "$CSV" | med)
    bw=$(awk -F, -v l="$loss" '$1 == l && $3 == "bw" && $6 != "NA" { print $6 }' "$CSV" | med)
    dr=$(awk -F, -v l="$loss" '$1 == l && $3 == "bw" { print $7 }' "$CSV" | med)
    rs=$(awk -F, -v l="$loss" '$1 == l && $3 == "bw" { print $8 }' "$CSV" | med)
    [ -z "$base" ] && base=$bw
    rel=$(awk -v a="$bw" -v b="$base" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "NA";
      else printf "%.2f", a / b }')
    echo "| $loss % | $lat | $bw | $rel | $dr | $rs |"
  done
  echo
  echo "Medians over $ROUNDS rounds (raw rows: lossy.csv)."
} >"$OUTDIR/lossy.md"
cat "$OUTDIR/lossy.md"
