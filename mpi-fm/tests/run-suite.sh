#!/bin/bash
# run-suite.sh SUITE_DIR PREFIX PROVIDER DIR[,DIR...] - runs MPICH's own test suite (test/mpi,
# configured in SUITE_DIR by tools/configure-testsuite.sh) for the given directories over MPI-FM
# with FM_PROVIDER=PROVIDER, through MPICH's driver `runtests`.  Prints per-directory counts;
# passes when every test not listed in suite-xfail.txt (with its reason) passes.
set -u
suite=$(cd "$1" && pwd) prefix=$(cd "$2" && pwd) prov=$3 dirs=$4
here=$(cd "$(dirname "$0")" && pwd)
src=$(readlink -f "$prefix/test-mpi-src")
[ -x "$suite/runtests" ] || { echo "run-suite: $suite is not a configured test suite" >&2; exit 1; }
tag=${prov}-$(echo "$dirs" | tr ',' '-')
tap=$suite/summary-$tag.tap
cd "$suite"
export FM_PROVIDER=$prov
export MPITEST_TIMEOUT=${MPITEST_TIMEOUT:-120}
start=$(date +%s)
# runtests builds each program just before it runs it, one compiler at a time, and removes it
# after the run, so a program listed with several process counts is built several times: half of
# a directory's time.  The directories' programs are built first, with every CPU (make -k: a
# program that does not build is left to runtests, which records the failure as that test's);
# runtests then finds them built and keeps them.
for d in $(echo "$dirs" | tr ',' ' '); do
  [ -d "$d" ] || continue
  make -C "$d" -k -j"$(nproc)" all >"$suite/build-$tag-$d.log" 2>&1 ||
    echo "run-suite: some programs of $d did not build (runtests reports them; $suite/build-$tag-$d.log)"
done
./runtests -srcdir="$src" -tests=testlist -testdirs="$dirs" -mpiexec="$prefix/bin/mpiexec" \
  -xmlfile="$suite/summary-$tag.xml" -tapfile="$tap" -maxnp="${MPITEST_MAXNP:-128}" \
  >"$suite/runtests-$tag.log" 2>&1
tail -3 "$suite/runtests-$tag.log"
# expected failures: "dir/program np  reason" (np "*" = any)
xfail=$here/suite-xfail.txt
awk -v prov="$prov" -v took=$(( $(date +%s) - start )) -v xf="$xfail" '
  BEGIN { while ((getline line < xf) > 0) { if (line ~ /^#/ || line ~ /^[ \t]*$/) continue;
            split(line, f, /[ \t]+/); key = f[1] " " f[2]; xreason[key] = line } }
  /^(not )?ok +[0-9]* *- / {
    ok = ($1 == "ok"); line = $0; sub(/^(not )?ok +[0-9]* *- +/, "", line); split(line, f, /[ \t]+/);
    prog = f[1]; np = f[2]; sub(/^\.\//, "", prog); split(prog, p, "/"); d = p[1];
    skip = ($0 ~ /# SKIP/);
    total[d]++; if (skip) { skipped[d]++; next }
    key = prog " " np; anykey = prog " *";
    listed = (key in xreason) || (anykey in xreason);
    if (ok) { pass[d]++; if (listed) xpass = xpass "  " prog " " np " (listed as expected to fail)\n" }
    else if (listed) { xf_n[d]++; xfl = xfl "  " prog " " np "\n" }
    else { fail[d]++; bad = bad "  " prog " " np "\n" } }
  END {
    printf "MPICH test suite over MPI-FM (FM_PROVIDER=%s), %d s:\n", prov, took;
    for (d in total) printf "  %-10s %4d tests: %4d passed, %3d failed, %3d expected failures, %d skipped\n",
                             d, total[d], pass[d], fail[d], xf_n[d], skipped[d];
    if (xfl != "") printf "expected failures (reasons in mpi-fm/tests/suite-xfail.txt):\n%s", xfl;
    if (xpass != "") printf "passed although listed:\n%s", xpass;
    if (bad != "") { printf "FAILED:\n%s", bad; exit 1 }
    if (length(total) == 0) { print "no results"; exit 1 } }' "$tap"
