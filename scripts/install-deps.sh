#!/bin/sh
# install-deps.sh - installs the Debian packages FM needs to build, test and benchmark (GA-FM:
# Debian's Global Arrays, ScaLAPACK, LAPACK, BLAS and the Fortran runtime its programs link, and
# ARMCI-MPI's headers, against which GA-FM's are checked; ScaLAPACK's testers and NWChem built for
# Debian's MPICH, which MPI-FM's tests run unmodified).
# Idempotent and quiet when everything is already there.  Run as root (or with sudo).
set -eu
PKGS="build-essential cmake ninja-build pkg-config ccache clang-format git
libfabric-dev libfabric-bin libhwloc-dev mpich
libgtest-dev libgmock-dev libbenchmark-dev
gnuplot-nox iproute2 nftables procps strace
autoconf automake libtool patch patchelf python3 perl xz-utils
libmpich-dev libglobalarrays-dev libarmci-mpi-dev libscalapack-mpich-dev liblapack-dev libblas-dev gfortran
scalapack-mpi-test nwchem-mpich"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
