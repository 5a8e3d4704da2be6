// runtime.hpp - SHMEM-FM's runtime: symmetric memory, address translation, the one-sided
// primitives every typed entry point reduces to, teams and the collective engine.
//
// Symmetric memory is the symmetric heap (a POSIX shared-memory object per PE, mapped by every PE
// of the same host: SMARTMAP-style direct access) and the executable's writable data segment
// (globals and statics).  A symmetric address on another PE is reached
//  * directly, with loads, stores and __atomic operations, when it lies in the heap of a PE on
//    this host (and direct access is on: SHMEM_FM_DIRECT, default 1);
//  * otherwise through FM's one-sided operations on the FM region that PE registered.
// Remote atomics are applied by FM at the target with __atomic builtins on the same physical
// memory, so direct and FM atomics on one word are atomic with respect to each other.
#pragma once

#include <fm/fm.h>
#include <shmem.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <vector>

struct shmemfm_team {
  std::uint32_t magic;
  std::vector<int> pes;  // world PE of each team member, by team rank
  int my = -1;           // this PE's team rank
  int slot = -1;         // its synchronization slot in the system area
  shmem_team_config_t config{};
  long config_mask = 0;
  int contexts = 0;  // contexts created on it and not destroyed
  bool predefined = false;
};

struct shmemfm_ctx {
  std::uint32_t magic;
  shmem_team_t team;
  long options;
  bool predefined;
};

namespace shmemfm {

constexpr std::uint32_t kTeamMagic = 0x7ea3f00d;
constexpr std::uint32_t kCtxMagic = 0xc7c7f00d;
constexpr int kSlots = 64;        // teams alive at once (world and shared included)
constexpr int kSyncWords = 72;    // per slot (== SHMEM_SYNC_SIZE): 64 barrier rounds, then:
constexpr int kCollectWord = 64;  // collect's element count
constexpr int kScratch = 65;      // 2 words of internal reductions (team split)

// Threads (SHMEM_THREAD_MULTIPLE).  FM is called by one thread at a time.  Once a program asked
// for MULTIPLE, every SHMEM-FM call into FM (and every change to the PE's shared bookkeeping)
// holds one recursive lock, for the duration of that FM call only: waits take it per poll, never
// across a wait, so a thread waiting for a flag never holds up the thread that will set it.  The
// same-host direct paths (loads, stores, __atomic operations on mapped memory) take no lock.
// Below MULTIPLE nothing is locked (one branch on a global).
extern bool g_multiple;
std::recursive_mutex& fm_mutex() noexcept;
void set_multiple() noexcept;
class FmLock {
 public:
  FmLock()
      : lk_(g_multiple ? std::unique_lock<std::recursive_mutex>(fm_mutex())
                       : std::unique_lock<std::recursive_mutex>()) {}

 private:
  std::unique_lock<std::recursive_mutex> lk_;
};

// Lifetime (runtime.cpp).
void initialize(const char* call);
void finalize(const char* call);
[[noreturn]] void global_exit(int status);
std::byte* sys_area() noexcept;  // system area: kSlots x kSyncWords synchronization words
std::byte* heap_user_base() noexcept;
std::size_t heap_user_bytes() noexcept;
bool initialized() noexcept;

[[noreturn]] void fatal(const char* call, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
void warn(const char* call, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void require_init(const char* call);

int my_pe() noexcept;
int n_pes() noexcept;

// World PE of `pe` in the context's team; fails (fatal) on an invalid context or PE.
int world_pe(shmem_ctx_t ctx, int pe, const char* call);

// One-sided primitives (pe is a world PE; call names the entry point for errors).
void put(void* dst, const void* src, std::size_t n, int pe, bool nbi, const char* call);
void get(void* dst, const void* src, std::size_t n, int pe, bool nbi, const char* call);
void iput(void* dst, const void* src, std::ptrdiff_t dst_stride, std::ptrdiff_t src_stride,
          std::size_t elem, std::size_t n, int pe, const char* call);
void iget(void* dst, const void* src, std::ptrdiff_t dst_stride, std::ptrdiff_t src_stride,
          std::size_t elem, std::size_t n, int pe, const char* call);
// Atomic on the 4- or 8-byte word at dst.  op is an FM_ATOMIC_*.  With fetch (or nbi_result) the
// old value is returned (stored at nbi_result when it completes: shmem_quiet).
std::uint64_t amo(void* dst, int op, std::size_t size, std::uint64_t operand, std::uint64_t compare,
                  int pe, bool fetch, void* nbi_result, const char* call);
void put_signal(void* dst, const void* src, std::size_t n, std::uint64_t* sig, std::uint64_t signal,
                int sig_op, int pe, bool nbi, const char* call);
void fence(const char* call);
void quiet(const char* call);
// One round of progress (while waiting).  With several threads, when another thread is in FM
// already (making progress for the whole PE), returns without waiting for it.
void poll(const char* call);
// Progress every 64th call: for operations that complete without FM but that programs repeat in
// a loop (reads, atomics and satisfied waits on memory of this host).
void progress_tick(const char* call);

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Waits until done() (memory other PEs write, with FM operations or with direct stores): checks
// memory a few times between polls; once FM says waits should sleep on this host
// (FM_idle_blocks: more ranks than CPUs), sleeps in FM_wait_until, woken by FM's packets and by
// same-host PEs' FM_notify after their direct stores (notify_direct).  With several threads
// (g_multiple) it only polls: a sleep in FM would hold the FM lock that the program's other
// threads need, perhaps to make done() true.
void wait_failed(const char* call, int rc);
template <class F>
void wait_until_true(F&& done, const char* call) {
  for (unsigned round = 0;; ++round) {
    for (int i = 0; i < 32; ++i) {
      if (done()) return;
      cpu_relax();
    }
    if (round >= 4 && !g_multiple && FM_idle_blocks()) {
      const int rc = FM_wait_until(
          [](void* a) -> int { return (*static_cast<std::remove_reference_t<F>*>(a))() ? 1 : 0; },
          &done, -1);
      if (rc != FM_SUCCESS) wait_failed(call, rc);
      return;
    }
    poll(call);
  }
}
// After a direct store into same-host PE pe's memory: wakes it if it sleeps in a wait.
inline void notify_direct(int pe) {
  const FmLock lock;
  (void)FM_notify(static_cast<unsigned>(pe));
}

// Direct pointer to `addr` (symmetric) on world PE pe, or nullptr.
void* direct_ptr(const void* addr, int pe) noexcept;
bool is_symmetric(const void* addr) noexcept;

// Teams and the collective engine.  A Set is a team or an active set: its members' world PEs,
// this PE's index, and its symmetric synchronization words (kSyncWords longs).
struct Set {
  const int* pes;
  int n;
  int me;
  std::uint64_t* sync;
};
void teams_init(int npes, int me, std::vector<int> shared);
void teams_fini();
shmem_team_t team_world() noexcept;
bool valid_team(shmem_team_t t) noexcept;
Set team_set(shmem_team_t t, const char* call);  // fatal if invalid or not a member
Set active_set(int start, int log_stride, int size, long* psync, std::vector<int>* storage,
               const char* call);
void barrier(const Set& s, const char* call);
void broadcast(const Set& s, void* dst, const void* src, std::size_t n, int root, bool to_root,
               const char* call);
void fcollect(const Set& s, void* dst, const void* src, std::size_t n, const char* call);
void collect(const Set& s, void* dst, const void* src, std::size_t n, const char* call);
void alltoalls(const Set& s, void* dst, const void* src, std::ptrdiff_t dst_stride,
               std::ptrdiff_t src_stride, std::size_t elem, std::size_t nelems, const char* call);
// Reduction: combine(acc, in, count) folds `in` into `acc`.
using Combine = void (*)(void* acc, const void* in, std::size_t count);
void reduce(const Set& s, void* dst, const void* src, std::size_t count, std::size_t elem,
            Combine combine, const char* call);

}  // namespace shmemfm
