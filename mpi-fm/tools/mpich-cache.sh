# mpich-cache.sh - the MPICH build cache, as functions (sourced by build-mpich.sh and by the test
# mpi-fm/tests/test_mpich_cache.sh, which runs them in every cache state without building MPICH).
#
# A cache directory holds src/ (Debian's source tarball), one directory per build
# ($VERSION-$KEY/, complete when install/.complete exists) and .lock (flock: one builder at a time
# per cache; readers of a complete build take no lock).  States a build directory can be in:
#   absent    never built;
#   complete  install/.complete exists: used as it is;
#   partial   anything else (a build that was killed, failed or is still running elsewhere):
#             rebuilt from scratch once the lock is ours.
# A cache directory we cannot write to is used read-only when it already holds the complete build
# we need; otherwise we fall back to a directory the caller names (inside the build tree), saying
# why.  Needs bash, coreutils, flock (util-linux).

mc_say() { printf '[mpich %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
mc_warn() { printf '[mpich %s] warning: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# mc_writable DIR: 0 when DIR exists or can be created, and a file can be created in it.  Tries
# for real: root passes every permission test but not a read-only file system.
mc_writable() {
  local dir=$1 probe
  mkdir -p "$dir" 2>/dev/null || return 1
  probe=$(mktemp "$dir/.probe.XXXXXX" 2>/dev/null) || return 1
  rm -f "$probe"
}

# mc_state BUILD_DIR: prints absent, complete or partial.
mc_state() {
  if [ ! -e "$1" ]; then
    echo absent
  elif [ -f "$1/install/.complete" ]; then
    echo complete
  else
    echo partial
  fi
}

# mc_choose CACHE FALLBACK NAME: prints the cache directory to use for build NAME.  CACHE when it
# is writable, or when it holds NAME complete (read-only use); otherwise FALLBACK, with a warning
# naming CACHE and what to do.
mc_choose() {
  local cache=$1 fallback=$2 name=$3
  if mc_writable "$cache"; then
    echo "$cache"
  elif [ "$(mc_state "$cache/$name")" = complete ]; then
    mc_warn "$cache is not writable; using its complete build $name read-only"
    echo "$cache"
  else
    mc_warn "cannot write to the MPICH cache $cache (set FM_MPICH_CACHE to a writable directory" \
      "to share builds between build trees); building in $fallback instead"
    mc_writable "$fallback" || { printf 'build-mpich: error: cannot write to %s either\n' "$fallback" >&2; return 1; }
    echo "$fallback"
  fi
}

# mc_lock CACHE: takes the cache's builder lock on file descriptor 9, waiting for another builder
# with a message; mc_unlock releases it.
mc_lock() {
  mkdir -p "$1" && exec 9>>"$1/.lock" || return 1
  if ! flock -n 9; then
    mc_say "another MPICH build holds $1/.lock; waiting for it"
    flock 9 || return 1
  fi
}
mc_unlock() { exec 9>&-; }

# mc_prune CACHE VERSION CURRENT KEEP: removes builds of VERSION other than CURRENT, keeping the
# KEEP most recent complete ones; partial ones (killed builds) are removed too.  Call with the lock
# held.  Prints what it removes.
mc_prune() {
  local cache=$1 version=$2 current=$3 keep=$4 d kept=0
  # newest first; names are VERSION-KEY (no spaces)
  for d in $(ls -dt "$cache/$version"-* 2>/dev/null); do
    [ "$d" = "$current" ] && continue
    if [ "$(mc_state "$d")" = complete ] && [ "$kept" -lt "$keep" ]; then
      kept=$((kept + 1))
      continue
    fi
    mc_say "removing the older build $d"
    rm -rf "$d"
  done
  return 0
}

# mc_ensure CACHE VERSION BUILD_DIR KEEP BUILDER: makes BUILD_DIR complete, running the function
# BUILDER BUILD_DIR (which must create BUILD_DIR/install and return nonzero on failure) when it is
# not; then prunes.  The lock is held from the check to the end of pruning; a read-only cache with
# the build complete needs no lock.
mc_ensure() {
  local cache=$1 version=$2 build=$3 keep=$4 builder=$5
  if [ "$(mc_state "$build")" = complete ]; then
    mc_say "using the cached build $build"
    return 0
  fi
  mc_lock "$cache" || { printf 'build-mpich: error: cannot lock %s/.lock\n' "$cache" >&2; return 1; }
  local rc=0
  case $(mc_state "$build") in
  complete)
    mc_say "using the cached build $build (finished by another build while we waited)"
    ;;
  partial)
    mc_say "removing the unfinished build $build (killed or failed earlier)"
    rm -rf "$build"
    ;&
  absent)
    if ! "$builder" "$build"; then
      rc=1
    elif [ ! -d "$build/install" ]; then
      printf 'build-mpich: error: %s made no install\n' "$builder" >&2
      rc=1
    else
      touch "$build/install/.complete"
    fi
    ;;
  esac
  if [ "$rc" = 0 ]; then
    mc_prune "$cache" "$version" "$build" "$keep"
  fi
  mc_unlock
  return "$rc"
}
