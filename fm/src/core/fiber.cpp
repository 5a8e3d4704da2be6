#include "core/fiber.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
#define FM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FM_ASAN 1
#endif
#endif

#ifdef FM_ASAN
extern "C" {
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     size_t* size_old);
}
#endif

namespace fm::core {

Fiber::Fiber(std::size_t stack_size) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  stack_size_ = (stack_size + page - 1) / page * page;
  map_size_ = stack_size_ + page;
  void* m = mmap(nullptr, map_size_, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (m == MAP_FAILED) return;
  mprotect(m, page, PROT_NONE);  // guard page below the stack: overflow faults, not corrupts
  map_ = m;
  stack_ = static_cast<char*>(m) + page;
}

Fiber::~Fiber() {
  if (map_ != nullptr) munmap(map_, map_size_);
}

void Fiber::start(Fn fn, void* arg) noexcept {
  fn_ = fn;
  arg_ = arg;
  finished_ = false;
  getcontext(&ctx_);
  ctx_.uc_stack.ss_sp = stack_;
  ctx_.uc_stack.ss_size = stack_size_;
  ctx_.uc_link = nullptr;
  auto p = reinterpret_cast<std::uintptr_t>(this);
  makecontext(&ctx_, reinterpret_cast<void (*)()>(&Fiber::entry), 2,
              static_cast<unsigned>(p & 0xffffffffu), static_cast<unsigned>(p >> 32));
}

void Fiber::resume() noexcept {
#ifdef FM_ASAN
  __sanitizer_start_switch_fiber(&sched_fake_, stack_, stack_size_);
  swapcontext(&caller_, &ctx_);
  __sanitizer_finish_switch_fiber(sched_fake_, nullptr, nullptr);
#else
  swapcontext(&caller_, &ctx_);
#endif
}

void Fiber::yield() noexcept {
#ifdef FM_ASAN
  __sanitizer_start_switch_fiber(&fiber_fake_, caller_bottom_, caller_size_);
  swapcontext(&ctx_, &caller_);
  __sanitizer_finish_switch_fiber(fiber_fake_, &caller_bottom_, &caller_size_);
#else
  swapcontext(&ctx_, &caller_);
#endif
}

void Fiber::entry(unsigned lo, unsigned hi) {
  auto* self = reinterpret_cast<Fiber*>(static_cast<std::uintptr_t>(lo) |
                                        (static_cast<std::uintptr_t>(hi) << 32));
#ifdef FM_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &self->caller_bottom_, &self->caller_size_);
#endif
  self->fn_(self->arg_);
  self->finished_ = true;
#ifdef FM_ASAN
  __sanitizer_start_switch_fiber(nullptr, self->caller_bottom_, self->caller_size_);
#endif
  setcontext(&self->caller_);
  __builtin_unreachable();
}

}  // namespace fm::core
