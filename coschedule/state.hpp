// state.hpp - the layout of fm-dcsd's state file: one entry per boosted thread, written before
// the boost and cleared after the demotion, in a file on tmpfs (/run) that the daemon maps.  A
// daemon killed with -9 leaves its boosts listed there; the next one restores them at startup.
// Shared with the test client (tests/dcs_client.cpp), which lists live entries.
#ifndef FM_DCSD_STATE_HPP
#define FM_DCSD_STATE_HPP

#include <cstdint>

namespace fm::dcsd {

constexpr std::uint64_t kStateMagic = 0x3254534344434d46ull;  // "FMDCSST2"
constexpr unsigned kStateSlots = 4096;                        // = the client limit

struct StateEntry {
  std::uint32_t used;  // 1 while the thread is boosted; written last when set, first when cleared
  std::int32_t pid, tid;
  std::uint32_t policy;     // what to give back: SCHED_* before the boost
  std::uint64_t starttime;  // the thread's, so a reused tid is left alone
  std::int32_t nice;
  std::uint32_t prio;
  std::uint64_t flags;
  std::uint64_t runtime;  // a fair thread's slice in ns (FM_SLICE_US), 0: the default
};

struct StateTable {
  std::uint64_t magic;
  std::uint32_t slots;
  std::uint32_t pad;
  StateEntry entry[kStateSlots];
};

}  // namespace fm::dcsd

#endif
