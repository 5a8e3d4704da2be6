#!/usr/bin/env bash
# compare.sh - FM against the transport's own limit, fi_pingpong, on the same provider.
#
#   bench/compare.sh [-p shm|ofi-shm|tcp|udp|all] [-r rounds] [-b BUILD_DIR] [-o OUTDIR] [-q] [-n]
#
# For each provider, each round runs fm_perf and fi_pingpong alternately (the order reverses every
# round) at 8 B (one-way latency) and 64 KiB, 1 MiB and 16 MiB (ping-pong bandwidth = size /
# one-way time), computes the per-round ratios FM / fi_pingpong, and reports their median, min and
# max.  References (fi_pingpong -p PROV -e EP, by label):
#   shm (FM's own transport), ofi-shm (FM over libfabric's shm): rdm = shm rdm
#   tcp: rdm = tcp rdm (tcp;ofi_rxm, FM's path), msg = tcp msg
#   udp: dgram = udp dgram (raw datagrams, what FM runs on; 1472 bytes at most),
#        rxd = udp rdm (udp;ofi_rxd, libfabric's reliability over udp), rxm = tcp rdm
# Then one bandwidth sweep (8 B..4 MiB) of each, plotted.
# Writes OUTDIR/compare-<provider>.csv, sweep-<provider>.csv, bw-<provider>.png and compare.md.
# Progress goes to stderr, the summary table to stdout.
set -uo pipefail

usage() {
  cat <<'EOF'
usage: bench/compare.sh [-p shm|ofi-shm|tcp|udp|all] [-r rounds] [-b BUILD_DIR] [-o OUTDIR] [-q] [-n]
  -p   provider(s) to compare (default all = shm, tcp and udp; ofi-shm: FM over libfabric's shm)
  -r   rounds of alternating runs (default 5)
  -b   build directory holding bench/fm_perf (default <repo>/build)
  -o   output directory (default BUILD_DIR/bench/compare)
  -q   quick smoke test: a tenth of the iterations (numbers are then only indicative)
  -n   no bandwidth sweep and no plots
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
INVOCATION="bench/compare.sh $*"
PROVIDERS=all ROUNDS=5 BUILD="$ROOT/build" OUTDIR="" QUICK=0 SWEEP=1
while getopts "p:r:b:o:qnh" opt; do
  case $opt in
    p) PROVIDERS=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    b) BUILD=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    q) QUICK=1 ;;
    n) SWEEP=0 ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { usage >&2; exit 2; }
case $PROVIDERS in
  all) PROVIDERS="shm tcp udp" ;;
  shm | ofi-shm | tcp | udp) ;;
  *) echo "compare.sh: -p must be shm, ofi-shm, tcp, udp or all" >&2; exit 2 ;;
esac
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: -r needs a positive number" >&2; exit 2; }
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || {
  echo "compare.sh: no build directory $BUILD" >&2
  exit 2
}
OUTDIR=${OUTDIR:-$BUILD/bench/compare}
FM_PERF=$BUILD/bench/fm_perf

exec 3>&2  # our stderr, also while a run's output is redirected to its log
say() { echo "compare.sh: $*" >&3; }
die() { say "$*"; exit 2; }

[ -x "$FM_PERF" ] || die "$FM_PERF not built (cmake -DFM_BUILD_BENCH=ON, then ninja fm_perf)"
for tool in mpiexec.hydra fi_pingpong fi_info ss timeout; do
  command -v $tool >/dev/null || die "$tool not found"
done
HAVE_GNUPLOT=1
command -v gnuplot >/dev/null || { HAVE_GNUPLOT=0; say "gnuplot not found: no plots"; }
mkdir -p "$OUTDIR" || die "cannot create $OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

TIMEOUT=120                  # seconds per run
DIV=$((QUICK ? 10 : 1))      # iteration divisor for -q
# name bytes iterations metric.  Both tools count the transport's start-up (e.g. tcp;ofi_rxm's
# connection set-up, 10-100 ms on the first message) in their time: enough iterations keep it small.
TESTS=("lat 8 $((50000 / DIV)) lat" "bw 65536 $((5000 / DIV)) bw" "bw 1048576 $((1000 / DIV)) bw"
  "bw 16777216 $((100 / DIV < 10 ? 10 : 100 / DIV)) bw")
# Sweep iterations per size: 512 MiB each way, at least 200 iterations, so that the start-up
# (over tcp about 25 ms for small messages, 130 ms for large ones) stays a few per cent of a run.
SWEEP_RULE="2^29/S in [200, 20000]"
[ $QUICK = 1 ] && SWEEP_RULE+=", divided by 10"
sweep_iters() {
  local i=$((536870912 / $1))
  [ $i -lt 200 ] && i=200
  [ $i -gt 20000 ] && i=20000
  echo $((i / DIV))
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fm-compare.XXXXXX") || die "mktemp failed"
FAILED=0
SERVER_PID=""  # the fi_pingpong server running now, if any
CHILD_PID=""   # the timed run we are waiting for, if any
cleanup() {
  # our own children only, by pid; `timeout` passes the signal on to the program it runs
  local pid pids alive i
  pids="$CHILD_PID $SERVER_PID $(jobs -p)"
  for pid in $pids; do kill "$pid" 2>/dev/null; done
  for ((i = 0; i < 80; i++)); do  # mpiexec may take until timeout's -k 5 to go
    alive=""
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  if [ "$FAILED" -gt 0 ]; then
    mkdir -p "$OUTDIR/logs" && cp "$WORK"/*.log "$OUTDIR/logs/" 2>/dev/null
    say "$FAILED run(s) failed; the logs of all runs are in $OUTDIR/logs"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# A fresh control port per fi_pingpong run, starting from one derived from our pid.
PORT=$((20000 + ($$ * 7) % 20000))
next_port() {
  PORT=$((PORT + 1))
  [ $PORT -lt 60000 ] || PORT=20000
  while [ -n "$(ss -Htln "sport = :$PORT" 2>/dev/null)" ]; do PORT=$((PORT + 1)); done
}

# timed cmd... : runs cmd under `timeout`, in the background so that a signal to this script is
# handled at once; stdout and stderr are the caller's.
timed() {
  timeout -k 5 $TIMEOUT "$@" </dev/null 3>&- &
  CHILD_PID=$!
  wait $CHILD_PID
  local rc=$?
  CHILD_PID=""
  return $rc
}

RUN=0
RECORD=1  # record the commands run in CMDS
# run_fm provider test(lat|bw) bytes iters -> RES_LAT (us, one-way mean), RES_BW (MB/s)
run_fm() {
  local p=$1 t=$2 bytes=$3 iters=$4 log
  RUN=$((RUN + 1))
  log="$WORK/$RUN-fm-$p-$t-$bytes.log"
  local test=bw reply=main  # bandwidth: node 1 replies from its main loop (zero-copy applies)
  [ "$t" = lat ] && test=latency reply=handler
  local cmd=(mpiexec.hydra -n 2 -genv FM_PROVIDER "$p" "$FM_PERF" -t "$test" -S "$bytes" -I "$iters"
    -w 0 --reply $reply --csv)
  echo "${cmd[*]}" >"$log"
  [ $RECORD = 1 ] && echo "${cmd[*]}" >>"$CMDS"
  RES_LAT=NA RES_BW=NA
  if ! timed "${cmd[@]}" >>"$log" 2>&1; then
    say "FAILED: ${cmd[*]} (log: $(basename "$log"))"; FAILED=$((FAILED + 1)); return 1
  fi
  read -r RES_LAT RES_BW < <(awk -F, -v b="$bytes" '$1 == b { print $5, $6 }' "$log")
  if [ -z "${RES_BW:-}" ]; then
    say "FAILED: no result row in fm_perf output ($(basename "$log"))"; FAILED=$((FAILED + 1))
    RES_LAT=NA RES_BW=NA; return 1
  fi
}

# reference label -> its fi_pingpong provider and endpoint type; DGRAM_MAX: datagram size limit
declare -A REF_PROV=([rdm]=x) REF_EP=([rdm]=x)
set_refs() {  # provider -> REFS (labels), REF_PROV, REF_EP
  case $1 in
    shm | ofi-shm) REFS="rdm"; REF_PROV=([rdm]=shm); REF_EP=([rdm]=rdm) ;;
    tcp) REFS="rdm msg"; REF_PROV=([rdm]=tcp [msg]=tcp); REF_EP=([rdm]=rdm [msg]=msg) ;;
    udp) REFS="dgram rxd rxm"; REF_PROV=([dgram]=udp [rxd]=udp [rxm]=tcp)
      REF_EP=([dgram]=dgram [rxd]=rdm [rxm]=rdm) ;;
  esac
}
DGRAM_MAX=$(fi_info -p udp -t FI_EP_DGRAM -v 2>/dev/null | awk '/max_msg_size/ { print $2; exit }')
DGRAM_MAX=${DGRAM_MAX:-1472}

# run_ref label bytes iters -> RES_LAT, RES_BW (NA, not run, when a datagram cannot hold bytes)
run_ref() {
  RES_LAT=NA RES_BW=NA
  [ "${REF_EP[$1]}" = dgram ] && [ "$2" -gt "$DGRAM_MAX" ] && return 0
  run_raw "${REF_PROV[$1]}" "${REF_EP[$1]}" "$2" "$3"
}

# run_raw provider endpoint bytes iters -> RES_LAT, RES_BW from the client's row
run_raw() {
  local p=$1 ep=$2 bytes=$3 iters=$4 log slog spid i rc
  RUN=$((RUN + 1))
  log="$WORK/$RUN-fi-$p-$ep-$bytes.log"
  slog="$WORK/$RUN-fi-$p-$ep-$bytes-server.log"
  next_port
  local base=(fi_pingpong -p "$p" -e "$ep" -S "$bytes" -I "$iters")
  echo "server: ${base[*]} -B $PORT; client: ${base[*]} -P $PORT 127.0.0.1" >"$log"
  [ $RECORD = 1 ] && echo "${base[*]} -B PORT &  ${base[*]} -P PORT 127.0.0.1" >>"$CMDS"
  RES_LAT=NA RES_BW=NA
  timeout -k 5 $TIMEOUT "${base[@]}" -B $PORT >"$slog" 2>&1 </dev/null 3>&- &
  spid=$!
  SERVER_PID=$spid
  for ((i = 0; i < 100; i++)); do  # up to 10 s for the server's control socket
    [ -n "$(ss -Htln "sport = :$PORT" 2>/dev/null)" ] && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  timed "${base[@]}" -P $PORT 127.0.0.1 >>"$log" 2>&1
  rc=$?
  for ((i = 0; i < 50; i++)); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$spid" 2>/dev/null; then  # a stray server: ours, by pid
    kill "$spid" 2>/dev/null
    say "killed a stray fi_pingpong server (port $PORT)"
  fi
  wait "$spid" 2>/dev/null
  SERVER_PID=""
  if [ $rc -ne 0 ]; then
    say "FAILED (rc $rc): ${base[*]} (log: $(basename "$log"))"; FAILED=$((FAILED + 1)); return 1
  fi
  # bytes #sent #ack total time MB/sec usec/xfer Mxfers/sec
  read -r RES_LAT RES_BW < <(awk 'NF >= 8 && $1 != "bytes" { l = $7; b = $6 } END { print l, b }' \
    "$log")
  if [ -z "${RES_BW:-}" ]; then
    say "FAILED: no result row in fi_pingpong output ($(basename "$log"))"
    FAILED=$((FAILED + 1)); RES_LAT=NA RES_BW=NA; return 1
  fi
}

# ratio a b -> a/b, or NA
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "NA";
  else printf "%.4f\n", a / b }'; }
# stats: numbers on stdin (NA ignored) -> "median min max" (NA NA NA when none)
stats() {
  grep -v '^NA$' | sort -g | awk '
    function f(x) { return x >= 1000 ? sprintf("%.0f", x) : sprintf("%.4g", x) }
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "NA NA NA"; exit }
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      print f(m), f(v[1]), f(v[NR]) }'
}
human() {  # bytes -> 8 B, 64 KiB, 1 MiB
  awk -v b="$1" 'BEGIN { if (b >= 1048576 && b % 1048576 == 0) printf "%d MiB", b / 1048576;
    else if (b >= 1024 && b % 1024 == 0) printf "%d KiB", b / 1024; else printf "%d B", b }'
}

DATE=$(date -Iseconds)
HOST=$(hostname)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(GIT_OPTIONAL_LOCKS=0 git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null |
  head -1)
FI_VERSION=$(fi_info --version 2>/dev/null | awk '/^libfabric:/ { print $2 }')
CMDS="$WORK/commands.txt"  # every distinct command run, for compare.md
: >"$CMDS"
MD_BODY="$WORK/body.md"
: >"$MD_BODY"
TABLE="$WORK/table.txt"
: >"$TABLE"
DONE_PROVIDERS=""

for p in $PROVIDERS; do
  set_refs "$p"
  refs=""
  for ref in $REFS; do
    type=FI_EP_$(tr a-z A-Z <<<"${REF_EP[$ref]}")
    if fi_info -p "${REF_PROV[$ref]}" -t "$type" >/dev/null 2>&1; then refs+="${refs:+ }$ref"; else
      say "[$p] no ${REF_PROV[$ref]} $type endpoint here: reference $ref left out"; fi
  done
  if [ -z "$refs" ]; then
    say "skipping provider $p: libfabric has none of its reference endpoints here"
    printf '\n## %s\n\nSkipped: libfabric has no reference endpoint for %s on this host.\n' \
      "$p" "$p" >>"$MD_BODY"
    continue
  fi
  say "[$p] checking that FM runs over $p"
  RECORD=0
  run_fm "$p" lat 8 10
  probe=$?
  RECORD=1
  if [ $probe -ne 0 ]; then
    say "skipping provider $p: fm_perf does not run over it"
    printf '\n## %s\n\nSkipped: fm_perf failed to run over %s.\n' "$p" "$p" >>"$MD_BODY"
    continue
  fi
  CSV="$OUTDIR/compare-$p.csv"
  echo "provider,test,bytes,metric,reference,round,fm,raw,ratio" >"$CSV"
  ROWS="$WORK/rows-$p.txt"  # test bytes metric ref round fm raw ratio
  : >"$ROWS"
  for ((k = 1; k <= ROUNDS; k++)); do
    for spec in "${TESTS[@]}"; do
      read -r t bytes iters metric <<<"$spec"
      tools="fm $refs"  # reversed every other round
      [ $((k % 2)) -eq 0 ] && tools=$(tr ' ' '\n' <<<"$tools" | tac | paste -sd' ')
      say "[$p] round $k of $ROUNDS: $t $(human "$bytes"), $iters iterations ($tools)"
      declare -A val=()
      for tool in $tools; do
        if [ "$tool" = fm ]; then run_fm "$p" "$t" "$bytes" "$iters"; else
          run_ref "$tool" "$bytes" "$iters"; fi
        val[$tool]=$([ "$metric" = lat ] && echo "$RES_LAT" || echo "$RES_BW")
      done
      for ref in $refs; do
        r=$(ratio "${val[fm]}" "${val[$ref]}")
        echo "$t $bytes $metric $ref $k ${val[fm]} ${val[$ref]} $r" >>"$ROWS"
        say "[$p]   $metric FM ${val[fm]}, fi_pingpong $ref ${val[$ref]}: FM/$ref = $r"
      done
      unset val
    done
  done

  # summaries: per test and reference, median/min/max of FM, raw and per-round ratio
  unit_of() { [ "$1" = lat ] && echo "latency_us" || echo "bw_MB/s"; }
  awk -v p="$p" '{ m = $3 == "lat" ? "latency_us" : "bw_MB/s";
    print p "," $1 "," $2 "," m "," $4 "," $5 "," $6 "," $7 "," $8 }' "$ROWS" >>"$CSV"
  {
    echo
    echo "## $p"
    echo
    echo -n "References:"
    for ref in $refs; do echo -n " $ref = \`fi_pingpong -p ${REF_PROV[$ref]} -e ${REF_EP[$ref]}\`;"; done
    echo
    echo
    hdr="| test | size | FM |" sep="|---|---|---|"
    for ref in $refs; do hdr+=" fi_pingpong $ref | FM/$ref median [min, max] |" sep+="---|---|"; done
    echo "$hdr"
    echo "$sep"
  } >>"$MD_BODY"
  hdr_txt=$(printf "%-8s %-12s %-10s %10s" provider test metric FM)
  for ref in $refs; do hdr_txt+=$(printf " %16s %26s" "$ref" "FM/$ref median [min, max]"); done
  echo "$hdr_txt" >>"$TABLE"
  for spec in "${TESTS[@]}"; do
    read -r t bytes iters metric <<<"$spec"
    m=$(unit_of "$metric")
    sel() { awk -v t="$t" -v b="$bytes" -v r="$1" -v c="$2" '$1 == t && $2 == b && $4 == r {
      print $c }' "$ROWS"; }
    read -r fm_med fm_min fm_max < <(sel "${refs%% *}" 6 | stats)
    line_txt=$(printf "%-8s %-12s %-10s %10s" "$p" "$t $(human "$bytes")" "$m" "$fm_med")
    line_md="| $([ "$t" = lat ] && echo "latency (us)" || echo "bandwidth (MB/s)") |"
    line_md+=" $(human "$bytes") | $fm_med [$fm_min, $fm_max] |"
    for ref in $refs; do
      read -r raw_med raw_min raw_max < <(sel "$ref" 7 | stats)
      read -r r_med r_min r_max < <(sel "$ref" 8 | stats)
      for what in median min max; do
        case $what in
          median) a=$fm_med b=$raw_med c=$r_med ;;
          min) a=$fm_min b=$raw_min c=$r_min ;;
          max) a=$fm_max b=$raw_max c=$r_max ;;
        esac
        echo "$p,$t,$bytes,$m,$ref,$what,$a,$b,$c" >>"$CSV"
      done
      line_txt+=$(printf " %16s %26s" "$raw_med" "$r_med [$r_min, $r_max]")
      line_md+=" $raw_med [$raw_min, $raw_max] | **$r_med** [$r_min, $r_max] |"
    done
    echo "$line_txt" >>"$TABLE"
    echo "$line_md" >>"$MD_BODY"
  done
  {
    echo
    echo "Values are median [min, max] over $ROUNDS rounds; the ratio is computed per round."
  } >>"$MD_BODY"

  # one sweep of each, 8 B..4 MiB, for the plot: one run per size for both tools, so that both
  # pay the transport's start-up (connection set-up, first touch) once per size
  if [ $SWEEP = 1 ]; then
    SW="$OUTDIR/sweep-$p.csv"
    head="bytes,iters,fm_MB/s"
    for ref in $refs; do head+=",fi_pingpong_${ref}_MB/s"; done
    echo "$head" >"$SW"
    echo "sweep over $p: for each size S in 8 16 .. 4194304, I = sweep_iters(S):" >>"$CMDS"
    echo "  mpiexec.hydra -n 2 -genv FM_PROVIDER $p $FM_PERF -t bw -S S -I I -w 0 --reply main --csv" >>"$CMDS"
    for ref in $refs; do
      echo "  fi_pingpong -p ${REF_PROV[$ref]} -e ${REF_EP[$ref]} -S S -I I -B PORT &" \
        " fi_pingpong ... -P PORT 127.0.0.1" >>"$CMDS"
    done
    RECORD=0
    for ((bytes = 8; bytes <= 4194304; bytes *= 2)); do
      iters=$(sweep_iters "$bytes")
      say "[$p] sweep: $(human "$bytes"), $iters iterations (fm $refs)"
      run_fm "$p" bw "$bytes" "$iters"
      line="$bytes,$iters,$RES_BW"
      for ref in $refs; do
        run_ref "$ref" "$bytes" "$iters"
        line+=",$RES_BW"
      done
      echo "$line" >>"$SW"
    done
    RECORD=1
    # half-power point n1/2: the smallest size reaching half the peak bandwidth
    n_half() {
      awk -F, -v c="$1" 'NR > 1 && $c != "NA" { s[NR] = $1; v[NR] = $c; if ($c > pk) pk = $c }
        END { for (i = 2; i <= NR; i++)
                if (v[i] != "" && v[i] >= pk / 2) { print pk, s[i]; exit } }' "$SW"
    }
    {
      echo
      echo "Bandwidth sweep ($(basename "$SW"), ping-pong, size / one-way time): peak and"
      echo "half-power point n1/2 (smallest size reaching half the peak):"
      echo
      read -r pk nh < <(n_half 3)
      echo "- FM: peak ${pk:-NA} MB/s, n1/2 = $([ -n "${nh:-}" ] && human "$nh" || echo NA)"
      col=4
      for ref in $refs; do
        read -r pk nh < <(n_half $col)
        echo "- fi_pingpong -p ${REF_PROV[$ref]} -e ${REF_EP[$ref]} ($ref): peak ${pk:-NA} MB/s, n1/2 =" \
          "$([ -n "${nh:-}" ] && human "$nh" || echo NA)"
        col=$((col + 1))
      done
    } >>"$MD_BODY"
    if [ $HAVE_GNUPLOT = 1 ]; then
      plot="'$SW' using 1:3 with linespoints title 'FM (fm_perf -t bw --reply main)'"
      col=4
      for ref in $refs; do
        plot+=", '' using 1:$col with linespoints title 'fi_pingpong -p ${REF_PROV[$ref]} -e ${REF_EP[$ref]}'"
        col=$((col + 1))
      done
      quick=""
      [ $QUICK = 1 ] && quick=", QUICK mode"
      if gnuplot >"$WORK/gnuplot-$p.log" 2>&1 <<EOF; then
set terminal png noenhanced size 1000,650
set output '$OUTDIR/bw-$p.png'
set datafile separator ','
set datafile missing 'NA'
set key autotitle columnhead bottom right
set logscale x 2
set logscale y 10
set grid
set xtics ('8' 8, '64' 64, '512' 512, '4K' 4096, '32K' 32768, '256K' 262144, '1M' 1048576, \\
  '4M' 4194304)
set xlabel 'message size (bytes)'
set ylabel 'bandwidth (MB/s, MB = 10^6 bytes)'
set title "Ping-pong bandwidth (size / one-way time) over $p: FM vs fi_pingpong\\n\\
$HOST, $DATE, commit $COMMIT$quick"
plot $plot
EOF
        echo -e "\n![bandwidth over $p](bw-$p.png)" >>"$MD_BODY"
        say "[$p] plot: $OUTDIR/bw-$p.png"
      else
        say "gnuplot failed for $p: $(tail -3 "$WORK/gnuplot-$p.log")"
      fi
    fi
  fi
  DONE_PROVIDERS+=" $p"
done

[ -n "$DONE_PROVIDERS" ] || die "no provider could be compared"

{
  echo "# FM vs fi_pingpong"
  echo
  echo "- date: $DATE"
  echo "- host: $HOST ($(nproc) CPUs, $(uname -sr)); load average at the end:" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- commit: $COMMIT${DIRTY:+ (working tree modified)}"
  echo "- libfabric: ${FI_VERSION:-unknown}; providers:$DONE_PROVIDERS; rounds: $ROUNDS"
  [ $QUICK = 1 ] && echo "- QUICK mode (-q: a tenth of the iterations): indicative only"
  echo
  echo "Method: each round runs FM and fi_pingpong alternately on the same provider (the order is"
  echo "reversed every round) and computes the ratio FM / fi_pingpong for that round; the tables"
  echo "give the median [min, max] over rounds.  Latency is one-way (round trip / 2, mean over the"
  echo "iterations: fm_perf's lat_mean_us, fi_pingpong's usec/xfer): a ratio above 1 means FM is"
  echo "slower.  Bandwidth is size / one-way time (MB = 10^6 bytes): a ratio below 1 means FM is"
  echo "slower.  Neither tool excludes warm-up iterations (fm_perf -w 0, as fi_pingpong has none):"
  echo "both pay the transport's start-up (tcp;ofi_rxm connects on the first message) in every run,"
  echo "which the iteration counts keep to a few per cent.  FM's latency runs reply from inside"
  echo "node 1's handler; its bandwidth runs reply from node 1's main loop (--reply main), as"
  echo "fi_pingpong does, so that large replies take FM's zero-copy path (a handler cannot wait"
  echo "for its receiver, so a reply from inside it is copied through packets)."
  echo
  echo "## Commands"
  echo
  echo '```'
  echo "$INVOCATION"
  awk '!seen[$0]++' "$CMDS"
  echo '```'
  echo
  echo "PORT: a fresh control port for every fi_pingpong run.  sweep_iters(S): $SWEEP_RULE."
  echo "(fi_pingpong -S all would use one iteration count for every size, up to 6 MiB and with"
  echo "1.5 x 2^k sizes too, so the sweep runs each size separately.)"
  cat "$MD_BODY"
} >"$OUTDIR/compare.md"

cat "$TABLE"
say "wrote $OUTDIR/compare.md, compare-<provider>.csv" \
  "$([ $SWEEP = 1 ] && echo "and sweep-<provider>.csv, bw-<provider>.png")"
[ "$FAILED" -eq 0 ] || exit 1
