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
# test/mpi builds its Fortran 2008 tests only when MPICH's own configure runs it (FROM_MPICH=yes,
# which also changes how it picks compilers); standalone it leaves them out whatever the compiler
# ("FIXME if $FROM_MPICH is no, we should test build an MPI F08 program").  That test, done here:
# when mpifort builds and links a `use mpi_f08` program, a copy of configure without the condition
# runs (with --srcdir, so nothing else changes).
configure=("$src/configure")
printf 'program t\n  use mpi_f08\n  call MPI_Init()\n  call MPI_Finalize()\nend program t\n' >f08.f90
if "$prefix/bin/mpifort" -o f08 f08.f90 >f08.log 2>&1; then
  sed 's/^if test "$enable_f08" = "yes" -a "$FROM_MPICH" = "yes" ; then$/if test "$enable_f08" = "yes" ; then/' \
    "$src/configure" >configure.f08
  grep -q '^if test "$enable_f08" = "yes" ; then$' configure.f08 ||
    { echo "configure-testsuite: test/mpi's configure has no Fortran 2008 condition to lift" >&2; exit 1; }
  configure=(sh "$PWD/configure.f08" --srcdir="$src")
else
  echo "configure-testsuite: mpifort cannot build a 'use mpi_f08' program (f08.log); f08 tests left out" >&2
fi
rm -f f08 f08.f90
"${configure[@]}" MPICC="$prefix/bin/mpicc" MPIF77="$prefix/bin/mpif77" MPIFC="$prefix/bin/mpifort" \
  MPIEXEC="$prefix/bin/mpiexec" --enable-fortran=all --enable-romio \
  --disable-cxx --disable-spawn --disable-ft-tests \
  --disable-perftest --disable-dtpools --with-mpi="$prefix" >configure.log 2>&1 ||
  { tail -30 configure.log; exit 1; }
echo "[testsuite $(date +%H:%M:%S)] configured in $dir"
