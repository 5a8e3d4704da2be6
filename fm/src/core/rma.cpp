// rma.cpp - the one-sided engine.
//
// By default (FM_RMA=emulated) operations are FM messages to internal handlers on every transport,
// so the semantics are the same everywhere (shm, tcp, verbs, udp, loopback):
//  * put:    RmaReq + data  -> the target's handler receives the data straight into the region
//            (zero-copy on transports with RMA read: it is pulled from the origin's buffer);
//  * get:    RmaReq         -> the target answers with RmaReply + data from the region;
//  * atomic: RmaReq         -> the target applies it and answers with the old value.
// Every operation is answered (kHReply / kHGetReply), which is what remote completion (FM_flush)
// waits for; except puts without a handle, which are silent: FM_flush sends one flush request
// after them, answered after they are applied (FIFO) with the first failure among them.  Per-sender
// FIFO delivery applies operations from one origin in issue order, so FM_fence has nothing to wait
// for.  Handlers run one at a time at the target, so atomics are atomic with respect to each other;
// they use __atomic builtins as well, so that the target's own loads and stores of the word see
// whole values.  With FM_RMA=native, puts and gets of regions exposed on the lane that reaches
// their node use the transport's RMA instead (atomics always take the message path).
//
// A handler may not wait for credits, so an answer that cannot be sent at once (and every large
// get answer, which should leave from outside handlers to take the zero-copy path) goes on the
// pending-send queue, which the core drains, in order per origin, at the end of FM_extract and in
// the waits here.
#include "core/rma.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/handlers.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::core {

namespace {

constexpr std::uint32_t kMaxOps = 4096;  // operations in flight per node (then issuers wait)

enum Kind : int { kPut, kGet, kAtomic };

// A put nobody waits for individually (FM_put_nb without a handle): not answered; its failure is
// kept by the target and reported by the next flush.
constexpr std::uint32_t kRmaSilent = 1;
// A flush (a get of nothing): answered, after every earlier operation of the origin (FIFO), with
// the first failure of its silent puts since the last flush.
constexpr std::uint32_t kRmaFlush = 2;

std::size_t type_size(int type) {
  return (type == FM_INT32 || type == FM_UINT32) ? 4 : 8;
}

template <typename T>
T apply(T* p, int op, T operand, T compare) {
  switch (op) {
    case FM_ATOMIC_ADD:
      return __atomic_fetch_add(p, operand, __ATOMIC_SEQ_CST);
    case FM_ATOMIC_AND:
      return __atomic_fetch_and(p, operand, __ATOMIC_SEQ_CST);
    case FM_ATOMIC_OR:
      return __atomic_fetch_or(p, operand, __ATOMIC_SEQ_CST);
    case FM_ATOMIC_XOR:
      return __atomic_fetch_xor(p, operand, __ATOMIC_SEQ_CST);
    case FM_ATOMIC_SWAP:
      return __atomic_exchange_n(p, operand, __ATOMIC_SEQ_CST);
    case FM_ATOMIC_CSWAP:
      __atomic_compare_exchange_n(p, &compare, operand, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
      return compare;  // the old value either way
    default:           // FM_ATOMIC_READ
      return __atomic_load_n(p, __ATOMIC_SEQ_CST);
  }
}

std::uint64_t apply_sized(void* p, std::size_t size, int op, std::uint64_t operand,
                          std::uint64_t compare) {
  if (size == 4)
    return apply(static_cast<std::uint32_t*>(p), op, static_cast<std::uint32_t>(operand),
                 static_cast<std::uint32_t>(compare));
  return apply(static_cast<std::uint64_t*>(p), op, operand, compare);
}

}  // namespace

// An FM_ATOMIC_* operation on a local word, as a target applies a peer's (FM_atomic_local).
std::uint64_t apply_local(void* p, int op, int type, std::uint64_t operand,
                          std::uint64_t compare) noexcept {
  return apply_sized(p, type_size(type), op, operand, compare);
}

// A descriptor's check word: catches descriptors modified or corrupted on their way (a length
// made larger, a key changed), so that they are refused at the origin before any transfer.  Not a
// security mechanism.
std::uint32_t region_check(const FM_region& r) noexcept {
  std::uint64_t h = 0x9e3779b97f4a7c15ull;
  auto mix = [&h](std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  };
  mix(r.base);
  mix(r.length);
  mix(r.key);
  mix((std::uint64_t{r.node} << 32) | r.access);
  for (std::uint64_t v : r.opaque) mix(v);
  mix(r.flags);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

// An answer waiting on the pending-send queue.
struct RmaEngine::Reply {
  FM_pending req;  // first: the queue hands this back
  RmaEngine* engine;
  unsigned dest;
  RmaReply reply;
  const void* data;
  std::size_t len;
};

RmaEngine::RmaEngine(CoreOps core) : core_(core) {}

RmaEngine::~RmaEngine() = default;

// ------------------------------------------------------------------------------------------------
// registration

int RmaEngine::lane_kind(unsigned node) const noexcept {
  const int l = core_.lane_of(node);
  return l < 0 ? -1 : core_.lane(static_cast<std::size_t>(l)).kind;
}

int RmaEngine::register_memory(void* buf, std::size_t len, unsigned access, FM_region* out) {
  if (core_.closed()) return fail(FM_ENOTINIT, "FM_register_memory: FM is finalized");
  if (out == nullptr) return fail(FM_EINVAL, "FM_register_memory: out is NULL");
  if (buf == nullptr && len != 0) return fail(FM_EINVAL, "FM_register_memory: buf is NULL");
  if (access == 0 || (access & ~static_cast<unsigned>(FM_ACCESS_ALL)) != 0)
    return fail(FM_EINVAL, "FM_register_memory: access %#x is not a set of FM_ACCESS_* flags",
                access);
  const auto base = reinterpret_cast<std::uintptr_t>(buf);
  if (len > UINTPTR_MAX - base)
    return fail(FM_EINVAL, "FM_register_memory: [%p, +%zu) wraps around", buf, len);
  std::size_t slot = regs_.size();
  for (std::size_t i = 0; i < regs_.size(); ++i) {
    Registration& g = regs_[i];
    if (g.refs != 0 && g.base == base && g.len == len && g.access == access &&
        (g.flags & kSegmentFlag) == 0) {  // cached
      ++g.refs;
      slot = i;
      break;
    }
    if (g.refs == 0 && slot == regs_.size()) slot = i;
  }
  if (slot == regs_.size()) {
    if (regs_.size() >= UINT32_MAX - 1)
      return fail(FM_ENOMEM, "FM_register_memory: too many registrations");
    regs_.emplace_back();
  }
  Registration& g = regs_[slot];
  if (g.refs == 0) {
    g.base = base;
    g.len = len;
    g.access = access;
    g.refs = 1;
    g.flags = 0;
    g.segment[0] = g.segment[1] = 0;
    // Native RMA: exposed once per kind of lane that offers it.
    const bool rw = (access & (FM_ACCESS_READ | FM_ACCESS_WRITE)) != 0;
    for (std::size_t l = 0; l < core_.lanes() && rw && len > 0 && core_.config().rma == "native";
         ++l) {
      Lane& lane = core_.lane(l);
      const int k = lane.kind;
      const auto& caps = lane.caps();
      if ((g.flags & (kKeyValid << k)) || !caps.rma_read) continue;
      const bool writable = (access & FM_ACCESS_WRITE) != 0;
      if (writable && !caps.rma_write) continue;
      if (lane.tp->expose(buf, len, &g.native[k], writable) != FM_SUCCESS) {
        FM_DEBUG("native RMA unavailable for a region on %s: %s", caps.name.c_str(), last_error());
        continue;
      }
      g.flags |= (kKeyValid << k) | (g.native[k].addr != 0 ? kVirtAddr << k : 0u);
    }
  }
  *out = FM_region{};
  out->base = base;
  out->length = len;
  out->key = (std::uint64_t{g.gen} << 32) | (slot + 1);
  out->node = core_.rank();
  out->access = access;
  for (int k = 0; k < kKeySlots; ++k) out->opaque[k] = g.native[k].key;
  out->opaque[kSegmentSlot] = g.segment[0];
  out->opaque[kSegmentSlot + 1] = g.segment[1];
  out->flags = g.flags;
  out->check = region_check(*out);
  return FM_SUCCESS;
}

int RmaEngine::mark_segment(FM_region* r, int fd, std::uint32_t nonce, std::size_t bytes) {
  const std::uint64_t slot = (r->key & 0xffffffffu) - 1;
  if (slot >= regs_.size() || regs_[slot].refs == 0)
    return fail(FM_EINVAL, "internal: segment registration lost");
  Registration& g = regs_[slot];
  g.flags |= kSegmentFlag;
  g.segment[0] = static_cast<std::uint32_t>(fd) | (std::uint64_t{nonce} << 32);
  g.segment[1] = bytes;
  r->opaque[kSegmentSlot] = g.segment[0];
  r->opaque[kSegmentSlot + 1] = g.segment[1];
  r->flags = g.flags;
  r->check = region_check(*r);
  return FM_SUCCESS;
}

int RmaEngine::deregister_memory(const FM_region* r) {
  if (core_.closed()) return fail(FM_ENOTINIT, "FM_deregister_memory: FM is finalized");
  if (r == nullptr) return fail(FM_EINVAL, "FM_deregister_memory: region is NULL");
  const std::uint64_t slot = (r->key & 0xffffffffu) - 1;
  if (r->node != core_.rank() || slot >= regs_.size() || regs_[slot].refs == 0 ||
      regs_[slot].gen != (r->key >> 32) || regs_[slot].base != r->base)
    return fail(FM_EINVAL,
                "FM_deregister_memory: key %#llx (node %u) is not a registration of this node",
                static_cast<unsigned long long>(r->key), r->node);
  Registration& g = regs_[slot];
  if (--g.refs == 0) {
    ++g.gen;  // its key is dead from now on
    for (std::size_t l = 0; l < core_.lanes(); ++l) {
      Lane& lane = core_.lane(l);
      if (g.flags & (kKeyValid << lane.kind)) {
        lane.tp->unexpose(&g.native[lane.kind]);
        g.flags &= ~(kKeyValid << lane.kind);
      }
    }
    g.flags = 0;
  }
  return FM_SUCCESS;
}

// Checks a request against this node's registrations; *where is the target address.
int RmaEngine::check_access(const RmaReq& rq, unsigned need, std::size_t align, std::byte** where) {
  const std::uint64_t slot = (rq.key & 0xffffffffu) - 1;
  if (slot >= regs_.size() || regs_[slot].refs == 0 || regs_[slot].gen != (rq.key >> 32))
    return fail(FM_EACCESS, "key %#llx is not registered (or was deregistered) at node %u",
                static_cast<unsigned long long>(rq.key), core_.rank());
  const Registration& g = regs_[slot];
  if ((g.access & need) != need)
    return fail(FM_EACCESS, "the region (key %#llx) at node %u does not permit this access",
                static_cast<unsigned long long>(rq.key), core_.rank());
  if (rq.offset > g.len || rq.len > g.len - rq.offset)
    return fail(FM_EACCESS,
                "bytes [%llu, +%llu) are outside the %zu-byte region (key %#llx) at node %u",
                static_cast<unsigned long long>(rq.offset), static_cast<unsigned long long>(rq.len),
                g.len, static_cast<unsigned long long>(rq.key), core_.rank());
  const std::uintptr_t a = g.base + rq.offset;
  if (align > 1 && a % align != 0)
    return fail(FM_EINVAL, "address %#llx at node %u is not %zu-byte aligned",
                static_cast<unsigned long long>(a), core_.rank(), align);
  *where = reinterpret_cast<std::byte*>(a);
  return FM_SUCCESS;
}

// ------------------------------------------------------------------------------------------------
// origin: issuing and completing

RmaOp* RmaEngine::new_op(unsigned node) {
  if (ops_.empty()) {  // once: the pool is fixed, so that handles stay valid
    ops_.resize(kMaxOps);
    for (std::uint32_t i = 0; i < kMaxOps; ++i) {
      RmaOp& o = ops_[i];
      o.engine = this;
      o.op.kind = OpCtx::kCallback;
      o.op.func = [](OpCtx* c, int status) {
        auto* op = reinterpret_cast<RmaOp*>(c);
        op->engine->on_native_done(op, status == FM_SUCCESS);
      };
      o.next_free = i + 2 <= kMaxOps ? i + 2 : 0;
    }
    op_free_ = 1;
  }
  if (op_free_ == 0) {  // all in flight: let some complete
    const int rc = core_.wait_until(node, wait_for("FM_put/get/atomic (a free operation slot)"),
                                    [&] { return op_free_ != 0; });
    if (rc != FM_SUCCESS) return nullptr;
  }
  RmaOp* op = &ops_[op_free_ - 1];
  op_free_ = op->next_free;
  ++op->gen;
  op->state = RmaOp::kPending;
  op->detached = false;
  op->status = FM_SUCCESS;
  op->node = node;
  op->dst = op->result = nullptr;
  op->len = 0;
  op->parts = 0;
  return op;
}

void RmaEngine::free_op(RmaOp* op) {
  op->state = RmaOp::kFree;
  op->next_free = op_free_;
  op_free_ = static_cast<std::uint32_t>(op - ops_.data()) + 1;
}

void RmaEngine::complete(RmaOp* op, int status) {
  if (op->state != RmaOp::kPending) return;
  PeerRma& q = peers_[op->node];
  if (q.pending > 0) --q.pending;
  op->status = status;
  if (op->detached) {
    if (status != FM_SUCCESS && q.error == FM_SUCCESS) q.error = status;
    free_op(op);
  } else {
    op->state = RmaOp::kDone;
  }
}

// A put's request and data as one message: small ones in one packet through send's fast path
// (a copy on the stack), larger ones as a stream whose data piece may go zero-copy.
int RmaEngine::send_put(unsigned node, const RmaReq& rq, const void* data, std::size_t len) {
  constexpr std::size_t kSmall = 256;
  if (len <= kSmall) {
    std::byte buf[sizeof(RmaReq) + kSmall];
    std::memcpy(buf, &rq, sizeof rq);
    if (len > 0) std::memcpy(buf + sizeof rq, data, len);
    return core_.send(node, kHPut, buf, sizeof rq + len);
  }
  FM_stream* s = core_.begin(node, sizeof rq + len, kHPut);
  int rc = s == nullptr ? last_status() : core_.piece(s, &rq, sizeof rq);
  if (s != nullptr && rc == FM_SUCCESS) rc = core_.piece(s, data, len);
  if (s != nullptr) {
    const int rc2 = core_.end(s);
    if (rc == FM_SUCCESS) rc = rc2;
  }
  return rc;
}

int RmaEngine::start(int kind, const FM_region* r, std::uint64_t offset, void* local,
                     std::size_t len, int aop, int type, const void* operand, const void* compare,
                     FM_request** req, const char* what) {
  if (req != nullptr) *req = nullptr;
  if (core_.closed()) return fail(FM_ENOTINIT, "%s: FM is finalized", what);
  if (core_.in_handler()) return fail(FM_EINHANDLER, "%s: not allowed inside a handler", what);
  if (r == nullptr) return fail(FM_EINVAL, "%s: region is NULL", what);
  const unsigned node = r->node;
  if (node >= core_.size())
    return fail(FM_ENODEST, "%s: region's node %u out of range (%u nodes)", what, node,
                core_.size());
  if (r->check != region_check(*r))
    return fail(FM_EACCESS,
                "%s: the region descriptor (node %u, key %#llx) was modified or is not one "
                "FM_register_memory made",
                what, node, static_cast<unsigned long long>(r->key));
  std::size_t align = 1;
  const unsigned need = kind == kPut   ? FM_ACCESS_WRITE
                        : kind == kGet ? FM_ACCESS_READ
                                       : FM_ACCESS_ATOMIC;
  if (kind == kAtomic) {
    if (type < FM_INT32 || type > FM_UINT64)
      return fail(FM_EINVAL, "%s: type %d is not FM_INT32/UINT32/INT64/UINT64", what, type);
    if (aop < FM_ATOMIC_ADD || aop > FM_ATOMIC_READ)
      return fail(FM_EINVAL, "%s: operation %d is not an FM_ATOMIC_* operation", what, aop);
    len = align = type_size(type);
    if (aop != FM_ATOMIC_READ && operand == nullptr)
      return fail(FM_EINVAL, "%s: operand is NULL", what);
    if (aop == FM_ATOMIC_CSWAP && compare == nullptr)
      return fail(FM_EINVAL, "%s: compare is NULL (FM_ATOMIC_CSWAP)", what);
    if (aop == FM_ATOMIC_READ && local == nullptr)
      return fail(FM_EINVAL, "%s: result is NULL (FM_ATOMIC_READ)", what);
  } else if (local == nullptr && len != 0) {
    return fail(FM_EINVAL, "%s: %s buffer is NULL", what, kind == kPut ? "source" : "destination");
  }
  if ((r->access & need) != need)
    return fail(FM_EACCESS, "%s: the region (key %#llx) of node %u does not permit %s", what,
                static_cast<unsigned long long>(r->key), node,
                kind == kPut   ? "writes"
                : kind == kGet ? "reads"
                               : "atomics");
  if (offset > r->length || len > r->length - offset)
    return fail(FM_EACCESS, "%s: bytes [%llu, +%zu) are outside node %u's %llu-byte region", what,
                static_cast<unsigned long long>(offset), len, node,
                static_cast<unsigned long long>(r->length));
  if (align > 1 && (r->base + offset) % align != 0)
    return fail(FM_EINVAL, "%s: target address %#llx is not %zu-byte aligned", what,
                static_cast<unsigned long long>(r->base + offset), align);
  PeerRma& q = peers_[node];
  if (core_.failed(node)) return core_.peer_error(node, what);

  RmaReq rq{};
  rq.key = r->key;
  rq.offset = offset;
  rq.len = len;
  rq.op = static_cast<std::uint32_t>(aop);
  rq.type = static_cast<std::uint32_t>(type);
  if (kind == kAtomic) {
    if (operand != nullptr) std::memcpy(&rq.operand, operand, len);
    if (compare != nullptr) std::memcpy(&rq.compare, compare, len);
  }
  ++q.counters.ops_out;
  q.counters.bytes_out += len;

  if (node == core_.rank()) {  // self: applied here and now, with the same checks as a peer's
    std::byte* where = nullptr;
    const int rc = check_access(rq, need, align, &where);
    if (rc != FM_SUCCESS) return fail(rc, "%s: %s", what, std::string(last_error()).c_str());
    ++q.counters.ops_in;
    q.counters.bytes_in += len;
    if (kind == kPut) {
      std::memmove(where, local, len);
    } else if (kind == kGet) {
      std::memmove(local, where, len);
    } else {
      const std::uint64_t old = apply_sized(where, len, aop, rq.operand, rq.compare);
      if (local != nullptr) std::memcpy(local, &old, len);
    }
    if (req != nullptr) {
      RmaOp* op = new_op(node);
      if (op == nullptr) return last_status();
      ++q.pending;
      complete(op, FM_SUCCESS);
      *req = reinterpret_cast<FM_request*>(op);
    }
    return FM_SUCCESS;
  }

  // Native RMA where the region is exposed on the lane kind that reaches its node.
  const int k = lane_kind(node);
  if (kind != kAtomic && len > 0 && k >= 0 && (r->flags & (kKeyValid << k)) != 0) {
    const auto& caps = core_.lane(static_cast<std::size_t>(core_.lane_of(node))).caps();
    if (kind == kGet ? caps.rma_read : caps.rma_write) {
      RmaOp* op = new_op(node);
      if (op == nullptr) return last_status();
      op->detached = req == nullptr;
      op->len = len;
      ++q.pending;
      q.native = true;
      const int rc = native(op, kind, r, offset, local, len, what);
      if (rc != FM_SUCCESS) {
        const std::string why = last_error();
        op->detached = false;
        complete(op, rc);
        free_op(op);
        return fail(rc, "%s", why.c_str());
      }
      if (req != nullptr) *req = reinterpret_cast<FM_request*>(op);
      return FM_SUCCESS;
    }
  }

  if (kind == kPut && req == nullptr) {  // silent: completed (and checked) by the next flush
    rq.type = kRmaSilent;
    const int rc = send_put(node, rq, local, len);
    if (rc != FM_SUCCESS) return fail(rc, "%s: %s", what, std::string(last_error()).c_str());
    ++q.silent_puts;
    return FM_SUCCESS;
  }

  RmaOp* op = new_op(node);
  if (op == nullptr) return last_status();
  op->detached = req == nullptr;
  op->dst = kind == kGet ? local : nullptr;
  op->result = kind == kAtomic ? local : nullptr;
  op->len = len;
  op->type = static_cast<std::uint32_t>(type);
  rq.id = (std::uint64_t{op->gen} << 32) | static_cast<std::uint64_t>(op - ops_.data());
  ++q.pending;

  const int rc = kind == kPut ? send_put(node, rq, local, len)
                              : core_.send(node, kind == kGet ? kHGet : kHAtomic, &rq, sizeof rq);
  if (rc != FM_SUCCESS) {
    const std::string why = last_error();
    op->detached = false;
    complete(op, rc);
    free_op(op);
    return fail(rc, "%s: %s", what, why.c_str());
  }
  if (req != nullptr) *req = reinterpret_cast<FM_request*>(op);
  return FM_SUCCESS;
}

// Posts the transfers of a native put/get (split at the provider's largest RMA), all in flight at
// once; each completion counts down op->parts.
int RmaEngine::native(RmaOp* op, int kind, const FM_region* r, std::uint64_t offset, void* local,
                      std::size_t len, const char* what) {
  const unsigned node = op->node;
  Lane& lane = core_.lane(static_cast<std::size_t>(core_.lane_of(node)));
  const int k = lane.kind;
  const std::uint64_t key = r->opaque[k];
  const std::uint64_t raddr0 = ((r->flags & (kVirtAddr << k)) ? r->base : 0) + offset;
  const std::size_t most = std::max<std::size_t>(lane.caps().max_rma, 4096);
  op->parts = static_cast<std::uint32_t>((len + most - 1) / most);
  std::uint32_t posted = 0;
  for (std::size_t done = 0; done < len; done += most, ++posted) {
    const std::size_t n = std::min(len - done, most);
    auto* buf = static_cast<std::byte*>(local) + done;
    int rc = FM_SUCCESS;
    const int wrc = core_.wait_until(node, Wait{.what = what, .handlers = false}, [&] {
      rc = kind == kGet ? lane.tp->read(node, buf, n, raddr0 + done, key, &op->op)
                        : lane.tp->write(node, buf, n, raddr0 + done, key, &op->op);
      return rc != FM_EAGAIN;
    });
    if (wrc != FM_SUCCESS) rc = wrc;
    if (rc != FM_SUCCESS) {
      if (posted == 0) return fail(rc, "%s: %s", what, std::string(last_error()).c_str());
      op->status = rc;  // some transfers are in flight: the request reports the failure
      op->parts = posted;
      return FM_SUCCESS;
    }
  }
  return FM_SUCCESS;
}

void RmaEngine::on_native_done(RmaOp* op, bool ok) {
  if (op->state != RmaOp::kPending || op->parts == 0) return;
  if (!ok && op->status == FM_SUCCESS) {
    op->status = FM_EACCESS;
    fail(FM_EACCESS, "node %u refused a native RMA access (key, bounds or permission)", op->node);
  }
  if (--op->parts == 0) complete(op, op->status);
}

// One wait's failure for node, as the operations on it see it.
int RmaEngine::poll(unsigned node, const char* what) {
  const int rc = core_.wait_until(node, wait_for(what), [first = true]() mutable {
    const bool done = !first;  // exactly one round
    first = false;
    return done;
  });
  if (node < core_.size()) peer_bye(node);
  return rc;
}

int RmaEngine::wait(RmaOp* op) {
  if (core_.in_handler()) return fail(FM_EINHANDLER, "FM_wait: not allowed inside a handler");
  const unsigned node = op->node;
  const int rc = core_.wait_until(node, wait_for("FM_wait"), [&] {
    peer_bye(node);
    return op->state != RmaOp::kPending;
  });
  if (rc != FM_SUCCESS && op->state == RmaOp::kPending) complete(op, rc);
  const int status = op->status;
  free_op(op);
  if (status != FM_SUCCESS && last_status() != status)
    return fail(status, "FM_wait: the operation on node %u failed (%s)", node,
                fm::strerror(status));
  return status;
}

int RmaEngine::test(RmaOp* op, int* done) {
  if (op->state == RmaOp::kPending && !core_.in_handler()) {
    const int rc = poll(op->node, "FM_test");
    if (rc != FM_SUCCESS && op->state == RmaOp::kPending) complete(op, rc);
  }
  if (op->state == RmaOp::kPending) {
    *done = 0;
    return FM_SUCCESS;
  }
  *done = 1;
  return wait(op);
}

int RmaEngine::flush(unsigned node, const char* what) {
  if (core_.closed()) return fail(FM_ENOTINIT, "%s: FM is finalized", what);
  if (core_.in_handler()) return fail(FM_EINHANDLER, "%s: not allowed inside a handler", what);
  if (node >= core_.size())
    return fail(FM_ENODEST, "%s: node %u out of range (%u nodes)", what, node, core_.size());
  PeerRma& q = peers_[node];
  if (q.silent_puts != 0 && !core_.failed(node)) {  // one flush answers for all of them
    RmaOp* op = new_op(node);
    if (op == nullptr) return last_status();
    op->detached = true;
    RmaReq rq{};
    rq.id = (std::uint64_t{op->gen} << 32) | static_cast<std::uint64_t>(op - ops_.data());
    rq.type = kRmaFlush;
    ++q.pending;
    const int rc = core_.send(node, kHGet, &rq, sizeof rq);
    if (rc != FM_SUCCESS) {
      complete(op, rc);
      return fail(rc, "%s: flush of node %u: %s", what, node, std::string(last_error()).c_str());
    }
    q.silent_puts = 0;
  }
  if (q.pending != 0) {
    const int rc = core_.wait_until(node, wait_for(what), [&] {
      peer_bye(node);
      return q.pending == 0;
    });
    if (rc != FM_SUCCESS) return rc;
  }
  if (q.error != FM_SUCCESS) {
    const int rc = q.error;
    q.error = FM_SUCCESS;
    return fail(rc, "%s: an earlier operation on node %u failed (%s)", what, node,
                fm::strerror(rc));
  }
  return FM_SUCCESS;
}

int RmaEngine::quiet() {
  int first = FM_SUCCESS;
  std::string why;
  for (unsigned p = 0; p < core_.size(); ++p) {
    const int rc = flush(p, "FM_quiet");
    if (rc != FM_SUCCESS && first == FM_SUCCESS) {
      first = rc;
      why = last_error();
    }
    if (rc == FM_ENOTINIT || rc == FM_EINHANDLER) return rc;
  }
  return first == FM_SUCCESS ? FM_SUCCESS : fail(first, "%s", why.c_str());
}

// Emulated operations from one origin reach the target in issue order and are applied in that
// order (per-sender FIFO, one handler at a time): among them a fence needs no waiting.  Native
// RMA transfers are not ordered with each other or with messages, so once native RMA has been
// used to the node a fence waits for everything issued to it.
int RmaEngine::fence(unsigned node) {
  if (core_.closed()) return fail(FM_ENOTINIT, "FM_fence: FM is finalized");
  if (core_.in_handler()) return fail(FM_EINHANDLER, "FM_fence: not allowed inside a handler");
  if (node >= core_.size())
    return fail(FM_ENODEST, "FM_fence: node %u out of range (%u nodes)", node, core_.size());
  PeerRma& q = peers_[node];
  if (q.native && q.pending != 0) {
    const int rc = core_.wait_until(node, wait_for("FM_fence"), [&] { return q.pending == 0; });
    if (rc != FM_SUCCESS) return rc;
  }
  if (core_.failed(node)) return core_.peer_error(node, "FM_fence");
  return FM_SUCCESS;
}

void RmaEngine::complete_all() {
  for (unsigned p = 0; p < core_.size(); ++p)
    if (peers_[p].pending != 0 && !core_.failed(p))
      (void)core_.wait_until(p, wait_for("FM_finalize"), [&] {
        peer_bye(p);  // a peer that finalized before answering never will
        return peers_[p].pending == 0;
      });
}

// ------------------------------------------------------------------------------------------------
// failures

void RmaEngine::peer_failed(unsigned p) {
  for (RmaOp& op : ops_)  // one-sided operations on it will not be answered
    if (op.state == RmaOp::kPending && op.node == p) complete(&op, FM_EPEERFAILED);
}

// A node answers everything before its BYE (FIFO), so once its BYE arrived and every packet it
// sent before is handled, what is still pending on it never will be answered.  (An answer among
// packets still queued completes its operation when its handler runs: hence the wait for the
// queue to drain, core_.finished_sending.)
void RmaEngine::peer_bye(unsigned p) {
  if (peers_[p].pending == 0 || !core_.finished_sending(p)) return;
  for (RmaOp& op : ops_)
    if (op.state == RmaOp::kPending && op.node == p) {
      fail(FM_EPEERFAILED, "node %u finalized before answering a one-sided operation", p);
      complete(&op, FM_EPEERFAILED);
    }
}

// ------------------------------------------------------------------------------------------------
// target side

// One handler for the three requests: the same checks and accounting, then the access itself.
int RmaEngine::on_request(FM_stream* s, unsigned sender, int kind) {
  RmaReq rq;
  if (core_.receive(&rq, s, sizeof rq) != static_cast<long>(sizeof rq)) return FM_CONTINUE;
  PeerRma& q = peers_[sender];
  ++q.counters.ops_in;
  q.counters.bytes_in += rq.len;
  RmaReply r{rq.id, FM_SUCCESS, 0, 0};
  if (kind == kGet && rq.type == kRmaFlush) {  // everything before it is applied (FIFO)
    r.status = q.silent_error;
    q.silent_error = FM_SUCCESS;
    reply(sender, r, nullptr, 0);
    return FM_CONTINUE;
  }
  const bool silent = kind == kPut && rq.type == kRmaSilent;
  std::byte* where = nullptr;
  if (kind == kAtomic && !(rq.type <= FM_UINT64 && rq.op <= FM_ATOMIC_READ &&
                           rq.len == type_size(static_cast<int>(rq.type))))
    r.status = fail(FM_EINVAL, "malformed atomic request");
  else
    r.status = check_access(rq,
                            kind == kPut   ? FM_ACCESS_WRITE
                            : kind == kGet ? FM_ACCESS_READ
                                           : FM_ACCESS_ATOMIC,
                            kind == kAtomic ? rq.len : 1, &where);
  if (r.status != FM_SUCCESS) {
    FM_DEBUG("one-sided request from node %u refused: %s", sender, last_error());
    if (silent) {
      if (q.silent_error == FM_SUCCESS) q.silent_error = r.status;
    } else {
      reply(sender, r, nullptr, 0);
    }
    return FM_CONTINUE;
  }
  if (kind == kGet) {
    reply(sender, r, where, rq.len);  // the data follows the answer
    return FM_CONTINUE;
  }
  if (kind == kPut) {
    if (rq.len > 0) {  // straight into the region (zero-copy where the transport reads)
      const long got = core_.receive(where, s, rq.len);
      if (got != static_cast<long>(rq.len)) r.status = got < 0 ? static_cast<int>(got) : FM_ELENGTH;
    }
    if (silent) {
      if (r.status != FM_SUCCESS && q.silent_error == FM_SUCCESS) q.silent_error = r.status;
      return FM_CONTINUE;
    }
  } else {
    r.value = apply_sized(where, rq.len, static_cast<int>(rq.op), rq.operand, rq.compare);
  }
  reply(sender, r, nullptr, 0);
  return FM_CONTINUE;
}

// Answers now when that cannot block (small, credits in hand, nothing queued before it), else
// queues the answer on the pending-send queue.  Data of the zero-copy size leaves from the queue
// (outside handlers) whatever the packet size, so that the origin reads it in one copy: sent from
// the handler it would be copied into packets, and above the transport's inject size take a
// slower protocol (on shm, 4 KiB-64 KiB gets cost 4-9 us that way against 1-6 us zero-copy).
void RmaEngine::reply(unsigned dest, const RmaReply& r, const void* data, std::size_t len) {
  const std::size_t zc = core_.zcopy(dest);
  const bool zero_copy = data != nullptr && zc != 0 && len >= zc;
  if (!zero_copy && core_.pending_count(dest) == 0 && sizeof r + len <= core_.payload(dest)) {
    const int rc = send_reply(dest, r, data, len);
    if (rc != FM_EAGAIN && rc != FM_ELENGTH) return;  // sent, or the origin is gone
  }
  if (free_replies_.empty()) {
    replies_.push_back(std::make_unique<Reply>());
    free_replies_.push_back(replies_.back().get());
  }
  Reply* q = free_replies_.back();
  free_replies_.pop_back();
  q->req.func = [](FM_pending* self) -> int {
    Reply* a = reinterpret_cast<Reply*>(self);
    RmaEngine* e = a->engine;
    if (!e->core_.failed(a->dest)) {
      const int rc = e->send_reply(a->dest, a->reply, a->data, a->len);
      if (rc == FM_EAGAIN) return FM_EAGAIN;
      if (rc != FM_SUCCESS && !e->core_.failed(a->dest))
        FM_WARN("answer to node %u's one-sided operation lost: %s", a->dest, last_error());
    }
    e->free_replies_.push_back(a);  // done (sent, or its origin is gone): the record is free again
    return FM_SUCCESS;
  };
  q->req.flags = FM_PENDING_ASYNC;  // FM's own: safe on the progress thread
  q->engine = this;
  q->dest = dest;
  q->reply = r;
  q->data = data;
  q->len = len;
  if (core_.pending_add(dest, &q->req) != FM_SUCCESS) {
    FM_WARN("answer to node %u's one-sided operation lost: %s", dest, last_error());
    free_replies_.push_back(q);
  }
}

int RmaEngine::send_reply(unsigned dest, const RmaReply& r, const void* data, std::size_t len) {
  if (data == nullptr) return core_.send(dest, kHReply, &r, sizeof r);
  FM_stream* s = core_.begin(dest, sizeof r + len, kHGetReply);
  if (s == nullptr) return last_status();
  int rc = core_.piece(s, &r, sizeof r);
  if (rc == FM_SUCCESS && len > 0) rc = core_.piece(s, data, len);
  const int rc2 = core_.end(s);
  return rc != FM_SUCCESS ? rc : rc2;
}

// origin side: an answer
int RmaEngine::on_reply(FM_stream* s, unsigned sender, bool with_data) {
  RmaReply r;
  if (core_.receive(&r, s, sizeof r) != static_cast<long>(sizeof r)) return FM_CONTINUE;
  const std::uint64_t index = r.id & 0xffffffffu;
  if (index >= ops_.size() || ops_[index].gen != (r.id >> 32) ||
      ops_[index].state != RmaOp::kPending || ops_[index].node != sender) {
    FM_WARN(
        "node %u answered an unknown one-sided operation (id %#llx; slot gen %u state %d node %u); "
        "ignored",
        sender, static_cast<unsigned long long>(r.id), index < ops_.size() ? ops_[index].gen : 0u,
        index < ops_.size() ? static_cast<int>(ops_[index].state) : -1,
        index < ops_.size() ? ops_[index].node : 0u);
    return FM_CONTINUE;
  }
  RmaOp* op = &ops_[index];
  int status = r.status;
  if (status != FM_SUCCESS) {
    fail(status, "%s on node %u refused by the target", with_data ? "FM_get" : "FM_put/atomic",
         sender);
  } else if (with_data && op->len > 0) {
    const long got = core_.receive(op->dst, s, op->len);
    if (got != static_cast<long>(op->len)) status = got < 0 ? static_cast<int>(got) : FM_ELENGTH;
  } else if (op->result != nullptr) {
    std::memcpy(op->result, &r.value, op->len);
  }
  complete(op, status);
  return FM_CONTINUE;
}

}  // namespace fm::core
