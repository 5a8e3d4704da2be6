#!/bin/sh
# run_loop.sh OSHRUN COUNT NP PROVIDER BINARY - launches an init/finalize program COUNT times:
# every run must finish cleanly (exit 0, PASS).
oshrun=$1 count=$2 np=$3 prov=$4 bin=$5
here=$(dirname "$0")
i=1
while [ $i -le "$count" ]; do
  "$here/run.sh" "$oshrun" "$np" "$prov" "$bin" >/dev/null 2>&1 || {
    echo "run $i of $count failed:"; "$here/run.sh" "$oshrun" "$np" "$prov" "$bin"; exit 1; }
  i=$((i + 1))
done
echo "PASS: $count runs of $(basename "$bin") finished cleanly"
