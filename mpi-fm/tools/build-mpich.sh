#!/bin/bash
# build-mpich.sh - builds MPICH 4.0.2 with the FM netmod (MPI-FM) and stages it in the build tree.
#
#   build-mpich.sh SRC_DIR FM_LIB_DIR OUT_DIR
#
# SRC_DIR: the repository; FM_LIB_DIR: where libfm.so.0 is; OUT_DIR: where the install is staged
# (bin/mpicc, bin/mpiexec, lib/libmpi.so, include/mpi.h).
#
# The MPICH source is Debian's source package (deb-src enabled for Debian's own archive, `apt-get
# source --download-only mpich`), checked against the SHA-256 below.  The build is cached under
# $FM_MPICH_CACHE (default /var/cache/fm-mpich), keyed by that checksum and the content of the
# netmod, the patches, FM_HEADERS and RECIPE below: a warm machine only copies the cached install
# (seconds); a cold one builds it (5 to 20 minutes on 2 cores, progress shown).  The cache logic
# (states, locking, pruning, an unwritable cache) is in mpich-cache.sh.  libmpi.so finds libfm.so.0 next to
# itself ($ORIGIN): OUT_DIR/lib/libfm.so.0 is a link to FM_LIB_DIR's.
set -euo pipefail

SRC_DIR=$(cd "$1" && pwd)
FM_LIB_DIR=$(cd "$2" && pwd)
OUT_DIR=$3
VERSION=4.0.2
TARBALL=mpich_${VERSION}.orig.tar.xz
TARBALL_SHA256=b27039f964afeb6b8a3e009c56b441cbe368c26d6d6476ad3bb7190996875860
JOBS=${FM_MPICH_JOBS:-$(nproc)}
# Part of the cache key with the netmod, the patches and FM's headers: bump it when the way MPICH is built
# (autogen, configure flags, staging) changes.
RECIPE=6
# builds of older netmod versions kept beside the current one
KEEP=2

# shellcheck source=mpich-cache.sh
. "$(dirname "$0")/mpich-cache.sh"
say() { mc_say "$@"; }
die() { printf 'build-mpich: error: %s\n' "$*" >&2; exit 1; }

# ---- the cache key ---------------------------------------------------------------------------
NETMOD=$SRC_DIR/mpi-fm/netmod/fm
PATCHES=$SRC_DIR/mpi-fm/patches
# FM's headers the netmod compiles against: fm.h and what it includes.  Only these are copied into
# the build (so a netmod that came to include another would fail to build, not miss the key).
FM_HEADERS="fm.h fm_status.h"
key=$( { echo "$TARBALL_SHA256 recipe $RECIPE";
         for h in $FM_HEADERS; do echo "== fm/$h"; cat "$SRC_DIR/fm/include/fm/$h"; done
         for d in "$NETMOD" "$PATCHES"; do
           (cd "$d" && for f in $(ls | sort); do echo "== $f"; cat "$f"; done); done; } |
       sha256sum | cut -c1-16)
NAME=$VERSION-$key
# the cache: $FM_MPICH_CACHE, else /var/cache/fm-mpich; inside the build tree when neither is
# writable (a user without root on a machine whose cache root filled)
CACHE=$(mc_choose "${FM_MPICH_CACHE:-/var/cache/fm-mpich}" "$(dirname "$OUT_DIR")/mpich-cache" "$NAME") ||
  exit 1
BUILD=$CACHE/$NAME
PREFIX=$BUILD/install

# ---- the source ------------------------------------------------------------------------------
fetch_source() {
  local sudo="" tmp
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  if ! apt-get source --download-only --print-uris mpich >/dev/null 2>&1; then
    say "enabling deb-src for Debian's archive (/etc/apt/sources.list.d/fm-debian-src.sources)"
    local suites
    suites=$(. /etc/os-release && echo "$VERSION_CODENAME ${VERSION_CODENAME}-updates")
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$suites" | $sudo tee /etc/apt/sources.list.d/fm-debian-src.sources >/dev/null
    $sudo apt-get update -q >/dev/null
  fi
  say "downloading Debian's mpich source package (about 30 MB)"
  mkdir -p "$CACHE/src"
  # into a fresh directory first: an interrupted download never looks like a tarball
  tmp=$(mktemp -d "$CACHE/src/.download.XXXXXX")
  (cd "$tmp" && apt-get source --download-only mpich >"$tmp/apt.log" 2>&1) ||
    { tail -5 "$tmp/apt.log" >&2; rm -rf "$tmp"; die "apt-get source --download-only mpich failed (is deb-src reachable?)"; }
  [ -f "$tmp/$TARBALL" ] ||
    { ls "$tmp" >&2; rm -rf "$tmp"; die "Debian's mpich source package has no $TARBALL (another version?)"; }
  mv "$tmp/$TARBALL" "$CACHE/src/$TARBALL"
  rm -rf "$tmp"
}
source_ok() {
  [ -f "$CACHE/src/$TARBALL" ] && [ "$(sha256sum "$CACHE/src/$TARBALL" | cut -d' ' -f1)" = "$TARBALL_SHA256" ]
}

# fail LOG WHAT: the reason a step failed (the end of its log, the first error lines), then exit
fail() {
  printf 'build-mpich: %s failed; the last lines of its log (%s):\n' "$2" "$1" >&2
  tail -n 25 "$1" | sed 's/^/  | /' >&2
  grep -n -m 5 -E '(^|[[:space:]])([Ee]rror|ERROR):' "$1" | grep -v '===>' | sed 's/^/  first errors, line /' >&2 || true
  die "$2 failed (whole log: $1)"
}

# step NAME ESTIMATE LOG CMD...: runs CMD with its output appended to LOG, saying when it starts
# and how long it took.
step() {
  local name=$1 estimate=$2 log=$3 t0
  shift 3
  t0=$(date +%s)
  say "$name ($estimate)"
  "$@" >>"$log" 2>&1 || fail "$log" "$name"
  say "$name done in $(($(date +%s) - t0)) s"
}

# make_progress LOG CMD...: runs make with its output appended to LOG and a progress line for each
# tenth of the objects (MPICH 4.0.2 with these flags compiles about 1080 files: C, Fortran, ROMIO).
make_progress() {
  local log=$1 rc awk=(awk)
  shift
  # mawk (Debian's awk) reads a pipe in large blocks unless told otherwise
  awk -W version 2>/dev/null | grep -q mawk && awk=(awk -W interactive)
  set +e
  "$@" 2>&1 | tee -a "$log" | "${awk[@]}" -v t0="$(date +%s)" -v total=1080 '
    /^  (CC|CCLD) / { n++; if (n % 90 == 0) {
        printf "[mpich %s] make: %d of about %d files (%d %%, %d s)\n",
               strftime("%H:%M:%S"), n, total, 100 * n / total, systime() - t0; fflush() } }
    END { printf "[mpich %s] make: %d files compiled\n", strftime("%H:%M:%S"), n }'
  rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}

# build_mpich BUILD_DIR: the MPICH build itself, into BUILD_DIR/install (mc_ensure marks it
# complete).  Measured cold on 2 cores (no ccache hits) on two machines: autogen 50 s and 2 min,
# configure 1 and 5 min, make 2.5 and 10 min; with ccache warm, make takes about a minute.
build_mpich() {
  local build=$1 log t0 t1 src prefix=$1/install cc=gcc cxx=g++
  mkdir -p "$build"
  log=$build/build.log
  t0=$(date +%s)
  say "building MPICH $VERSION with the FM netmod in $build (5 to 20 min cold on 2 cores; log: $log)"
  tar -C "$build" -xf "$CACHE/src/$TARBALL" || die "cannot unpack $CACHE/src/$TARBALL"
  src=$build/mpich-$VERSION
  cp -r "$NETMOD" "$src/src/mpid/ch4/netmod/fm"
  for p in "$PATCHES"/*.patch; do
    say "applying $(basename "$p")"
    patch -d "$src" -p1 --quiet <"$p" || die "patch $(basename "$p") does not apply"
  done
  # The netmod list is hard-coded in two places (see ../shared/design/MPI-FM.md).
  python3 - "$src" <<'PY' || die "registering the fm netmod with MPICH's generator failed"
import sys, re
top = sys.argv[1]
p = top + "/maint/gen_ch4_api.py"
s = open(p).read()
s = s.replace('for m in "ofi", "ucx", "stubnm":', 'for m in "ofi", "ucx", "fm", "stubnm":')
s = s.replace('''        print("#define __netmod_inline_ucx__   2", file=Out)''',
              '''        print("#define __netmod_inline_ucx__   2", file=Out)
        print("#define __netmod_inline_fm__   3", file=Out)''')
s = s.replace('''        print("#include \\"../ucx/netmod_inline.h\\"", file=Out)''',
              '''        print("#include \\"../ucx/netmod_inline.h\\"", file=Out)
        print("#elif NETMOD_INLINE==__netmod_inline_fm__", file=Out)
        print("#include \\"../fm/netmod_inline.h\\"", file=Out)''')
assert s.count('"fm"') == 2 and '__netmod_inline_fm__   3' in s, "gen_ch4_api.py patch failed"
open(p, "w").write(s)
p = top + "/src/mpid/ch4/netmod/Makefile.mk"
s = open(p).read()
s = s.replace("include $(top_srcdir)/src/mpid/ch4/netmod/ucx/Makefile.mk\n",
              "include $(top_srcdir)/src/mpid/ch4/netmod/ucx/Makefile.mk\n"
              "include $(top_srcdir)/src/mpid/ch4/netmod/fm/Makefile.mk\n")
assert "netmod/fm/Makefile.mk" in s
open(p, "w").write(s)
PY
  step "autogen.sh -quick" "1 to 2 min" "$log" \
    sh -c 'cd "$1" && exec ./autogen.sh -quick -without-ucx -without-ofi -without-yaksa -without-izem \
      -without-hwloc -without-romio -without-hydra2 -without-test -without-json' autogen "$src"
  grep -q "__netmod_inline_fm__" "$src/src/mpid/ch4/netmod/include/netmod_impl.h" ||
    fail "$log" "autogen (the fm netmod was not registered)"
  mkdir -p "$build/obj" "$build/fm-include/fm"
  for h in $FM_HEADERS; do cp "$SRC_DIR/fm/include/fm/$h" "$build/fm-include/fm/"; done
  command -v ccache >/dev/null && cc="ccache gcc" cxx="ccache g++"
  # Every path a compile line names is inside the build directory (FM's headers copied above, not
  # the clone's), so ccache, given it as the base, keys them relative: a rebuild under another key,
  # from another clone or into another cache directory, hits for every file the change leaves alone.
  export CCACHE_BASEDIR=$build CCACHE_NOHASHDIR=1
  export LD_LIBRARY_PATH=$FM_LIB_DIR
  # The Fortran bindings (mpif.h, `use mpi`, `use mpi_f08`): gfortran 10 and later reject calls
  # that pass different types as one choice buffer, which mpif.h programs do; Debian's MPICH builds
  # with these two flags and its mpifort passes them on, and so do we.
  command -v gfortran >/dev/null || die "gfortran not found (scripts/install-deps.sh installs it)"
  local gf_flags="-O2 -fallow-argument-mismatch -fallow-invalid-boz"
  echo 'end' >"$build/gf.f90"
  gfortran $gf_flags -c -o "$build/gf.o" "$build/gf.f90" 2>/dev/null || gf_flags=-O2
  rm -f "$build/gf.f90" "$build/gf.o"
  step configure "1 to 5 min" "$log" \
    sh -c 'cd "$1" && shift && exec "$@"' configure "$build/obj" "$src/configure" --prefix="$prefix" \
      CC="$cc" CXX="$cxx" CPPFLAGS="-I$build/fm-include" LDFLAGS="-L$FM_LIB_DIR" \
      --with-device=ch4:fm --with-ch4-shmmods=none --with-datatype-engine=dataloop \
      --with-hwloc=/usr --enable-fortran=all --enable-romio --disable-static \
      F77=gfortran FC=gfortran FFLAGS="$gf_flags" FCFLAGS="$gf_flags" \
      --enable-fast=O2 --with-pm=hydra --disable-doc
  say "make -j$JOBS (2 to 10 min cold, 1 to 6 with ccache warm; a line per 10 %)"
  t1=$(date +%s)
  make_progress "$log" make -C "$build/obj" -j"$JOBS" V=0 || fail "$log" make
  say "make done in $(($(date +%s) - t1)) s"
  step "make install" "under a minute" "$log" make -C "$build/obj" install
  patchelf --set-rpath '$ORIGIN' "$prefix/lib/libmpi.so" || die "patchelf failed on $prefix/lib/libmpi.so"
  # Debian's MPICH is libmpich.so.12 (libmpi.so.12 a link to it), and libraries built against it
  # (libscalapack-mpich, which GA programs link) ask for that name: with it as this library's
  # SONAME they bind to MPI-FM instead of loading Debian's MPICH beside it
  real=$(readlink -f "$prefix/lib/libmpi.so")
  patchelf --set-soname libmpich.so.12 "$real" || die "patchelf --set-soname failed on $real"
  ln -sf "$(basename "$real")" "$prefix/lib/libmpich.so.12"
  # configure wrote this tree's libfm paths into mpicc and mpich.pc; the cached build serves every
  # clone, and finds libfm beside libmpi
  sed -i -e "s|-I$build/fm-include||g" -e "s|-L$FM_LIB_DIR||g" "$prefix/bin/mpicc" "$prefix"/lib/pkgconfig/*.pc
  # ... and its compiler, ccache included: users get plain gcc (MPICH_CC overrides it)
  sed -i 's|^CC="ccache gcc"$|CC="gcc"|' "$prefix/bin/mpicc"
  grep -q '^CC="gcc"$' "$prefix/bin/mpicc" || die "mpicc: could not set its compiler to gcc"
  sed -i -e "s|-I$build/fm-include||g" -e "s|-L$FM_LIB_DIR||g" -e 's|^CXX="ccache g++"$|CXX="g++"|' \
    "$prefix/bin/mpicxx"
  grep -q '^CXX="g++"$' "$prefix/bin/mpicxx" || die "mpicxx: could not set its compiler to g++"
  sed -i -e "s|-I$build/fm-include||g" -e "s|-L$FM_LIB_DIR||g" "$prefix/bin/mpifort"
  # Debian's Fortran binding library is libmpichfort.so.12 (beside libmpich.so.12): the same
  # renaming, so Fortran libraries built against Debian's MPICH bind to MPI-FM's
  real=$(readlink -f "$prefix/lib/libmpifort.so")
  # (one change per patchelf call: Debian's patchelf 0.14 garbles the strings of several at once)
  patchelf --set-soname libmpichfort.so.12 "$real" && patchelf --set-rpath '$ORIGIN' "$real" &&
    if objdump -p "$real" | grep -q 'NEEDED *libmpi\.so\.12$'; then
      patchelf --replace-needed libmpi.so.12 libmpich.so.12 "$real"
    fi || die "patchelf failed on $real"
  objdump -p "$real" | grep -q 'SONAME *libmpichfort\.so\.12$' || die "$real: SONAME not set"
  ln -sf "$(basename "$real")" "$prefix/lib/libmpichfort.so.12"
  # keep the cache small: the install and the test suite (test/mpi, configured per build tree);
  # FM_MPICH_KEEP=1 keeps the source and objects (netmod development: edit, `make install` there)
  cp -r "$src/test/mpi" "$build/test-mpi"
  [ "${FM_MPICH_KEEP:-0}" = 1 ] || rm -rf "$src" "$build/obj" "$build/fm-include"
  say "MPICH built in $(($(date +%s) - t0)) s"
}

if [ "$(mc_state "$BUILD")" != complete ]; then
  source_ok || { rm -f "$CACHE/src/$TARBALL"; fetch_source; }
  source_ok || die "$CACHE/src/$TARBALL: SHA-256 $(sha256sum "$CACHE/src/$TARBALL" | cut -d' ' -f1), expected $TARBALL_SHA256"
fi
mc_ensure "$CACHE" "$VERSION" "$BUILD" "$KEEP" build_mpich || die "no MPICH build"

# ---- stage in the build tree -----------------------------------------------------------------
# A relocatable copy: mpicc finds its prefix from where it is run, mpich.pc from where it is, the
# programs their libraries through $ORIGIN; cmake --install copies it into the install tree.
rm -rf "$OUT_DIR"
mkdir -p "$(dirname "$OUT_DIR")"
cp -a "$PREFIX" "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
rm -f "$OUT_DIR"/lib/*.la "$OUT_DIR/.complete"
for w in mpicc mpicxx mpif77 mpifort; do
  [ -f "$OUT_DIR/bin/$w" ] || continue
  sed -i -e 's|^prefix=.*|prefix=$(cd "$(dirname "$(readlink -f "$0")")/.." \&\& pwd)|' \
    -e "s|$PREFIX|\${prefix}|g" "$OUT_DIR/bin/$w"
done
for pc in "$OUT_DIR"/lib/pkgconfig/*.pc; do
  sed -i -e 's|^prefix=.*|prefix=${pcfiledir}/../..|' -e "s|$PREFIX|\${prefix}|g" "$pc"
done
# MPICH's own programs (mpichversion, mpivars) find libmpi next to them, not in the cache
for f in "$OUT_DIR"/bin/*; do
  if patchelf --print-rpath "$f" 2>/dev/null | grep -q "$PREFIX"; then
    patchelf --set-rpath '$ORIGIN/../lib' "$f"
  fi
done
if grep -l -e "$SRC_DIR" -e "$FM_LIB_DIR" -e "$BUILD/fm-include" "$OUT_DIR"/bin/mpicc "$OUT_DIR"/bin/mpicxx "$OUT_DIR"/bin/mpifort "$OUT_DIR"/lib/pkgconfig/*.pc 2>/dev/null; then
  die "the files above name this source tree; the cached build would not serve another clone"
fi
ln -sfn "$FM_LIB_DIR/libfm.so.0" "$OUT_DIR/lib/libfm.so.0"
echo "$BUILD" > "$OUT_DIR/.cache-dir"
ln -sfn "$BUILD/test-mpi" "$OUT_DIR/test-mpi-src"
say "MPI-FM staged in $OUT_DIR (mpicc, mpiexec)"
