#include "util/membarrier.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

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
  if (!enabled() || call(MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0)
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace fm::membarrier
