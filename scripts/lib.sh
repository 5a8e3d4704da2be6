# lib.sh - shared by demo.sh and test.sh (sourced; POSIX sh).

# run_logged LOG WHAT CMD...: runs CMD with all its output in LOG, showing as they come the lines a
# person waits for: the MPICH build's progress ([mpich ...], [testsuite ...]), build-mpich's
# errors, and ninja's progress every 10 %.  On failure prints why (the first failed ninja step and
# what was printed around it, else the end of the log) and the log's path, and returns 1.
run_logged() {
  # mawk (Debian's awk) reads a pipe in large blocks unless told otherwise
  _awk=awk
  awk -W version 2>/dev/null | grep -q mawk && _awk="awk -W interactive"
  _log=$1 _what=$2
  shift 2
  mkdir -p "$(dirname "$_log")"
  : >"$_log"
  { "$@" 2>&1; echo "$?" >"$_log.rc"; } | tee -a "$_log" | $_awk '
    /^\[(mpich|testsuite) / || /^build-mpich:/ || /^CMake Error/ { print; fflush(); next }
    match($0, /^\[[0-9]+\/[0-9]+\] /) {
      split(substr($0, 2, RLENGTH - 3), p, "/")
      step = int(10 * p[1] / p[2])
      if (step > last) { last = step; printf "[build %s] %s of %s steps (%d %%)\n",
                                              strftime("%H:%M:%S"), p[1], p[2], 100 * p[1] / p[2]; fflush() }
    }'
  _rc=$(cat "$_log.rc" 2>/dev/null || echo 1)
  rm -f "$_log.rc"
  [ "$_rc" = 0 ] && return 0
  echo >&2
  if grep -q '^FAILED: ' "$_log"; then
    # a compiler's message follows ninja's FAILED line; a console step's (the MPICH build)
    # precedes it
    echo "$_what failed; the first failed step and what was printed around it:" >&2
    _n=$(grep -n -m 1 '^FAILED: ' "$_log" | cut -d: -f1)
    sed -n "$((_n > 20 ? _n - 20 : 1)),$((_n + 60))p" "$_log" | grep -v '^\[[0-9]*/[0-9]*\] ' |
      sed 's/^/  | /' >&2
  else
    echo "$_what failed; the last lines of its output:" >&2
    tail -n 40 "$_log" | sed 's/^/  | /' >&2
  fi
  echo "$_what failed (exit $_rc); whole log: $_log" >&2
  return 1
}
