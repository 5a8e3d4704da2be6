#include "util/membarrier.hpp"

#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "util/log.hpp"

namespace fm::membarrier {
namespace {

std::atomic<int> state{0};  // 0 not tried, 1 registered, -1 unavailable

long call(int cmd) noexcept {
  return syscall(SYS_membarrier, cmd, 0u, 0);
}

}  // namespace

bool enable() noexcept {
  int s = state.load(std::memory_order_acquire);
  if (s != 0) return s > 0;
  const long q = call(MEMBARRIER_CMD_QUERY);
  s = q >= 0 && (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0 &&
              call(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0
          ? 1
          : -1;
  state.store(s, std::memory_order_release);
  return s > 0;
}

bool enabled() noexcept {
  return state.load(std::memory_order_relaxed) > 0;
}

void global() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!enabled()) return;
  // The kernel may lack the memory for a CPU mask for a moment (ENOMEM): try again.  If it still
  // fails, senders that skip their fence may go unseen: a packet then waits for the receiver's
  // next sweep of its rings, a sleeper for the end of its nap (bounded, nothing lost); say so.
  int e = 0;
  for (int i = 0; i < 100; ++i) {
    if (call(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0) return;
    e = errno;
    if (e != ENOMEM && e != EINTR && e != EAGAIN) break;
    sched_yield();
  }
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true))
    FM_WARN(
        "membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) failed: %s; same-host packets may be "
        "delayed (set FM_SHM_MEMBARRIER=off on every rank)",
        std::strerror(e));
}

}  // namespace fm::membarrier
