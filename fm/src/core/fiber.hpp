// fiber.hpp - a stackful coroutine for handlers that may suspend in FM_receive.
//
// Only messages longer than one packet run on a fiber: a single-packet message has all its bytes
// when its handler starts, so its handler runs on the caller's stack and the small-message path
// never switches stacks.  On x86-64 the switch is a few instructions of our own (callee-saved
// registers, MXCSR and the x87 control word; no system call); elsewhere ucontext, whose
// swapcontext makes a signal-mask system call per switch.  With AddressSanitizer annotations.
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
  void to_fiber() noexcept;  // the bare switches, per implementation
  void to_caller() noexcept;
  void run() noexcept;  // on the fiber's stack: fn, then back to the caller for good
#if defined(__x86_64__) && !defined(FM_FIBER_UCONTEXT)
  static void entry(Fiber* self);
  void* sp_ = nullptr;         // the fiber's saved stack pointer
  void* caller_sp_ = nullptr;  // the scheduler's
#else
  static void entry(unsigned lo, unsigned hi);
  ucontext_t ctx_{};
  ucontext_t caller_{};
#endif
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
