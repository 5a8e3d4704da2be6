#!/bin/bash
# configure-testsuite.sh PREFIX DIR - configures MPICH's own test suite (test/mpi of the source
# the staged MPI-FM was built from) in DIR against PREFIX's mpicc, for runtests.
set -euo pipefail
prefix=$(cd "$1" && pwd)
dir=$2
src=$(readlink -f "$prefix/test-mpi-src")
[ -x "$src/configure" ] || { echo "configure-testsuite: no test suite at $src" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
echo "[testsuite $(date +%H:%M:%S)] configuring test/mpi against $prefix/bin/mpicc (about a minute)"
"$src/configure" MPICC="$prefix/bin/mpicc" MPIF77="$prefix/bin/mpif77" MPIFC="$prefix/bin/mpifort" \
  MPIEXEC="$prefix/bin/mpiexec" --enable-fortran=all --enable-romio \
  --disable-cxx --disable-spawn --disable-ft-tests \
  --disable-perftest --disable-dtpools --with-mpi="$prefix" >configure.log 2>&1 ||
  { tail -30 configure.log; exit 1; }
echo "[testsuite $(date +%H:%M:%S)] configured in $dir"
