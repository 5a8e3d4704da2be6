// api.cpp - setup and query, symmetric heap, contexts, ordering, locks, point-to-point
// synchronization, and the deprecated untyped calls.
#include <sched.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>

#include "heap.hpp"
#include "runtime.hpp"

using namespace shmemfm;

namespace {

void barrier_all(const char* call) {
  quiet(call);
  barrier(team_set(SHMEM_TEAM_WORLD, call), call);
}

void* alloc(std::size_t size, std::size_t align, const char* call) {
  require_init(call);
  void* p = size == 0 ? nullptr : heap_alloc(size, align);
  if (size != 0 && p == nullptr && my_pe() == 0)
    warn(call,
         "the symmetric heap cannot hold %zu bytes (largest free block %zu bytes; "
         "SHMEM_SYMMETRIC_SIZE sets the heap size, now %zu bytes): returning NULL",
         size, heap_largest_free(), heap_user_bytes());
  barrier_all(call);
  return p;
}

template <class T>
bool compare(T v, int cmp, T ref, const char* call) {
  switch (cmp) {
    case SHMEM_CMP_EQ:
      return v == ref;
    case SHMEM_CMP_NE:
      return v != ref;
    case SHMEM_CMP_GT:
      return v > ref;
    case SHMEM_CMP_GE:
      return v >= ref;
    case SHMEM_CMP_LT:
      return v < ref;
    case SHMEM_CMP_LE:
      return v <= ref;
    default:
      fatal(call, "comparison %d is not one of SHMEM_CMP_EQ/NE/GT/GE/LT/LE", cmp);
  }
}

template <class T>
T load(const T* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

template <class T>
void check_ivar(const T* p, const char* call) {
  require_init(call);
  if (p == nullptr || !is_symmetric(p))
    fatal(call, "ivar %p is not a symmetric object", (const void*)p);
}

// test forms: what is satisfied now.
template <class T>
bool test1(T* ivar, int cmp, T value, const char* call) {
  return compare(load(ivar), cmp, value, call);
}

template <class T>
int test_all(T* iv, std::size_t n, const int* status, int cmp, const T* vals, T value,
             const char* call) {
  for (std::size_t i = 0; i < n; ++i)
    if ((status == nullptr || status[i] == 0) &&
        !compare(load(&iv[i]), cmp, vals != nullptr ? vals[i] : value, call))
      return 0;
  return 1;
}

// The _any forms scan from the index after the one they returned last (one cursor per PE, as
// the specification allows), so that a series of calls returns every satisfied index in turn
// (OpenSHMEM 1.5, 9.10: "a series of calls ... must eventually return" each of them), even when
// the program neither sets status nor changes the flags it was given.  One cursor per thread.
thread_local std::size_t g_any_next = 0;

template <class T>
std::size_t test_any(T* iv, std::size_t n, const int* status, int cmp, const T* vals, T value,
                     const char* call) {
  if (n == 0) return SIZE_MAX;
  std::size_t i = g_any_next < n ? g_any_next : 0;
  for (std::size_t k = 0; k < n; ++k, i = i + 1 == n ? 0 : i + 1)
    if ((status == nullptr || status[i] == 0) &&
        compare(load(&iv[i]), cmp, vals != nullptr ? vals[i] : value, call)) {
      g_any_next = i + 1;
      return i;
    }
  return SIZE_MAX;
}

// The _some forms return every satisfied index at each call, so they are fair as they stand.
template <class T>
std::size_t test_some(T* iv, std::size_t n, std::size_t* idx, const int* status, int cmp,
                      const T* vals, T value, const char* call) {
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i)
    if ((status == nullptr || status[i] == 0) &&
        compare(load(&iv[i]), cmp, vals != nullptr ? vals[i] : value, call))
      idx[k++] = i;
  return k;
}

bool none_active(std::size_t n, const int* status) {
  if (n == 0) return true;
  if (status == nullptr) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (status[i] == 0) return false;
  return true;
}

// Waits poll FM, so that operations of other PEs on this PE's memory complete; between polls
// they re-check memory a few times (stores of same-host PEs need no FM progress to arrive).
template <class F>
void wait_for(F&& done, const char* call) {
  if (done()) {  // satisfied at once: programs may call again and again (wait_until_some)
    progress_tick(call);
    return;
  }
  wait_until_true(done, call);
}

// The wait and test families, for a scalar comparison value (vals == nullptr) or a vector.
// Waits return at once when satisfied; tests never wait.  Both drive FM's progress, so that a
// program calling them in a loop sees other PEs' operations on its memory.
template <class T>
void wait_all(T* iv, std::size_t n, const int* st, int cmp, const T* vals, T v, const char* call) {
  if (n > 0) check_ivar(iv, call);
  wait_for([&] { return test_all<T>(iv, n, st, cmp, vals, v, call) != 0; }, call);
}

template <class T>
std::size_t wait_any(T* iv, std::size_t n, const int* st, int cmp, const T* vals, T v,
                     const char* call) {
  if (none_active(n, st)) return SIZE_MAX;
  check_ivar(iv, call);
  std::size_t i = SIZE_MAX;
  wait_for([&] { return (i = test_any<T>(iv, n, st, cmp, vals, v, call)) != SIZE_MAX; }, call);
  return i;
}

template <class T>
std::size_t wait_some(T* iv, std::size_t n, std::size_t* idx, const int* st, int cmp, const T* vals,
                      T v, const char* call) {
  if (none_active(n, st)) return 0;
  check_ivar(iv, call);
  std::size_t k = 0;
  wait_for([&] { return (k = test_some<T>(iv, n, idx, st, cmp, vals, v, call)) != 0; }, call);
  return k;
}

// After a test: progress at once when nothing was satisfied, now and then when something was.
void after_test(bool satisfied, const char* call) {
  if (satisfied)
    progress_tick(call);
  else
    poll(call);
}

template <class T>
int poll_all(T* iv, std::size_t n, const int* st, int cmp, const T* vals, T v, const char* call) {
  if (n > 0) check_ivar(iv, call);
  const int r = test_all<T>(iv, n, st, cmp, vals, v, call);
  after_test(r != 0, call);
  return r;
}

template <class T>
std::size_t poll_any(T* iv, std::size_t n, const int* st, int cmp, const T* vals, T v,
                     const char* call) {
  if (none_active(n, st)) return SIZE_MAX;
  check_ivar(iv, call);
  const std::size_t i = test_any<T>(iv, n, st, cmp, vals, v, call);
  after_test(i != SIZE_MAX, call);
  return i;
}

template <class T>
std::size_t poll_some(T* iv, std::size_t n, std::size_t* idx, const int* st, int cmp, const T* vals,
                      T v, const char* call) {
  if (none_active(n, st)) return 0;
  check_ivar(iv, call);
  const std::size_t k = test_some<T>(iv, n, idx, st, cmp, vals, v, call);
  after_test(k != 0, call);
  return k;
}

shmemfm_ctx* new_ctx(shmem_team_t team, long options) {
  auto* c = new (std::nothrow) shmemfm_ctx{kCtxMagic, team, options, false};
  const FmLock lock;  // the team's context count
  if (c != nullptr) ++team->contexts;
  return c;
}

// Ticket lock in the word on PE 0: high half = next ticket, low half = now serving.
constexpr std::uint64_t kTicket = std::uint64_t{1} << 32;

void check_lock(long* lock, const char* call) {
  require_init(call);
  if (lock == nullptr || !is_symmetric(lock))
    fatal(call, "lock %p is not a symmetric long", (void*)lock);
}

// With SHMEM_THREAD_MULTIPLE, threads of one PE that want the same lock queue here first, so that
// a PE holds at most one ticket of a lock at a time: the lock belongs to the PE (OpenSHMEM 1.5,
// 9.11), and a ticket lock whose next tickets belong to descheduled threads of many PEs hands
// over only as fast as the scheduler runs them.  Released by whichever thread clears the lock.
struct LocalLock {
  std::atomic<bool> held{false};
};
std::unordered_map<const long*, std::unique_ptr<LocalLock>> g_local_locks;  // under FmLock

LocalLock* local_lock(const long* lock) {
  if (!g_multiple) return nullptr;
  const FmLock guard;
  std::unique_ptr<LocalLock>& l = g_local_locks[lock];
  if (!l) l = std::make_unique<LocalLock>();
  return l.get();
}

}  // namespace

extern "C" {

// --- setup and query -----------------------------------------------------------------------------
void shmem_init(void) {
  initialize("shmem_init");
}

// The thread level provided: what was asked for (shmem_init gives SINGLE).  MULTIPLE turns on
// the FM lock (runtime.hpp); SERIALIZED needs none (FM accepts calls from any thread, one at a
// time).  A level above MULTIPLE (not a level) gives MULTIPLE, one below SINGLE gives SINGLE.
static int g_thread_level = SHMEM_THREAD_SINGLE;

int shmem_init_thread(int requested, int* provided) {
  const bool again = initialized();
  initialize("shmem_init_thread");
  const int level = requested < SHMEM_THREAD_SINGLE     ? SHMEM_THREAD_SINGLE
                    : requested > SHMEM_THREAD_MULTIPLE ? SHMEM_THREAD_MULTIPLE
                                                        : requested;
  // Initializing again does not lower the level already provided.
  if (!again || level > g_thread_level) g_thread_level = level;
  if (g_thread_level == SHMEM_THREAD_MULTIPLE) set_multiple();
  if (provided != nullptr) *provided = g_thread_level;
  return 0;
}

void shmem_query_thread(int* provided) {
  if (provided != nullptr) *provided = g_thread_level;
}

void shmem_finalize(void) {
  finalize("shmem_finalize");
}

void shmem_global_exit(int status) {
  global_exit(status);
}

int shmem_my_pe(void) {
  return my_pe();
}
int shmem_n_pes(void) {
  return n_pes();
}

int shmem_pe_accessible(int pe) {
  if (!initialized() || pe < 0 || pe >= n_pes()) return 0;
  const FmLock lock;
  return FM_peer_failed(static_cast<unsigned>(pe)) == 0 ? 1 : 0;
}

int shmem_addr_accessible(const void* addr, int pe) {
  return shmem_pe_accessible(pe) && is_symmetric(addr);
}

void* shmem_ptr(const void* dest, int pe) {
  return direct_ptr(dest, pe);
}

void shmem_info_get_version(int* major, int* minor) {
  if (major != nullptr) *major = SHMEM_MAJOR_VERSION;
  if (minor != nullptr) *minor = SHMEM_MINOR_VERSION;
}

void shmem_info_get_name(char* name) {
  if (name != nullptr) std::snprintf(name, SHMEM_MAX_NAME_LEN, "%s", SHMEM_VENDOR_STRING);
}

void shmem_pcontrol(const int level, ...) {
  (void)level;  // no profiling layer to control
}

// --- symmetric heap ------------------------------------------------------------------------------
void* shmem_malloc(size_t size) {
  return alloc(size, 0, "shmem_malloc");
}

void* shmem_malloc_with_hints(size_t size, long hints) {
  (void)hints;  // every object supports every operation
  return alloc(size, 0, "shmem_malloc_with_hints");
}

void* shmem_calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) {
    if (my_pe() == 0) warn("shmem_calloc", "%zu x %zu bytes overflows", count, size);
    barrier_all("shmem_calloc");
    return nullptr;
  }
  void* p = alloc(count * size, 0, "shmem_calloc");
  if (p != nullptr) {
    std::memset(p, 0, count * size);
    barrier_all("shmem_calloc");  // nobody writes it before it is zero everywhere
  }
  return p;
}

void* shmem_align(size_t alignment, size_t size) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    require_init("shmem_align");
    if (my_pe() == 0) warn("shmem_align", "alignment %zu is not a power of two", alignment);
    barrier_all("shmem_align");
    return nullptr;
  }
  return alloc(size, alignment, "shmem_align");
}

void shmem_free(void* ptr) {
  static const char* call = "shmem_free";
  require_init(call);
  barrier_all(call);
  if (ptr != nullptr && !heap_free(ptr))
    fatal(call, "%p is not an object of the symmetric heap (or was freed already)", ptr);
}

void* shmem_realloc(void* ptr, size_t size) {
  static const char* call = "shmem_realloc";
  require_init(call);
  if (ptr == nullptr) return alloc(size, 0, call);
  const std::size_t old = heap_block_size(ptr);
  if (old == 0) fatal(call, "%p is not an object of the symmetric heap", ptr);
  if (size == 0) {
    shmem_free(ptr);
    return nullptr;
  }
  barrier_all(call);  // nobody accesses the old object any more
  void* p = heap_alloc(size, 0);
  if (p == nullptr) {
    if (my_pe() == 0)
      warn(call, "the symmetric heap cannot hold %zu bytes: returning NULL (object kept)", size);
  } else {
    std::memmove(p, ptr, old < size ? old : size);
    heap_free(ptr);
  }
  barrier_all(call);
  return p;
}

// --- contexts ------------------------------------------------------------------------------------
int shmem_ctx_create(long options, shmem_ctx_t* ctx) {
  return shmem_team_create_ctx(SHMEM_TEAM_WORLD, options, ctx);
}

int shmem_team_create_ctx(shmem_team_t team, long options, shmem_ctx_t* ctx) {
  require_init("shmem_team_create_ctx");
  if (ctx == nullptr) fatal("shmem_team_create_ctx", "ctx is NULL");
  *ctx = SHMEM_CTX_INVALID;
  if (!valid_team(team) || team->my < 0) return -1;
  if ((team->config_mask & SHMEM_TEAM_NUM_CONTEXTS) != 0 &&
      team->contexts >= team->config.num_contexts)
    return -1;
  shmemfm_ctx* c = new_ctx(team, options);
  if (c == nullptr) return -1;
  *ctx = c;
  return 0;
}

void shmem_ctx_destroy(shmem_ctx_t ctx) {
  static const char* call = "shmem_ctx_destroy";
  if (ctx == SHMEM_CTX_INVALID) return;
  if (ctx->magic != kCtxMagic) fatal(call, "context %p is not a live context", (void*)ctx);
  if (ctx->predefined) fatal(call, "SHMEM_CTX_DEFAULT cannot be destroyed");
  quiet(call);  // destroying a context completes its operations
  const FmLock lock;
  --ctx->team->contexts;
  ctx->magic = 0;
  delete ctx;
}

int shmem_ctx_get_team(shmem_ctx_t ctx, shmem_team_t* team) {
  if (team == nullptr) return -1;
  if (ctx == SHMEM_CTX_INVALID || ctx->magic != kCtxMagic) {
    *team = SHMEM_TEAM_INVALID;
    return -1;
  }
  *team = ctx->team;
  return 0;
}

// --- ordering ------------------------------------------------------------------------------------
// Contexts share FM's ordering and completion: a context's fence/quiet covers every context's
// operations (stronger than required, never weaker).
void shmem_fence(void) {
  fence("shmem_fence");
}
// On SHMEM_CTX_INVALID, fence and quiet perform no operation (OpenSHMEM 1.5, 9.9.1 and 9.9.2).
void shmem_ctx_fence(shmem_ctx_t ctx) {
  if (ctx == SHMEM_CTX_INVALID) return;
  world_pe(ctx, 0, "shmem_ctx_fence");
  fence("shmem_ctx_fence");
}
void shmem_quiet(void) {
  quiet("shmem_quiet");
}
void shmem_ctx_quiet(shmem_ctx_t ctx) {
  if (ctx == SHMEM_CTX_INVALID) return;
  world_pe(ctx, 0, "shmem_ctx_quiet");
  quiet("shmem_ctx_quiet");
}

// --- locks ---------------------------------------------------------------------------------------
void shmem_set_lock(long* lock) {
  static const char* call = "shmem_set_lock";
  check_lock(lock, call);
  if (LocalLock* l = local_lock(lock); l != nullptr) {
    for (unsigned spins = 0; l->held.exchange(true, std::memory_order_acquire); ++spins) {
      poll(call);  // the thread of this PE that holds it may need FM's progress
      if (spins > 64) sched_yield();
    }
  }
  const std::uint64_t t = amo(lock, FM_ATOMIC_ADD, 8, kTicket, 0, 0, true, nullptr, call) >> 32;
  for (unsigned spins = 0;; ++spins) {
    const std::uint64_t v = amo(lock, FM_ATOMIC_READ, 8, 0, 0, 0, true, nullptr, call);
    if ((v & 0xffffffffu) == (t & 0xffffffffu)) break;
    poll(call);
    if (spins > 64) sched_yield();
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

void shmem_clear_lock(long* lock) {
  static const char* call = "shmem_clear_lock";
  check_lock(lock, call);
  quiet(call);  // stores made under the lock are complete before the next holder enters
  amo(lock, FM_ATOMIC_ADD, 8, 1, 0, 0, true, nullptr, call);
  if (LocalLock* l = local_lock(lock); l != nullptr)
    l->held.store(false, std::memory_order_release);
}

int shmem_test_lock(long* lock) {
  static const char* call = "shmem_test_lock";
  check_lock(lock, call);
  LocalLock* l = local_lock(lock);
  if (l != nullptr && l->held.exchange(true, std::memory_order_acquire)) {
    poll(call);  // held or being taken by another thread of this PE
    return 1;
  }
  std::uint64_t v = amo(lock, FM_ATOMIC_READ, 8, 0, 0, 0, true, nullptr, call);
  if ((v >> 32) != (v & 0xffffffffu) ||
      amo(lock, FM_ATOMIC_CSWAP, 8, v + kTicket, v, 0, true, nullptr, call) != v) {
    if (l != nullptr) l->held.store(false, std::memory_order_release);
    poll(call);  // held: callers retry in a loop, and the holder may need us to progress
    return 1;
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return 0;
}

// --- point-to-point synchronization --------------------------------------------------------------
#define SHMEMFM_DEF_P2P(T, N)                                                                      \
  void shmem_##N##_wait_until(T* ivar, int cmp, T cmp_value) {                                     \
    wait_all<T>(ivar, 1, nullptr, cmp, nullptr, cmp_value, __func__);                              \
  }                                                                                                \
  void shmem_##N##_wait_until_all(T* ivars, size_t n, const int* status, int cmp, T cmp_value) {   \
    wait_all<T>(ivars, n, status, cmp, nullptr, cmp_value, __func__);                              \
  }                                                                                                \
  size_t shmem_##N##_wait_until_any(T* ivars, size_t n, const int* status, int cmp, T cmp_value) { \
    return wait_any<T>(ivars, n, status, cmp, nullptr, cmp_value, __func__);                       \
  }                                                                                                \
  size_t shmem_##N##_wait_until_some(T* ivars, size_t n, size_t* indices, const int* status,       \
                                     int cmp, T cmp_value) {                                       \
    return wait_some<T>(ivars, n, indices, status, cmp, nullptr, cmp_value, __func__);             \
  }                                                                                                \
  void shmem_##N##_wait_until_all_vector(T* ivars, size_t n, const int* status, int cmp,           \
                                         T* cmp_values) {                                          \
    wait_all<T>(ivars, n, status, cmp, cmp_values, static_cast<T>(0), __func__);                   \
  }                                                                                                \
  size_t shmem_##N##_wait_until_any_vector(T* ivars, size_t n, const int* status, int cmp,         \
                                           T* cmp_values) {                                        \
    return wait_any<T>(ivars, n, status, cmp, cmp_values, static_cast<T>(0), __func__);            \
  }                                                                                                \
  size_t shmem_##N##_wait_until_some_vector(T* ivars, size_t n, size_t* indices,                   \
                                            const int* status, int cmp, T* cmp_values) {           \
    return wait_some<T>(ivars, n, indices, status, cmp, cmp_values, static_cast<T>(0), __func__);  \
  }                                                                                                \
  int shmem_##N##_test(T* ivar, int cmp, T cmp_value) {                                            \
    return poll_all<T>(ivar, 1, nullptr, cmp, nullptr, cmp_value, __func__);                       \
  }                                                                                                \
  int shmem_##N##_test_all(T* ivars, size_t n, const int* status, int cmp, T cmp_value) {          \
    return poll_all<T>(ivars, n, status, cmp, nullptr, cmp_value, __func__);                       \
  }                                                                                                \
  size_t shmem_##N##_test_any(T* ivars, size_t n, const int* status, int cmp, T cmp_value) {       \
    return poll_any<T>(ivars, n, status, cmp, nullptr, cmp_value, __func__);                       \
  }                                                                                                \
  size_t shmem_##N##_test_some(T* ivars, size_t n, size_t* indices, const int* status, int cmp,    \
                               T cmp_value) {                                                      \
    return poll_some<T>(ivars, n, indices, status, cmp, nullptr, cmp_value, __func__);             \
  }                                                                                                \
  int shmem_##N##_test_all_vector(T* ivars, size_t n, const int* status, int cmp, T* cmp_values) { \
    return poll_all<T>(ivars, n, status, cmp, cmp_values, static_cast<T>(0), __func__);            \
  }                                                                                                \
  size_t shmem_##N##_test_any_vector(T* ivars, size_t n, const int* status, int cmp,               \
                                     T* cmp_values) {                                              \
    return poll_any<T>(ivars, n, status, cmp, cmp_values, static_cast<T>(0), __func__);            \
  }                                                                                                \
  size_t shmem_##N##_test_some_vector(T* ivars, size_t n, size_t* indices, const int* status,      \
                                      int cmp, T* cmp_values) {                                    \
    return poll_some<T>(ivars, n, indices, status, cmp, cmp_values, static_cast<T>(0), __func__);  \
  }
SHMEMFM_P2P_TYPES(SHMEMFM_DEF_P2P)

#define SHMEMFM_DEF_OLDWAIT(T, N)                                \
  void shmem_##N##_wait(T* ivar, T cmp_value) {                  \
    check_ivar(ivar, __func__);                                  \
    wait_for([&] { return load(ivar) != cmp_value; }, __func__); \
  }
SHMEMFM_OLDBIT_TYPES(SHMEMFM_DEF_OLDWAIT)

void shmem_wait(long* ivar, long cmp_value) {
  check_ivar(ivar, "shmem_wait");
  wait_for([&] { return load(ivar) != cmp_value; }, "shmem_wait");
}

void shmem_wait_until(long* ivar, int cmp, long cmp_value) {
  check_ivar(ivar, "shmem_wait_until");
  wait_for([&] { return test1(ivar, cmp, cmp_value, "shmem_wait_until"); }, "shmem_wait_until");
}

uint64_t shmem_signal_fetch(const uint64_t* sig_addr) {
  check_ivar(sig_addr, "shmem_signal_fetch");
  const uint64_t v = load(sig_addr);
  poll("shmem_signal_fetch");  // programs poll with it
  return v;
}

uint64_t shmem_signal_wait_until(uint64_t* sig_addr, int cmp, uint64_t cmp_value) {
  static const char* call = "shmem_signal_wait_until";
  check_ivar(sig_addr, call);
  uint64_t v;
  wait_for([&] { return compare(v = load(sig_addr), cmp, cmp_value, call); }, call);
  return v;
}

// --- barriers ------------------------------------------------------------------------------------
void shmem_barrier_all(void) {
  barrier_all("shmem_barrier_all");
}

void shmem_sync_all(void) {
  barrier(team_set(SHMEM_TEAM_WORLD, "shmem_sync_all"), "shmem_sync_all");
}

void shmem_barrier(int PE_start, int logPE_stride, int PE_size, long* pSync) {
  static const char* call = "shmem_barrier";
  std::vector<int> pes;
  const Set s = active_set(PE_start, logPE_stride, PE_size, pSync, &pes, call);
  quiet(call);
  barrier(s, call);
}

void shmem_sync(int PE_start, int logPE_stride, int PE_size, long* pSync) {
  static const char* call = "shmem_sync";
  std::vector<int> pes;
  barrier(active_set(PE_start, logPE_stride, PE_size, pSync, &pes, call), call);
}

// --- deprecated setup, memory and cache calls ----------------------------------------------------
void start_pes(int npes) {
  (void)npes;  // the number of PEs is the launcher's
  initialize("start_pes");
}
int _my_pe(void) {
  return my_pe();
}
int _num_pes(void) {
  return n_pes();
}
void* shmalloc(size_t size) {
  return alloc(size, 0, "shmalloc");
}
void shfree(void* ptr) {
  shmem_free(ptr);
}
void* shrealloc(void* ptr, size_t size) {
  return shmem_realloc(ptr, size);
}
void* shmemalign(size_t alignment, size_t size) {
  return shmem_align(alignment, size);
}
// Cache management calls of old Cray systems: coherent memory here, nothing to do.
void shmem_clear_cache_inv(void) {}
void shmem_set_cache_inv(void) {}
void shmem_clear_cache_line_inv(void*) {}
void shmem_set_cache_line_inv(void*) {}
void shmem_udcflush(void) {}
void shmem_udcflush_line(void*) {}

}  // extern "C"
