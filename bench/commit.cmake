# commit.cmake - writes OUT with the source tree's commit for fm_perf's header:
#   #define FM_PERF_COMMIT "<short hash>[-dirty]"
# Run at every build (cmake -DSRC=... -DOUT=... -P commit.cmake); OUT changes only when the commit
# does.  Read-only git commands: GIT_OPTIONAL_LOCKS=0 keeps `git status` off the index lock.
set(ENV{GIT_OPTIONAL_LOCKS} 0)
execute_process(COMMAND git -C "${SRC}" rev-parse --short HEAD OUTPUT_VARIABLE commit
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
else()
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE changes ERROR_QUIET RESULT_VARIABLE rc)
  if(rc EQUAL 0 AND NOT changes STREQUAL "")
    string(APPEND commit "-dirty")
  endif()
endif()
file(CONFIGURE OUTPUT "${OUT}" CONTENT "#define FM_PERF_COMMIT \"${commit}\"\n" @ONLY)
