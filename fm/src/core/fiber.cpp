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

#if defined(__x86_64__) && !defined(FM_FIBER_UCONTEXT)
// fm_fiber_switch(save, to): saves the callee-saved registers, MXCSR and the x87 control word on
// the current stack, stores the stack pointer in *save, switches to stack `to` and restores the
// same from it.  A new fiber's stack is prepared by start() to "return" into fm_fiber_start,
// which calls entry(r12) with r13 = entry.
extern "C" void fm_fiber_switch(void** save, void* to);
extern "C" void fm_fiber_start();
asm(R"(
  .text
  .globl fm_fiber_switch
  .hidden fm_fiber_switch
  .type fm_fiber_switch, @function
fm_fiber_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size fm_fiber_switch, .-fm_fiber_switch

  .globl fm_fiber_start
  .hidden fm_fiber_start
  .type fm_fiber_start, @function
fm_fiber_start:
  movq %r12, %rdi
  andq $-16, %rsp
  call *%r13
  ud2
  .size fm_fiber_start, .-fm_fiber_start
)");
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

#if defined(__x86_64__) && !defined(FM_FIBER_UCONTEXT)

void Fiber::start(Fn fn, void* arg) noexcept {
  fn_ = fn;
  arg_ = arg;
  finished_ = false;
  // The frame fm_fiber_switch pops: control words, r15, r14, r13 = entry, r12 = this, rbx, rbp,
  // return address = fm_fiber_start; then one empty slot.
  auto* top = reinterpret_cast<std::uint64_t*>(
      (reinterpret_cast<std::uintptr_t>(stack_) + stack_size_) & ~std::uintptr_t{15});
  std::uint64_t* f = top - 9;
  std::uint32_t mxcsr = 0;
  std::uint16_t fpucw = 0;
  asm volatile("stmxcsr %0; fnstcw %1" : "=m"(mxcsr), "=m"(fpucw));
  f[0] = mxcsr | (std::uint64_t{fpucw} << 32);
  f[1] = 0;                                               // r15
  f[2] = 0;                                               // r14
  f[3] = reinterpret_cast<std::uint64_t>(&Fiber::entry);  // r13
  f[4] = reinterpret_cast<std::uint64_t>(this);           // r12
  f[5] = 0;                                               // rbx
  f[6] = 0;                                               // rbp
  f[7] = reinterpret_cast<std::uint64_t>(&fm_fiber_start);
  f[8] = 0;
  sp_ = f;
}

void Fiber::to_fiber() noexcept {
  fm_fiber_switch(&caller_sp_, sp_);
}
void Fiber::to_caller() noexcept {
  fm_fiber_switch(&sp_, caller_sp_);
}
void Fiber::entry(Fiber* self) {
  self->run();
}

#else  // ucontext

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

void Fiber::to_fiber() noexcept {
  swapcontext(&caller_, &ctx_);
}
void Fiber::to_caller() noexcept {
  swapcontext(&ctx_, &caller_);
}
void Fiber::entry(unsigned lo, unsigned hi) {
  reinterpret_cast<Fiber*>(static_cast<std::uintptr_t>(lo) |
                           (static_cast<std::uintptr_t>(hi) << 32))
      ->run();
}

#endif

// Both implementations: the AddressSanitizer annotations around every switch.
void Fiber::resume() noexcept {
#ifdef FM_ASAN
  __sanitizer_start_switch_fiber(&sched_fake_, stack_, stack_size_);
  to_fiber();
  __sanitizer_finish_switch_fiber(sched_fake_, nullptr, nullptr);
#else
  to_fiber();
#endif
}

void Fiber::yield() noexcept {
#ifdef FM_ASAN
  __sanitizer_start_switch_fiber(&fiber_fake_, caller_bottom_, caller_size_);
  to_caller();
  __sanitizer_finish_switch_fiber(fiber_fake_, &caller_bottom_, &caller_size_);
#else
  to_caller();
#endif
}

void Fiber::run() noexcept {
#ifdef FM_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &caller_bottom_, &caller_size_);
#endif
  fn_(arg_);
  finished_ = true;
#ifdef FM_ASAN
  __sanitizer_start_switch_fiber(nullptr, caller_bottom_, caller_size_);
#endif
  to_caller();  // never resumed again until start()
  __builtin_unreachable();
}

}  // namespace fm::core
