// sched.hpp - what fm-dcsd does to threads: read their state from /proc, save and set their
// scheduling attributes, and keep the state file that lets a restarted daemon undo the boosts
// of one that died.
#ifndef FM_DCSD_SCHED_HPP
#define FM_DCSD_SCHED_HPP

#include <fm/fm_topology.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "state.hpp"

namespace fm::dcsd {

// What the daemon saves of a thread before a boost and gives back after it (policy, nice,
// priority, the reset-on-fork flag and a fair thread's slice: FM asks for a short one,
// FM_SLICE_US), read and set with FM's public helpers (fm/fm_topology.h; the daemon still never
// links libfm: the fm_topology objects are compiled in).  Value-initialize it ({}).  False with
// errno.
using SchedAttr = FM_sched_attr;
inline bool get_attr(pid_t tid, SchedAttr* a) {
  return FM_sched_get(tid, a) == 0;
}
inline bool set_attr(pid_t tid, const SchedAttr& a) {
  return FM_sched_set(tid, &a) == 0;
}

// /proc/PID/task/TID/stat's state letter and starttime; false if the thread is gone.
bool read_task(pid_t pid, pid_t tid, char* state, std::uint64_t* starttime);
// /proc/PID/task/TID/schedstat: ns on CPU, ns waited runnable.
bool read_schedstat(pid_t pid, pid_t tid, std::uint64_t* run_ns, std::uint64_t* delay_ns);

class StateFile {
 public:
  ~StateFile();
  // Opens (creating it and its directory) and locks the file; false with *err.
  bool open(const std::string& path, std::string* err);
  // Gives back every saved attribute whose thread still lives (same starttime); calls `said`
  // for each; clears the table.
  void restore(const std::function<void(const StateEntry&)>& said);
  void save(unsigned slot, pid_t pid, pid_t tid, std::uint64_t starttime, const SchedAttr& a);
  void clear(unsigned slot);
  void clear_all();

 private:
  StateTable* t_ = nullptr;
  int fd_ = -1;
};

}  // namespace fm::dcsd

#endif
