#!/bin/bash
# cosched.sh [-r ROUNDS] [-i ITERS] [-g "GRAINS"] [-c "CONFIGS"] [-o OUT.md] [-t SECONDS]
#            [-k SPINS_PER_US] [-q] [-h]
# Parallel jobs sharing this host's CPUs (issue 18): bench/bsp_loop.c, a bulk-synchronous MPI
# loop (per iteration a fixed amount of CPU-time computation, 1 KiB with both ring neighbours, an
# 8-byte allreduce), run (a) alone with 2 ranks, (b) as two 2-rank jobs at once, (c) as one
# 4-rank job, for each grain, on: MPI-FM busy-polling, spin-blocking, under fm-dcsd's dcs and
# gang policies; Debian's MPICH (ch4:ucx); Debian's Open MPI (defaults, and mpi_yield_when_idle).
# Configurations alternate in order from round to round.  Writes OUT.md (default
# bench/results/cosched.md: the header, then per grain the median and the worst of the rounds),
# the raw rows beside it (.csv) and a bar chart (.png).  Nothing is bound to a CPU.
# Needs: MPI-FM built (build/mpich/bin/mpicc); libmpich-dev (mpicc.mpich, mpiexec.hydra);
# openmpi-bin and libopenmpi-dev; fm-dcsd (build/bin) and root for fm-dcs and fm-gang; gnuplot.
# A configuration whose stack is missing is left empty ("-") and said so in the header.
set -eu
usage() {
  cat <<'EOF'
usage: bench/cosched.sh [-r ROUNDS] [-i ITERS] [-g "GRAINS"] [-c "CONFIGS"] [-o OUT.md]
                        [-t SECONDS] [-k SPINS_PER_US] [-q] [-h]
  -r ROUNDS   rounds; the order of the configurations alternates by round (default 5)
  -i ITERS    iterations of every run (default 1000000 / grain: 1 s of computation per rank)
  -g GRAINS   computation per iteration, microseconds of CPU time (default "200 50")
  -c CONFIGS  configurations, of: fm-poll fm-spinblock fm-dcs fm-gang mpich-ucx ompi ompi-yield
              (default: all)
  -o OUT.md   the table (default bench/results/cosched.md); OUT.csv and OUT.png beside it
  -t SECONDS  each run's time limit, a collapse beyond it is reported as "> SECONDS s" (300)
  -k RATE     the computation's speed in spins per microsecond (default: calibrated at start)
  -q          no progress lines on stderr
  -h          this help
Scenarios: (a) one 2-rank job alone: its time T_a; (b) two 2-rank jobs at once: slowdown =
a job's time / (T_a + T_a) of the same configuration and round, CPU share = a job's CPU time /
both jobs' (fair: 0.5); (c) one 4-rank job: slowdown = time / (computation CPU time / 2).
A full run (5 rounds, 7 configurations, grains 200 and 50 us) takes about 30-40 minutes.
EOF
}
ALL="fm-poll fm-spinblock fm-dcs fm-gang mpich-ucx ompi ompi-yield"
PEERS="mpich-ucx ompi ompi-yield"
cmdline=bench/cosched.sh
for a in "$@"; do case $a in *[[:space:]]*) cmdline="$cmdline \"$a\"" ;; *) cmdline="$cmdline $a" ;; esac; done
ROUNDS=5 ITERS="" GRAINS="200 50" CONFIGS=$ALL OUT="" TMO=300 RATE="" QUIET=0
while getopts "r:i:g:c:o:t:k:qh" o; do
  case $o in
    r) ROUNDS=$OPTARG ;; i) ITERS=$OPTARG ;; g) GRAINS=$OPTARG ;; c) CONFIGS=$OPTARG ;;
    o) OUT=$OPTARG ;; t) TMO=$OPTARG ;; k) RATE=$OPTARG ;; q) QUIET=1 ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# = 0 ] || { usage >&2; exit 2; }
num='^[1-9][0-9]*$'
for v in "$ROUNDS" "$TMO" ${ITERS:+"$ITERS"} $GRAINS; do
  [[ $v =~ $num ]] || { echo "cosched.sh: \"$v\": expected a positive integer" >&2; exit 2; }
done
[ -z "$RATE" ] || [[ $RATE =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "cosched.sh: -k $RATE: expected a number" >&2; exit 2; }
for c in $CONFIGS; do
  case " $ALL " in *" $c "*) ;; *) echo "cosched.sh: unknown configuration $c (of: $ALL)" >&2; exit 2 ;; esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
mpifm=$build/mpich/bin
dcsd=$build/bin/fm-dcsd
OUT=${OUT:-$top/bench/results/cosched.md}
base=${OUT%.md}
mkdir -p "$(dirname "$OUT")"
tmp=$(mktemp -d)
daemon_pid=""
sock=@fm-dcsd-bench-$$
stop_daemon() {
  [ -n "$daemon_pid" ] || return 0
  kill "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}
cleanup() { # the jobs still running (timeout passes the signal on), the daemon, the files
  local p
  if [ -f "$tmp/pids" ]; then while read -r p; do kill "$p" 2>/dev/null || true; done <"$tmp/pids"; fi
  stop_daemon
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { [ "$QUIET" = 1 ] || echo "$*" >&2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
src=$top/bench/bsp_loop.c

# --- the programs, one per MPI; what is missing is noted for the header
notes=$tmp/notes
: >"$notes.all"
compile() { # MPICC OUT: 0 if built
  "$1" -std=c11 -O2 -o "$tmp/$2" "$src" 2>"$tmp/$2.err" && return 0
  echo "cosched.sh: $1 failed to build bench/bsp_loop.c:" >&2
  tail -3 "$tmp/$2.err" >&2
  return 1
}
have_fm=0 have_mpich=0 have_ompi=0 have_dcsd=0
if [ -x "$mpifm/mpicc" ] && [ -x "$mpifm/mpiexec" ]; then
  compile "$mpifm/mpicc" bsp_fm && have_fm=1
else echo "- MPI-FM not found ($mpifm/mpicc): fm-poll, fm-spinblock, fm-dcs and fm-gang are empty" >>"$notes.all"; fi
if [ -x /usr/bin/mpicc.mpich ] && [ -x /usr/bin/mpiexec.hydra ]; then
  compile /usr/bin/mpicc.mpich bsp_mpich && have_mpich=1
else echo "- Debian's MPICH not found (apt-get install libmpich-dev): mpich-ucx is empty" >>"$notes.all"; fi
if [ -x /usr/bin/mpicc.openmpi ] && [ -x /usr/bin/mpirun.openmpi ]; then
  compile /usr/bin/mpicc.openmpi bsp_ompi && have_ompi=1
else echo "- Open MPI not found (apt-get install openmpi-bin libopenmpi-dev): ompi and ompi-yield are empty" >>"$notes.all"; fi
if [ $have_fm = 1 ] && [ -x "$dcsd" ] && [ "$(id -u)" = 0 ]; then
  have_dcsd=1
elif [ $have_fm = 1 ]; then
  echo "- fm-dcs and fm-gang are empty: $([ -x "$dcsd" ] && echo "not root" || echo "$dcsd not built")" >>"$notes.all"
fi
available() { # CONFIG
  case $1 in
    fm-poll | fm-spinblock) [ $have_fm = 1 ] ;;
    fm-dcs | fm-gang) [ $have_dcsd = 1 ] ;;
    mpich-ucx) [ $have_mpich = 1 ] ;;
    ompi | ompi-yield) [ $have_ompi = 1 ] ;;
  esac
}
# the notes of the configurations asked for
for c in $CONFIGS; do
  available "$c" || grep -q -F -- "$c" "$notes.all" ||
    echo "- $c is empty: its MPI's mpicc failed to build bench/bsp_loop.c" >>"$notes.all"
done
for c in $CONFIGS; do grep -F -- "$c" "$notes.all" || true; done | sort -u >"$notes"
run_configs=""
for c in $CONFIGS; do available "$c" && run_configs="$run_configs $c"; done
[ -n "$run_configs" ] || { echo "cosched.sh: none of the configurations ($CONFIGS) can run here" >&2; exit 1; }

# --- how each configuration launches NRANKS ranks (into the array cmd); nothing is bound
launch() { # CONFIG NRANKS
  local fm=("$mpifm/mpiexec" -n "$2" -bind-to none)
  local ompi=(/usr/bin/mpirun.openmpi --oversubscribe --bind-to none -n "$2")
  case $1 in
    fm-poll) cmd=("${fm[@]}" -genv FM_IDLE poll -genv FM_COSCHED off "$tmp/bsp_fm") ;;
    fm-spinblock) cmd=("${fm[@]}" -genv FM_IDLE block -genv FM_COSCHED off "$tmp/bsp_fm") ;;
    fm-dcs | fm-gang)
      cmd=("${fm[@]}" -genv FM_COSCHED auto -genv FM_COSCHED_SOCKET "$sock" -genv FM_IDLE auto "$tmp/bsp_fm") ;;
    mpich-ucx) cmd=(/usr/bin/mpiexec.hydra -n "$2" -bind-to none "$tmp/bsp_mpich") ;;
    ompi) cmd=("${ompi[@]}" "$tmp/bsp_ompi") ;;
    ompi-yield) cmd=("${ompi[@]}" --mca mpi_yield_when_idle 1 "$tmp/bsp_ompi") ;;
  esac
}
start_daemon() { # POLICY: 0 once the daemon listens on $sock
  "$dcsd" --policy "$1" --socket "$sock" --foreground --log "$tmp/dcsd.log" >>"$tmp/dcsd.out" 2>&1 &
  daemon_pid=$!
  local i
  for i in $(seq 50); do
    grep -q " ${sock}\$" /proc/net/unix 2>/dev/null && return 0
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "cosched.sh: fm-dcsd --policy $1 is not listening on $sock:" >&2
  tail -5 "$tmp/dcsd.out" "$tmp/dcsd.log" >&2 2>/dev/null || true
  stop_daemon
  return 1
}

# --- the computation's speed, once for every run: the same work in every job
if [ -z "$RATE" ]; then
  first=${run_configs# }
  first=${first%% *}
  case $first in fm-dcs | fm-gang) first="fm-poll" ;; esac
  RATE=0
  for _ in 1 2 3; do
    launch "$first" 2
    r=$(timeout -k 5 60 "${cmd[@]}" -g 200 -i 1 -w 0 2>&1 >/dev/null |
      sed -n 's/.* \([0-9.]*\) spins\/us.*/\1/p' | head -1) || true
    [ -n "$r" ] && RATE=$(awk -v a="$RATE" -v b="$r" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
  done
  [ "$RATE" != 0 ] || { echo "cosched.sh: calibration with $first failed" >&2; exit 1; }
  say "calibrated with $first: $RATE spins/us"
fi
iters_for() { if [ -n "$ITERS" ]; then echo "$ITERS"; else echo $((1000000 / $1)); fi; }

# --- the runs; rows: round,scenario,config,job,ranks,grain_us,iters,wall_s,cpu_s,compute_s,status
csv=$tmp/runs.csv
echo "round,scenario,config,job,ranks,grain_us,iters,wall_s,cpu_s,compute_s,status" >"$csv"
run_job() { # TAG CONFIG NRANKS GRAIN ITERS [bsp_loop OPTIONS]: the job's output in $tmp/TAG.*
  local rc=0 tag=$1 g=$4 i=$5
  launch "$2" "$3"
  shift 5
  timeout -k 10 "$TMO" "${cmd[@]}" -g "$g" -i "$i" -k "$RATE" "$@" >"$tmp/$tag.out" 2>"$tmp/$tag.err" &
  local pid=$!
  echo "$pid" >>"$tmp/pids" # timeout has a process group of its own: stopped by cleanup on ^C
  wait "$pid" || rc=$?
  { echo "$rc" >"$tmp/$tag.rc"; } 2>/dev/null || true # (gone when interrupted)
}
record() { # TAG ROUND SCENARIO CONFIG JOB RANKS GRAIN ITERS [STATUS]
  local rc line status=${9:-} wall="" cpu="" comp="" n g i
  if [ -z "$status" ]; then
    rc=$(cat "$tmp/$1.rc")
    line=$(grep -E '^[0-9]+,[0-9]+,[0-9]+,[0-9.]+,' "$tmp/$1.out" | tail -1 || true)
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      status=timeout
    elif [ "$rc" != 0 ] || [ -z "$line" ]; then
      status=fail
      echo "cosched.sh: round $2 $3 ${7}us $4 job $5 failed (exit $rc):" >&2
      tail -3 "$tmp/$1.err" >&2
    else
      status=ok
      IFS=, read -r n g i wall cpu comp <<<"$line"
    fi
  fi
  echo "$2,$3,$4,$5,$6,$7,$8,$wall,$cpu,$comp,$status" >>"$csv"
}
one() { # ROUND SCENARIO CONFIG GRAIN
  local r=$1 s=$2 c=$3 g=$4 i p1 p2 daemon=""
  i=$(iters_for "$g")
  say "[round $r/$ROUNDS] $s ${g}us $c ..."
  case $c in fm-dcs) daemon=dcs ;; fm-gang) daemon=gang ;; esac
  if [ -n "$daemon" ] && ! start_daemon "$daemon"; then
    if [ "$s" = b ]; then
      record - "$r" b "$c" 1 2 "$g" "$i" nodaemon
      record - "$r" b "$c" 2 2 "$g" "$i" nodaemon
    elif [ "$s" = c ]; then record - "$r" c "$c" 1 4 "$g" "$i" nodaemon
    else record - "$r" a "$c" 1 2 "$g" "$i" nodaemon; fi
    return 0
  fi
  case $s in
    a) run_job a "$c" 2 "$g" "$i" ;;
    b) # both timed loops start together, when both jobs are ready, whatever their start-up
      rm -f "$tmp"/go "$tmp"/go.ready.*
      run_job b1 "$c" 2 "$g" "$i" -G "$tmp/go" &
      p1=$!
      run_job b2 "$c" 2 "$g" "$i" -G "$tmp/go" &
      p2=$!
      while [ "$(find "$tmp" -maxdepth 1 -name 'go.ready.*' | wc -l)" -lt 2 ]; do
        { kill -0 "$p1" && kill -0 "$p2"; } 2>/dev/null || break # one failed: do not hold the other
        sleep 0.02
      done
      touch "$tmp/go"
      wait "$p1" || true
      wait "$p2" || true
      ;;
    c) run_job c "$c" 4 "$g" "$i" ;;
  esac
  if [ -n "$daemon" ] && ! kill -0 "$daemon_pid" 2>/dev/null; then
    echo "cosched.sh: fm-dcsd died during round $r $s ${g}us $c:" >&2
    tail -5 "$tmp/dcsd.out" "$tmp/dcsd.log" >&2 2>/dev/null || true
    for f in a b1 b2 c; do [ ! -f "$tmp/$f.rc" ] || echo 99 >"$tmp/$f.rc"; done
  fi
  stop_daemon
  case $s in
    a) record a "$r" a "$c" 1 2 "$g" "$i" ;;
    b) record b1 "$r" b "$c" 1 2 "$g" "$i"; record b2 "$r" b "$c" 2 2 "$g" "$i" ;;
    c) record c "$r" c "$c" 1 4 "$g" "$i" ;;
  esac
  rm -f "$tmp"/a.* "$tmp"/b1.* "$tmp"/b2.* "$tmp"/c.* "$tmp/pids"
}
t_start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
  order=$run_configs grains=$GRAINS
  if [ $((r % 2)) = 0 ]; then
    order=$(echo "$run_configs" | tr ' ' '\n' | tac | tr '\n' ' ')
    grains=$(echo "$GRAINS" | tr ' ' '\n' | tac | tr '\n' ' ')
  fi
  for g in $grains; do
    for c in $order; do
      for s in a b c; do one "$r" "$s" "$c" "$g"; done
    done
  done
done
t_runs=$(($(date +%s) - t_start))
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
say "runs done in $t_runs s"

# --- the report
report() { # the tables; data rows for the plot into $tmp/plot.dat
  awk -F, -v configs="$CONFIGS" -v peers="$PEERS" -v grains="$GRAINS" -v rounds="$ROUNDS" \
    -v tmo="$TMO" -v plot="$tmp/plot.dat" '
    # values carry a trailing "+" when they are a lower bound (a run that timed out)
    function sortv(s, a,   n, i, j, t) { n = split(s, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n }
    function median(s,   a, n) { n = sortv(s, a); return n == 0 ? "" : (n % 2 ? a[(n + 1) / 2] : ((a[n / 2] ~ /\+$/ || a[n / 2 + 1] ~ /\+$/) ? (a[n / 2] + a[n / 2 + 1]) / 2 "+" : (a[n / 2] + a[n / 2 + 1]) / 2)) }
    function worst(s,   a, n) { n = sortv(s, a); return n == 0 ? "" : a[n] }
    function fmt(v, unit) { if (v == "") return "-"; return (v ~ /\+$/ ? "> " : "") sprintf("%.2f", v + 0) unit }
    function fmt3(v) { if (v == "") return "-"; return (v ~ /\+$/ ? "> " : "") sprintf("%.3f", v + 0) }
    function add(k, v) { vals[k] = vals[k] " " v }
    NR == 1 { next }
    { r = $1; s = $2; c = $3; j = $4; g = $6
      if ($11 == "ok") { wall[r, s, c, j, g] = $8; cpu[r, s, c, j, g] = $9; comp[r, s, c, j, g] = $10 }
      else if ($11 == "timeout") wall[r, s, c, j, g] = tmo "+"
      else { failed[c, g] = failed[c, g] + 1; failnote[c, g] = failnote[c, g] " " s ($11 == "nodaemon" ? "(no daemon)" : "") }
      iters[r, s, c, g] = $7 }
    END {
      nc = split(configs, C, " "); ng = split(grains, G, " "); np = split(peers, P0, " ")
      np = 0; ran_peers = ""
      for (pi in P0) if (index(" " configs " ", " " P0[pi] " ")) { P[++np] = P0[pi] }
      for (pi = 1; pi <= np; pi++) ran_peers = ran_peers (pi > 1 ? " " : "") P[pi]
      for (gi = 1; gi <= ng; gi++) { g = G[gi]
        for (ci = 1; ci <= nc; ci++) { c = C[ci]
          for (r = 1; r <= rounds; r++) {
            ta = wall[r, "a", c, 1, g]
            if (ta != "" && ta !~ /\+$/) { add("ta" SUBSEP c SUBSEP g, ta)
              if (comp[r, "a", c, 1, g] > 0) add("aeff" SUBSEP c SUBSEP g, ta / (comp[r, "a", c, 1, g] / 2)) }
            # (b): the worse of the two jobs; the shares
            sb = ""; lb = 0
            for (j = 1; j <= 2; j++) { w = wall[r, "b", c, j, g]
              if (w == "") { sb = "x"; continue }
              add("bt" SUBSEP c SUBSEP g, w)
              if (ta == "" || ta ~ /\+$/) { sb = "x"; continue }
              v = w / (2 * ta); if (w ~ /\+$/) lb = 1
              if (sb != "x" && (sb == "" || v > sb + 0)) sb = v }
            if (sb != "" && sb != "x") { sb = sb (lb ? "+" : ""); add("sb" SUBSEP c SUBSEP g, sb); SB[r, c, g] = sb }
            c1 = cpu[r, "b", c, 1, g]; c2 = cpu[r, "b", c, 2, g]
            if (c1 != "" && c2 != "" && c1 + c2 > 0) { d = (c1 > c2 ? c1 - c2 : c2 - c1) / (c1 + c2) * 100
              if (!((c, g) in dev) || d > dev[c, g]) { dev[c, g] = d; shr[c, g] = sprintf("%.2f/%.2f", c1 / (c1 + c2), c2 / (c1 + c2)) } }
            # (c)
            w = wall[r, "c", c, 1, g]; k = comp[r, "c", c, 1, g]
            if (w != "") { add("ct" SUBSEP c SUBSEP g, w)
              if (w ~ /\+$/) v = tmo / (iters[r, "c", c, g] * g * 4 / 2 * 1e-6) "+" # against the nominal work
              else { v = w / (k / 2); add("work" SUBSEP c SUBSEP g, k / 2) }
              if (v != "") { add("sc" SUBSEP c SUBSEP g, v); SC[r, c, g] = v } } } }
        # the table of this grain
        tgt = (g >= 200) ? 1.03 : (g >= 50 ? 1.08 : "")
        printf "## %d us grain\n\n", g
        print "| config | (a) T_a, median (s) | (a) wall / work | (b) job times, median (s) | (b) slowdown, median | (b) slowdown, worst | (b) CPU shares, worst (deviation from fair) | (c) time, median (s) | (c) work / 2 CPUs (s) | (c) slowdown, median | (c) slowdown, worst |"
        print "|---|---|---|---|---|---|---|---|---|---|---|"
        for (ci = 1; ci <= nc; ci++) { c = C[ci]; K = SUBSEP c SUBSEP g
          printf "| %s%s | %s | %s | %s | %s | **%s** | %s | %s | %s | %s | **%s** |\n", c,
            ((c, g) in failed) ? " (" failed[c, g] " failed:" failnote[c, g] ")" : "",
            fmt3(median(vals["ta" K])), fmt(median(vals["aeff" K])), fmt3(median(vals["bt" K])),
            fmt(median(vals["sb" K])), fmt(worst(vals["sb" K])),
            ((c, g) in dev) ? sprintf("%s (%.1f %%)", shr[c, g], dev[c, g]) : "-",
            fmt3(median(vals["ct" K])), fmt3(median(vals["work" K])),
            fmt(median(vals["sc" K])), fmt(worst(vals["sc" K]))
          wb = worst(vals["sb" K]); wc = worst(vals["sc" K])
          printf "b %dus\t%s\t%s\n", g, c, (wb == "" ? "-" : wb + 0) >> plot
          printf "c %dus\t%s\t%s\n", g, c, (wc == "" ? "-" : wc + 0) >> plot }
        if (tgt != "")
          printf "| target (fm-dcs) | | | | | **<= %.2f** | within 10 %% of 0.50 | | | | **<= %.2f** |\n", tgt, tgt
        print ""
        # the verdict for fm-dcs
        K = SUBSEP "fm-dcs" SUBSEP g
        if (index(" " configs " ", " fm-dcs ") && (vals["sb" K] != "" || vals["sc" K] != "")) {
          if (tgt != "") {
            wb = worst(vals["sb" K]); wc = worst(vals["sc" K])
            printf "fm-dcs against the target at %d us: (b) worst %s %s; CPU share %s; (c) worst %s %s.\n", g,
              fmt(wb), (wb != "" && wb !~ /\+$/ && wb + 0 <= tgt) ? "met" : "NOT met",
              (("fm-dcs", g) in dev) ? (dev["fm-dcs", g] <= 10 ? "met" : "NOT met") " (worst deviation " sprintf("%.1f", dev["fm-dcs", g]) " %)" : "-",
              fmt(wc), (wc != "" && wc !~ /\+$/ && wc + 0 <= tgt) ? "met" : "NOT met" }
          split("b c", S, " ")
          for (si = 1; si <= 2; si++) { s = S[si]; won = 0; n = 0; missing = 0
            for (r = 1; r <= rounds; r++) {
              v = (s == "b") ? SB[r, "fm-dcs", g] : SC[r, "fm-dcs", g]
              if (v == "") continue
              n++; beats = (v !~ /\+$/); npeer = 0
              for (pi = 1; pi <= np; pi++) { p = P[pi]
                q = (s == "b") ? SB[r, p, g] : SC[r, p, g]
                if (q == "") { missing = 1; continue }
                npeer++; if (!(v + 0 < q + 0)) beats = 0 }
              if (npeer == 0) { n--; continue }
              won += beats }
            printf "fm-dcs better than every peer (%s) in the same round, (%s) %d us: %s\n", ran_peers, s, g,
              n == 0 ? "- (no peer ran)" : ((won == n ? "yes" : "NO") sprintf(", %d of %d rounds", won, n) (missing ? " (some peer runs missing)" : "")) }
          print "" } } }' "$csv"
}
plot() { # bars: the worst slowdown of each configuration, grouped by scenario and grain
  command -v gnuplot >/dev/null || { echo "cosched.sh: gnuplot not found: no plot" >&2; return 0; }
  [ -s "$tmp/plot.dat" ] || return 0
  # one line per group (b 200us, c 200us, b 50us, ...), one column per configuration
  awk -F'\t' -v configs="$CONFIGS" -v grains="$GRAINS" '
    { v[$1, $2] = $3 }
    END { nc = split(configs, C, " "); ng = split(grains, G, " ")
      line = "group"; for (i = 1; i <= nc; i++) line = line "\t" C[i]; print line
      for (gi = 1; gi <= ng; gi++) for (s = 1; s <= 2; s++) { grp = (s == 1 ? "b " : "c ") G[gi] "us"
        line = grp; for (i = 1; i <= nc; i++) line = line "\t" (((grp, C[i]) in v) ? v[grp, C[i]] : "-"); print line } }' \
    "$tmp/plot.dat" >"$tmp/bars.dat"
  local n
  n=$(echo "$CONFIGS" | wc -w)
  gnuplot <<EOF
set terminal png size 1100,600
set output '$base.png'
set datafile separator "\t"
set datafile missing '-'
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y 2
set yrange [0.5:*]
set grid ytics
set ylabel 'slowdown against ideal sharing (worst of $ROUNDS rounds)'
set key outside right
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb 'black'
set title "bsp\\\\_loop on $(nproc) CPUs: (b) two 2-rank jobs at once, (c) one 4-rank job ($(date -u +%Y-%m-%d))"
plot for [i=2:$((n + 1))] '$tmp/bars.dat' using i:xtic(1) title columnheader(i)
EOF
}
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$top" diff --quiet HEAD -- fm mpi-fm coschedule bench 2>/dev/null || commit="$commit+changes"
iters_desc=""
for g in $GRAINS; do iters_desc="$iters_desc${iters_desc:+, }$(iters_for "$g") at $g us"; done
{
  echo "# Coscheduling: a bulk-synchronous MPI loop on $(nproc) shared CPUs"
  echo
  echo "- command: \`$cmdline\` ($(date -u +%Y-%m-%dT%H:%MZ), $(hostname), $(nproc) CPUs, kernel $(uname -r), commit $commit)"
  echo "- program: bench/bsp_loop.c; per iteration: computation of the grain in CPU time ($RATE spins/us, calibrated once and the same in every run), 1 KiB MPI_Isend/MPI_Irecv with both ring neighbours + MPI_Waitall, an 8-byte MPI_Allreduce; iterations: $iters_desc (+50 warm-up); results checked"
  echo "- stacks: MPI-FM ($("$mpifm/mpichversion" 2>/dev/null | sed -n 's/^MPICH Version:[[:space:]]*//p' | head -1) over FM, $mpifm, Hydra); Debian's MPICH $(dpkg-query -W -f='${Version}' libmpich12 2>/dev/null || echo '?') ($(/usr/bin/mpichversion 2>/dev/null | sed -n 's/^MPICH Device:[[:space:]]*//p' | head -1), UCX $(dpkg-query -W -f='${Version}' libucx0 2>/dev/null || echo '?'), mpiexec.hydra); Open MPI $(dpkg-query -W -f='${Version}' openmpi-bin 2>/dev/null || echo '?') (mpirun.openmpi --oversubscribe, its default components)"
  echo "- configurations (MPI-FM with FM_PROVIDER=${FM_PROVIDER:-auto}): fm-poll = FM_IDLE=poll FM_COSCHED=off (busy polling); fm-spinblock = FM_IDLE=block FM_COSCHED=off; fm-dcs / fm-gang = fm-dcsd --policy dcs / gang running, FM_IDLE=auto FM_COSCHED=auto; mpich-ucx = MPICH's defaults; ompi = Open MPI's defaults; ompi-yield = --mca mpi_yield_when_idle 1"
  echo "- binding: none, for every stack (Hydra -bind-to none, Open MPI --bind-to none): the kernel's scheduler places every rank"
  echo "- scenarios: (a) one 2-rank job alone, its time T_a; (b) two 2-rank jobs started at once, their timed loops starting together once both have warmed up (bsp_loop -G): slowdown = a job's time / (T_a + T_a) (ideal sharing: the sum of the dedicated times; the worse job of each round counts), CPU share = a job's CPU time (getrusage, all its ranks) / both jobs' (fair 0.50, deviation = |share - 0.50| / 0.50); (c) one 4-rank job: slowdown = its time / (its ranks' computation CPU time / 2 CPUs); (a)'s wall / work is the same ratio for the dedicated job (its communication's cost)"
  echo "- $ROUNDS rounds, configurations (and grains) in reverse order every other round; T_a of the same configuration and round; each run limited to $TMO s (\"> \": it was stopped, a lower bound)"
  echo "- the runs took $t_runs s; load average (1, 5, 15 min) before them: $load_start, after: $load_end (other work on the host shows in every figure, T_a included)"
  echo "- targets (issue 18): fm-dcs slowdown <= 1.03 in (b) and (c) at 200 us, <= 1.08 at 50 us, in the worst round; every job's CPU share within 10 % of fair; better than every peer in the same round"
  cat "$notes"
  echo
  report
  echo "Plot: $(basename "$base").png (the worst slowdown of each configuration). Raw rows: $(basename "$base").csv."
} >"$tmp/table.md"
plot
cp "$csv" "$base.csv"
cp "$tmp/table.md" "$OUT"
cat "$OUT"
