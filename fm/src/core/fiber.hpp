// fiber.hpp - a stackful coroutine for handlers that may suspend in FM_receive.
//
// Only messages longer than one packet run on a fiber: a single-packet message has all its bytes
// when its handler starts, so its handler runs on the caller's stack and the small-message path
// never switches stacks.  Built on ucontext (portable; its signal-mask system call is paid only by
// multi-packet messages), with AddressSanitizer fiber annotations.
#pragma once

#include <ucontext.h>

#include <cstddef>

namespace fm::core {

class Fiber {
 public:
  using Fn = void (*)(void*);
  // Allocates the stack (mmap, with a guard page).  ok() is false when that failed.
  explicit Fiber(std::size_t stack_size);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  bool ok() const noexcept { return stack_ != nullptr; }
  // Prepares the fiber to run fn(arg) from its start at the next resume().
  void start(Fn fn, void* arg) noexcept;
  // Scheduler side: runs the fiber until it yields or fn returns.
  void resume() noexcept;
  // Fiber side: returns control to the scheduler that last resumed it.
  void yield() noexcept;
  bool finished() const noexcept { return finished_; }

 private:
  static void entry(unsigned lo, unsigned hi);

  ucontext_t ctx_{};
  ucontext_t caller_{};
  void* map_ = nullptr;
  void* stack_ = nullptr;
  std::size_t map_size_ = 0;
  std::size_t stack_size_ = 0;
  Fn fn_ = nullptr;
  void* arg_ = nullptr;
  bool finished_ = true;
  // AddressSanitizer bookkeeping of the scheduler's stack.
  const void* caller_bottom_ = nullptr;
  std::size_t caller_size_ = 0;
  void* sched_fake_ = nullptr;
  void* fiber_fake_ = nullptr;
};

}  // namespace fm::core
