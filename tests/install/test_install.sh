#!/bin/bash
# test_install.sh - the installed FM stack, used as its users would use it.
#
#   test_install.sh install BUILD_DIR   cmake --install BUILD_DIR into a temporary prefix, move the
#                                       tree elsewhere, and check it there
#   test_install.sh deb BUILD_DIR       cpack -G DEB in BUILD_DIR, check the package's metadata
#                                       (dependencies declared), unpack it and check the tree
#
# The checks: the files a user expects (libfm shared and static, headers, pkg-config files, the
# CMake package, the wrappers, man pages that render); an FM program built out of tree with
# pkg-config (shared and static) and with find_package (FM::fm, FM::fm_static, FM::shmem) run as
# a singleton and as 2 ranks under the installed mpiexec; an OpenSHMEM program built with the
# installed oshcc and run with oshrun; an MPI program built with the installed mpicc and run with
# its mpiexec, on the installed libmpi and libfm; nothing in the tree naming the build or source.
set -uo pipefail
mode=$1
build=$(cd "$2" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 passed=0
ok() { passed=$((passed + 1)); }
bad() { failures=$((failures + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...: COMMAND's output is kept in $tmp/out
  local what=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then ok; else bad "$what"; sed 's/^/    /' "$tmp/out" | tail -20 >&2; fi
}
expect() { # expect DESCRIPTION PATTERN COMMAND...: COMMAND succeeds and prints PATTERN
  local what=$1 pattern=$2
  shift 2
  if "$@" >"$tmp/out" 2>&1 && grep -q -- "$pattern" "$tmp/out"; then ok; else
    bad "$what (wanted '$pattern')"; sed 's/^/    /' "$tmp/out" | tail -20 >&2
  fi
}
mpi=no
[ -x "$build/mpich/bin/mpicc" ] && mpi=yes
ga=no
[ -x "$build/bin/ga-config" ] && ga=yes

case $mode in
install)
  echo "== cmake --install $build --prefix $tmp/first, then moved to $tmp/moved"
  cmake --install "$build" --prefix "$tmp/first" >"$tmp/install.log" 2>&1 ||
    { tail -20 "$tmp/install.log"; echo "FAIL: cmake --install"; exit 1; }
  mv "$tmp/first" "$tmp/moved"
  p=$tmp/moved
  installed_at=$tmp/first  # what the systemd unit names (it is written at install time)
  ;;
deb)
  echo "== cpack -G DEB in $build"
  rm -f "$build"/fm-stack_*.deb
  (cd "$build" && cpack -G DEB >"$tmp/cpack.log" 2>&1) || { tail -30 "$tmp/cpack.log"; echo "FAIL: cpack"; exit 1; }
  deb=$(ls "$build"/fm-stack_*.deb)
  echo "   $deb ($(du -h "$deb" | cut -f1))"
  deps=$(dpkg-deb -f "$deb" Depends)
  echo "   Depends: $deps"
  for d in libfabric1 libc6 libstdc++6 libhwloc15 "gcc | c-compiler"; do
    case $deps in *"$d"*) ok ;; *) bad "the package does not declare $d" ;; esac
  done
  check "the package installs under /opt/fm-stack" sh -c "dpkg-deb -c '$deb' | grep -q ' ./opt/fm-stack/lib/libfm.so.0'"
  # unpacked elsewhere than /opt/fm-stack: relocatable, so it works from there
  dpkg-deb -x "$deb" "$tmp/unpacked"
  p=$tmp/unpacked/opt/fm-stack
  installed_at=/opt/fm-stack
  ;;
*)
  echo "usage: test_install.sh install|deb BUILD_DIR" >&2
  exit 2
  ;;
esac

echo "== the tree ($p)"
for f in lib/libfm.so.0 lib/libfm.a lib/libshmem-fm.so.0 include/fm/fm.h include/fm/fm.hpp include/shmem.h \
  lib/pkgconfig/fm.pc lib/pkgconfig/shmem-fm.pc lib/cmake/FM/FMConfig.cmake lib/cmake/FM/FMConfigVersion.cmake \
  bin/fm_info bin/oshcc bin/oshc++ bin/oshrun share/man/man3/FM.3 share/man/man1/fm_info.1 \
  share/man/man1/oshcc.1 share/man/man1/oshc++.1 share/man/man1/oshrun.1 bin/fm-dcsd \
  share/man/man8/fm-dcsd.8 lib/systemd/system/fm-dcsd.service; do
  [ -e "$p/$f" ] && ok || bad "missing $f"
done
if [ "$mpi" = yes ]; then
  for f in bin/mpicc bin/mpicxx bin/mpifort bin/mpif77 bin/mpif90 bin/mpiexec bin/mpiexec.hydra \
    bin/hydra_pmi_proxy lib/libmpi.so.12 lib/libmpich.so.12 lib/libmpichfort.so.12 include/mpi.h \
    include/mpif.h include/mpi.mod include/mpi_f08.mod share/man/man1/mpicc.1 share/man/man1/mpiexec.1 \
    lib/libarmci-fm.so.0 include/ga-fm/armci.h include/ga-fm/message.h; do
    [ -e "$p/$f" ] && ok || bad "missing $f"
  done
fi
# man pages render without warnings
for m in "$p"/share/man/man3/FM.3 "$p"/share/man/man1/{fm_info,oshcc,oshrun}.1 "$p"/share/man/man8/fm-dcsd.8; do
  if w=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null) && [ -z "$w" ]; then ok; else bad "man page $m: $w"; fi
done
expect "the oshc++ page is oshcc's" "oshc++" env MANWIDTH=80 man -M "$p/share/man" oshc++
# text files never name the build tree or the source tree (binaries may carry MPICH's configure
# line, which names the cache)
if grep -rIl -e "$build" -e "$src/" "$p" >"$tmp/names"; then bad "files name the build or source tree:"; cat "$tmp/names" >&2; else ok; fi
expect "fm_info -c lists the tunables" FM_PROVIDER "$p/bin/fm_info" -c
expect "the systemd unit starts the installed daemon" "ExecStart=$installed_at/bin/fm-dcsd " \
  cat "$p/lib/systemd/system/fm-dcsd.service"
expect "fm-dcsd --help" "--policy" "$p/bin/fm-dcsd" --help
expect "fm_info -p probes" "shm" "$p/bin/fm_info" -p
# the library a program loads, as a real path
lib_of() { ldd "$1" | awk -v l="$2" '$1 ~ "^"l { print $3 }' | xargs -r realpath; }
check "fm_info runs on the tree's libfm" [ "$(lib_of "$p/bin/fm_info" libfm.so.0)" = "$(realpath "$p/lib/libfm.so.0")" ]

# the launcher: the tree's Hydra, else Debian's
launcher=$p/bin/mpiexec
[ -x "$launcher" ] || launcher=$(command -v mpiexec.hydra)
run2() { timeout 120 "$launcher" -n 2 "$@"; }

cd "$tmp"
export PKG_CONFIG_PATH=$p/lib/pkgconfig
echo "== pkg-config"
expect "pkg-config finds fm" 0.1.0 pkg-config --modversion fm
expect "pkg-config: fm's include directory is the tree's" "^$p/include\$" sh -c 'realpath "$(pkg-config --variable=includedir fm)"' 
check "cc with pkg-config (shared)" sh -c "cc -Wall -Werror -o pc_shared '$src/tests/install/consumer/hello_fm.c' \$(pkg-config --cflags --libs fm)"
expect "shared: links the tree's libfm" "$p/lib/libfm.so.0" env LD_LIBRARY_PATH="$p/lib" ldd ./pc_shared
expect "shared: runs as a singleton" "node 0 of 1: PASS" env LD_LIBRARY_PATH="$p/lib" ./pc_shared
expect "shared: runs as 2 ranks" "node 1 of 2: PASS" run2 -genv LD_LIBRARY_PATH "$p/lib" ./pc_shared
# static: libfm.a, with what pkg-config --static says it needs
check "cc with pkg-config --static" sh -c "cc -o pc_static '$src/tests/install/consumer/hello_fm.c' \$(pkg-config --cflags fm) \
  \$(pkg-config --static --libs fm | sed 's/-lfm\\b/-l:libfm.a/')"
check "static: no libfm.so needed" sh -c "! ldd ./pc_static | grep -q libfm"
expect "static: runs as 2 ranks" "node 0 of 2: PASS" run2 ./pc_static
expect "pkg-config finds shmem-fm" 0.1.0 pkg-config --modversion shmem-fm

echo "== find_package(FM)"
check "configure a consumer project" cmake -S "$src/tests/install/consumer" -B consumer -DCMAKE_PREFIX_PATH="$p" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="-Wall -Werror"
check "build it" cmake --build consumer
expect "FM::fm: runs as 2 ranks" "node 1 of 2: PASS" run2 consumer/hello_fm
expect "FM::fm_static: runs as 2 ranks" "node 1 of 2: PASS" run2 consumer/hello_fm_static
check "FM::fm_static: no libfm.so needed" sh -c "! ldd consumer/hello_fm_static | grep -q libfm"
expect "FM::shmem: runs as 2 PEs" "PE 1 of 2: PASS" run2 consumer/hello_shmem

echo "== oshcc, oshrun"
check "oshcc compiles and links" "$p/bin/oshcc" -std=c11 -Wall -Werror -o shmem_hello "$src/tests/install/consumer/hello_shmem.c"
expect "oshcc -show names the tree" "$p/include" "$p/bin/oshcc" -show x.c
check "oshc++ compiles and links" sh -c "cp '$src/tests/install/consumer/hello_shmem.c' hello.cpp && '$p/bin/oshc++' -Wall -Werror -o shmem_hello_cxx hello.cpp"
expect "oshrun -np 2" "PE 0 of 2: PASS" timeout 120 "$p/bin/oshrun" -np 2 ./shmem_hello
expect "oshrun -np 2 (C++)" "PE 1 of 2: PASS" timeout 120 "$p/bin/oshrun" -np 2 ./shmem_hello_cxx
# through a symbolic link on PATH, as a package's alternatives would
mkdir -p links && ln -s "$p/bin/oshcc" links/oshcc
check "oshcc through a symbolic link" links/oshcc -o shmem_link "$src/tests/install/consumer/hello_shmem.c"

if [ "$mpi" = yes ]; then
  echo "== mpicc, mpiexec (MPI-FM)"
  check "mpicc compiles and links" "$p/bin/mpicc" -Wall -Werror -o mpi_hello "$src/tests/install/consumer/hello_mpi.c"
  expect "mpicc -show names the tree" "$p/include" "$p/bin/mpicc" -show
  check "mpicc runs plain gcc (no build-time ccache)" sh -c "'$p/bin/mpicc' -show | grep -q '^gcc '"
  expect "the program uses the tree's libmpi" "$p/lib/libmpich.so.12" ldd ./mpi_hello
  expect "... and the tree's libfm" "$p/lib/libfm.so.0" ldd ./mpi_hello
  expect "mpiexec -n 2 (shm)" "rank 1 of 2: PASS" timeout 120 "$p/bin/mpiexec" -n 2 -genv FM_PROVIDER shm ./mpi_hello
  expect "mpiexec -n 2 (tcp)" "rank 0 of 2: PASS" timeout 120 "$p/bin/mpiexec" -n 2 -genv FM_PROVIDER tcp ./mpi_hello
  check "mpifort compiles and links (mpif.h)" "$p/bin/mpifort" -Wall -Werror -o mpi_hello_f "$src/tests/install/consumer/hello_mpi.f90"
  expect "mpiexec -n 2 Fortran, mpif.h (tcp)" "hello_mpi.f90: rank 1 of 2: PASS" timeout 120 "$p/bin/mpiexec" -n 2 -genv FM_PROVIDER tcp ./mpi_hello_f
  check "mpifort compiles and links (use mpi_f08)" "$p/bin/mpifort" -Wall -Werror -o heat "$src/examples/mpi/heat.f90"
  check "mpifort runs plain gfortran" sh -c "'$p/bin/mpifort' -show | grep -q '^gfortran '"
  expect "... with the tree's Fortran bindings" "$p/lib/libmpichfort.so.12" ldd ./heat
  expect "mpiexec -n 3 Fortran (shm)" "heat: PASS (3 ranks" timeout 120 "$p/bin/mpiexec" -n 3 -genv FM_PROVIDER shm ./heat
  check "mpicc links MPI-IO (ROMIO)" "$p/bin/mpicc" -Wall -Werror -o io "$src/examples/mpi/io.c"
  expect "mpiexec -n 2 MPI-IO (tcp)" "io: PASS (2 ranks" timeout 120 "$p/bin/mpiexec" -n 2 -genv FM_PROVIDER tcp ./io "$tmp/io.file"
  # the ranks' parent is the tree's Hydra proxy, not Debian's
  expect "Hydra's proxy is the tree's" "$p/bin/hydra_pmi_proxy" timeout 60 "$p/bin/mpiexec" -n 1 \
    sh -c 'readlink -f /proc/$PPID/exe'
  if [ "$ga" = yes ]; then
    echo "== ga-config (GA-FM: Debian's Global Arrays on libarmci-fm)"
    check "mpicc links a GA program with ga-config --libs" sh -c \
      "'$p/bin/mpicc' -o ga_hello '$src/tests/install/consumer/hello_ga.c' \$('$p/bin/ga-config' --libs)"
    expect "... with the tree's libarmci-fm" "$p/lib/libarmci-fm.so.0" ldd ./ga_hello
    expect "ga-config --f77 is the tree's mpifort" "$p/bin/mpifort" "$p/bin/ga-config" --f77
    check "one MPI in the program (ScaLAPACK's libmpich.so.12 is MPI-FM)" sh -c \
      "! ldd ./ga_hello | grep -q '/usr/lib/.*libmpich'"
    expect "mpiexec -n 3 GA (shm)" "hello_ga: rank 2 of 3: PASS" timeout 120 "$p/bin/mpiexec" -n 3 \
      -genv FM_PROVIDER shm ./ga_hello
    expect "mpiexec -n 2 GA (tcp)" "hello_ga: rank 0 of 2: PASS" timeout 120 "$p/bin/mpiexec" -n 2 \
      -genv FM_PROVIDER tcp ./ga_hello
  fi
fi

echo "$passed passed, $failures failed"
[ "$failures" = 0 ]
