// runtime.cpp - initialization, symmetric memory, one-sided primitives, errors.
#include "runtime.hpp"

#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "heap.hpp"

shmemfm_team shmemfm_team_world{shmemfm::kTeamMagic, {}, -1, 0, {}, 0, 0, true};
shmemfm_team shmemfm_team_shared{shmemfm::kTeamMagic, {}, -1, 1, {}, 0, 0, true};
shmemfm_ctx shmemfm_ctx_default{shmemfm::kCtxMagic, &shmemfm_team_world, 0, true};

namespace shmemfm {

namespace {

// What a PE tells every other at initialization.
struct Info {
  FM_region heap;  // an FM on-host segment: same-host PEs map it (FM_region_ptr)
  FM_region data;
  std::uint64_t heap_bytes;
};

struct Peer {
  Info info{};
  bool have = false;
  std::byte* heap = nullptr;  // its heap mapped here (same host), or null
  std::byte* data = nullptr;  // its global data mapped here (same host, shared in place), or null
  // FM operations to it may be in flight (ordering with direct ones).  Set and cleared under the
  // FM lock; read without it on the direct paths (hence __atomic accesses).
  bool fm_dirty = false;
};

struct State {
  bool initialized = false;
  bool finalized = false;
  int me = 0;
  int npes = 1;
  bool direct = true;           // on-host direct access for put/get/AMOs/collectives
  bool copy_small_puts = true;  // FM copies a small put's source at issue (emulated RMA)
  bool oversubscribed = false;  // more PEs than CPUs on this machine: waits yield
  std::byte* heap = nullptr;    // our heap mapping: [system area | user heap]
  std::size_t heap_bytes = 0;   // whole mapping
  std::byte* data = nullptr;    // writable data segment of the executable
  std::size_t data_bytes = 0;
  bool data_shared = false;  // made an on-host segment in place: same-host PEs map it
  FM_region heap_region{}, data_region{};
  std::vector<Peer> peers;
  unsigned info_count = 0;
};
State g;
// Reads and atomics done with loads and stores by this thread (see progress_now).
__attribute__((tls_model("initial-exec"))) thread_local unsigned t_direct_ops = 0;
std::recursive_mutex g_fm_mutex;

int g_info_handler = -1;                      // FM_LAYER_SHMEM's handler 0
constexpr std::size_t kSmallPut = 16 * 1024;  // below FM's zero-copy threshold: copied at issue
constexpr std::size_t kSysBytes = 64 * 1024;  // system area (team slots) at the heap's start
static_assert(kSlots * kSyncWords * 8 <= kSysBytes);

int h_info(FM_stream* s, unsigned sender) {
  Info in{};
  if (FM_receive(&in, s, sizeof in) == static_cast<long>(sizeof in) && sender < g.peers.size()) {
    g.peers[sender].info = in;
    g.peers[sender].have = true;
    ++g.info_count;
  }
  return FM_CONTINUE;
}

void vreport(const char* kind, const char* call, const char* fmt, va_list ap, char* out,
             std::size_t cap) {
  int n = std::snprintf(out, cap, "shmem-fm: PE %d: %s%s: ", g.me, kind, call);
  if (n < 0 || static_cast<std::size_t>(n) >= cap) return;
  std::vsnprintf(out + n, cap - static_cast<std::size_t>(n), fmt, ap);
}

std::uint64_t parse_size(const char* name, const char* v) {
  char* end = nullptr;
  errno = 0;
  double x = std::strtod(v, &end);
  if (errno != 0 || end == v || x <= 0) fatal("shmem_init", "%s=\"%s\" is not a size", name, v);
  switch (*end) {
    case 'k':
    case 'K':
      x *= 1024.0;
      ++end;
      break;
    case 'm':
    case 'M':
      x *= 1024.0 * 1024;
      ++end;
      break;
    case 'g':
    case 'G':
      x *= 1024.0 * 1024 * 1024;
      ++end;
      break;
    case 't':
    case 'T':
      x *= 1024.0 * 1024 * 1024 * 1024;
      ++end;
      break;
    default:
      break;
  }
  if (*end == 'b' || *end == 'B') ++end;
  if (*end != '\0') fatal("shmem_init", "%s=\"%s\": expected a number with K, M, G or T", name, v);
  return static_cast<std::uint64_t>(x);
}

// The executable's writable data (.data, .bss), without its read-only-after-relocation part.
int find_data(dl_phdr_info* info, std::size_t, void*) {
  std::uintptr_t lo = UINTPTR_MAX, hi = 0, relro_end = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const std::uintptr_t a = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W) != 0) {
      lo = std::min(lo, a);
      hi = std::max<std::uintptr_t>(hi, a + ph.p_memsz);
    } else if (ph.p_type == PT_GNU_RELRO) {
      relro_end = (a + ph.p_memsz + 4095) & ~std::uintptr_t{4095};
    }
  }
  if (hi > lo) {
    lo = std::max(lo, relro_end);
    g.data = reinterpret_cast<std::byte*>(lo);
    g.data_bytes = hi > lo ? hi - lo : 0;
  }
  return 1;  // the first object is the executable
}

void check_fm(int rc, const char* call, const char* what, int pe) {
  if (rc >= 0) return;
  if (pe < 0) fatal(call, "%s failed: %s (%s)", what, FM_last_error(), FM_strerror(rc));
  fatal(call, "%s to PE %d failed: %s (%s)", what, pe, FM_last_error(), FM_strerror(rc));
}

// Where a symmetric object [addr, addr+n) lives on world PE pe.
struct Where {
  std::byte* direct = nullptr;  // usable pointer, or null
  const FM_region* region = nullptr;
  std::uint64_t offset = 0;
};

Where locate(const void* addr, std::size_t n, int pe, const char* call, bool allow_direct = true) {
  if (pe < 0 || pe >= g.npes) fatal(call, "PE %d is out of range (0..%d)", pe, g.npes - 1);
  const auto* a = static_cast<const std::byte*>(addr);
  Where w;
  const std::byte* user = g.heap + kSysBytes;
  if (a >= g.heap && a < g.heap + g.heap_bytes) {
    if (a < user && a + n > user)
      fatal(call, "object at %p crosses into the symmetric heap from the system area", addr);
    if (n > static_cast<std::size_t>(g.heap + g.heap_bytes - a))
      fatal(call, "object [%p, +%zu bytes) runs past the end of the symmetric heap", addr, n);
    const std::size_t off = static_cast<std::size_t>(a - g.heap);
    if (pe == g.me) {
      w.direct = const_cast<std::byte*>(a);
    } else if (allow_direct && g.direct && g.peers[static_cast<std::size_t>(pe)].heap != nullptr) {
      w.direct = g.peers[static_cast<std::size_t>(pe)].heap + off;
    } else {
      w.region = &g.peers[static_cast<std::size_t>(pe)].info.heap;
      w.offset = off;
    }
    return w;
  }
  if (a >= g.data && a < g.data + g.data_bytes) {
    if (n > static_cast<std::size_t>(g.data + g.data_bytes - a))
      fatal(call, "object [%p, +%zu bytes) runs past the end of the program's data", addr, n);
    if (pe == g.me) {
      w.direct = const_cast<std::byte*>(a);
    } else if (allow_direct && g.direct && g.peers[static_cast<std::size_t>(pe)].data != nullptr) {
      w.direct = g.peers[static_cast<std::size_t>(pe)].data + (a - g.data);
    } else {
      w.region = &g.peers[static_cast<std::size_t>(pe)].info.data;
      w.offset = static_cast<std::size_t>(a - g.data);
    }
    return w;
  }
  fatal(call,
        "address %p is not symmetric: it is neither in the symmetric heap [%p, %p) nor in the "
        "program's global data [%p, %p) (stack and malloc memory are private)",
        addr, static_cast<void*>(g.heap + kSysBytes), static_cast<void*>(g.heap + g.heap_bytes),
        static_cast<void*>(g.data), static_cast<void*>(g.data + g.data_bytes));
}

// Programs spin on reads and atomics (while (shmem_int_g(&flag, me) == 0) ...).  Done with loads,
// they never enter FM, and FM operations of other PEs on this PE's memory would not be applied:
// every 64th such operation drives FM's progress once.
// With several threads: the FM lock if no other thread holds it (that thread is in FM, making
// progress for the whole PE, so a poll need not wait for it); `busy` is then set.
std::unique_lock<std::recursive_mutex> poll_lock(bool* busy) {
  *busy = false;
  if (!g_multiple) return {};
  std::unique_lock<std::recursive_mutex> lk(g_fm_mutex, std::try_to_lock);
  *busy = !lk.owns_lock();
  return lk;
}

void progress_now(const char* call) {
  bool busy = false;
  const auto lk = poll_lock(&busy);
  if (busy) return;
  const long rc = FM_extract(SIZE_MAX);
  if (rc < 0)
    fatal(call, "progress failed: %s (%s)", FM_last_error(), FM_strerror(static_cast<int>(rc)));
}
void tick_direct(const char* call) {
  if ((++t_direct_ops & 63) == 0) progress_now(call);
}

bool dirty(const Peer& p) noexcept {
  return __atomic_load_n(&p.fm_dirty, __ATOMIC_RELAXED);
}
void set_dirty(Peer& p, bool v) noexcept {
  __atomic_store_n(&p.fm_dirty, v, __ATOMIC_RELAXED);
}

// Under the FM lock: an FM operation to pe is about to be issued.
void note_fm(int pe) {
  Peer& p = g.peers[static_cast<std::size_t>(pe)];
  if (p.heap != nullptr && !dirty(p)) set_dirty(p, true);
}

// Before a direct access to pe: FM operations to it issued earlier must be complete.
void order_direct(int pe, const char* call) {
  Peer& p = g.peers[static_cast<std::size_t>(pe)];
  if (dirty(p)) {
    const FmLock lock;
    check_fm(FM_flush(static_cast<unsigned>(pe)), call, "completing earlier operations", pe);
    set_dirty(p, false);
  }
}

// After FM_finalize: the heaps were FM's segments (ours freed, peers' unmapped by FM).
void unmap_all() {
  g.heap = nullptr;
  g.peers.clear();
}

void at_exit() {
  if (g.initialized && !g.finalized) shmem_finalize();
}

}  // namespace

bool g_multiple = false;
std::recursive_mutex& fm_mutex() noexcept {
  return g_fm_mutex;
}
void set_multiple() noexcept {
  g_multiple = true;
}

void vfatal(const char* call, const char* fmt, va_list ap) __attribute__((noreturn));
void vfatal(const char* call, const char* fmt, va_list ap) {
  char msg[1024];
  vreport("", call, fmt, ap, msg, sizeof msg);
  std::fflush(stdout);
  if (g.initialized && !g.finalized) FM_abort(1, msg);
  std::fprintf(stderr, "%s\n", msg);
  std::_Exit(1);
}

void fatal(const char* call, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfatal(call, fmt, ap);
}

void warn(const char* call, const char* fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vreport("warning: ", call, fmt, ap, msg, sizeof msg);
  va_end(ap);
  std::fprintf(stderr, "%s\n", msg);
}

void require_init(const char* call) {
  if (!g.initialized || g.finalized)
    fatal(call, "OpenSHMEM is not initialized (call shmem_init first)%s",
          g.finalized ? "; shmem_finalize was called" : "");
}

bool initialized() noexcept {
  return g.initialized && !g.finalized;
}

int my_pe() noexcept {
  return g.initialized ? g.me : -1;
}
int n_pes() noexcept {
  return g.initialized ? g.npes : -1;
}

std::byte* sys_area() noexcept {
  return g.heap;
}
std::byte* heap_user_base() noexcept {
  return g.heap + kSysBytes;
}
std::size_t heap_user_bytes() noexcept {
  return g.heap_bytes - kSysBytes;
}

int world_pe(shmem_ctx_t ctx, int pe, const char* call) {
  require_init(call);
  if (ctx == SHMEM_CTX_DEFAULT) {
    if (pe < 0 || pe >= g.npes) fatal(call, "PE %d is out of range (0..%d)", pe, g.npes - 1);
    return pe;
  }
  if (ctx == SHMEM_CTX_INVALID) fatal(call, "the context is SHMEM_CTX_INVALID");
  if (ctx->magic != kCtxMagic) fatal(call, "context %p is not a live context", (void*)ctx);
  const shmemfm_team* t = ctx->team;
  if (pe < 0 || pe >= static_cast<int>(t->pes.size()))
    fatal(call, "PE %d is out of range of the context's team (0..%zu)", pe, t->pes.size() - 1);
  return t->pes[static_cast<std::size_t>(pe)];
}

void* direct_ptr(const void* addr, int pe) noexcept {
  if (!g.initialized || pe < 0 || pe >= g.npes) return nullptr;
  const auto* a = static_cast<const std::byte*>(addr);
  if (pe == g.me) return is_symmetric(addr) ? const_cast<void*>(addr) : nullptr;
  const Peer& p = g.peers[static_cast<std::size_t>(pe)];
  if (a >= g.data && a < g.data + g.data_bytes)
    return p.data != nullptr ? p.data + (a - g.data) : nullptr;
  if (a < g.heap + kSysBytes || a >= g.heap + g.heap_bytes) return nullptr;
  return p.heap != nullptr ? p.heap + (a - g.heap) : nullptr;
}

bool is_symmetric(const void* addr) noexcept {
  const auto* a = static_cast<const std::byte*>(addr);
  return (a >= g.heap + kSysBytes && a < g.heap + g.heap_bytes) ||
         (a >= g.data && a < g.data + g.data_bytes);
}

void put(void* dst, const void* src, std::size_t n, int pe, bool nbi, const char* call) {
  if (n == 0) return;
  if (src == nullptr) fatal(call, "source is NULL");
  Where w = locate(dst, n, pe, call);
  if (w.direct != nullptr) {
    if (pe != g.me) order_direct(pe, call);
    std::memmove(w.direct, src, n);
    if (pe != g.me) notify_direct(pe);
    return;
  }
  const FmLock lock;
  note_fm(pe);
  if (nbi || (n <= kSmallPut && g.copy_small_puts)) {
    check_fm(FM_put_nb(w.region, w.offset, src, n, nullptr), call, "put", pe);
  } else {
    check_fm(FM_put(w.region, w.offset, src, n), call, "put", pe);
  }
}

void get(void* dst, const void* src, std::size_t n, int pe, bool nbi, const char* call) {
  if (n == 0) return;
  if (dst == nullptr) fatal(call, "destination is NULL");
  Where w = locate(src, n, pe, call);
  if (w.direct != nullptr) {
    if (pe != g.me) order_direct(pe, call);
    std::memmove(dst, w.direct, n);
    tick_direct(call);
    return;
  }
  const FmLock lock;
  note_fm(pe);
  if (nbi) {
    check_fm(FM_get_nb(w.region, w.offset, dst, n, nullptr), call, "get", pe);
  } else {
    check_fm(FM_get(w.region, w.offset, dst, n), call, "get", pe);
  }
}

namespace {
// iput (to_remote) and iget: n elements of elem bytes, strides in elements.
void strided(bool to_remote, void* dst, const void* src, std::ptrdiff_t dst_stride,
             std::ptrdiff_t src_stride, std::size_t elem, std::size_t n, int pe, const char* call) {
  if (n == 0) return;
  if (dst_stride < 1 || src_stride < 1)
    fatal(call, "strides must be positive (dst %td, sst %td)", dst_stride, src_stride);
  const auto remote_stride = static_cast<std::size_t>(to_remote ? dst_stride : src_stride);
  const Where w = locate(to_remote ? dst : src, ((n - 1) * remote_stride + 1) * elem, pe, call);
  const auto db = dst_stride * static_cast<std::ptrdiff_t>(elem);
  const auto sb = src_stride * static_cast<std::ptrdiff_t>(elem);
  if (w.direct != nullptr) {
    if (pe != g.me) order_direct(pe, call);
    std::byte* d = to_remote ? w.direct : static_cast<std::byte*>(dst);
    const std::byte* s = to_remote ? static_cast<const std::byte*>(src) : w.direct;
    for (std::size_t i = 0; i < n; ++i)
      std::memcpy(d + static_cast<std::ptrdiff_t>(i) * db, s + static_cast<std::ptrdiff_t>(i) * sb,
                  elem);
    if (to_remote && pe != g.me) notify_direct(pe);
    return;
  }
  const FmLock lock;
  note_fm(pe);
  const int rc = to_remote ? FM_put_strided(w.region, w.offset, db, src, sb, elem, n)
                           : FM_get_strided(w.region, w.offset, sb, dst, db, elem, n);
  check_fm(rc, call, to_remote ? "strided put" : "strided get", pe);
}
}  // namespace

void iput(void* dst, const void* src, std::ptrdiff_t dst_stride, std::ptrdiff_t src_stride,
          std::size_t elem, std::size_t n, int pe, const char* call) {
  strided(true, dst, src, dst_stride, src_stride, elem, n, pe, call);
}

void iget(void* dst, const void* src, std::ptrdiff_t dst_stride, std::ptrdiff_t src_stride,
          std::size_t elem, std::size_t n, int pe, const char* call) {
  strided(false, dst, src, dst_stride, src_stride, elem, n, pe, call);
}

std::uint64_t amo(void* dst, int op, std::size_t size, std::uint64_t operand, std::uint64_t compare,
                  int pe, bool fetch, void* nbi_result, const char* call) {
  if (reinterpret_cast<std::uintptr_t>(dst) % size != 0)
    fatal(call, "address %p is not aligned to %zu bytes", dst, size);
  Where w = locate(dst, size, pe, call);
  if (w.direct != nullptr) {
    if (pe != g.me) order_direct(pe, call);
    const std::uint64_t old =
        FM_atomic_local(w.direct, op, size == 4 ? FM_UINT32 : FM_UINT64, operand, compare);
    if (op != FM_ATOMIC_READ && pe != g.me) notify_direct(pe);
    if (nbi_result != nullptr) std::memcpy(nbi_result, &old, size);
    tick_direct(call);
    return old;
  }
  const FmLock lock;
  note_fm(pe);
  const int type = size == 4 ? FM_UINT32 : FM_UINT64;
  std::uint64_t old = 0;
  if (nbi_result != nullptr) {
    check_fm(FM_atomic_nb(w.region, w.offset, op, type, &operand, &compare, nbi_result, nullptr),
             call, "atomic", pe);
  } else if (fetch || op == FM_ATOMIC_READ) {
    check_fm(FM_atomic(w.region, w.offset, op, type, &operand, &compare, &old), call, "atomic", pe);
  } else {
    check_fm(FM_atomic_nb(w.region, w.offset, op, type, &operand, &compare, nullptr, nullptr), call,
             "atomic", pe);
  }
  if (size == 4) old &= 0xffffffffu;
  return old;
}

void put_signal(void* dst, const void* src, std::size_t n, std::uint64_t* sig, std::uint64_t signal,
                int sig_op, int pe, bool nbi, const char* call) {
  if (sig_op != SHMEM_SIGNAL_SET && sig_op != SHMEM_SIGNAL_ADD)
    fatal(call, "sig_op %d is neither SHMEM_SIGNAL_SET nor SHMEM_SIGNAL_ADD", sig_op);
  const Where ws = locate(sig, sizeof *sig, pe, call);
  put(dst, src, n, pe, nbi, call);
  // The data is delivered before the signal: FM keeps one origin's operations in order (FM_fence
  // where native RMA could reorder); a direct signal after FM data waits for the data.
  if (ws.direct != nullptr) {
    if (pe != g.me) order_direct(pe, call);
  } else if (pe != g.me) {
    const FmLock lock;
    check_fm(FM_fence(static_cast<unsigned>(pe)), call, "fence", pe);
  }
  amo(sig, sig_op == SHMEM_SIGNAL_SET ? FM_ATOMIC_SWAP : FM_ATOMIC_ADD, 8, signal, 0, pe, false,
      nullptr, call);
}

void fence(const char* call) {
  require_init(call);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const FmLock lock;
  for (int pe = 0; pe < g.npes; ++pe) {
    if (pe == g.me) continue;
    Peer& p = g.peers[static_cast<std::size_t>(pe)];
    if (dirty(p)) {  // on-host peer reached both ways: FM operations must complete first
      check_fm(FM_flush(static_cast<unsigned>(pe)), call, "flush", pe);
      set_dirty(p, false);
    } else if (p.heap == nullptr || !g.direct) {
      check_fm(FM_fence(static_cast<unsigned>(pe)), call, "fence", pe);
    }
  }
}

void quiet(const char* call) {
  require_init(call);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // this thread's direct stores
  const FmLock lock;
  check_fm(FM_quiet(), call, "quiet", -1);
  for (Peer& p : g.peers) set_dirty(p, false);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

void progress_tick(const char* call) {
  tick_direct(call);
}

void wait_failed(const char* call, int rc) {
  fatal(call, "waiting failed: %s (%s)", FM_last_error(), FM_strerror(rc));
}

void poll(const char* call) {
  if (g.oversubscribed) sched_yield();  // the PE we wait for may need this CPU
  bool busy = false;
  const auto lk = poll_lock(&busy);
  if (busy) {
    if (!g.oversubscribed) cpu_relax();
    return;
  }
  const long rc = FM_extract(SIZE_MAX);
  if (rc < 0)
    fatal(call, "progress failed: %s (%s)", FM_last_error(), FM_strerror(static_cast<int>(rc)));
}

// --- initialization ---------------------------------------------------------------------------

void initialize(const char* call) {
  if (g.initialized) {
    if (g.finalized) fatal(call, "OpenSHMEM cannot be initialized again after shmem_finalize");
    return;  // repeated shmem_init: no effect
  }
  if ((g_info_handler = FM_register_layer_handler(FM_LAYER_SHMEM, 0, h_info)) < 0)
    fatal(call, "cannot register SHMEM-FM's FM handler: %s", FM_last_error());
  int rc = FM_initialize();
  if (rc != FM_SUCCESS) {
    // The whole job ends, through the launcher FM had joined (FM_abort after a failed
    // FM_initialize): no PE waits for one that will never come, and mpiexec exits 1.
    char msg[1024];
    std::snprintf(msg, sizeof msg, "shmem-fm: %s: FM_initialize failed: %s (%s)", call,
                  FM_last_error(), FM_strerror(rc));
    std::fflush(stdout);
    FM_abort(1, msg);
  }
  g.me = static_cast<int>(FM_nodeid());
  g.npes = static_cast<int>(FM_numnodes());
  g.initialized = true;
  g.peers.assign(static_cast<std::size_t>(g.npes), Peer{});
  g.oversubscribed = FM_oversubscribed() == 1;
  if (const char* v = std::getenv("SHMEM_FM_DIRECT"); v != nullptr) g.direct = std::atoi(v) != 0;
  char rma[16] = "";
  if (FM_config_get("FM_RMA", rma, sizeof rma) == FM_SUCCESS && std::strcmp(rma, "native") == 0)
    g.copy_small_puts = false;

  std::uint64_t heap = 256ull << 20;
  if (const char* v = std::getenv("SHMEM_SYMMETRIC_SIZE"); v != nullptr)
    heap = parse_size("SHMEM_SYMMETRIC_SIZE", v);
  else if (const char* v2 = std::getenv("SMA_SYMMETRIC_SIZE"); v2 != nullptr)
    heap = parse_size("SMA_SYMMETRIC_SIZE", v2);
  heap = (heap + 4095) & ~std::uint64_t{4095};
  g.heap_bytes = kSysBytes + heap;

  // The heap: an FM on-host segment, which PEs of this host map (nothing named in /dev/shm).
  void* m = nullptr;
  if ((rc = FM_alloc_segment(g.heap_bytes, FM_ACCESS_ALL, &m, &g.heap_region)) != FM_SUCCESS)
    fatal(call, "cannot allocate a %zu-byte symmetric heap (SHMEM_SYMMETRIC_SIZE): %s",
          g.heap_bytes, FM_last_error());
  g.heap = static_cast<std::byte*>(m);
  heap_reset(g.heap + kSysBytes, heap);

  // The executable's global data: made an on-host segment in place, so that same-host PEs reach
  // globals with loads and stores as they reach the heap (FM_share_memory moves the pages into a
  // memory file mapped at the same address; fork() children get private copies).  Where that
  // cannot be done (not page-aligned, SHMEM_FM_GLOBALS=fm, direct access off), globals are
  // registered for FM RMA only.
  dl_iterate_phdr(find_data, nullptr);
  if (g.data_bytes > 0) {
    const char* gv = std::getenv("SHMEM_FM_GLOBALS");
    if (gv != nullptr && std::strcmp(gv, "direct") != 0 && std::strcmp(gv, "fm") != 0)
      fatal(call, "SHMEM_FM_GLOBALS=\"%s\": expected direct or fm", gv);
    const bool want = g.direct && (gv == nullptr || std::strcmp(gv, "direct") == 0);
    if (want && reinterpret_cast<std::uintptr_t>(g.data) % 4096 == 0 &&
        FM_share_memory(g.data, g.data_bytes, FM_ACCESS_ALL, &g.data_region) == FM_SUCCESS) {
      g.data_shared = true;
    } else {
      if (want && g.me == 0)
        warn(call, "globals of same-host PEs reached through FM: %s",
             reinterpret_cast<std::uintptr_t>(g.data) % 4096 != 0
                 ? "the program's data does not start on a page boundary"
                 : FM_last_error());
      if ((rc = FM_register_memory(g.data, g.data_bytes, FM_ACCESS_ALL, &g.data_region)) != 0)
        fatal(call, "cannot register the program's data segment with FM: %s", FM_last_error());
    }
  }

  // Everybody tells everybody its regions.
  Info mine{};
  mine.heap = g.heap_region;
  mine.data = g.data_region;
  mine.heap_bytes = g.heap_bytes;
  g.peers[static_cast<std::size_t>(g.me)].info = mine;
  g.peers[static_cast<std::size_t>(g.me)].heap = g.heap;
  for (int k = 1; k < g.npes; ++k) {
    const int pe = (g.me + k) % g.npes;
    check_fm(FM_send(static_cast<unsigned>(pe), g_info_handler, &mine, sizeof mine), call,
             "address exchange", pe);
  }
  while (g.info_count < static_cast<unsigned>(g.npes - 1)) poll(call);

  // Map the heaps of this host's PEs; SHMEM_TEAM_SHARED is those PEs.
  std::vector<int> shared;
  for (int pe = 0; pe < g.npes; ++pe) {
    if (pe == g.me) {
      shared.push_back(pe);
      continue;
    }
    if (FM_same_host(static_cast<unsigned>(pe)) != 1) continue;
    Peer& p = g.peers[static_cast<std::size_t>(pe)];
    if (p.info.heap_bytes != g.heap_bytes)
      fatal(call,
            "PE %d has a %llu-byte symmetric heap, this PE %zu: SHMEM_SYMMETRIC_SIZE must be "
            "the same everywhere",
            pe, static_cast<unsigned long long>(p.info.heap_bytes), g.heap_bytes);
    void* pm = FM_region_ptr(&p.info.heap);
    if (pm == nullptr) {  // e.g. another pid namespace: reach it through FM instead
      warn(call, "cannot map PE %d's heap: %s; using FM for it", pe, FM_last_error());
      continue;
    }
    p.heap = static_cast<std::byte*>(pm);
    shared.push_back(pe);
    // Its globals, when both made them a segment and run the same executable (same size).
    if (g.data_shared && p.info.data.length == g.data_region.length) {
      void* dm = FM_region_ptr(&p.info.data);
      if (dm != nullptr) p.data = static_cast<std::byte*>(dm);
    }
  }
  for (int pe = 0; pe < g.npes; ++pe) {
    const Peer& p = g.peers[static_cast<std::size_t>(pe)];
    if (pe != g.me && p.info.heap_bytes != g.heap_bytes)
      fatal(call,
            "PE %d has a %llu-byte symmetric heap, this PE %zu: SHMEM_SYMMETRIC_SIZE must "
            "be the same everywhere",
            pe, static_cast<unsigned long long>(p.info.heap_bytes), g.heap_bytes);
  }
  teams_init(g.npes, g.me, std::move(shared));
  std::atexit(at_exit);
  barrier(team_set(SHMEM_TEAM_WORLD, call), call);
  // Passive progress (SHMEM_FM_PROGRESS=1): FM's progress thread in its async-only mode applies
  // other PEs' puts, gets and atomics that reach this PE through FM while it computes.  Only FM's
  // own handlers run on it: SHMEM-FM's one handler (the exchange above) is done by now.
  if (const char* v = std::getenv("SHMEM_FM_PROGRESS"); v != nullptr && *v != '\0') {
    if (std::strcmp(v, "0") != 0 && std::strcmp(v, "1") != 0)
      fatal(call, "SHMEM_FM_PROGRESS=\"%s\": expected 0 or 1", v);
    if (*v == '1' && FM_progress_thread(2) < 0)
      fatal(call, "SHMEM_FM_PROGRESS=1: FM's progress thread did not start: %s", FM_last_error());
  }
}

void finalize(const char* call) {
  if (!g.initialized || g.finalized) return;
  quiet(call);
  barrier(team_set(SHMEM_TEAM_WORLD, call), call);
  (void)FM_progress_thread(0);  // nothing reaches this PE's memory any more
  teams_fini();
  if (g.data_shared)
    FM_free_segment(&g.data_region);  // the globals stay mapped, contents intact
  else if (g.data_bytes > 0)
    FM_deregister_memory(&g.data_region);
  FM_free_segment(&g.heap_region);
  const int rc = FM_finalize();
  g.finalized = true;
  unmap_all();
  if (rc != FM_SUCCESS) warn(call, "FM_finalize: %s (%s)", FM_last_error(), FM_strerror(rc));
}

void global_exit(int status) {
  char msg[128];
  std::snprintf(msg, sizeof msg, "shmem_global_exit(%d) called by PE %d", status, g.me);
  std::fflush(stdout);
  std::fflush(stderr);
  if (g.initialized && !g.finalized) FM_abort(status, msg);
  std::_Exit(status);
}

}  // namespace shmemfm
