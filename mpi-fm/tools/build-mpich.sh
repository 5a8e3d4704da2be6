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
# netmod, the patches, fm.h and RECIPE below: a warm machine only copies the cached install
# (seconds); a cold one builds it (5 to 8 minutes on 2 cores, progress shown).  libmpi.so finds libfm.so.0 next to
# itself ($ORIGIN): OUT_DIR/lib/libfm.so.0 is a link to FM_LIB_DIR's.
set -euo pipefail

SRC_DIR=$(cd "$1" && pwd)
FM_LIB_DIR=$(cd "$2" && pwd)
OUT_DIR=$3
CACHE=${FM_MPICH_CACHE:-/var/cache/fm-mpich}
VERSION=4.0.2
TARBALL=mpich_${VERSION}.orig.tar.xz
TARBALL_SHA256=b27039f964afeb6b8a3e009c56b441cbe368c26d6d6476ad3bb7190996875860
JOBS=${FM_MPICH_JOBS:-$(nproc)}
# Part of the cache key with the netmod, the patches and fm.h: bump it when the way MPICH is built
# (autogen, configure flags, staging) changes.
RECIPE=1

say() { printf '[mpich %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'build-mpich: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE/src"

# ---- the source ------------------------------------------------------------------------------
fetch_source() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  if ! apt-get source --download-only --print-uris mpich >/dev/null 2>&1; then
    say "enabling deb-src for Debian's archive (/etc/apt/sources.list.d/fm-debian-src.sources)"
    local suites
    suites=$(. /etc/os-release && echo "$VERSION_CODENAME ${VERSION_CODENAME}-updates")
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$suites" | $sudo tee /etc/apt/sources.list.d/fm-debian-src.sources >/dev/null
    $sudo apt-get update -q >/dev/null
  fi
  say "downloading Debian's mpich source package"
  (cd "$CACHE/src" && apt-get source --download-only mpich >/dev/null 2>&1) ||
    die "apt-get source --download-only mpich failed (is deb-src reachable?)"
}
[ -f "$CACHE/src/$TARBALL" ] || fetch_source
[ -f "$CACHE/src/$TARBALL" ] || die "$CACHE/src/$TARBALL missing after download (Debian ships another version?)"
got=$(sha256sum "$CACHE/src/$TARBALL" | cut -d' ' -f1)
[ "$got" = "$TARBALL_SHA256" ] || die "$TARBALL: SHA-256 $got, expected $TARBALL_SHA256"

# ---- the cache key ---------------------------------------------------------------------------
NETMOD=$SRC_DIR/mpi-fm/netmod/fm
PATCHES=$SRC_DIR/mpi-fm/patches
key=$( { echo "$TARBALL_SHA256 recipe $RECIPE"; cat "$SRC_DIR/fm/include/fm/fm.h";
         for d in "$NETMOD" "$PATCHES"; do
           (cd "$d" && for f in $(ls | sort); do echo "== $f"; cat "$f"; done); done; } |
       sha256sum | cut -c1-16)
BUILD=$CACHE/$VERSION-$key
PREFIX=$BUILD/install

build() {
  rm -rf "$BUILD"
  mkdir -p "$BUILD"
  local log=$BUILD/build.log t0 src
  t0=$(date +%s)
  say "building MPICH $VERSION with the FM netmod in $BUILD (log: $log)"
  tar -C "$BUILD" -xf "$CACHE/src/$TARBALL"
  src=$BUILD/mpich-$VERSION
  cp -r "$NETMOD" "$src/src/mpid/ch4/netmod/fm"
  for p in "$PATCHES"/*.patch; do
    say "applying $(basename "$p")"
    patch -d "$src" -p1 --quiet <"$p" || die "patch $(basename "$p") does not apply"
  done
  # The netmod list is hard-coded in two places (see ../shared/design/MPI-FM.md).
  python3 - "$src" <<'PY'
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
  say "autogen.sh -quick (about a minute)"
  (cd "$src" && ./autogen.sh -quick -without-ucx -without-ofi -without-yaksa -without-izem \
      -without-hwloc -without-romio -without-hydra2 -without-test -without-json \
      -without-f77 -without-bindings) >>"$log" 2>&1 || { tail -30 "$log"; die "autogen failed"; }
  grep -q "__netmod_inline_fm__" "$src/src/mpid/ch4/netmod/include/netmod_impl.h" ||
    die "autogen did not register the fm netmod"
  say "configure (1 to 2 minutes)"
  mkdir -p "$BUILD/obj"
  local cc=gcc
  command -v ccache >/dev/null && cc="ccache gcc"
  # paths relative to the build directory in ccache's keys: a rebuild under another key hits
  export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1
  (cd "$BUILD/obj" && LD_LIBRARY_PATH=$FM_LIB_DIR "$src/configure" --prefix="$PREFIX" \
      CC="$cc" CPPFLAGS="-I$SRC_DIR/fm/include" LDFLAGS="-L$FM_LIB_DIR" \
      --with-device=ch4:fm --with-ch4-shmmods=none --with-datatype-engine=dataloop \
      --with-hwloc=/usr --disable-fortran --disable-cxx --disable-romio --disable-static \
      --enable-fast=O2 --with-pm=hydra --disable-doc) >>"$log" 2>&1 ||
    { tail -30 "$log"; die "configure failed"; }
  say "make -j$JOBS (3 to 5 minutes; a dot per 50 files, about 900 files)"
  (cd "$BUILD/obj" && LD_LIBRARY_PATH=$FM_LIB_DIR make -j"$JOBS" V=0 2>&1 | tee -a "$log" |
     awk '/^  (CC|CCLD|CXX)/ { n++; if (n % 50 == 0) { printf "."; fflush() } } END { print " " n " files" }') ||
    true
  (cd "$BUILD/obj" && LD_LIBRARY_PATH=$FM_LIB_DIR make -j"$JOBS" V=0 >>"$log" 2>&1) ||
    { grep -B2 -A8 "error" "$log" | tail -40; die "make failed"; }
  say "make install"
  (cd "$BUILD/obj" && make install >>"$log" 2>&1) || { tail -30 "$log"; die "make install failed"; }
  patchelf --set-rpath '$ORIGIN' "$PREFIX/lib/libmpi.so" || die "patchelf failed"
  # keep the cache small: the install and the test suite (test/mpi, configured per build tree);
  # FM_MPICH_KEEP=1 keeps the source and objects (netmod development: edit, `make install` there)
  cp -r "$src/test/mpi" "$BUILD/test-mpi"
  [ "${FM_MPICH_KEEP:-0}" = 1 ] || rm -rf "$src" "$BUILD/obj"
  touch "$PREFIX/.complete"
  say "MPICH built in $(( $(date +%s) - t0 )) s"
}

if [ -f "$PREFIX/.complete" ]; then
  say "using the cached build $BUILD"
else
  build
  # builds of older netmod versions: keep the two most recent others
  ls -dt "$CACHE/$VERSION"-* 2>/dev/null | grep -v "^$BUILD\$" | tail -n +3 | xargs -r rm -rf
fi

# ---- stage in the build tree -----------------------------------------------------------------
rm -rf "$OUT_DIR"
mkdir -p "$(dirname "$OUT_DIR")"
cp -a "$PREFIX" "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
# the compiler wrappers name their install prefix: point them at the staged copy
for w in "$OUT_DIR"/bin/mpicc "$OUT_DIR"/bin/mpicxx "$OUT_DIR"/bin/mpif77 "$OUT_DIR"/bin/mpifort; do
  [ -f "$w" ] && sed -i "s|$PREFIX|$OUT_DIR|g" "$w"
done
sed -i "s|$PREFIX|$OUT_DIR|g" "$OUT_DIR"/lib/pkgconfig/*.pc 2>/dev/null || true
# MPICH's own programs (mpichversion, mpivars) find libmpi next to them, not in the cache
for f in "$OUT_DIR"/bin/*; do
  if patchelf --print-rpath "$f" 2>/dev/null | grep -q "$PREFIX"; then
    patchelf --set-rpath '$ORIGIN/../lib' "$f"
  fi
done
ln -sfn "$FM_LIB_DIR/libfm.so.0" "$OUT_DIR/lib/libfm.so.0"
rm -f "$OUT_DIR/.complete"
echo "$BUILD" > "$OUT_DIR/.cache-dir"
ln -sfn "$BUILD/test-mpi" "$OUT_DIR/test-mpi-src"
say "MPI-FM staged in $OUT_DIR (mpicc, mpiexec)"
