// rma.cpp - one-sided operations: strided and vector put, get and accumulate, read-modify-write,
// fences, non-blocking requests; the wire protocol and the target's handler.
//
// Same-host targets are reached directly (their slices are mapped here); the others with one FM
// message per operation to GA-FM's handler, whose data the target receives straight into place
// (FM_receive per chunk) and whose get answers it sends straight from place (FM_send_piece per
// chunk).  Messages from one origin to one target are handled in order, so a put, then an
// accumulate, then a get see each other without fences; a fence is a request answered once
// everything before it is applied.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <complex>
#include <cstring>
#include <mutex>

#include "api.hpp"
#include "gafm.hpp"

namespace gafm {

namespace {

enum Op : std::uint16_t {
  kPutS = 1,
  kAccS,
  kGetS,
  kGetReply,
  kPutV,
  kAccV,
  kGetV,
  kFence,
  kFenceAck,
  kLock,
  kUnlock,
  kGrant,
  kPutFlag
};

// Every GA-FM message starts with this.
struct Hdr {
  std::uint16_t op;
  std::uint16_t type;   // accumulate type
  std::int32_t levels;  // strided: stride levels; vector: segments
  std::uint64_t addr;   // strided: the target-side base; flag: the flag's address
  std::int32_t slot;    // get request slot / mutex number / flag value
  std::int32_t gen;     // its generation
  std::uint64_t bytes;  // vector: bytes per segment; fence: sequence
  double scale[2];      // accumulate scale (as its type: int, long, float, double, complex)
};

constexpr std::size_t kMaxSlots = 4096;
constexpr std::size_t kAccChunk = 64 * 1024;  // a target receives accumulate data in such pieces

// An outstanding get: where its answer goes.
struct Request {
  std::atomic<int> state{0};  // 0 free, 1 pending, 2 done
  int gen = 0;
  int proc = -1;
  Layout dst;                        // strided: the local layout
  std::byte* base = nullptr;         // strided: the local base
  std::vector<std::byte*> segments;  // vector: local segment addresses
  std::size_t seg_bytes = 0;
};
Request g_req[kMaxSlots];
std::size_t g_req_hint = 0;

std::vector<std::atomic<std::uint64_t>>& fence_acks() {
  static std::vector<std::atomic<std::uint64_t>> v(static_cast<std::size_t>(st().nproc));
  return v;
}
std::vector<std::uint64_t> g_fence_sent;

bool is_direct(int proc) {
  return proc == st().me || st().same_host[static_cast<std::size_t>(proc)];
}

void yield_if_shared() {
  if (FM_oversubscribed() == 1) sched_yield();
}

// Sends a message of `len` header bytes then pieces from pieces(), outside handlers (blocking for
// credits, extracting meanwhile).
template <typename Pieces>
void send_message(int proc, const void* head, std::size_t len, std::size_t data, Pieces&& pieces,
                  const char* call) {
  FM_stream* s = FM_begin_message(static_cast<unsigned>(proc), len + data, st().handler);
  if (s == nullptr) error(call, "sending to process %d failed: %s", proc, FM_last_error());
  int rc = FM_send_piece(s, head, len);
  if (rc == FM_SUCCESS) rc = pieces(s);
  const int rc2 = FM_end_message(s);
  if (rc != FM_SUCCESS || rc2 != FM_SUCCESS)
    error(call, "sending to process %d failed: %s", proc, FM_last_error());
  st().dirty[static_cast<std::size_t>(proc)] = 1;
}

// A small control message from inside a handler: at once when credits allow, else queued on FM's
// pending-send queue (answers may go from the progress thread: FM_PENDING_ASYNC).
struct Ctl {
  FM_pending req;
  int proc;
  Hdr h;
};
void send_ctl(int proc, const Hdr& h) {
  if (FM_pending_count(static_cast<unsigned>(proc)) == 0 &&
      FM_try_send(static_cast<unsigned>(proc), st().handler, &h, sizeof h) == FM_SUCCESS)
    return;
  auto* c = new Ctl{};
  c->req.func = [](FM_pending* p) -> int {
    Ctl* c = reinterpret_cast<Ctl*>(p);
    const int rc = FM_try_send(static_cast<unsigned>(c->proc), st().handler, &c->h, sizeof c->h);
    if (rc == FM_EAGAIN) return FM_EAGAIN;
    delete c;  // sent, or the peer is gone (its failure is reported by extraction)
    return FM_SUCCESS;
  };
  c->req.flags = FM_PENDING_ASYNC;
  c->proc = proc;
  c->h = h;
  if (FM_pending_add(static_cast<unsigned>(proc), &c->req) != FM_SUCCESS) delete c;
}

std::size_t meta_size(int levels) {
  return static_cast<std::size_t>(levels + 1) * sizeof(int) +
         static_cast<std::size_t>(levels) * sizeof(long);
}
void pack_meta(const Layout& l, std::byte* out) {
  std::memcpy(out, l.count, static_cast<std::size_t>(l.levels + 1) * sizeof(int));
  std::memcpy(out + (l.levels + 1) * sizeof(int), l.stride,
              static_cast<std::size_t>(l.levels) * sizeof(long));
}

int alloc_slot(int proc, const char* call) {
  for (int tries = 0;; ++tries) {
    for (std::size_t k = 0; k < kMaxSlots; ++k) {
      Request& r = g_req[(g_req_hint + k) % kMaxSlots];
      int free = 0;
      if (r.state.compare_exchange_strong(free, 1)) {
        g_req_hint = (g_req_hint + k + 1) % kMaxSlots;
        ++r.gen;
        r.proc = proc;
        return static_cast<int>(&r - g_req);
      }
    }
    progress(call);  // all in flight: let some complete
  }
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// layouts

std::size_t Layout::chunks() const noexcept {
  std::size_t n = 1;
  for (int i = 1; i <= levels; ++i) n *= static_cast<std::size_t>(count[i]);
  return n;
}

void Layout::span(long* lo, long* hi) const noexcept {
  long a = 0, b = 0;
  for (int i = 0; i < levels; ++i) {
    const long reach = static_cast<long>(count[i + 1] - 1) * stride[i];
    if (reach < 0)
      a += reach;
    else
      b += reach;
  }
  *lo = a;
  *hi = b + count[0];
}

Layout layout(int levels, const int* count, const int* stride, const char* call, const char* side) {
  if (levels < 0 || levels > kMaxLevels)
    error(call, "stride_levels %d out of range [0, %d]", levels, kMaxLevels);
  if (count == nullptr) error(call, "count is NULL");
  if (levels > 0 && stride == nullptr) error(call, "%s stride array is NULL", side);
  Layout l;
  l.levels = levels;
  for (int i = 0; i <= levels; ++i) {
    if (count[i] < 0) error(call, "count[%d] = %d is negative", i, count[i]);
    l.count[i] = count[i];
  }
  for (int i = 0; i < levels; ++i) l.stride[i] = stride[i];
  return l;
}

// ------------------------------------------------------------------------------------------------
// accumulate kernels

std::size_t type_size(int type, const char* call) {
  switch (type) {
    case ARMCI_ACC_INT:
      return sizeof(int);
    case ARMCI_ACC_LNG:
      return sizeof(long);
    case ARMCI_ACC_FLT:
      return sizeof(float);
    case ARMCI_ACC_DBL:
      return sizeof(double);
    case ARMCI_ACC_CPL:
      return 2 * sizeof(float);
    case ARMCI_ACC_DCP:
      return 2 * sizeof(double);
    default:
      error(call, "accumulate type %d is not an ARMCI_ACC_* type", type);
  }
}

namespace {
template <typename T>
void acc_real(void* dst, const void* src, std::size_t n, T scale) {
  T* d = static_cast<T*>(dst);
  const T* s = static_cast<const T*>(src);
  for (std::size_t i = 0; i < n; ++i) d[i] += scale * s[i];
}
template <typename T>
void acc_complex(void* dst, const void* src, std::size_t n, T sr, T si) {
  T* d = static_cast<T*>(dst);
  const T* s = static_cast<const T*>(src);
  for (std::size_t i = 0; i < n; ++i) {
    const T re = s[2 * i], im = s[2 * i + 1];
    d[2 * i] += re * sr - im * si;
    d[2 * i + 1] += im * sr + re * si;
  }
}
}  // namespace

void accumulate(int type, const void* scale, void* dst, const void* src, std::size_t bytes) {
  switch (type) {
    case ARMCI_ACC_INT:
      acc_real<int>(dst, src, bytes / sizeof(int), *static_cast<const int*>(scale));
      break;
    case ARMCI_ACC_LNG:
      acc_real<long>(dst, src, bytes / sizeof(long), *static_cast<const long*>(scale));
      break;
    case ARMCI_ACC_FLT:
      acc_real<float>(dst, src, bytes / sizeof(float), *static_cast<const float*>(scale));
      break;
    case ARMCI_ACC_DBL:
      acc_real<double>(dst, src, bytes / sizeof(double), *static_cast<const double*>(scale));
      break;
    case ARMCI_ACC_CPL: {
      const float* sc = static_cast<const float*>(scale);
      acc_complex<float>(dst, src, bytes / (2 * sizeof(float)), sc[0], sc[1]);
      break;
    }
    default: {  // ARMCI_ACC_DCP
      const double* sc = static_cast<const double*>(scale);
      acc_complex<double>(dst, src, bytes / (2 * sizeof(double)), sc[0], sc[1]);
      break;
    }
  }
}

// The accumulate lock of process proc (a word in its control segment): held while one of its
// slices is accumulated into, by its own handler or directly by a process of its host.
void acc_lock(int proc) {
  std::uint32_t* w = st().locks[static_cast<std::size_t>(proc)];
  for (unsigned spins = 0;; ++spins) {
    std::uint32_t free = 0;
    if (__atomic_load_n(w, __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(w, &free, 1u, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return;
    if ((spins & 63) == 63) sched_yield();  // the holder may need this CPU
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
  }
}
void acc_unlock(int proc) {
  __atomic_store_n(st().locks[static_cast<std::size_t>(proc)], 0u, __ATOMIC_RELEASE);
}

namespace {
void copy_scale(int type, const void* scale, double out[2], const char* call) {
  if (scale == nullptr) error(call, "scale is NULL");
  std::memset(out, 0, 2 * sizeof(double));
  std::memcpy(out, scale, std::min<std::size_t>(type_size(type, call), 2 * sizeof(double)));
}
}  // namespace

// ------------------------------------------------------------------------------------------------
// origin: strided

namespace {
// A strided put or accumulate through FM: h (its op, and type and scale) with dst's layout, then
// the source's chunks as the message's pieces.
void send_strided(int proc, Hdr h, void* dst, const std::byte* sb, const Layout& ls,
                  const Layout& ld, const char* call) {
  std::byte head[sizeof(Hdr) + 2 * kMaxLevels * sizeof(long) + sizeof(int)];
  h.levels = ld.levels;
  h.addr = reinterpret_cast<std::uint64_t>(dst);
  std::memcpy(head, &h, sizeof h);
  pack_meta(ld, head + sizeof h);
  const std::size_t c0 = static_cast<std::size_t>(ld.count[0]);
  send_message(
      proc, head, sizeof h + meta_size(ld.levels), ld.bytes(),
      [&](FM_stream* st) {
        int rc = FM_SUCCESS;
        ls.each([&](long o) {
          if (rc == FM_SUCCESS) rc = FM_send_piece(st, sb + o, c0);
        });
        return rc;
      },
      call);
}
}  // namespace

void put_strided(const void* src, const Layout& ls, void* dst, const Layout& ld, int proc,
                 const char* call) {
  long lo = 0, hi = 0;
  ld.span(&lo, &hi);
  const std::size_t c0 = static_cast<std::size_t>(ld.count[0]);
  if (ld.chunks() == 0 || c0 == 0) return;
  const Slice& s = find(proc, static_cast<const std::byte*>(dst) + lo,
                        static_cast<std::size_t>(hi - lo), call, "destination");
  const auto* sb = static_cast<const std::byte*>(src);
  if (std::byte* d = is_direct(proc) ? local_address(s, dst) : nullptr) {
    each_pair(ls, ld, [&](long os, long od) { std::memmove(d + od, sb + os, c0); });
    return;
  }
  Hdr h{};
  h.op = kPutS;
  send_strided(proc, h, dst, sb, ls, ld, call);
}

void acc_strided(int type, const void* scale, const void* src, const Layout& ls, void* dst,
                 const Layout& ld, int proc, const char* call) {
  const std::size_t es = type_size(type, call);
  const std::size_t c0 = static_cast<std::size_t>(ld.count[0]);
  if (c0 % es != 0)
    error(call, "count[0] = %zu bytes is not a whole number of type %d's %zu-byte elements", c0,
          type, es);
  if (ld.chunks() == 0 || c0 == 0) return;
  double sc[2];
  copy_scale(type, scale, sc, call);
  long lo = 0, hi = 0;
  ld.span(&lo, &hi);
  const Slice& s = find(proc, static_cast<const std::byte*>(dst) + lo,
                        static_cast<std::size_t>(hi - lo), call, "destination");
  const auto* sb = static_cast<const std::byte*>(src);
  if (std::byte* d = is_direct(proc) ? local_address(s, dst) : nullptr) {
    acc_lock(proc);
    each_pair(ls, ld, [&](long os, long od) { accumulate(type, sc, d + od, sb + os, c0); });
    acc_unlock(proc);
    return;
  }
  Hdr h{};
  h.op = kAccS;
  h.type = static_cast<std::uint16_t>(type);
  std::memcpy(h.scale, sc, sizeof sc);
  send_strided(proc, h, dst, sb, ls, ld, call);
}

int get_strided(const void* src, const Layout& ls, void* dst, const Layout& ld, int proc,
                const char* call) {
  long lo = 0, hi = 0;
  ls.span(&lo, &hi);
  const std::size_t c0 = static_cast<std::size_t>(ls.count[0]);
  if (ls.chunks() == 0 || c0 == 0) return -1;
  const Slice& s = find(proc, static_cast<const std::byte*>(src) + lo,
                        static_cast<std::size_t>(hi - lo), call, "source");
  auto* db = static_cast<std::byte*>(dst);
  if (const std::byte* p = is_direct(proc) ? local_address(s, src) : nullptr) {
    each_pair(ls, ld, [&](long os, long od) { std::memmove(db + od, p + os, c0); });
    return -1;
  }
  const int slot = alloc_slot(proc, call);
  Request& r = g_req[slot];
  r.dst = ld;
  r.base = db;
  r.segments.clear();
  std::byte head[sizeof(Hdr) + 2 * kMaxLevels * sizeof(long) + sizeof(int)];
  Hdr h{};
  h.op = kGetS;
  h.levels = ls.levels;
  h.addr = reinterpret_cast<std::uint64_t>(src);
  h.slot = slot;
  h.gen = r.gen;
  std::memcpy(head, &h, sizeof h);
  pack_meta(ls, head + sizeof h);
  send_message(
      proc, head, sizeof h + meta_size(ls.levels), 0, [](FM_stream*) { return FM_SUCCESS; }, call);
  return slot;
}

// ------------------------------------------------------------------------------------------------
// origin: vectors

namespace {
// One vector descriptor's segments in proc (a put's destinations, a get's sources), every one
// checked as proc's ARMCI memory before anything moves; `local` gets their addresses here when
// proc is reached directly, else stays empty.  False for an empty descriptor.
bool remote_segments(const armci_giov_t& g, int v, int proc, bool remote_is_dst,
                     std::vector<std::byte*>* local, const char* call) {
  if (g.ptr_array_len <= 0 || g.bytes <= 0) return false;
  if (g.src_ptr_array == nullptr || g.dst_ptr_array == nullptr)
    error(call, "descriptor %d: a pointer array is NULL", v);
  void** remote = remote_is_dst ? g.dst_ptr_array : g.src_ptr_array;
  const auto bytes = static_cast<std::size_t>(g.bytes);
  const auto nseg = static_cast<std::size_t>(g.ptr_array_len);
  bool direct = is_direct(proc);
  local->assign(direct ? nseg : 0, nullptr);
  for (std::size_t i = 0; i < nseg; ++i) {
    const Slice& s = find(proc, remote[i], bytes, call, remote_is_dst ? "destination" : "source");
    if (direct) {
      (*local)[i] = local_address(s, remote[i]);
      direct = (*local)[i] != nullptr;
    }
  }
  if (!direct) local->clear();
  return true;
}
}  // namespace

void put_vector(const armci_giov_t* iov, int n, int proc, bool acc, int type, const void* scale,
                const char* call) {
  check_proc(proc, call);
  if (n < 0 || (n > 0 && iov == nullptr)) error(call, "iov is NULL or iov_len %d negative", n);
  double sc[2] = {0, 0};
  std::size_t es = 1;
  if (acc) {
    es = type_size(type, call);
    copy_scale(type, scale, sc, call);
  }
  for (int v = 0; v < n; ++v) {
    const armci_giov_t& g = iov[v];
    std::vector<std::byte*> local;
    if (!remote_segments(g, v, proc, true, &local, call)) continue;
    const auto bytes = static_cast<std::size_t>(g.bytes);
    if (acc && bytes % es != 0)
      error(call, "descriptor %d: %zu bytes is not a whole number of %zu-byte elements", v, bytes,
            es);
    const std::size_t nseg = static_cast<std::size_t>(g.ptr_array_len);
    if (!local.empty()) {
      if (acc) acc_lock(proc);
      for (std::size_t i = 0; i < nseg; ++i) {
        if (acc)
          accumulate(type, sc, local[i], g.src_ptr_array[i], bytes);
        else
          std::memmove(local[i], g.src_ptr_array[i], bytes);
      }
      if (acc) acc_unlock(proc);
      continue;
    }
    Hdr h{};
    h.op = acc ? kAccV : kPutV;
    h.type = static_cast<std::uint16_t>(type);
    h.levels = static_cast<std::int32_t>(nseg);
    h.bytes = bytes;
    std::memcpy(h.scale, sc, sizeof sc);
    std::vector<std::uint64_t> addrs(nseg);
    for (std::size_t i = 0; i < nseg; ++i)
      addrs[i] = reinterpret_cast<std::uint64_t>(g.dst_ptr_array[i]);
    send_message(
        proc, &h, sizeof h, nseg * (8 + bytes),
        [&](FM_stream* st) {
          int rc = FM_send_piece(st, addrs.data(), nseg * 8);
          for (std::size_t i = 0; i < nseg && rc == FM_SUCCESS; ++i)
            rc = FM_send_piece(st, g.src_ptr_array[i], bytes);
          return rc;
        },
        call);
  }
}

int get_vector(const armci_giov_t* iov, int n, int proc, const char* call) {
  check_proc(proc, call);
  if (n < 0 || (n > 0 && iov == nullptr)) error(call, "iov is NULL or iov_len %d negative", n);
  int last = -1;
  for (int v = 0; v < n; ++v) {
    const armci_giov_t& g = iov[v];
    std::vector<std::byte*> local;
    if (!remote_segments(g, v, proc, false, &local, call)) continue;
    const auto bytes = static_cast<std::size_t>(g.bytes);
    const std::size_t nseg = static_cast<std::size_t>(g.ptr_array_len);
    if (!local.empty()) {
      for (std::size_t i = 0; i < nseg; ++i) std::memmove(g.dst_ptr_array[i], local[i], bytes);
      continue;
    }
    if (last >= 0) wait_request(last, g_req[last].gen, call);  // one vector request at a time
    const int slot = alloc_slot(proc, call);
    Request& r = g_req[slot];
    r.segments.resize(nseg);
    for (std::size_t i = 0; i < nseg; ++i)
      r.segments[i] = static_cast<std::byte*>(g.dst_ptr_array[i]);
    r.seg_bytes = bytes;
    Hdr h{};
    h.op = kGetV;
    h.levels = static_cast<std::int32_t>(nseg);
    h.bytes = bytes;
    h.slot = slot;
    h.gen = r.gen;
    std::vector<std::uint64_t> addrs(nseg);
    for (std::size_t i = 0; i < nseg; ++i)
      addrs[i] = reinterpret_cast<std::uint64_t>(g.src_ptr_array[i]);
    send_message(
        proc, &h, sizeof h, nseg * 8,
        [&](FM_stream* st) { return FM_send_piece(st, addrs.data(), nseg * 8); }, call);
    last = slot;
  }
  return last;
}

// ------------------------------------------------------------------------------------------------
// completion

void progress(const char* call) {
  yield_if_shared();
  const long rc = FM_extract(SIZE_MAX);
  if (rc < 0) error(call, "%s", FM_last_error());
}

bool request_done(int slot, int gen) {
  if (slot < 0 || static_cast<std::size_t>(slot) >= kMaxSlots) return true;
  const Request& r = g_req[slot];
  return r.gen != gen || r.state.load(std::memory_order_acquire) != 1;
}

int request_gen(int slot) {
  return g_req[slot].gen;
}

void wait_request(int slot, int gen, const char* call) {
  if (slot < 0) return;
  if (static_cast<std::size_t>(slot) >= kMaxSlots)
    error(call, "handle names request %d, not one of ARMCI's (invalid or corrupted handle)", slot);
  while (!request_done(slot, gen)) progress(call);
  Request& r = g_req[slot];
  int done = 2;
  if (r.gen == gen) r.state.compare_exchange_strong(done, 0, std::memory_order_acq_rel);
}

void wait_requests(int proc) {
  for (std::size_t k = 0; k < kMaxSlots; ++k) {
    Request& r = g_req[k];
    if (r.state.load(std::memory_order_acquire) == 0 || (proc >= 0 && r.proc != proc)) continue;
    wait_request(static_cast<int>(k), r.gen, proc >= 0 ? "ARMCI_WaitProc" : "ARMCI_WaitAll");
  }
}

// Remote completion of everything sent to proc (-1: to everybody): a fence request each, answered
// once everything before it is applied (FIFO).  Direct accesses are complete once visible: a
// full memory barrier.
void fence(int proc) {
  State& s = st();
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  auto& acks = fence_acks();
  if (g_fence_sent.size() != acks.size()) g_fence_sent.assign(acks.size(), 0);
  std::vector<int> waiting;
  for (int p = 0; p < s.nproc; ++p) {
    if ((proc >= 0 && p != proc) || !s.dirty[static_cast<std::size_t>(p)]) continue;
    s.dirty[static_cast<std::size_t>(p)] = 0;
    Hdr h{};
    h.op = kFence;
    h.bytes = ++g_fence_sent[static_cast<std::size_t>(p)];
    if (FM_send(static_cast<unsigned>(p), s.handler, &h, sizeof h) != FM_SUCCESS)
      error("ARMCI_Fence", "fence to process %d failed: %s", p, FM_last_error());
    waiting.push_back(p);
  }
  for (int p : waiting)
    while (acks[static_cast<std::size_t>(p)].load(std::memory_order_acquire) <
           g_fence_sent[static_cast<std::size_t>(p)])
      progress("ARMCI_Fence");
}

// ------------------------------------------------------------------------------------------------
// read-modify-write

int rmw(int op, void* ploc, void* prem, int value, int proc) {
  const char* call = "ARMCI_Rmw";
  if (ploc == nullptr) error(call, "ploc is NULL");
  bool is_long;
  switch (op) {
    case ARMCI_FETCH_AND_ADD:
    case ARMCI_SWAP:
      is_long = false;
      break;
    case ARMCI_FETCH_AND_ADD_LONG:
    case ARMCI_SWAP_LONG:
      is_long = true;
      break;
    default:
      error(call, "operation %d is not an ARMCI_FETCH_AND_ADD[_LONG] or ARMCI_SWAP[_LONG]", op);
  }
  const std::size_t size = is_long ? sizeof(long) : sizeof(int);
  if (reinterpret_cast<std::uintptr_t>(prem) % size != 0)
    error(call, "remote address %p is not %zu-byte aligned", prem, size);
  const Slice& s = find(proc, prem, size, call, "remote address");
  const bool swap = op == ARMCI_SWAP || op == ARMCI_SWAP_LONG;
  const int fm_op = swap ? FM_ATOMIC_SWAP : FM_ATOMIC_ADD;
  const int fm_type = is_long ? FM_INT64 : FM_INT32;
  std::uint64_t operand = 0;
  if (swap)
    std::memcpy(&operand, ploc, size);
  else if (is_long)
    operand = static_cast<std::uint64_t>(static_cast<long>(value));
  else
    operand = static_cast<std::uint32_t>(value);
  if (std::byte* p = is_direct(proc) ? local_address(s, prem) : nullptr) {
    const std::uint64_t old = FM_atomic_local(p, fm_op, fm_type, operand, 0);
    std::memcpy(ploc, &old, size);  // (little-endian: the low bytes)
    return 0;
  }
  std::uint64_t old = 0;
  const FM_region& reg = s.alloc->regions[static_cast<std::size_t>(s.member)];
  const int rc = FM_atomic(&reg, reinterpret_cast<std::uintptr_t>(prem) - s.base, fm_op, fm_type,
                           &operand, nullptr, &old);
  if (rc != FM_SUCCESS) error(call, "on process %d: %s", proc, FM_last_error());
  std::memcpy(ploc, &old, size);
  return 0;
}

// ------------------------------------------------------------------------------------------------
// target side

namespace {

// Accumulate data arrives in pieces of up to kAccChunk bytes, each through a buffer of its own
// handler: a handler may suspend in FM_receive while another accumulate handler runs, so one
// shared buffer would be overwritten.  Handlers run one at a time (under FM's API lock when its
// progress thread runs), so the pool needs no lock of its own.  Large pieces matter: a
// zero-copy message is read from the origin's memory once per FM_receive call.
std::vector<std::unique_ptr<std::byte[]>> g_acc_pool;

bool receive_accumulate(FM_stream* s, int type, const double* scale, std::byte* dst,
                        std::size_t bytes) {
  alignas(16) std::byte small[1024];
  std::unique_ptr<std::byte[]> big;
  std::byte* buf = small;
  std::size_t cap = sizeof small;
  if (bytes > sizeof small) {
    if (!g_acc_pool.empty()) {
      big = std::move(g_acc_pool.back());
      g_acc_pool.pop_back();
    } else {
      big = std::make_unique<std::byte[]>(kAccChunk);
    }
    buf = big.get();
    cap = kAccChunk;
  }
  bool ok = true;
  for (std::size_t done = 0; done < bytes;) {
    const std::size_t k = std::min(cap, bytes - done);  // cap: whole elements of every type
    if (FM_receive(buf, s, k) != static_cast<long>(k)) {
      ok = false;
      break;
    }
    acc_lock(st().me);  // never held across FM_receive (handlers may suspend there)
    accumulate(type, scale, dst + done, buf, k);
    acc_unlock(st().me);
    done += k;
  }
  if (big != nullptr) g_acc_pool.push_back(std::move(big));
  return ok;
}

// A get's answer: sent from the handler when the credits allow, else from FM's pending queue.
struct Reply {
  FM_pending req;
  int proc;
  Hdr h;
  Layout src;                              // strided
  std::byte* base;                         // strided
  std::vector<const std::byte*> segments;  // vector
  std::size_t seg_bytes;
};

int send_reply(Reply* r, bool in_handler) {
  const std::size_t data = r->segments.empty() ? r->src.bytes() : r->segments.size() * r->seg_bytes;
  FM_stream* s =
      in_handler
          ? FM_try_begin_message(static_cast<unsigned>(r->proc), sizeof r->h + data, st().handler)
          : FM_begin_message(static_cast<unsigned>(r->proc), sizeof r->h + data, st().handler);
  if (s == nullptr) return FM_last_status();
  int rc = FM_send_piece(s, &r->h, sizeof r->h);
  if (r->segments.empty()) {
    const std::size_t c0 = static_cast<std::size_t>(r->src.count[0]);
    r->src.each([&](long o) {
      if (rc == FM_SUCCESS) rc = FM_send_piece(s, r->base + o, c0);
    });
  } else {
    for (const std::byte* p : r->segments)
      if (rc == FM_SUCCESS) rc = FM_send_piece(s, p, r->seg_bytes);
  }
  const int rc2 = FM_end_message(s);
  return rc != FM_SUCCESS ? rc : rc2;
}

void answer(Reply* r) {
  if (FM_pending_count(static_cast<unsigned>(r->proc)) == 0) {
    const int rc = send_reply(r, true);
    if (rc != FM_EAGAIN && rc != FM_ELENGTH && rc != FM_EBUSY) {
      delete r;
      return;
    }
  }
  r->req.func = [](FM_pending* p) -> int {
    Reply* r = reinterpret_cast<Reply*>(p);
    const int rc = send_reply(r, false);
    if (rc == FM_EAGAIN) return FM_EAGAIN;
    delete r;
    return FM_SUCCESS;
  };
  r->req.flags = FM_PENDING_ASYNC;
  if (FM_pending_add(static_cast<unsigned>(r->proc), &r->req) != FM_SUCCESS) delete r;
}

void bad_request(unsigned sender, const char* what, std::uint64_t addr, std::size_t len) {
  std::fprintf(stderr,
               "[%d] ARMCI Error: a %s from process %u names [%#llx, +%zu), not ARMCI memory here; "
               "ignored\n",
               st().me, what, sender, static_cast<unsigned long long>(addr), len);
}

bool read_meta(FM_stream* s, Layout* l, int levels) {
  if (levels < 0 || levels > kMaxLevels) return false;
  l->levels = levels;
  const std::size_t n = meta_size(levels);
  std::byte buf[2 * kMaxLevels * sizeof(long) + 2 * sizeof(int)];
  if (FM_receive(buf, s, n) != static_cast<long>(n)) return false;
  std::memcpy(l->count, buf, static_cast<std::size_t>(levels + 1) * sizeof(int));
  std::memcpy(l->stride, buf + (levels + 1) * sizeof(int),
              static_cast<std::size_t>(levels) * sizeof(long));
  for (int i = 0; i <= levels; ++i)
    if (l->count[i] < 0) return false;
  return true;
}

bool in_mine(std::uint64_t base, const Layout& l) {
  long lo = 0, hi = 0;
  l.span(&lo, &hi);
  return mine(reinterpret_cast<const std::byte*>(base) + lo, static_cast<std::size_t>(hi - lo));
}

}  // namespace

int handler(FM_stream* s, unsigned sender) {
  Hdr h;
  if (FM_receive(&h, s, sizeof h) != static_cast<long>(sizeof h)) return FM_CONTINUE;
  switch (h.op) {
    case kPutS:
    case kAccS: {
      Layout l;
      if (!read_meta(s, &l, h.levels)) return FM_CONTINUE;
      if (!in_mine(h.addr, l)) {
        bad_request(sender, h.op == kPutS ? "put" : "accumulate", h.addr, l.bytes());
        return FM_CONTINUE;
      }
      auto* base = reinterpret_cast<std::byte*>(h.addr);
      const std::size_t c0 = static_cast<std::size_t>(l.count[0]);
      if (h.op == kPutS) {
        l.each([&](long o) { (void)FM_receive(base + o, s, c0); });
      } else {
        (void)type_size(h.type, "ARMCI_AccS (target)");
        bool ok = true;
        l.each([&](long o) { ok = ok && receive_accumulate(s, h.type, h.scale, base + o, c0); });
      }
      return FM_CONTINUE;
    }
    case kGetS: {
      auto* r = new Reply{};
      if (!read_meta(s, &r->src, h.levels) || !in_mine(h.addr, r->src)) {
        bad_request(sender, "get", h.addr, r->src.bytes());
        r->src = Layout{};  // an empty answer: the origin sees zero bytes and reports it
        r->src.count[0] = 0;
      }
      r->proc = static_cast<int>(sender);
      r->h = Hdr{};
      r->h.op = kGetReply;
      r->h.slot = h.slot;
      r->h.gen = h.gen;
      r->base = reinterpret_cast<std::byte*>(h.addr);
      answer(r);
      return FM_CONTINUE;
    }
    case kPutV:
    case kAccV: {
      const auto nseg = static_cast<std::size_t>(h.levels);
      const auto bytes = static_cast<std::size_t>(h.bytes);
      std::vector<std::uint64_t> addrs(nseg);
      if (FM_receive(addrs.data(), s, nseg * 8) != static_cast<long>(nseg * 8)) return FM_CONTINUE;
      for (std::uint64_t a : addrs)
        if (!mine(reinterpret_cast<const void*>(a), bytes)) {
          bad_request(sender, h.op == kPutV ? "vector put" : "vector accumulate", a, bytes);
          return FM_CONTINUE;
        }
      if (h.op == kPutV) {
        for (std::uint64_t a : addrs) (void)FM_receive(reinterpret_cast<void*>(a), s, bytes);
      } else {
        // segments may repeat (scatter-accumulate with colliding subscripts): each is applied
        (void)type_size(h.type, "ARMCI_AccV (target)");
        for (std::uint64_t a : addrs)
          if (!receive_accumulate(s, h.type, h.scale, reinterpret_cast<std::byte*>(a), bytes))
            break;
      }
      return FM_CONTINUE;
    }
    case kGetV: {
      const auto nseg = static_cast<std::size_t>(h.levels);
      auto* r = new Reply{};
      r->proc = static_cast<int>(sender);
      r->h = Hdr{};
      r->h.op = kGetReply;
      r->h.slot = h.slot;
      r->h.gen = h.gen;
      r->seg_bytes = static_cast<std::size_t>(h.bytes);
      std::vector<std::uint64_t> addrs(nseg);
      if (FM_receive(addrs.data(), s, nseg * 8) != static_cast<long>(nseg * 8)) {
        delete r;
        return FM_CONTINUE;
      }
      for (std::uint64_t a : addrs) {
        if (!mine(reinterpret_cast<const void*>(a), r->seg_bytes)) {
          bad_request(sender, "vector get", a, r->seg_bytes);
          r->segments.clear();
          r->src = Layout{};
          break;
        }
        r->segments.push_back(reinterpret_cast<const std::byte*>(a));
      }
      answer(r);
      return FM_CONTINUE;
    }
    case kGetReply: {
      if (h.slot < 0 || static_cast<std::size_t>(h.slot) >= kMaxSlots) return FM_CONTINUE;
      Request& r = g_req[h.slot];
      if (r.gen != h.gen || r.state.load() != 1) return FM_CONTINUE;
      if (r.segments.empty()) {
        const std::size_t c0 = static_cast<std::size_t>(r.dst.count[0]);
        r.dst.each([&](long o) { (void)FM_receive(r.base + o, s, c0); });
      } else {
        for (std::byte* p : r.segments) (void)FM_receive(p, s, r.seg_bytes);
      }
      r.state.store(2, std::memory_order_release);
      return FM_CONTINUE;
    }
    case kFence: {
      Hdr a{};
      a.op = kFenceAck;
      a.bytes = h.bytes;
      send_ctl(static_cast<int>(sender), a);
      return FM_CONTINUE;
    }
    case kFenceAck: {
      auto& ack = fence_acks()[sender];
      if (ack.load() < h.bytes) ack.store(h.bytes, std::memory_order_release);
      return FM_CONTINUE;
    }
    case kPutFlag: {
      if (!mine(reinterpret_cast<const void*>(h.addr), sizeof(int))) {
        bad_request(sender, "flag put", h.addr, sizeof(int));
        return FM_CONTINUE;
      }
      __atomic_store_n(reinterpret_cast<int*>(h.addr), h.slot, __ATOMIC_RELEASE);
      return FM_CONTINUE;
    }
    case kLock:
    case kUnlock:
    case kGrant:
      mutex_on_message(h.op == kLock     ? 0
                       : h.op == kUnlock ? 1
                                         : 2,
                       h.slot, static_cast<int>(sender));
      return FM_CONTINUE;
    default:
      std::fprintf(stderr, "[%d] ARMCI Error: unknown GA-FM message %u from process %u; ignored\n",
                   st().me, h.op, sender);
      return FM_CONTINUE;
  }
}

// A flag put after the data (PutS_flag): FIFO applies it after everything sent before.
void put_flag(int* flag, int value, int proc, const char* call) {
  const Slice& s = find(proc, flag, sizeof(int), call, "flag");
  if (std::byte* p = is_direct(proc) ? local_address(s, flag) : nullptr) {
    __atomic_store_n(reinterpret_cast<int*>(p), value, __ATOMIC_RELEASE);
    return;
  }
  Hdr h{};
  h.op = kPutFlag;
  h.addr = reinterpret_cast<std::uint64_t>(flag);
  h.slot = value;
  send_message(
      proc, &h, sizeof h, 0, [](FM_stream*) { return FM_SUCCESS; }, call);
}

// Mutex traffic: a lock request, an unlock, a grant.
void send_mutex(int op, int mutex, int proc, bool from_handler) {
  Hdr h{};
  h.op = op == 0 ? kLock : op == 1 ? kUnlock : kGrant;
  h.slot = mutex;
  if (from_handler) {
    send_ctl(proc, h);
  } else {
    if (FM_send(static_cast<unsigned>(proc), st().handler, &h, sizeof h) != FM_SUCCESS)
      error(op == 0 ? "ARMCI_Lock" : "ARMCI_Unlock", "to process %d: %s", proc, FM_last_error());
    // a fence covers it: ARMCI_Destroy_mutexes finds every unlock applied (under an MPI other
    // than MPI-FM its barrier does not travel behind FM's messages)
    st().dirty[static_cast<std::size_t>(proc)] = 1;
  }
}

}  // namespace gafm
