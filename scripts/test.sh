#!/bin/sh
# test.sh - installs what is missing, builds FM, and runs every test:
#   1. format check (clang-format) of the sources,
#   2. the full CTest suite: unit tests over the loopback transport (also with injected faults)
#      and multi-process tests launched by Hydra's mpiexec over shm, tcp and udp (2 and 4 ranks,
#      kill -9, verbs refusal), and across network-namespace hosts (skipped without root),
#      MPI-FM (MPICH with the FM netmod, built once, 5 to 20 minutes on 2 cores, and cached
#      outside the tree): our MPI programs and MPICH's own test suite (pt2pt, coll, rma, comm over
#      shm; `ctest -L mpi-suite-full` runs every directory over shm and tcp, a longer run left out
#      here), GA-FM (Debian's Global Arrays on our ARMCI: ABI check, ARMCI and GA programs, bad
#      input), the install tree (moved, used with pkg-config, find_package and the wrappers), the
#      Debian package, and the MPICH cache logic,
#   3. the unit tests again, built with AddressSanitizer + UndefinedBehaviorSanitizer (built
#      during step 2's build, at low priority: it fills the CPU MPICH's configure leaves idle).
# The main build shows its progress; the whole output is in build/build.log and build-asan/build.log.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"
"$top/scripts/install-deps.sh"
cd "$top"

echo "== format check"
files=$(git ls-files '*.cpp' '*.hpp' '*.h' '*.c')
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files

# The sanitizer build (step 3) runs beside the main build, at the lowest priority: the MPICH build
# spends minutes in autogen and configure, one process at a time, and it fills the other CPU.
echo "== ASan+UBSan build started in the background, at low priority (output: build-asan/build.log)"
mkdir -p "$top/build-asan"
(
  renice -n 19 -p "$(sh -c 'echo $PPID')" >/dev/null
  run_logged "$top/build-asan/build.log" "test: the sanitizer build" "$top/scripts/build.sh" "$top/build-asan" \
    -DFM_SANITIZE=ON -DFM_BUILD_BENCH=OFF -DFM_BUILD_MPI=OFF -DCMAKE_BUILD_TYPE=Debug
) >"$top/build-asan/progress.log" 2>&1 &
asan_build=$!
# shellcheck disable=SC2064
trap "kill $asan_build 2>/dev/null; pkill -f 'ninja -C $top/build-asan' 2>/dev/null; true" EXIT

echo "== build (progress below; whole output in build/build.log)"
run_logged "$top/build/build.log" "test: the build" "$top/scripts/build.sh" "$top/build" || exit 1
echo "== ctest (unit + multi-process)"
(cd "$top/build" && ctest --output-on-failure --timeout 300 -LE mpi-suite-full)

echo "== ASan+UBSan unit tests (whole build output in build-asan/build.log)"
if ! wait "$asan_build"; then
  cat "$top/build-asan/progress.log" >&2
  exit 1
fi
trap - EXIT
(cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   ctest --output-on-failure --timeout 300 -L unit -j2)
echo "== all tests passed"
