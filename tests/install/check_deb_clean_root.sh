#!/bin/bash
# check_deb_clean_root.sh DEB - installs the Debian package on a clean Debian bookworm (a minimal
# root made by mmdebstrap: no compiler, no libfabric, no MPI), letting apt resolve the
# dependencies the package declares, then builds and runs an FM, an OpenSHMEM and an MPI program
# with what it installed.  Needs root, mmdebstrap and Debian's archive (a few minutes, about
# 400 MB); not part of CTest.  Exit 0 when everything worked.
set -euo pipefail
deb=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d /var/tmp/fm-clean-root.XXXXXX)
cleanup() {
  for m in proc sys dev/pts dev; do umount "$root/$m" 2>/dev/null || true; done
  rm -rf "$root"
}
trap cleanup EXIT
echo "== a clean bookworm in $root (mmdebstrap --variant=apt)"
mmdebstrap --quiet --variant=apt bookworm "$root" http://deb.debian.org/debian
cp "$deb" "$root/tmp/"
cp "$here"/consumer/hello_*.c "$here"/consumer/hello_mpi.f90 "$root/tmp/"
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
echo "== apt-get install ./$(basename "$deb") (dependencies from the package)"
chroot "$root" sh -c "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/$(basename "$deb")" \
  >"$root/tmp/apt.log" 2>&1 || { tail -30 "$root/tmp/apt.log"; exit 1; }
echo "   $(grep -c '^Setting up' "$root/tmp/apt.log") packages set up, among them:"
grep -E '^Setting up (fm-stack|libfabric|libhwloc|gcc |gfortran |pkg-config|libc6-dev)' "$root/tmp/apt.log" | sed 's/^/   /' 
echo "== programs built and run with the package alone"
chroot "$root" sh -ec '
  export PATH=/opt/fm-stack/bin:$PATH PKG_CONFIG_PATH=/opt/fm-stack/lib/pkgconfig
  cd /tmp
  cc -o hello_fm hello_fm.c $(pkg-config --cflags --libs fm) -Wl,-rpath,/opt/fm-stack/lib
  mpiexec -n 2 ./hello_fm
  oshcc -o hello_shmem hello_shmem.c
  oshrun -np 2 ./hello_shmem
  mpicc -o hello_mpi hello_mpi.c
  mpiexec -n 2 ./hello_mpi
  mpifort -o hello_mpi_f hello_mpi.f90    # gfortran: a recommended package, which apt installs
  mpiexec -n 2 ./hello_mpi_f
  fm_info -p
'
echo "== the manual pages (man-db added to the clean root)"
chroot "$root" sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q man-db >/dev/null 2>&1"
chroot "$root" sh -ec '
  export MANPATH=/opt/fm-stack/share/man:
  for p in FM fm_info oshcc oshc++ oshrun mpicc mpiexec; do man -w "$p"; done
  MANWIDTH=80 man FM | head -5
'
echo "== the package works on a clean machine"
