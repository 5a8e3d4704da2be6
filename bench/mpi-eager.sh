#!/bin/bash
# mpi-eager.sh [-r ROUNDS] [-p PROVIDERS] [-e LIMITS] [-o OUT.md] - MPI-FM's eager/rendezvous
# switch (MPIR_CVAR_CH4_FM_EAGER_LIMIT, MPIR_CVAR_CH4_FM_SHM_EAGER_LIMIT): ping-pong latency and
# streaming bandwidth of 8-96 KiB messages, 2 ranks on this host, for each FM provider (default
# "shm tcp udp") and each eager limit (default "16384 default": a number sets both variables,
# "default" neither), alternating limits inside every round.  Table: medians over the rounds of
# one-way p50 latency (us) and bandwidth (MB/s), and the ratio of each limit to the first.
# BUILD: the build tree (default build/), with MPI-FM in BUILD/mpich; SIZES: the message sizes.
set -eu
ROUNDS=5 PROVS="shm tcp udp" LIMITS="16384 default" OUT=""
while getopts "r:p:e:o:" o; do
  case $o in r) ROUNDS=$OPTARG ;; p) PROVS=$OPTARG ;; e) LIMITS=$OPTARG ;; o) OUT=$OPTARG ;; *) exit 2 ;; esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
mpifm=$build/mpich/bin
[ -x "$mpifm/mpicc" ] || { echo "mpi-eager.sh: no MPI-FM in $build/mpich (BUILD=...)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$mpifm/mpicc" -O2 -Wno-stringop-overflow -o "$tmp/perf" "$top/bench/mpi_perf.c"
SIZES=${SIZES:-"8192 16384 24576 32768 49152 65536 98304"}
res=$tmp/results.csv # provider,limit,test,bytes,value
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS $(date +%T)" >&2
  lims=$LIMITS
  [ $((r % 2)) = 0 ] && lims=$(echo "$LIMITS" | tr ' ' '\n' | tac | tr '\n' ' ')
  for p in $PROVS; do
    for s in $SIZES; do
      for e in $lims; do
        for t in latency bw; do
          if [ $t = latency ]; then args="-I 3000"; else args="-I 300 -W 64"; fi
          lim=()
          [ "$e" = default ] || lim=(-genv MPIR_CVAR_CH4_FM_EAGER_LIMIT "$e" -genv MPIR_CVAR_CH4_FM_SHM_EAGER_LIMIT "$e")
          # shellcheck disable=SC2086
          timeout 120 "$mpifm/mpiexec" -n 2 -genv FM_PROVIDER "$p" "${lim[@]}" \
            "$tmp/perf" -t $t -S "$s" $args --csv 2>/dev/null |
            awk -F, -v p="$p" -v e="$e" -v t=$t '$1 ~ /^[0-9]+$/ { print p "," e "," t "," $1 "," (t == "latency" ? $3 : $6) }' \
              >>"$res" || true
        done
      done
    done
  done
done
{
  echo "# MPI-FM eager limit: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $ROUNDS rounds, medians"
  echo
  echo "Command: \`bench/mpi-eager.sh -r $ROUNDS -p \"$PROVS\" -e \"$LIMITS\"\` (bench/mpi_perf.c: latency = one-way p50 of 3000"
  echo "ping-pongs; bw = 300 windows of 64 MPI_Isend)."
  awk -F, -v limits="$LIMITS" -v provs="$PROVS" '
    function median(s,   a, n, i, j, t) { n = split(s, a, " ");
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n == 0 ? "" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) }
    { k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4; v[k] = v[k] " " $5; sizes[$4] = 1 }
    END {
      nl = split(limits, L, " "); np = split(provs, P, " ")
      ns = 0; for (s in sizes) S[++ns] = s + 0
      for (i = 1; i <= ns; i++) for (j = i + 1; j <= ns; j++) if (S[j] < S[i]) { t = S[i]; S[i] = S[j]; S[j] = t }
      for (pi = 1; pi <= np; pi++) {
        p = P[pi]; printf "\n## %s\n\n| bytes |", p
        for (li = 1; li <= nl; li++) printf " lat %s (us) |", L[li]
        for (li = 2; li <= nl; li++) printf " ratio |"
        for (li = 1; li <= nl; li++) printf " bw %s (MB/s) |", L[li]
        for (li = 2; li <= nl; li++) printf " ratio |"
        printf "\n|---:|"; for (li = 1; li <= 2 * nl + 2 * (nl - 1); li++) printf "---:|"; printf "\n"
        for (si = 1; si <= ns; si++) {
          s = S[si]; printf "| %d |", s
          for (t = 1; t <= 2; t++) {
            test = t == 1 ? "latency" : "bw"
            for (li = 1; li <= nl; li++) { m[li] = median(v[p SUBSEP L[li] SUBSEP test SUBSEP s]); printf " %s |", m[li] == "" ? "-" : sprintf(t == 1 ? "%.2f" : "%.0f", m[li]) }
            for (li = 2; li <= nl; li++) printf " %s |", (m[li] == "" || m[1] == "" || m[1] + 0 == 0) ? "-" : sprintf("%.2f", m[li] / m[1])
          }
          printf "\n"
        }
      }
    }' "$res"
} >"$tmp/report.md"
cat "$tmp/report.md"
[ -z "$OUT" ] || cp "$tmp/report.md" "$OUT"
