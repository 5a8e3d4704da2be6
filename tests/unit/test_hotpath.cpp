// The hot-path rule (ARCHITECTURE.md, the quality bar): no allocation and no system call on the
// small-message send and extract paths.  Two nodes joined by FM's shm transport run in one thread
// of a forked child: after a warm-up, the checked loop runs under a seccomp filter that traps
// every system call but write(2) (the report), exit_group(2), sigaltstack(2) (the sanitizers'
// runtime, when the child exits) and the clock's (a vDSO call where the machine has one, a
// system call where it has not: that is the machine's, not FM's), with allocations counted by
// this executable's malloc (not under ASan, which owns malloc).  The loop's calls:
//   FM_send_4, FM_send and FM_try_send of 8 bytes; FM_begin_message / FM_send_piece /
//   FM_end_message of 8 bytes; FM_extract with a message (the handler's FM_receive) and empty;
//   and, in the second test, FM_put_nb, FM_get_nb and a fetching FM_atomic_nb of 8 bytes with
//   their handles, the target's FM_extract serving them and the origin's FM_test.
// The peer-liveness check (a poll(2) of the peers' process descriptors) is gated by time, once per
// FM_LIVENESS_MS, not by calls: the test sets it beyond its run.  No progress thread runs, so no
// lock is taken either (the API lock exists only with one).
#include <fm/fm.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/context.hpp"

#if defined(__SANITIZE_ADDRESS__)  // (GCC's; the project's sanitizer build uses GCC)
#define FM_COUNT_ALLOCS 0          // ASan owns malloc: only the system calls are checked
#else
#define FM_COUNT_ALLOCS 1
#endif

namespace {
bool g_counting = false;
long g_allocs = 0;
}  // namespace

#if FM_COUNT_ALLOCS
// Every allocation of this process goes through these (operator new calls malloc); glibc's own
// entry points do the work.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* malloc(std::size_t n) {
  if (g_counting) ++g_allocs;
  return __libc_malloc(n);
}
void* calloc(std::size_t k, std::size_t n) {
  if (g_counting) ++g_allocs;
  return __libc_calloc(k, n);
}
void* realloc(void* p, std::size_t n) {
  if (g_counting) ++g_allocs;
  return __libc_realloc(p, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
  if (g_counting) ++g_allocs;
  return __libc_memalign(a, n);
}
void* memalign(std::size_t a, std::size_t n) {
  if (g_counting) ++g_allocs;
  return __libc_memalign(a, n);
}
int posix_memalign(void** p, std::size_t a, std::size_t n) {
  if (g_counting) ++g_allocs;
  *p = __libc_memalign(a, n);
  return *p != nullptr ? 0 : ENOMEM;
}
}
#endif

namespace {

using fm::core::Context;
using fm::core::ScopedCurrent;

int g_report = -1;        // the child's end of the pipe
std::uint64_t g_sum = 0;  // what the handlers received

void say(const char* s) {
  (void)!write(g_report, s, std::strlen(s));
}

// exit_group(2) itself, not through libc: the sanitizers' interceptors make system calls of
// their own.
[[noreturn]] void quit(int status) {
#if defined(__x86_64__)
  asm volatile("syscall" : : "a"(__NR_exit_group), "D"(status) : "rcx", "r11", "memory");
#endif
  _exit(status);
}

void on_sigsys(int, siginfo_t* si, void*) {  // a system call the filter trapped
  char buf[96];
  std::snprintf(buf, sizeof buf, "system call %d on the hot path\n", si->si_syscall);
  say(buf);
  quit(3);
}

int h_small(FM_stream* s, unsigned) {
  std::uint64_t v = 0;
  if (FM_receive(&v, s, FM_stream_length(s) >= 8 ? 8 : 4) < 0) return FM_CONTINUE;
  g_sum += v;
  return FM_CONTINUE;
}

bool install_filter() {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 6, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sigaltstack, 5, 0),  // the sanitizers' exit
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clock_gettime, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_gettimeofday, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
  struct sigaction sa {};
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  if (sigaction(SIGSYS, &sa, nullptr) != 0) return false;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

// One round: node 0 sends each kind once, node 1 extracts them (and once more, empty); then the
// same the other way.  Returns false (with a line on the pipe) on an error.
bool round(Context& a, Context& b, unsigned from, std::uint64_t v) {
  const unsigned to = 1 - from;
  {
    ScopedCurrent cur(&a);
    const std::uint64_t w = v;
    if (FM_send_4(to, 5, static_cast<std::uint32_t>(v), 0, 0, 0) != FM_SUCCESS ||
        FM_send(to, 5, &w, 8) != FM_SUCCESS || FM_try_send(to, 5, &w, 8) != FM_SUCCESS) {
      say("a send failed: ");
      say(FM_last_error());
      say("\n");
      return false;
    }
    FM_stream* s = FM_begin_message(to, 8, 5);
    if (s == nullptr || FM_send_piece(s, &w, 8) != FM_SUCCESS || FM_end_message(s) != FM_SUCCESS) {
      say("a streamed send failed\n");
      return false;
    }
    if (FM_extract(SIZE_MAX) < 0) return false;  // credits coming back, or nothing
  }
  ScopedCurrent cur(&b);
  const std::uint64_t before = g_sum;
  for (int i = 0; i < 16 && g_sum != before + 4 * v; ++i)
    if (FM_extract(SIZE_MAX) < 0) return false;
  if (g_sum != before + 4 * v) {
    say("the four messages were not all handled\n");
    return false;
  }
  return FM_extract(SIZE_MAX) >= 0;  // empty
}

// One-sided: node 0 puts, gets and fetch-adds 8 bytes in node 1's registered memory (non-blocking,
// each with its handle), node 1 extracts (serving them), node 0 tests the handles until done.
std::uint64_t g_target[4];
FM_region g_region;
bool rma_round(Context& a, Context& b, std::uint64_t v) {
  FM_request* req[3] = {};
  std::uint64_t got = 0, old = 0;
  const std::uint64_t one = 1;
  {
    ScopedCurrent cur(&a);
    if (FM_put_nb(&g_region, 0, &v, 8, &req[0]) != FM_SUCCESS ||
        FM_get_nb(&g_region, 0, &got, 8, &req[1]) != FM_SUCCESS ||
        FM_atomic_nb(&g_region, 8, FM_ATOMIC_ADD, FM_UINT64, &one, nullptr, &old, &req[2]) !=
            FM_SUCCESS) {
      say("a one-sided call failed: ");
      say(FM_last_error());
      say("\n");
      return false;
    }
  }
  for (int left = 3, i = 0; left > 0; ++i) {
    if (i > 64) {
      say("one-sided operations not done\n");
      return false;
    }
    {
      ScopedCurrent cur(&b);
      if (FM_extract(SIZE_MAX) < 0) return false;
    }
    ScopedCurrent cur(&a);
    if (FM_extract(SIZE_MAX) < 0) return false;
    for (auto& r : req) {
      int done = 0;
      if (r != nullptr && FM_test(r, &done) == FM_SUCCESS && done) {
        r = nullptr;
        --left;
      }
    }
  }
  if (got != v) {
    say("get returned the wrong value\n");
    return false;
  }
  return true;
}

// The child: writes a line on the pipe and exits (returns its exit status on a set-up error).
int child(bool one_sided) {
  fm::Config cfg;
  cfg.liveness_ms = 60000;
  int rc = 0;
  auto j = Context::create_loopback_job(2, cfg, &rc, nullptr, nullptr, -1, false, /*shm=*/true);
  if (j.size() != 2) {
    say("job set-up failed\n");
    return 2;
  }
  for (auto& c : j) {
    ScopedCurrent cur(c.get());
    if (FM_register_handler(5, h_small) < 0) return 2;
  }
  if (one_sided) {
    ScopedCurrent cur(j[1].get());
    if (FM_register_memory(g_target, sizeof g_target, FM_ACCESS_ALL, &g_region) != FM_SUCCESS) {
      say("FM_register_memory failed\n");
      return 2;
    }
  }
  // one round of the kind checked; the warm-up fills pools, fibers and credits
  auto one = [&](std::uint64_t i) {
    return one_sided ? rma_round(*j[0], *j[1], i) : round(*j[i & 1], *j[1 - (i & 1)], i & 1, i);
  };
  for (std::uint64_t i = 1; i <= 2000; ++i)
    if (!one(i)) return 2;
  if (!install_filter()) {
    say("seccomp filter not installed\n");
    return 4;
  }
  g_counting = true;
  for (std::uint64_t i = 1; i <= 20000; ++i)
    if (!one(i)) return 2;
  g_counting = false;
  char buf[64];
  std::snprintf(buf, sizeof buf, "allocations %ld\n", g_allocs);
  say(buf);
  quit(g_allocs == 0 ? 0 : 5);  // before the job's tear-down, which may call the system
}

// Runs child(one_sided) in a forked process and checks its report.
void check_child(bool one_sided) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the seccomp filter names x86-64's system calls";
#endif
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    g_report = fds[1];
    _exit(child(one_sided));
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died: " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
                                 << "\n"
                                 << out;
  if (WEXITSTATUS(status) == 4) GTEST_SKIP() << "seccomp unavailable here: " << out;
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
#if FM_COUNT_ALLOCS
  EXPECT_NE(out.find("allocations 0"), std::string::npos) << out;
#endif
}

TEST(HotPath, SmallSendsAndExtractsMakeNoSystemCallAndAllocateNothing) {
  check_child(false);
}

// FM's one-sided operations of 8 bytes (through FM over its shm transport, the default there):
// the origin's calls, the target's extraction that serves them, the origin's FM_test.
TEST(HotPath, SmallOneSidedOperationsMakeNoSystemCallAndAllocateNothing) {
  check_child(true);
}

}  // namespace
