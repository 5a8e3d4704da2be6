#!/bin/sh
# check_link.sh MPI_LIBDIR PROGRAM... - each GA program built with MPI-FM's mpicc (or mpifort) and
# ga-config loads one MPI, MPI-FM's: libmpich.so.12 (and for Fortran libmpichfort.so.12) from
# MPI_LIBDIR (ScaLAPACK asks for that name too) and no other MPI library (Open MPI's libmpi.so.40,
# Debian MPICH's libmpich.so.12).
libdir=$(cd "$1" && pwd)
shift
fail=0
for p in "$@"; do
  out=$(ldd "$p") || { echo "FAIL: ldd $p"; fail=1; continue; }
  mpich=$(echo "$out" | awk '$1 == "libmpich.so.12" { print $3 }')
  if [ "$(readlink -f "$mpich")" != "$(readlink -f "$libdir/libmpich.so.12")" ]; then
    echo "FAIL: $p: libmpich.so.12 is '$mpich', not MPI-FM's ($libdir)"
    fail=1
  fi
  # MPI-FM's own libraries (libmpich.so.12, and libmpichfort.so.12 for Fortran) are the only MPI
  others=$(echo "$out" | grep -E 'libmpi\.so|libmpich|libmpifort|libopen-rte|libopen-pal|libmpi_' |
    grep -v -E "^[[:space:]]*libmpich(fort)?\.so\.12 => $libdir/")
  if [ -n "$others" ]; then
    echo "FAIL: $p: another MPI library too:"
    echo "$others"
    fail=1
  fi
  [ $fail = 0 ] && echo "ok: $p: one MPI, $mpich"
done
[ $fail = 0 ] && echo "check_link: PASS"
exit $fail
