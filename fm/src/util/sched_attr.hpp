// sched_attr.hpp - a thread's scheduling attributes through sched_getattr/sched_setattr (by
// system call: glibc 2.36 has no wrappers), for FM's thread (FM_SLICE_US, a boost undone by the
// client) and for fm-dcsd (boosts saved and given back).  Header-only: the daemon never links
// libfm.
//
// `runtime` is the slice a SCHED_OTHER/BATCH/IDLE thread asks for (Linux 6.12 and later: EEVDF's
// custom slice, 100 us..100 ms; a shorter one lets the thread preempt, when it wakes, a thread
// that has used less than its own slice).  Earlier kernels read it as 0 and ignore it when set.
#pragma once

#include <sched.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace fm::sched {

struct Attr {
  std::uint32_t policy = 0;  // SCHED_*
  std::int32_t nice = 0;
  std::uint32_t prio = 0;
  std::uint64_t flags = 0;    // SCHED_FLAG_RESET_ON_FORK, the only flag worth giving back
  std::uint64_t runtime = 0;  // ns: the slice of a fair policy; 0: the kernel's default
};

inline bool fair_policy(std::uint32_t policy) noexcept {
  return policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE;
}

namespace detail {
// the kernel's struct sched_attr (SCHED_ATTR_SIZE_VER1); linux/sched/types.h clashes with
// later glibc, so it is spelled out
struct KernelAttr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime, sched_deadline, sched_period;
  std::uint32_t sched_util_min, sched_util_max;
};
static_assert(sizeof(KernelAttr) == 56);
constexpr std::uint64_t kResetOnFork = 0x01;  // SCHED_FLAG_RESET_ON_FORK
}  // namespace detail

// tid 0: the calling thread.  False with errno.
inline bool get_attr(pid_t tid, Attr* a) noexcept {
  detail::KernelAttr k;
  std::memset(&k, 0, sizeof k);
  if (syscall(SYS_sched_getattr, tid, &k, sizeof k, 0) != 0) return false;
  a->policy = k.sched_policy;
  a->nice = k.sched_nice;
  a->prio = k.sched_priority;
  a->flags = k.sched_flags & detail::kResetOnFork;
  a->runtime = fair_policy(k.sched_policy) ? k.sched_runtime : 0;
  return true;
}

inline bool set_attr(pid_t tid, const Attr& a) noexcept {
  detail::KernelAttr k;
  std::memset(&k, 0, sizeof k);
  k.size = sizeof k;
  k.sched_policy = a.policy;
  k.sched_flags = a.flags & detail::kResetOnFork;
  k.sched_nice = a.nice;
  k.sched_priority = a.prio;
  k.sched_runtime = fair_policy(a.policy) ? a.runtime : 0;
  return syscall(SYS_sched_setattr, tid, &k, 0) == 0;
}

}  // namespace fm::sched
