// rma.cpp - one-sided operations: registered memory, put/get, atomics, fence/flush/quiet.
//
// Emulated with FM's own messages to internal handlers on every transport, so the semantics are
// the same everywhere (shm, tcp, verbs, loopback, and datagram transports to come):
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
// whole values.
//
// A handler may not wait for credits, so an answer that cannot be sent at once (and every large
// get answer, which should leave from outside handlers to take the zero-copy path) is queued per
// origin and sent, in order, at the end of FM_extract and from the waits here.
#include <fm/fm.h>
#include <sched.h>

#include <algorithm>
#include <cstring>

#include "core/context.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::core {

namespace {

constexpr std::uint32_t kMaxOps = 4096;  // operations in flight per node (then issuers wait)

enum Kind : int { kPut, kGet, kAtomic };

int h_put(FM_stream* s, unsigned sender) {
  return current()->on_rma_request(s, sender, kPut);
}
int h_get(FM_stream* s, unsigned sender) {
  return current()->on_rma_request(s, sender, kGet);
}
int h_atomic(FM_stream* s, unsigned sender) {
  return current()->on_rma_request(s, sender, kAtomic);
}
int h_reply(FM_stream* s, unsigned sender) {
  return current()->on_rma_reply(s, sender, false);
}
int h_get_reply(FM_stream* s, unsigned sender) {
  return current()->on_rma_reply(s, sender, true);
}

// A descriptor's check word: catches descriptors modified or corrupted on their way (a length
// made larger, a key changed), so that they are refused at the origin before any transfer.  Not a
// security mechanism.
std::uint32_t region_check(const FM_region& r) {
  std::uint64_t h = 0x9e3779b97f4a7c15ull;
  const std::uint64_t w[] = {
      r.base,    r.length,  r.key,   (std::uint64_t{r.node} << 32) | r.access,
      r.tkey[0], r.tkey[1], r.tflags};
  for (std::uint64_t v : w) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

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

}  // namespace

std::uint64_t apply_local(void* p, int op, int type, std::uint64_t operand,
                          std::uint64_t compare) noexcept {
  if (type_size(type) == 4)
    return apply(static_cast<std::uint32_t*>(p), op, static_cast<std::uint32_t>(operand),
                 static_cast<std::uint32_t>(compare));
  return apply(static_cast<std::uint64_t*>(p), op, operand, compare);
}

FM_handler internal_handler(int id) noexcept {
  switch (id) {
    case kHPut:
      return h_put;
    case kHGet:
      return h_get;
    case kHAtomic:
      return h_atomic;
    case kHReply:
      return h_reply;
    case kHGetReply:
      return h_get_reply;
    default:
      return nullptr;
  }
}

// ------------------------------------------------------------------------------------------------
// registration

int Context::register_memory(void* buf, std::size_t len, unsigned access, FM_region* out) {
  if (closed_) return fail(FM_ENOTINIT, "FM_register_memory: FM is finalized");
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
    if (g.refs != 0 && g.base == base && g.len == len && g.access == access) {  // cached
      ++g.refs;
      slot = i;
      break;
    }
    if (g.refs == 0 && slot == regs_.size()) slot = i;
  }
  if (slot == regs_.size()) regs_.emplace_back();
  Registration& g = regs_[slot];
  if (g.refs == 0) {
    if (regs_.size() > UINT32_MAX - 1)
      return fail(FM_ENOMEM, "FM_register_memory: too many registrations");
    g.base = base;
    g.len = len;
    g.access = access;
    g.refs = 1;
    g.tflags = 0;
    // Native RMA: exposed once per kind of transport (shm, network) that offers it.
    const bool rw = (access & (FM_ACCESS_READ | FM_ACCESS_WRITE)) != 0;
    for (std::size_t t = 0; t < tps_.size() && rw && len > 0 && cfg_.rma == "native"; ++t) {
      const int k = tp_kind(static_cast<int>(t));
      const auto& caps = tps_[t]->caps();
      if ((g.tflags & (1u << k)) || !caps.rma_read) continue;
      const bool writable = (access & FM_ACCESS_WRITE) != 0;
      if (writable && !caps.rma_write) continue;
      if (tps_[t]->expose(buf, len, &g.native[k], writable) != FM_SUCCESS) {
        FM_DEBUG("native RMA unavailable for a region on %s: %s", caps.name.c_str(), last_error());
        continue;
      }
      g.tflags |= (1u << k) | (g.native[k].addr != 0 ? 4u << k : 0u);
    }
  }
  *out = FM_region{base,     len,    (std::uint64_t{g.gen} << 32) | (slot + 1),
                   rank_,    access, {g.native[0].key, g.native[1].key},
                   g.tflags, 0};
  out->check = region_check(*out);
  return FM_SUCCESS;
}

int Context::deregister_memory(const FM_region* r) {
  if (closed_) return fail(FM_ENOTINIT, "FM_deregister_memory: FM is finalized");
  if (r == nullptr) return fail(FM_EINVAL, "FM_deregister_memory: region is NULL");
  const std::uint64_t slot = (r->key & 0xffffffffu) - 1;
  if (r->node != rank_ || slot >= regs_.size() || regs_[slot].refs == 0 ||
      regs_[slot].gen != (r->key >> 32) || regs_[slot].base != r->base)
    return fail(FM_EINVAL,
                "FM_deregister_memory: key %#llx (node %u) is not a registration of this node",
                static_cast<unsigned long long>(r->key), r->node);
  Registration& g = regs_[slot];
  if (--g.refs == 0) {
    ++g.gen;  // its key is dead from now on
    for (int k = 0; k < 2; ++k)
      if (g.tflags & (1u << k))
        for (auto& tp : tps_)
          if (tp_kind(static_cast<int>(&tp - tps_.data())) == k) {
            tp->unexpose(&g.native[k]);
            break;
          }
    g.tflags = 0;
  }
  return FM_SUCCESS;
}

// Checks a request against this node's registrations; *where is the target address.
int Context::check_access(const RmaReq& rq, unsigned need, std::size_t align, std::byte** where) {
  const std::uint64_t slot = (rq.key & 0xffffffffu) - 1;
  if (slot >= regs_.size() || regs_[slot].refs == 0 || regs_[slot].gen != (rq.key >> 32))
    return fail(FM_EACCESS, "key %#llx is not registered (or was deregistered) at node %u",
                static_cast<unsigned long long>(rq.key), rank_);
  const Registration& g = regs_[slot];
  if ((g.access & need) != need)
    return fail(FM_EACCESS, "the region (key %#llx) at node %u does not permit this access",
                static_cast<unsigned long long>(rq.key), rank_);
  if (rq.offset > g.len || rq.len > g.len - rq.offset)
    return fail(FM_EACCESS,
                "bytes [%llu, +%llu) are outside the %zu-byte region (key %#llx) at node %u",
                static_cast<unsigned long long>(rq.offset), static_cast<unsigned long long>(rq.len),
                g.len, static_cast<unsigned long long>(rq.key), rank_);
  const std::uintptr_t a = g.base + rq.offset;
  if (align > 1 && a % align != 0)
    return fail(FM_EINVAL, "address %#llx at node %u is not %zu-byte aligned",
                static_cast<unsigned long long>(a), rank_, align);
  *where = reinterpret_cast<std::byte*>(a);
  return FM_SUCCESS;
}

// ------------------------------------------------------------------------------------------------
// origin: issuing and completing

RmaOp* Context::new_op(unsigned node) {
  if (ops_.empty()) {  // once: the pool is fixed, so that handles stay valid
    ops_.resize(kMaxOps);
    for (std::uint32_t i = 0; i < kMaxOps; ++i) {
      ops_[i].ctx = this;
      ops_[i].next_free = i + 2 <= kMaxOps ? i + 2 : 0;
    }
    op_free_ = 1;
  }
  while (op_free_ == 0) {  // all in flight: let some complete
    if (rma_poll(node, "FM_put/get/atomic") != FM_SUCCESS) return nullptr;
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
  return op;
}

void Context::free_op(RmaOp* op) {
  op->state = RmaOp::kFree;
  op->next_free = op_free_;
  op_free_ = static_cast<std::uint32_t>(op - ops_.data()) + 1;
}

void Context::complete_op(RmaOp* op, int status) {
  if (op->state != RmaOp::kPending) return;
  Peer& q = peers_[op->node];
  if (q.rma_pending > 0) --q.rma_pending;
  op->status = status;
  if (op->detached) {
    if (status != FM_SUCCESS && q.rma_error == FM_SUCCESS) q.rma_error = status;
    free_op(op);
  } else {
    op->state = RmaOp::kDone;
  }
}

// A put's request and data as one message: small ones in one packet through send's fast path
// (a copy on the stack), larger ones as a stream whose data piece may go zero-copy.
int Context::send_put(unsigned node, const RmaReq& rq, const void* data, std::size_t len) {
  constexpr std::size_t kSmall = 256;
  if (len <= kSmall) {
    std::byte buf[sizeof(RmaReq) + kSmall];
    std::memcpy(buf, &rq, sizeof rq);
    if (len > 0) std::memcpy(buf + sizeof rq, data, len);
    return send(node, kHPut, buf, sizeof rq + len);
  }
  FM_stream* s = begin_message(node, sizeof rq + len, kHPut);
  int rc = s == nullptr ? last_status() : send_piece(s, &rq, sizeof rq);
  if (s != nullptr && rc == FM_SUCCESS) rc = send_piece(s, data, len);
  if (s != nullptr) {
    const int rc2 = end_message(s);
    if (rc == FM_SUCCESS) rc = rc2;
  }
  return rc;
}

int Context::rma_start(int kind, const FM_region* r, std::uint64_t offset, void* local,
                       std::size_t len, int aop, int type, const void* operand, const void* compare,
                       FM_request** req, const char* what) {
  if (req != nullptr) *req = nullptr;
  if (closed_) return fail(FM_ENOTINIT, "%s: FM is finalized", what);
  if (in_handler()) return fail(FM_EINHANDLER, "%s: not allowed inside a handler", what);
  if (r == nullptr) return fail(FM_EINVAL, "%s: region is NULL", what);
  const unsigned node = r->node;
  if (node >= size_)
    return fail(FM_ENODEST, "%s: region's node %u out of range (%u nodes)", what, node, size_);
  if (r->check != region_check(*r))
    return fail(FM_EACCESS,
                "%s: the region descriptor (node %u, key %#llx) was modified or is not one "
                "FM_register_memory made",
                what, node, static_cast<unsigned long long>(r->key));
  std::size_t align = 1;
  unsigned need = kind == kPut ? FM_ACCESS_WRITE : kind == kGet ? FM_ACCESS_READ : FM_ACCESS_ATOMIC;
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
  Peer& q = peers_[node];
  if (q.failed) return peer_error(node, what);

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
  ++q.rma_ops_out;
  q.rma_bytes_out += len;

  if (node == rank_) {  // self: applied here and now, with the same checks as a peer's
    std::byte* where = nullptr;
    int rc = check_access(rq, need, align, &where);
    if (rc == FM_SUCCESS) {
      ++q.rma_ops_in;
      q.rma_bytes_in += len;
      if (kind == kPut) {
        std::memmove(where, local, len);
      } else if (kind == kGet) {
        std::memmove(local, where, len);
      } else {
        std::uint64_t old;
        if (len == 4) {
          old =
              apply(reinterpret_cast<std::uint32_t*>(where), aop,
                    static_cast<std::uint32_t>(rq.operand), static_cast<std::uint32_t>(rq.compare));
        } else {
          old = apply(reinterpret_cast<std::uint64_t*>(where), aop, rq.operand, rq.compare);
        }
        if (local != nullptr) std::memcpy(local, &old, len);
      }
    }
    if (rc != FM_SUCCESS) return fail(rc, "%s: %s", what, std::string(last_error()).c_str());
    if (req != nullptr) {
      RmaOp* op = new_op(node);
      if (op == nullptr) return last_status();
      ++q.rma_pending;
      complete_op(op, FM_SUCCESS);
      *req = reinterpret_cast<FM_request*>(op);
    }
    return FM_SUCCESS;
  }

  // Native RMA where the region is exposed on the transport that reaches its node.
  if (kind != kAtomic && len > 0 && q.tp >= 0 && (r->tflags & (1u << tp_kind(q.tp))) != 0) {
    const auto& caps = tps_[static_cast<std::size_t>(q.tp)]->caps();
    if (kind == kGet ? caps.rma_read : caps.rma_write) {
      RmaOp* op = new_op(node);
      if (op == nullptr) return last_status();
      op->detached = req == nullptr;
      op->len = len;
      ++q.rma_pending;
      q.native_rma = true;
      const int rc = rma_native(op, kind, r, offset, local, len, what);
      if (rc != FM_SUCCESS) {
        const std::string why = last_error();
        op->detached = false;
        complete_op(op, rc);
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
  ++q.rma_pending;

  int rc;
  if (kind == kPut) {
    rc = send_put(node, rq, local, len);
  } else {
    rc = send(node, kind == kGet ? kHGet : kHAtomic, &rq, sizeof rq);
  }
  if (rc != FM_SUCCESS) {
    const std::string why = last_error();
    op->detached = false;
    complete_op(op, rc);
    free_op(op);
    return fail(rc, "%s: %s", what, why.c_str());
  }
  if (req != nullptr) *req = reinterpret_cast<FM_request*>(op);
  return FM_SUCCESS;
}

int Context::tp_kind(int tp) const noexcept {
  return tp_kind_[static_cast<std::size_t>(tp)];
}

// Posts the transfers of a native put/get (split at the provider's largest RMA), all in flight at
// once; each completion counts down op->parts.
int Context::rma_native(RmaOp* op, int kind, const FM_region* r, std::uint64_t offset, void* local,
                        std::size_t len, const char* what) {
  const unsigned node = op->node;
  Peer& q = peers_[node];
  auto& tp = tps_[static_cast<std::size_t>(q.tp)];
  const int k = tp_kind(q.tp);
  const std::uint64_t key = r->tkey[k];
  const std::uint64_t raddr0 = ((r->tflags & (4u << k)) ? r->base : 0) + offset;
  const std::size_t most = std::max<std::size_t>(tp->caps().max_rma, 4096);
  op->parts = static_cast<std::uint32_t>((len + most - 1) / most);
  std::uint32_t posted = 0;
  for (std::size_t done = 0; done < len; done += most, ++posted) {
    const std::size_t n = std::min(len - done, most);
    auto* buf = static_cast<std::byte*>(local) + done;
    int rc;
    while ((rc = kind == kGet ? tp->read(node, buf, n, raddr0 + done, key, op)
                              : tp->write(node, buf, n, raddr0 + done, key, op)) == FM_EAGAIN) {
      if (progress() < 0 || q.failed) break;
    }
    if (rc == FM_EAGAIN && q.failed) rc = peer_error(node, what);
    if (rc != FM_SUCCESS) {
      if (posted == 0) return fail(rc, "%s: %s", what, std::string(last_error()).c_str());
      op->status = rc;  // some transfers are in flight: the request reports the failure
      op->parts = posted;
      return FM_SUCCESS;
    }
  }
  return FM_SUCCESS;
}

void Context::on_native_done(RmaOp* op, bool ok) {
  if (op->state != RmaOp::kPending || op->parts == 0) return;
  if (!ok && op->status == FM_SUCCESS) {
    op->status = FM_EACCESS;
    fail(FM_EACCESS, "node %u refused a native RMA access (key, bounds or permission)", op->node);
  }
  if (--op->parts == 0) complete_op(op, op->status);
}

// One round for a caller waiting on operations to node: progress, handlers, queued answers.
int Context::rma_poll(unsigned node, const char* what) {
  int rc = progress();
  if (rc < 0) return rc;
  dispatch(SIZE_MAX);
  if (deferred_count_ != 0) flush_deferred();
  if ((++extract_calls_ & 63) == 0 || g_peer_event) check_liveness(false);
  if (node < size_) settle_bye(node);
  if (node < size_ && peers_[node].failed && peers_[node].rma_pending != 0)
    return peer_error(node, what);
  return FM_SUCCESS;
}

int Context::rma_wait(RmaOp* op) {
  if (in_handler()) return fail(FM_EINHANDLER, "FM_wait: not allowed inside a handler");
  while (op->state == RmaOp::kPending) {
    if (oversubscribed_) sched_yield();  // let the target (maybe on our CPU) answer
    const int rc = rma_poll(op->node, "FM_wait");
    if (rc != FM_SUCCESS && op->state == RmaOp::kPending) complete_op(op, rc);
  }
  const int status = op->status;
  free_op(op);
  if (status != FM_SUCCESS && last_status() != status)
    return fail(status, "FM_wait: the operation on node %u failed (%s)", op->node,
                fm::strerror(status));
  return status;
}

int Context::rma_test(RmaOp* op, int* done) {
  if (op->state == RmaOp::kPending && !in_handler()) {
    const int rc = rma_poll(op->node, "FM_test");
    if (rc != FM_SUCCESS && op->state == RmaOp::kPending) complete_op(op, rc);
  }
  if (op->state == RmaOp::kPending) {
    *done = 0;
    return FM_SUCCESS;
  }
  *done = 1;
  return rma_wait(op);
}

int Context::flush_node(unsigned node, const char* what) {
  if (closed_) return fail(FM_ENOTINIT, "%s: FM is finalized", what);
  if (in_handler()) return fail(FM_EINHANDLER, "%s: not allowed inside a handler", what);
  if (node >= size_)
    return fail(FM_ENODEST, "%s: node %u out of range (%u nodes)", what, node, size_);
  Peer& q = peers_[node];
  if (q.silent_puts != 0 && !q.failed) {  // one flush answers for all of them
    RmaOp* op = new_op(node);
    if (op == nullptr) return last_status();
    op->detached = true;
    RmaReq rq{};
    rq.id = (std::uint64_t{op->gen} << 32) | static_cast<std::uint64_t>(op - ops_.data());
    rq.type = kRmaFlush;
    ++q.rma_pending;
    const int rc = send(node, kHGet, &rq, sizeof rq);
    if (rc != FM_SUCCESS) {
      complete_op(op, rc);
      return fail(rc, "%s: flush of node %u: %s", what, node, std::string(last_error()).c_str());
    }
    q.silent_puts = 0;
  }
  while (q.rma_pending != 0) {
    if (oversubscribed_) sched_yield();
    const int rc = rma_poll(node, what);
    if (rc != FM_SUCCESS) return rc;
  }
  if (q.rma_error != FM_SUCCESS) {
    const int rc = q.rma_error;
    q.rma_error = FM_SUCCESS;
    return fail(rc, "%s: an earlier operation on node %u failed (%s)", what, node,
                fm::strerror(rc));
  }
  return FM_SUCCESS;
}

int Context::quiet() {
  int first = FM_SUCCESS;
  std::string why;
  for (unsigned p = 0; p < size_; ++p) {
    const int rc = flush_node(p, "FM_quiet");
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
int Context::fence(unsigned node) {
  if (closed_) return fail(FM_ENOTINIT, "FM_fence: FM is finalized");
  if (in_handler()) return fail(FM_EINHANDLER, "FM_fence: not allowed inside a handler");
  if (node >= size_)
    return fail(FM_ENODEST, "FM_fence: node %u out of range (%u nodes)", node, size_);
  Peer& q = peers_[node];
  while (q.native_rma && q.rma_pending != 0) {
    const int rc = rma_poll(node, "FM_fence");
    if (rc != FM_SUCCESS) return rc;
  }
  if (q.failed) return peer_error(node, "FM_fence");
  return FM_SUCCESS;
}

// ------------------------------------------------------------------------------------------------
// target side

// One handler for the three requests: the same checks and accounting, then the access itself.
int Context::on_rma_request(FM_stream* s, unsigned sender, int kind) {
  RmaReq rq;
  if (receive(&rq, s, sizeof rq) != static_cast<long>(sizeof rq)) return FM_CONTINUE;
  Peer& q = peers_[sender];
  ++q.rma_ops_in;
  q.rma_bytes_in += rq.len;
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
      const long got = receive(where, s, rq.len);
      if (got != static_cast<long>(rq.len)) r.status = got < 0 ? static_cast<int>(got) : FM_ELENGTH;
    }
    if (silent) {
      if (r.status != FM_SUCCESS && q.silent_error == FM_SUCCESS) q.silent_error = r.status;
      return FM_CONTINUE;
    }
  } else if (rq.len == 4) {
    r.value = apply(reinterpret_cast<std::uint32_t*>(where), static_cast<int>(rq.op),
                    static_cast<std::uint32_t>(rq.operand), static_cast<std::uint32_t>(rq.compare));
  } else {
    r.value = apply(reinterpret_cast<std::uint64_t*>(where), static_cast<int>(rq.op), rq.operand,
                    rq.compare);
  }
  reply(sender, r, nullptr, 0);
  return FM_CONTINUE;
}

// Answers now when that cannot block (small, credits in hand), else queues the answer.
void Context::reply(unsigned dest, const RmaReply& r, const void* data, std::size_t len) {
  Deferred d;
  d.reply = r;
  d.data = data;
  d.len = len;
  d.handler = data != nullptr ? kHGetReply : kHReply;
  Peer& q = peers_[dest];
  if (q.deferred.size() == q.deferred_head && sizeof r + len <= q.payload) {
    const int rc = send_reply(dest, d);
    if (rc != FM_EAGAIN && rc != FM_ELENGTH) return;  // sent, or the origin is gone
  }
  q.deferred.push_back(d);
  ++deferred_count_;
}

int Context::send_reply(unsigned dest, const Deferred& d) {
  if (d.handler == kHReply) return send(dest, kHReply, &d.reply, sizeof d.reply);
  FM_stream* s = begin_message(dest, sizeof d.reply + d.len, kHGetReply);
  if (s == nullptr) return last_status();
  int rc = send_piece(s, &d.reply, sizeof d.reply);
  if (rc == FM_SUCCESS && d.len > 0) rc = send_piece(s, d.data, d.len);
  const int rc2 = end_message(s);
  return rc != FM_SUCCESS ? rc : rc2;
}

// Sends queued answers, in order per origin.  Outside handlers only; not re-entered (a send that
// waits for credits runs handlers, which may queue more: they go out in this same loop).
void Context::flush_deferred() {
  if (flushing_deferred_ || in_handler()) return;
  flushing_deferred_ = true;
  bool again = true;
  while (again && deferred_count_ != 0) {
    again = false;
    for (unsigned p = 0; p < size_; ++p) {
      Peer& q = peers_[p];
      while (q.deferred_head < q.deferred.size()) {
        if (q.stream_open) break;  // the program is sending to it: after that message
        const Deferred d = q.deferred[q.deferred_head];
        if (!q.failed) {
          const int rc = send_reply(p, d);
          if (rc == FM_EAGAIN) break;
          if (rc != FM_SUCCESS && !q.failed)
            FM_WARN("answer to node %u's one-sided operation lost: %s", p, last_error());
        }
        ++q.deferred_head;
        --deferred_count_;
        again = true;
      }
      if (q.deferred_head == q.deferred.size()) {
        q.deferred.clear();
        q.deferred_head = 0;
      }
    }
  }
  flushing_deferred_ = false;
}

// origin side: an answer
int Context::on_rma_reply(FM_stream* s, unsigned sender, bool with_data) {
  RmaReply r;
  if (receive(&r, s, sizeof r) != static_cast<long>(sizeof r)) return FM_CONTINUE;
  const std::uint64_t index = r.id & 0xffffffffu;
  if (index >= ops_.size() || ops_[index].gen != (r.id >> 32) ||
      ops_[index].state != RmaOp::kPending || ops_[index].node != sender) {
    FM_WARN(
        "node %u answered an unknown one-sided operation (id %#llx; slot gen %u state %d node %u); "
        "ignored",
        sender, static_cast<unsigned long long>(r.id), index < ops_.size() ? ops_[index].gen : 0u,
        index < ops_.size() ? (int)ops_[index].state : -1,
        index < ops_.size() ? ops_[index].node : 0u);
    return FM_CONTINUE;
  }
  RmaOp* op = &ops_[index];
  int status = r.status;
  if (status != FM_SUCCESS) {
    fail(status, "%s on node %u refused by the target", with_data ? "FM_get" : "FM_put/atomic",
         sender);
  } else if (with_data && op->len > 0) {
    const long got = receive(op->dst, s, op->len);
    if (got != static_cast<long>(op->len)) status = got < 0 ? static_cast<int>(got) : FM_ELENGTH;
  } else if (op->result != nullptr) {
    std::memcpy(op->result, &r.value, op->len);
  }
  complete_op(op, status);
  return FM_CONTINUE;
}

}  // namespace fm::core
