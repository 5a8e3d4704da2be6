// context.cpp - FM's core.  See context.hpp for the wire format and docs/fm.md for the contract.
//
// Hot path (small messages): FM_send with credits builds the packet and injects it; FM_extract
// polls the transport, queues DATA packets per sender and runs single-packet handlers on the
// caller's stack.  No allocation, no lock, no system call of ours on either path: buffers come from
// slabs allocated at set-up, liveness checks are rate-limited and only run when idle or stalled.
#include "core/context.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::core {

namespace {

constexpr std::uint32_t kControlReserve = 8;  // receive buffers per sender for control packets
constexpr std::uint32_t kTxBufs = 128;
constexpr int kPollBatch = 32;

FM_handler g_handlers[FM_MAX_HANDLERS];

thread_local Context* t_current = nullptr;
Context* g_default = nullptr;

std::size_t round_up(std::size_t v, std::size_t a) {
  return (v + a - 1) / a * a;
}

int pidfd_open(int pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// handler table and current context

FM_handler handler_at(int id) noexcept {
  if (id >= FM_MAX_HANDLERS) [[unlikely]]
    return internal_handler(id);
  return id >= 0 ? g_handlers[id] : nullptr;
}

int register_handler(int id, FM_handler fn) noexcept {
  if (fn == nullptr) return fail(FM_EINVAL, "FM_register_handler: handler function is NULL");
  if (id == FM_ANY_ID) {
    for (int i = 0; i < FM_MAX_HANDLERS; ++i)
      if (g_handlers[i] == nullptr) {
        g_handlers[i] = fn;
        return i;
      }
    return fail(FM_EHANDLER, "FM_register_handler: all %d handler ids are in use", FM_MAX_HANDLERS);
  }
  if (id < 0 || id >= FM_MAX_HANDLERS)
    return fail(FM_EHANDLER, "FM_register_handler: id %d out of range [0, %d) (or FM_ANY_ID)", id,
                FM_MAX_HANDLERS);
  if (g_handlers[id] != nullptr && g_handlers[id] != fn)
    return fail(FM_EHANDLER, "FM_register_handler: id %d is already registered", id);
  g_handlers[id] = fn;
  return id;
}

int unregister_handler(int id) noexcept {
  if (id < 0 || id >= FM_MAX_HANDLERS || g_handlers[id] == nullptr)
    return fail(FM_EHANDLER, "FM_unregister_handler: id %d is not registered", id);
  g_handlers[id] = nullptr;
  return FM_SUCCESS;
}

// Hydra signals the surviving ranks with SIGUSR1 when a rank's PMI connection closes before it
// finalized (with -disable-auto-cleanup; otherwise it kills the job).  FM takes it as a hint to
// check its peers' liveness now.
volatile sig_atomic_t g_peer_event = 0;
namespace {
void on_sigusr1(int) {
  g_peer_event = 1;
}
}  // namespace

void install_failure_signal() noexcept {
  struct sigaction old {};
  if (sigaction(SIGUSR1, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) return;  // not ours
  struct sigaction sa {};
  sa.sa_handler = on_sigusr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
}

Context* current() noexcept {
  return t_current != nullptr ? t_current : g_default;
}
void set_default(Context* c) noexcept {
  g_default = c;
}
ScopedCurrent::ScopedCurrent(Context* c) noexcept : saved(t_current) {
  t_current = c;
}
ScopedCurrent::~ScopedCurrent() {
  t_current = saved;
}

// ------------------------------------------------------------------------------------------------
// set-up and teardown

std::unique_ptr<Context> Context::create(Wiring&& w, int* rc) {
  std::unique_ptr<Context> c(new Context());
  *rc = c->setup(std::move(w));
  if (*rc != FM_SUCCESS) return nullptr;
  return c;
}

int Context::setup(Wiring&& w) {
  cfg_ = w.cfg;
  rank_ = w.rank;
  size_ = w.size;
  tps_ = std::move(w.transports);
  boot_ = std::move(w.boot);
  board_ = std::move(w.board);
  oversubscribed_ = w.oversubscribed;
  my_window_ = w.my_window;
  tp_packet_ = w.tp_packet;
  tp_zcopy_ = w.tp_zcopy;
  tp_zcopy_.resize(tps_.size(), 0);
  for (auto& tp : tps_) tp_kind_.push_back(tp->caps().name == "shm" ? 0 : 1);
  std::size_t self_packet = cfg_.packet_size;
  for (std::size_t t = 0; t < tps_.size(); ++t) {
    if (tps_[t]->caps().max_msg < tp_packet_[t])
      return fail(FM_EINVAL, "packet size %zu exceeds transport %s's largest message (%zu)",
                  tp_packet_[t], tps_[t]->caps().name.c_str(), tps_[t]->caps().max_msg);
    self_packet = std::max(self_packet, tp_packet_[t]);
  }
  max_rx_payload_ = self_packet - sizeof(PacketHeader);

  peers_.resize(size_);
  std::vector<std::uint32_t> rx_per_tp(tps_.size(), 0);
  for (unsigned p = 0; p < size_; ++p) {
    Peer& q = peers_[p];
    q.tp = w.peer_tp[p];
    q.window = p == rank_ ? cfg_.window(false) : w.windows[p];
    q.payload = static_cast<std::uint32_t>((p == rank_ ? self_packet : w.peer_packet[p]) -
                                           sizeof(PacketHeader));
    q.credits = q.window;
    q.host = p < w.hosts.size() ? w.hosts[p] : std::string();
    q.pid = p < w.pids.size() ? w.pids[p] : 0;
    q.same_host = p == rank_ || (!q.host.empty() && q.host == w.hosts[rank_]);
    q.acked = p < w.acked.size() && p != rank_ ? w.acked[p] : nullptr;
    if (q.tp >= 0) rx_per_tp[static_cast<std::size_t>(q.tp)] += w.my_window[q.tp] + kControlReserve;
  }
  // one slab: receive buffers per transport, send buffers, self buffers
  std::uint32_t nrx = 0;
  for (auto n : rx_per_tp) nrx += n;
  const std::uint32_t ntx = tps_.empty() ? 0 : kTxBufs;
  const std::uint32_t nself = cfg_.window(false);
  std::size_t tx_packet = 0;
  for (unsigned p = 0; p < size_; ++p)
    if (p != rank_) tx_packet = std::max(tx_packet, w.peer_packet[p]);
  auto stride = [](std::size_t packet) { return round_up(sizeof(Buf) + packet, 64); };
  slab_size_ = ntx * stride(tx_packet) + nself * stride(self_packet);
  for (std::size_t t = 0; t < tps_.size(); ++t) slab_size_ += rx_per_tp[t] * stride(tp_packet_[t]);
  slab_size_ = round_up(slab_size_, 4096);
  slab_ = static_cast<std::byte*>(std::aligned_alloc(4096, slab_size_));
  if (slab_ == nullptr)
    return fail(FM_ENOMEM, "FM_initialize: cannot allocate %zu bytes of packet buffers",
                slab_size_);
  std::byte* cursor = slab_;
  auto take = [&](Buf::Pool pool, std::size_t packet) {
    Buf* b = reinterpret_cast<Buf*>(cursor);
    cursor += stride(packet);
    std::memset(b, 0, sizeof *b);
    b->pool = pool;
    return b;
  };
  for (std::size_t t = 0; t < tps_.size(); ++t) {
    for (std::uint32_t i = 0; i < rx_per_tp[t]; ++i) {
      Buf* b = take(Buf::kRx, tp_packet_[t]);
      b->tp = static_cast<std::uint8_t>(t);
      int rc = tps_[t]->post_recv(b->hdr(), tp_packet_[t], b);
      if (rc != FM_SUCCESS)
        return fail(rc, "FM_initialize: posting receive %u of %u on %s failed: %s", i, rx_per_tp[t],
                    tps_[t]->caps().name.c_str(), last_error());
    }
  }
  for (std::uint32_t i = 0; i < ntx; ++i) {
    Buf* b = take(Buf::kTx, tx_packet);
    b->next = tx_free_;
    tx_free_ = b;
  }
  for (std::uint32_t i = 0; i < nself; ++i) {
    Buf* b = take(Buf::kSelf, self_packet);
    b->next = self_free_;
    self_free_ = b;
  }
  std::size_t inject_max = 0;
  for (auto& t : tps_) inject_max = std::max(inject_max, t->caps().inject_size);
  scratch_.assign(std::min(inject_max, tx_packet) + 64, std::byte{0});
  ready_.assign(size_, 0);

  // liveness of same-host peers through process descriptors (no polling of /proc)
  for (unsigned p = 0; p < size_; ++p) {
    Peer& q = peers_[p];
    if (p == rank_ || !q.same_host || q.pid <= 0) continue;
    q.pidfd = pidfd_open(q.pid);
    if (q.pidfd >= 0) {
      pidfds_.push_back(pollfd{q.pidfd, POLLIN, 0});
      pidfd_peer_.push_back(p);
    }
  }
  last_liveness_ns_ = now_ns();
  return FM_SUCCESS;
}

Context::~Context() {
  stop_progress_thread();
  tps_.clear();  // close endpoints before freeing the buffers posted to them
  for (auto& q : peers_) {
    if (q.pidfd >= 0) close(q.pidfd);
    delete q.fiber;
  }
  std::free(slab_);
  if (g_default == this) g_default = nullptr;
}

const char* Context::transport_name(unsigned node) const noexcept {
  if (node >= size_) return nullptr;
  if (node == rank_) return "self";
  return tps_[static_cast<std::size_t>(peers_[node].tp)]->caps().name.c_str();
}

// ------------------------------------------------------------------------------------------------
// progress: completions and arrivals

int Context::progress() {
  transport::Completion comp[kPollBatch];
  for (auto& tp : tps_) {
    int n = tp->poll(comp, kPollBatch);
    if (n < 0) return n;
    for (int i = 0; i < n; ++i) {
      Buf* b = static_cast<Buf*>(comp[i].ctx);
      switch (comp[i].kind) {
        case transport::Completion::recv:
          b->len = static_cast<std::uint32_t>(comp[i].len);
          on_arrival(b);
          break;
        case transport::Completion::send:
          on_send_done(b);
          break;
        case transport::Completion::read:
          if (comp[i].ctx == &reads_outstanding_) {
            if (reads_outstanding_ > 0) --reads_outstanding_;
          } else if (owns(static_cast<RmaOp*>(comp[i].ctx))) {
            on_native_done(static_cast<RmaOp*>(comp[i].ctx), true);
          }
          break;
        case transport::Completion::peer_failed:
          if (comp[i].len < size_)
            fail_peer(static_cast<unsigned>(comp[i].len),
                      "it acknowledged nothing for the peer time-out (unreachable or dead)");
          break;
        case transport::Completion::error:
          if (comp[i].ctx == &reads_outstanding_) {
            if (reads_outstanding_ > 0) --reads_outstanding_;
            read_failed_ = true;
            break;
          }
          if (owns(static_cast<RmaOp*>(comp[i].ctx))) {
            on_native_done(static_cast<RmaOp*>(comp[i].ctx), false);
            break;
          }
          if (b == nullptr) break;
          if (b->pool == Buf::kTx) {
            fail_peer(b->dest, "a send to it failed in the transport");
            on_send_done(b);
          } else if (b->pool == Buf::kRx && !closed_) {
            FM_WARN("receive completed in error on %s; reposting", tp->caps().name.c_str());
            (void)tp->post_recv(b->hdr(), tp_packet_[b->tp], b);
          }
          break;
      }
    }
  }
  if (credit_pending_) {
    credit_pending_ = false;
    for (unsigned p = 0; p < size_; ++p)
      if (peers_[p].credit_pending) {
        peers_[p].credit_pending = false;
        return_credits(p, true);
      }
  }
  return FM_SUCCESS;
}

void Context::repost(Buf* b) {
  int rc = tps_[b->tp]->post_recv(b->hdr(), tp_packet_[b->tp], b);
  if (rc != FM_SUCCESS) FM_ERROR("reposting a receive buffer failed: %s", last_error());
}

void Context::on_arrival(Buf* b) {
  PacketHeader* h = b->hdr();
  if (b->len < sizeof(PacketHeader) || h->magic != kWireMagic || h->src >= size_ ||
      h->src == rank_ || h->len != b->len - sizeof(PacketHeader)) {
    FM_WARN("dropping a malformed %u-byte packet (magic %#x, src %u)", b->len, h->magic, h->src);
    repost(b);
    return;
  }
  const unsigned p = h->src;
  Peer& q = peers_[p];
  if (h->credits != 0) {
    q.credits += h->credits;
    q.returned += h->credits;
    q.credit_requested = false;
  }
  switch (h->type) {
    case kData:
      b->len = h->len;
      b->off = 0;
      if (h->flags & kRndv) {  // {addr, key, len}: the data stays at the sender until read
        std::uint64_t len = 0;
        if (h->len == 24) std::memcpy(&len, b->payload() + 16, 8);
        if (h->len != 24 || len == 0 || len > UINT32_MAX) {
          FM_ERROR("malformed zero-copy descriptor from node %u", p);
          fail_peer(p, "it sent a malformed zero-copy descriptor");
        }
        b->len = static_cast<std::uint32_t>(len);
        b->rndv = 1;
      }
      if (h->seq != q.rx_seq && !q.failed) {  // once failed, its packets are dropped quietly
        FM_ERROR("packet %u from node %u arrived when %u was expected", h->seq, p, q.rx_seq);
        fail_peer(p, "packets arrived out of order, duplicated or lost (transport broke FIFO)");
      }
      ++q.rx_seq;
      on_data(p, b);
      return;
    case kCreditRequest:
      q.starving = true;
      repost(b);
      return_credits(p, false);
      return;
    case kBye:
      q.bye = true;
      repost(b);
      settle_bye(p);
      return;
    default:  // kCredit: its credits were taken above
      repost(b);
      return;
  }
}

// A node answers everything before its BYE (FIFO), so once its BYE arrived and every packet it
// sent before is handled, what is still pending on it never will be answered.  The BYE is a control
// packet, seen on arrival, while earlier data may still wait in the node's queue: an answer among
// them completes its operation when its handler runs, so the check waits for the queue to drain.
void Context::settle_bye(unsigned p) {
  Peer& q = peers_[p];
  if (!q.bye || q.rma_pending == 0 || !q.q.empty() || q.rx != Peer::kIdle) return;
  for (RmaOp& op : ops_)
    if (op.state == RmaOp::kPending && op.node == p) {
      fail(FM_EPEERFAILED, "node %u finalized before answering a one-sided operation", p);
      complete_op(&op, FM_EPEERFAILED);
    }
}

void Context::on_data(unsigned p, Buf* b) {
  Peer& q = peers_[p];
  if (q.rx == Peer::kDiscarding || q.failed) {  // the rest of a message whose handler returned
    if (q.rx == Peer::kDiscarding && (b->hdr()->flags & kLast)) q.rx = Peer::kIdle;
    release_rx(b);
    return;
  }
  q.q.push(b);
  if (q.rx == Peer::kIdle || q.rx == Peer::kSuspended) mark_ready(p);
}

void Context::on_send_done(Buf* b) {
  if (b->gather) {
    b->gather = 0;
    Peer& q = peers_[b->dest];
    if (q.gather_pending > 0) --q.gather_pending;
  }
  b->next = tx_free_;
  tx_free_ = b;
  --tx_outstanding_;
}

void Context::mark_ready(unsigned p) noexcept {
  Peer& q = peers_[p];
  if (q.ready) return;
  q.ready = true;
  ready_[(ready_head_ + ready_count_) % size_] = p;
  ++ready_count_;
}

// ------------------------------------------------------------------------------------------------
// dispatch: running handlers

long Context::dispatch(std::size_t budget) {
  budget_ = budget;
  extracted_ = 0;
  quit_ = false;
  while (ready_count_ > 0 && extracted_ < budget_ && !quit_) {
    const unsigned p = ready_[ready_head_];
    ready_head_ = (ready_head_ + 1) % size_;
    --ready_count_;
    peers_[p].ready = false;
    run_peer(p);
  }
  return static_cast<long>(extracted_);
}

void Context::run_peer(unsigned p) {
  Peer& q = peers_[p];
  if (q.rx == Peer::kSuspended) {
    if (q.q.empty() && !q.failed && !q.budget_wait) return;
    resume_fiber(p);
  } else if (q.rx == Peer::kIdle) {
    if (q.q.empty()) return;
    start_message(p);
  } else {
    return;
  }
  // one message (or one resumption) per turn; come back later for more (fairness across senders)
  if ((q.rx == Peer::kIdle && !q.q.empty()) || (q.rx == Peer::kSuspended && q.budget_wait))
    mark_ready(p);
}

void Context::start_message(unsigned p) {
  Peer& q = peers_[p];
  Buf* b = q.q.pop();
  PacketHeader* h = b->hdr();
  InStream& in = q.in;
  in.magic = kInMagic;
  in.peer = p;
  in.ctx = this;
  in.declared = h->msg_len;
  in.received = 0;
  in.cur = b;
  charge(q, b);
  ++q.msgs_in;
  q.handler = h->handler;
  FM_handler fn = (h->flags & kFirst) ? handler_at(h->handler) : nullptr;
  if (fn == nullptr) {
    if (!(h->flags & kFirst))
      FM_ERROR("node %u: a message continuation arrived with no message open; dropped", p);
    else
      FM_ERROR("message from node %u for unregistered handler %u dropped (%llu bytes)", p,
               h->handler, static_cast<unsigned long long>(h->msg_len));
    ++dropped_;
    finish_message(p);
    return;
  }
  if ((h->flags & kLast) && !b->rndv) {  // the whole message is here: run on this stack
    q.rx = Peer::kRunning;
    run_handler(fn, p);
    finish_message(p);
    return;
  }
  if (fibers_.empty()) {
    auto f = std::make_unique<Fiber>(cfg_.handler_stack);
    if (!f->ok()) {
      FM_ERROR("cannot allocate a %zu-byte handler stack; message from node %u dropped",
               cfg_.handler_stack, p);
      ++dropped_;
      finish_message(p);
      return;
    }
    fibers_.push_back(std::move(f));
  }
  q.fiber = fibers_.back().release();
  fibers_.pop_back();
  q.fiber->start(&Context::fiber_main, &q);
  q.owner = this;
  q.index = p;
  resume_fiber(p);
}

void Context::run_handler(FM_handler fn, unsigned p) {
  Peer& q = peers_[p];
  InStream* saved_in = current_in_;
  current_in_ = &q.in;
  ++handler_depth_;
  int r;
  const std::uint64_t t0 = cfg_.stats ? now_ns() : 0;
  {
    ScopedCurrent sc(this);
    r = fn(&q.in, p);
  }
  if (cfg_.stats) q.handler_ns += now_ns() - t0;
  --handler_depth_;
  current_in_ = saved_in;
  if (r == FM_QUIT) quit_ = true;
}

void Context::fiber_main(void* arg) {
  Peer* q = static_cast<Peer*>(arg);
  Context* self = q->owner;
  FM_handler fn = handler_at(q->handler);
  int r = fn != nullptr ? fn(&q->in, q->index) : FM_CONTINUE;
  if (r == FM_QUIT) self->quit_ = true;
}

void Context::resume_fiber(unsigned p) {
  Peer& q = peers_[p];
  q.budget_wait = false;
  q.rx = Peer::kRunning;
  InStream* saved_in = current_in_;
  current_in_ = &q.in;
  ++handler_depth_;
  const std::uint64_t t0 = cfg_.stats ? now_ns() : 0;
  {
    ScopedCurrent sc(this);
    q.fiber->resume();
  }
  if (cfg_.stats) q.handler_ns += now_ns() - t0;
  --handler_depth_;
  current_in_ = saved_in;
  if (q.fiber->finished()) {
    fibers_.emplace_back(q.fiber);
    q.fiber = nullptr;
    finish_message(p);
  }
}

void Context::finish_message(unsigned p) {
  Peer& q = peers_[p];
  InStream& in = q.in;
  bool last = false;
  if (in.cur != nullptr) {
    last = (in.cur->hdr()->flags & kLast) != 0;
    release_rx(in.cur);
    in.cur = nullptr;
  }
  while (!last && !q.q.empty()) {  // bytes the handler did not receive are discarded
    Buf* b = q.q.pop();
    last = (b->hdr()->flags & kLast) != 0;
    release_rx(b);
  }
  in.magic = 0;
  q.rx = (last || q.failed) ? Peer::kIdle : Peer::kDiscarding;
}

// ------------------------------------------------------------------------------------------------
// buffers and credits

void Context::release_rx(Buf* b) {
  if (b->pool == Buf::kSelf) {
    b->next = self_free_;
    self_free_ = b;
    ++peers_[rank_].credits;
    return;
  }
  const unsigned p = b->hdr()->src;
  Peer& q = peers_[p];
  const bool ack = (b->hdr()->flags & kAck) != 0;
  // a zero-copy sender on this host watches our board instead (it set no kAck)
  if (b->rndv && board_ != nullptr) board_->post(p, q.consumed + 1);
  b->rndv = 0;
  repost(b);
  ++q.consumed;
  ++q.owed;
  if (ack) q.starving = true;  // its sender waits for this packet's credit
  return_credits(p, false);
}

void Context::return_credits(unsigned p, bool force) {
  Peer& q = peers_[p];
  if (q.owed == 0 || q.failed || closed_) return;
  const std::uint32_t grant = my_window_[static_cast<std::size_t>(q.tp)];
  if (!force && !q.starving && q.owed < grant / 2) return;
  if (send_control(p, kCredit) == FM_EAGAIN) {
    q.credit_pending = true;
    credit_pending_ = true;
  }
}

int Context::send_control(unsigned p, PacketType type) {
  Peer& q = peers_[p];
  PacketHeader h{rank_, 0, type, 0, 0, 0, q.owed, kWireMagic, 0};
  auto& tp = tps_[static_cast<std::size_t>(q.tp)];
  int rc;
  if (tp->caps().inject_size >= sizeof h) {
    rc = tp->inject(p, &h, sizeof h);
  } else {
    if (tx_free_ == nullptr) return FM_EAGAIN;
    Buf* b = tx_free_;
    tx_free_ = b->next;
    b->dest = p;
    std::memcpy(b->hdr(), &h, sizeof h);
    iovec iov{b->hdr(), sizeof h};
    rc = tp->send(p, &iov, 1, b);
    if (rc == FM_SUCCESS) {
      ++tx_outstanding_;
    } else {
      b->next = tx_free_;
      tx_free_ = b;
    }
  }
  if (rc == FM_SUCCESS) {
    q.owed = 0;
    q.starving = false;
  } else if (rc != FM_EAGAIN) {
    fail_peer(p, "sending a control packet failed");
  }
  return rc;
}

Buf* Context::get_tx_buf(unsigned dest) {
  std::uint64_t start = 0;
  for (std::uint32_t spins = 0; tx_free_ == nullptr; ++spins) {
    if (progress() != FM_SUCCESS || peers_[dest].failed) return nullptr;
    if ((spins & 1023) == 1023) {  // sends complete locally; bounded all the same
      if (start == 0) start = now_ns();
      check_liveness(false);
      if (now_ns() - start > cfg_.peer_timeout_ms * 1000000ull) {
        fail(FM_ETIMEDOUT, "no send completion for %u ms (%u sends outstanding)",
             cfg_.peer_timeout_ms, tx_outstanding_);
        return nullptr;
      }
    }
  }
  Buf* b = tx_free_;
  tx_free_ = b->next;
  b->dest = dest;
  b->len = 0;
  return b;
}

int Context::wait_credit(unsigned p) {
  Peer& q = peers_[p];
  if (q.credits > 0) return FM_SUCCESS;
  if (in_handler())
    return fail(FM_EAGAIN, "no credits for node %u inside a handler; return and retry", p);
  ++q.credit_stalls;
  while (q.credits <= 0) {
    if (q.failed) return peer_error(p, "send (waiting for credits)");
    // ask once; a request the transport could not take now (full) is asked again
    if (p != rank_ && !q.credit_requested && send_control(p, kCreditRequest) == FM_SUCCESS)
      q.credit_requested = true;
    int rc = progress();
    if (rc < 0) return rc;
    dispatch(SIZE_MAX);
    check_liveness(false);
  }
  return FM_SUCCESS;
}

// Sends a packet: header completed here (sequence number, piggybacked credits).  Its payload is
// b's own (b->len bytes), or ext_len bytes of the caller's buffer ext (a gathered send: b then
// carries only the header, and its completion tells when ext may be reused).
int Context::transmit(unsigned dest, Buf* b, const void* ext, std::size_t ext_len) {
  Peer& q = peers_[dest];
  PacketHeader* h = b->hdr();
  h->seq = static_cast<std::uint32_t>(q.tx_seq++);
  h->len = static_cast<std::uint32_t>(b->len + ext_len);
  q.bytes_out += h->len;
  if (dest == rank_) {
    h->credits = 0;
    b->off = 0;
    on_data(dest, b);
    return FM_SUCCESS;
  }
  h->credits = q.owed;
  q.owed = 0;
  q.starving = false;
  auto& tp = tps_[static_cast<std::size_t>(q.tp)];
  const std::size_t inline_len = sizeof(PacketHeader) + b->len;
  const iovec iov[2] = {{h, inline_len}, {const_cast<void*>(ext), ext_len}};
  std::uint64_t start = 0;
  for (std::uint32_t tries = 0;; ++tries) {
    int rc;
    if (ext == nullptr && inline_len <= tp->caps().inject_size) {
      rc = tp->inject(dest, h, inline_len);
      if (rc == FM_SUCCESS) on_send_done_inject(b);
    } else {
      rc = tp->send(dest, iov, ext != nullptr ? 2 : 1, b);
      if (rc == FM_SUCCESS) {
        ++tx_outstanding_;
        if (ext != nullptr) {
          b->gather = 1;
          ++q.gather_pending;
        }
      }
    }
    if (rc == FM_SUCCESS) return FM_SUCCESS;
    if (rc != FM_EAGAIN) {
      fail_peer(dest, last_error());
      if (b->pool == Buf::kTx) on_send_done_inject(b);
      return peer_error(dest, "send");
    }
    int prc = progress();
    if (prc < 0) return prc;
    if ((tries & 1023) == 1023) {
      if (start == 0) start = now_ns();
      check_liveness(false);
      if (q.failed) {
        on_send_done_inject(b);
        return peer_error(dest, "send");
      }
      if (now_ns() - start > cfg_.peer_timeout_ms * 1000000ull) {
        fail_peer(dest, "its endpoint accepted nothing for the peer time-out");
        on_send_done_inject(b);
        return peer_error(dest, "send");
      }
    }
  }
}

void Context::on_send_done_inject(Buf* b) {
  if (b->pool != Buf::kTx) return;
  b->next = tx_free_;
  tx_free_ = b;
}

// ------------------------------------------------------------------------------------------------
// sending

int Context::check_dest(unsigned dest, int handler, const char* op) {
  if (closed_) return fail(FM_ENOTINIT, "%s: FM is finalized", op);
  if (dest >= size_)
    return fail(FM_ENODEST, "%s: destination %u out of range (%u nodes)", op, dest, size_);
  if (handler_at(handler) == nullptr)
    return fail(FM_EHANDLER, "%s: handler %d is not registered", op, handler);
  Peer& q = peers_[dest];
  if (q.failed) return peer_error(dest, op);
  if (finalizing_ && dest != rank_)
    return fail(FM_ENOTINIT, "%s: FM_finalize is in progress; sends to node %u are refused", op,
                dest);
  if (q.stream_open && in_handler() && q.stream_owner != current_in_)  // a send it interrupted
    return fail(FM_EAGAIN,
                "%s: a stream to node %u opened outside this handler is in progress; send after "
                "the handler",
                op, dest);
  if (q.stream_open)
    return fail(FM_EBUSY, "%s: a stream to node %u is already open (end it first)", op, dest);
  return FM_SUCCESS;
}

FM_stream* Context::begin_message(unsigned dest, std::size_t length, int handler, bool no_wait) {
  const char* op = no_wait ? "FM_try_begin_message" : "FM_begin_message";
  if (check_dest(dest, handler, op) != FM_SUCCESS) return nullptr;
  if (length > max_message()) {
    fail(FM_ELENGTH, "%s: length %zu exceeds the maximum %zu", op, length, max_message());
    return nullptr;
  }
  Peer& q = peers_[dest];
  OutStream& o = q.out;
  o.reserved = 0;
  const bool handler_ctx = in_handler();
  if (handler_ctx || no_wait) {  // the whole message must be guaranteed now, or NULL
    const char* where = handler_ctx ? "inside a handler" : "without waiting";
    const std::uint64_t npk = length == 0 ? 1 : (length + q.payload - 1) / q.payload;
    if (npk > q.window) {
      fail(FM_ELENGTH,
           "%s: %zu bytes need %llu packets, more than node %u's %u-packet credit window; %s "
           "send at most %zu bytes",
           op, length, static_cast<unsigned long long>(npk), dest, q.window, where,
           static_cast<std::size_t>(q.window) * q.payload);
      return nullptr;
    }
    if (q.credits < static_cast<std::int64_t>(npk)) {
      ++q.credit_stalls;
      if (dest != rank_ && !q.credit_requested && send_control(dest, kCreditRequest) == 0)
        q.credit_requested = true;
      fail(FM_EAGAIN, "%s: %llu packets to node %u cannot be guaranteed %s now; %s", op,
           static_cast<unsigned long long>(npk), dest, where,
           handler_ctx ? "return from the handler and retry" : "extract and retry");
      return nullptr;
    }
    q.credits -= static_cast<std::int64_t>(npk);
    o.reserved = static_cast<std::uint32_t>(npk);
  }
  o.magic = kOutMagic;
  o.peer = dest;
  o.ctx = this;
  o.handler = handler;
  o.declared = length;
  o.sent = 0;
  o.cur = nullptr;
  o.first = true;
  o.last_sent = false;
  q.stream_open = true;
  q.stream_owner = current_in_;
  ++q.msgs_out;
  return &o;
}

// A packet buffer for stream o.  Self-sends draw on the self pool, whose free buffers are the
// self credits, so the credit is taken here; other destinations take theirs in flush().
Buf* Context::acquire(OutStream* o, int* rc) {
  const unsigned dest = o->peer;
  Buf* b;
  if (dest == rank_) {
    if (o->reserved > 0) {
      --o->reserved;
    } else {
      if ((*rc = wait_credit(dest)) != FM_SUCCESS) return nullptr;
      --peers_[dest].credits;
    }
    b = self_free_;
    self_free_ = b->next;
  } else {
    b = get_tx_buf(dest);
    if (b == nullptr) {
      *rc = peers_[dest].failed ? peer_error(dest, "FM_send_piece") : last_status();
      return nullptr;
    }
  }
  b->len = 0;
  return b;
}

int Context::flush(OutStream* o, bool last) {
  const unsigned dest = o->peer;
  Peer& q = peers_[dest];
  int rc = FM_SUCCESS;
  if (o->cur == nullptr && (o->cur = acquire(o, &rc)) == nullptr) return rc;
  Buf* b = o->cur;
  if (dest != rank_) {
    if (o->reserved > 0) {
      --o->reserved;
    } else {
      if ((rc = wait_credit(dest)) != FM_SUCCESS) return rc;
      --q.credits;
    }
  }
  PacketHeader* h = b->hdr();
  h->src = rank_;
  h->handler = static_cast<std::uint16_t>(o->handler);
  h->type = kData;
  h->flags = static_cast<std::uint8_t>((o->first ? kFirst : 0) | (last ? kLast : 0));
  h->magic = kWireMagic;
  h->msg_len = o->declared;
  o->cur = nullptr;
  o->first = false;
  return transmit(dest, b);
}

OutStream* Context::out_stream(FM_stream* s, const char* op) {
  if (s == nullptr || s->magic != kOutMagic || s->ctx != this) {
    fail(FM_ESTREAM, "%s: not an open outgoing stream", op);
    return nullptr;
  }
  return static_cast<OutStream*>(s);
}

int Context::send_piece(FM_stream* s, const void* buf, std::size_t n) {
  OutStream* o = out_stream(s, "FM_send_piece");
  if (o == nullptr) return last_status();
  if (buf == nullptr && n != 0) return fail(FM_EINVAL, "FM_send_piece: buf is NULL");
  if (n > o->declared - o->sent)
    return fail(FM_ELENGTH,
                "FM_send_piece: %zu bytes go beyond the declared length %llu (%llu already sent)",
                n, static_cast<unsigned long long>(o->declared),
                static_cast<unsigned long long>(o->sent));
  Peer& q = peers_[o->peer];
  if (q.failed) return peer_error(o->peer, "FM_send_piece");
  const std::size_t pl = q.payload;
  // Whole packets go straight from the caller's buffer (no copy) outside handlers; inside a
  // handler FM may not wait for the receiver, so it copies.
  const bool gather = o->peer != rank_ && !in_handler() && n >= pl;
  if (o->peer != rank_ && !in_handler()) {  // large pieces: zero-copy where the transport reads
    const std::size_t zt = tp_zcopy_[static_cast<std::size_t>(q.tp)];
    if (zt != 0 && n >= zt && tps_[static_cast<std::size_t>(q.tp)]->caps().rma_read)
      return send_zcopy(o, static_cast<const std::byte*>(buf), n);
  }
  const std::byte* src = static_cast<const std::byte*>(buf);
  while (n > 0) {
    int rc = FM_SUCCESS;
    if (o->cur != nullptr && o->cur->len == pl && (rc = flush(o, false)) != FM_SUCCESS) return rc;
    if (gather && o->cur == nullptr && n >= pl) {
      if ((rc = send_direct(o, src, pl, o->sent + pl == o->declared)) != FM_SUCCESS) return rc;
      o->sent += pl;
      src += pl;
      n -= pl;
      continue;
    }
    if (o->cur == nullptr && (o->cur = acquire(o, &rc)) == nullptr) return rc;
    const std::size_t k = std::min<std::size_t>(n, pl - o->cur->len);
    std::memcpy(o->cur->payload() + o->cur->len, src, k);
    o->cur->len += static_cast<std::uint32_t>(k);
    o->sent += k;
    src += k;
    n -= k;
  }
  return gather ? wait_gathered(o->peer) : FM_SUCCESS;
}

// One packet whose payload is the caller's buffer: the header goes in a send buffer, the payload
// is gathered from src by the transport (shm reads it with a single copy).
int Context::send_direct(OutStream* o, const std::byte* src, std::size_t len, bool last) {
  const unsigned dest = o->peer;
  Peer& q = peers_[dest];
  int rc = wait_credit(dest);
  if (rc != FM_SUCCESS) return rc;
  Buf* b = get_tx_buf(dest);
  if (b == nullptr) return q.failed ? peer_error(dest, "FM_send_piece") : last_status();
  --q.credits;
  PacketHeader* h = b->hdr();
  h->src = rank_;
  h->handler = static_cast<std::uint16_t>(o->handler);
  h->type = kData;
  h->flags = static_cast<std::uint8_t>((o->first ? kFirst : 0) | (last ? kLast : 0));
  h->magic = kWireMagic;
  h->msg_len = o->declared;
  o->first = false;
  o->last_sent = last;
  return transmit(dest, b, src, len);
}

// Zero-copy (receiver-driven rendezvous): the piece stays in the caller's buffer, exposed for RMA
// reads; one descriptor packet (per GiB) tells the receiver where, and each FM_receive of the
// handler reads what it asks for in one RMA read.  The receiver's
// FM_receive reads the bytes straight into the handler's buffer.  Per-sender FIFO consumption
// means the descriptors are consumed (read or discarded) once the receiver has returned credits
// for them; the last one asks for that at once (kAck), or, from a same-host receiver, once its
// board says so (board.hpp).  Then the buffer is the caller's again.
int Context::send_zcopy(OutStream* o, const std::byte* src, std::size_t n) {
  const unsigned dest = o->peer;
  Peer& q = peers_[dest];
  auto& tp = tps_[static_cast<std::size_t>(q.tp)];
  int rc = FM_SUCCESS;
  if (o->cur != nullptr && (rc = flush(o, false)) != FM_SUCCESS) return rc;  // bytes before it
  transport::Transport::Region reg;
  if ((rc = tp->expose(src, n, &reg)) != FM_SUCCESS) return rc;
  std::uint64_t sent_rts = 0;
  for (std::size_t off = 0; off < n;) {
    const std::size_t chunk = std::min<std::size_t>(n - off, kMaxRndv);
    const bool last = o->sent + chunk == o->declared;
    if ((rc = wait_credit(dest)) != FM_SUCCESS) break;
    Buf* b = get_tx_buf(dest);
    if (b == nullptr) {
      rc = q.failed ? peer_error(dest, "FM_send_piece") : last_status();
      break;
    }
    --q.credits;
    PacketHeader* h = b->hdr();
    h->src = rank_;
    h->handler = static_cast<std::uint16_t>(o->handler);
    h->type = kData;
    h->flags = static_cast<std::uint8_t>((o->first ? kFirst : 0) | (last ? kLast : 0) | kRndv |
                                         (off + chunk == n && q.acked == nullptr ? kAck : 0));
    h->magic = kWireMagic;
    h->msg_len = o->declared;
    const std::uint64_t desc[3] = {reg.addr + off, reg.key, chunk};
    std::memcpy(b->payload(), desc, sizeof desc);
    b->len = sizeof desc;
    o->first = false;
    o->last_sent = last;
    if ((rc = transmit(dest, b)) != FM_SUCCESS) break;
    ++sent_rts;
    o->sent += chunk;
    off += chunk;
  }
  // Even after an error, descriptors already sent may still be read: wait for them (unless the
  // receiver is dead) before the region goes away.
  if (sent_rts > 0) {
    const int wrc = wait_returned(dest, q.tx_seq);
    if (rc == FM_SUCCESS) rc = wrc;
  }
  tp->unexpose(&reg);
  return rc;
}

// Waits until dest has consumed every packet we sent it (outside handlers: extracts meanwhile,
// since dest may be waiting for us in the same way).
int Context::wait_returned(unsigned dest, std::uint64_t target) {
  Peer& q = peers_[dest];
  while (q.returned < target && (q.acked == nullptr || Board::peek(q.acked) < target)) {
    if (q.failed) return peer_error(dest, "FM_send_piece");
    int rc = progress();
    if (rc < 0) return rc;
    dispatch(SIZE_MAX);
    check_liveness(false);
  }
  return FM_SUCCESS;
}

// Reads k bytes of a zero-copy descriptor's region, from its current offset, into dst.
int Context::rma_read(unsigned p, Buf* b, std::byte* dst, std::size_t k) {
  Peer& q = peers_[p];
  auto& tp = tps_[b->tp];
  std::uint64_t desc[3];
  std::memcpy(desc, b->payload(), sizeof desc);
  const std::size_t most = tp->caps().max_rma;
  for (std::size_t done = 0; done < k;) {  // in pieces the provider takes, all in flight at once
    const std::size_t len = std::min(k - done, most);
    int rc;
    for (std::uint32_t tries = 0; (rc = tp->read(p, dst + done, len, desc[0] + b->off + done,
                                                 desc[1], &reads_outstanding_)) == FM_EAGAIN;
         ++tries) {
      (void)progress();
      if ((tries & 1023) == 1023) check_liveness(false);
      if (q.failed) return peer_error(p, "FM_receive");
    }
    if (rc != FM_SUCCESS) {
      fail_peer(p, last_error());
      return peer_error(p, "FM_receive");
    }
    ++reads_outstanding_;
    done += len;
  }
  for (std::uint32_t spins = 0; reads_outstanding_ > 0; ++spins) {
    (void)progress();
    if ((spins & 1023) == 1023) check_liveness(false);
    if (q.failed && reads_outstanding_ > 0) {
      reads_outstanding_ = 0;  // a read from a dead peer may never complete
      return peer_error(p, "FM_receive");
    }
  }
  if (read_failed_) {
    read_failed_ = false;
    fail_peer(p, "an RMA read of its memory failed");
    return peer_error(p, "FM_receive");
  }
  q.zcopy_bytes += k;
  return FM_SUCCESS;
}

// Waits until the transport is done with the caller's buffers of gathered sends to dest.
int Context::wait_gathered(unsigned dest) {
  Peer& q = peers_[dest];
  for (std::uint32_t spins = 0; q.gather_pending > 0; ++spins) {
    int rc = progress();
    if (rc < 0) return rc;
    if ((spins & 1023) == 1023) check_liveness(false);
    if (q.failed) {
      q.gather_pending = 0;
      return peer_error(dest, "FM_send_piece");
    }
  }
  return FM_SUCCESS;
}

int Context::end_message(FM_stream* s) {
  OutStream* o = out_stream(s, "FM_end_message");
  if (o == nullptr) return last_status();
  Peer& q = peers_[o->peer];
  int rc = q.failed       ? peer_error(o->peer, "FM_end_message")
           : o->last_sent ? FM_SUCCESS  // a gathered packet ended it
                          : flush(o, true);
  if (o->cur != nullptr) {  // flush failed before sending it
    Buf* b = o->cur;
    o->cur = nullptr;
    if (b->pool == Buf::kSelf) {
      b->next = self_free_;
      self_free_ = b;
      ++q.credits;
    } else {
      on_send_done_inject(b);
    }
  }
  q.credits += o->reserved;
  o->reserved = 0;
  o->magic = 0;
  q.stream_open = false;
  return rc;
}

int Context::send(unsigned dest, int handler, const void* buf, std::size_t n, bool no_wait) {
  if (buf == nullptr && n != 0) return fail(FM_EINVAL, "FM_send: buf is NULL");
  // fast path: one packet to another node that fits an inject, with a credit in hand
  if (dest < size_ && dest != rank_ && n + sizeof(PacketHeader) <= scratch_.size() && !closed_ &&
      !finalizing_) {
    Peer& q = peers_[dest];
    auto& tp = tps_[static_cast<std::size_t>(q.tp)];
    if (q.credits > 0 && !q.stream_open && !q.failed && handler_at(handler) != nullptr &&
        sizeof(PacketHeader) + n <= tp->caps().inject_size) {
      PacketHeader* h = reinterpret_cast<PacketHeader*>(scratch_.data());
      *h = PacketHeader{rank_,
                        static_cast<std::uint16_t>(handler),
                        kData,
                        kFirst | kLast,
                        static_cast<std::uint32_t>(n),
                        static_cast<std::uint32_t>(q.tx_seq),
                        q.owed,
                        kWireMagic,
                        n};
      if (n != 0) std::memcpy(h + 1, buf, n);
      int rc = tp->inject(dest, h, sizeof *h + n);
      if (rc == FM_SUCCESS) {
        ++q.tx_seq;
        --q.credits;
        q.owed = 0;
        q.starving = false;
        ++q.msgs_out;
        q.bytes_out += n;
        return FM_SUCCESS;
      }
      if (rc != FM_EAGAIN) {
        fail_peer(dest, last_error());
        return peer_error(dest, "FM_send");
      }
      // queue full: the general path progresses and retries
    }
  }
  FM_stream* s = begin_message(dest, n, handler, no_wait);
  if (s == nullptr) return last_status();
  int rc = send_piece(s, buf, n);
  int rc2 = end_message(s);
  return rc != FM_SUCCESS ? rc : rc2;
}

// ------------------------------------------------------------------------------------------------
// receiving

long Context::extract(std::size_t maxbytes) {
  if (closed_) return fail(FM_ENOTINIT, "FM_extract: FM is finalized");
  if (in_handler()) return fail(FM_EINHANDLER, "FM_extract: called inside a handler");
  int rc = progress();
  if (rc < 0) return rc;
  long n = dispatch(maxbytes);
  if ((++extract_calls_ & 63) == 0 || g_peer_event) check_liveness(false);
  if (deferred_count_ != 0) flush_deferred();
  if (failures_unreported_) return report_failures();
  return n;
}

long Context::receive(void* buf, FM_stream* s, std::size_t n) {
  if (s == nullptr || s->magic != kInMagic || s->ctx != this)
    return fail(FM_ESTREAM, "FM_receive: not the stream of a running handler");
  InStream* in = static_cast<InStream*>(s);
  if (in != current_in_)
    return fail(FM_ESTREAM, "FM_receive: called outside the handler of this stream");
  if (buf == nullptr && n != 0) return fail(FM_EINVAL, "FM_receive: buf is NULL");
  if (n > in->declared - in->received)
    return fail(FM_ELENGTH,
                "FM_receive: %zu bytes requested but only %llu of the declared %llu remain", n,
                static_cast<unsigned long long>(in->declared - in->received),
                static_cast<unsigned long long>(in->declared));
  const unsigned p = in->peer;
  Peer& q = peers_[p];
  std::size_t placed = 0;
  std::byte* dst = static_cast<std::byte*>(buf);
  while (placed < n) {
    Buf* b = in->cur;
    if (b != nullptr && b->off == b->len) {
      if (b->hdr()->flags & kLast) break;  // the message ended short of its declared length
      release_rx(b);
      in->cur = b = nullptr;
    }
    if (b == nullptr) {
      // the next packet: suspend while it is in flight, or while this extract's budget is spent
      while (q.q.empty() || (extracted_ >= budget_ && q.fiber != nullptr)) {
        if (q.failed) {
          in->received += placed;
          return peer_error(p, "FM_receive");
        }
        if (q.fiber == nullptr)
          return fail(FM_ESTREAM, "FM_receive: internal error: no packet and no fiber");
        q.budget_wait = !q.q.empty();
        q.rx = Peer::kSuspended;
        Fiber* f = q.fiber;
        f->yield();
      }
      b = q.q.pop();
      in->cur = b;
      charge(q, b);
    }
    std::size_t k = std::min<std::size_t>(n - placed, b->len - b->off);
    if (b->rndv) {  // zero-copy: straight from the sender's memory into the handler's buffer
      // The budget counts a descriptor's bytes in packet-sized steps as they are read: with the
      // budget spent the handler suspends, like one waiting for its next packet.
      const std::size_t quantum = max_rx_payload_;
      while (b->off + k > b->charged) {
        if (extracted_ >= budget_ && q.fiber != nullptr) {
          q.budget_wait = true;
          q.rx = Peer::kSuspended;
          q.fiber->yield();
          if (q.failed) {
            in->received += placed;
            return peer_error(p, "FM_receive");
          }
          continue;
        }
        const std::size_t room = extracted_ < budget_ ? budget_ - extracted_ : quantum;
        std::size_t more = std::min<std::size_t>(room, b->off + k - b->charged);
        more = std::min<std::size_t>((more + quantum - 1) / quantum * quantum, b->len - b->charged);
        b->charged += static_cast<std::uint32_t>(more);
        extracted_ += more;
      }
      const int rc = rma_read(p, b, dst + placed, k);
      if (rc != FM_SUCCESS) {
        in->received += placed;
        return rc;
      }
    } else {
      std::memcpy(dst + placed, b->payload() + b->off, k);
    }
    b->off += static_cast<std::uint32_t>(k);
    placed += k;
  }
  in->received += placed;
  return static_cast<long>(placed);
}

long Context::extract_wait(std::size_t maxbytes, int timeout_ms) {
  long n = extract(maxbytes);
  if (n != 0) return n;
  const std::uint64_t t0 = now_ns();
  const std::uint64_t spin_end = t0 + cfg_.spin_us * 1000ull;
  const std::uint64_t deadline =
      timeout_ms < 0 ? UINT64_MAX : t0 + static_cast<std::uint64_t>(timeout_ms) * 1000000ull;
  while (now_ns() < std::min(spin_end, deadline))
    if ((n = extract(maxbytes)) != 0) return n;
  bool can_block = !tps_.empty();
  for (auto& tp : tps_) can_block = can_block && tp->caps().wait_fd && tp->wait_fd() >= 0;
  std::uint64_t sleep_ns = 20000;
  while (true) {
    const std::uint64_t now = now_ns();
    if (now >= deadline) return 0;
    const std::uint64_t left_ms = (deadline - now) / 1000000ull + 1;
    bool blocked = false;
    if (can_block && ready_count_ == 0) {
      bool ok = true;
      for (auto& tp : tps_) ok = ok && tp->try_wait();
      if (ok) {
        pollfd fds[8];
        nfds_t nfds = 0;
        for (auto& tp : tps_)
          if (nfds < 8) fds[nfds++] = pollfd{tp->wait_fd(), POLLIN, 0};
        int ms = static_cast<int>(std::min<std::uint64_t>(left_ms, cfg_.liveness_ms));
        ::poll(fds, nfds, ms);
        blocked = true;
      }
    }
    if (!blocked && ready_count_ == 0) {  // no wait object: sleep with a growing interval
      timespec ts{0, static_cast<long>(std::min<std::uint64_t>(sleep_ns, (deadline - now)))};
      nanosleep(&ts, nullptr);
      sleep_ns = std::min<std::uint64_t>(sleep_ns * 2, 1000000);
    }
    check_liveness(false);
    if ((n = extract(maxbytes)) != 0) return n;
  }
}

// ------------------------------------------------------------------------------------------------
// failures

int Context::check_liveness(bool force) {
  if (g_peer_event) {
    g_peer_event = 0;
    force = true;
  }
  const std::uint64_t now = now_ns();
  if (!force && now - last_liveness_ns_ < cfg_.liveness_ms * 1000000ull) return 0;
  last_liveness_ns_ = now;
  if (!pidfds_.empty() && ::poll(pidfds_.data(), pidfds_.size(), 0) > 0) {
    for (std::size_t i = 0; i < pidfds_.size(); ++i)
      if (pidfds_[i].revents != 0) {
        fail_peer(pidfd_peer_[i], "its process exited");
        pidfds_[i].fd = -pidfds_[i].fd - 1;  // poll ignores negative descriptors
      }
  }
  for (unsigned p = 0; p < size_; ++p) {  // same-host peers without a process descriptor
    Peer& q = peers_[p];
    if (p != rank_ && q.same_host && q.pidfd < 0 && q.pid > 0 && !q.failed && kill(q.pid, 0) != 0 &&
        errno == ESRCH)
      fail_peer(p, "its process exited");
  }
  // Peers we wait for (credits, the rest of a stream, one-sided replies, its BYE), over transports
  // that find a failure only through packets left unacknowledged: a credit request (harmless) now
  // and then gives them one, so that a peer that became unreachable meanwhile is reported within
  // the peer time-out instead of being waited for forever.
  for (unsigned p = 0; p < size_; ++p) {
    Peer& q = peers_[p];
    if (p == rank_ || q.failed || q.tp < 0 || !tps_[static_cast<std::size_t>(q.tp)]->caps().probe)
      continue;
    if (q.credit_requested || q.rx == Peer::kSuspended || q.rma_pending != 0 ||
        (finalizing_ && !q.bye))
      (void)send_control(p, kCreditRequest);
  }
  return 0;
}

void Context::fail_peer(unsigned p, const char* why) {
  Peer& q = peers_[p];
  if (q.failed || p == rank_) return;
  q.failed = true;
  q.failure = why;
  failures_unreported_ = true;
  FM_ERROR("node %u (pid %d on %s) failed: %s", p, q.pid, q.host.c_str(), why);
  if (q.rx == Peer::kSuspended) mark_ready(p);  // its handler gets FM_EPEERFAILED
  if (q.rx == Peer::kDiscarding) q.rx = Peer::kIdle;
  for (RmaOp& op : ops_)  // one-sided operations on it will not be answered
    if (op.state == RmaOp::kPending && op.node == p) complete_op(&op, FM_EPEERFAILED);
  deferred_count_ -= q.deferred.size() - q.deferred_head;
  q.deferred.clear();
  q.deferred_head = 0;
}

int Context::peer_error(unsigned p, const char* op) {
  const Peer& q = peers_[p];
  return fail(FM_EPEERFAILED, "%s: node %u (pid %d on host %s) failed: %s", op, p, q.pid,
              q.host.c_str(), q.failure.c_str());
}

int Context::report_failures() {
  failures_unreported_ = false;
  int rc = FM_SUCCESS;
  for (unsigned p = 0; p < size_; ++p) {
    Peer& q = peers_[p];
    if (!q.failed || q.failure_reported) continue;
    if (rc == FM_SUCCESS) {
      q.failure_reported = true;
      rc = peer_error(p, "FM_extract");
    } else {
      failures_unreported_ = true;  // one per call
    }
  }
  return rc;
}

// ------------------------------------------------------------------------------------------------
// finalize

void Context::abort(int code, const char* msg) {
  if (boot_ != nullptr) boot_->abort(code, msg);
}

int Context::finalize() {
  if (closed_) return fail(FM_ENOTINIT, "FM_finalize: FM is not initialized");
  if (in_handler()) return fail(FM_EINHANDLER, "FM_finalize: called inside a handler");
  // 0. Our one-sided operations complete, and answers we owe go out (before our BYE).
  for (unsigned p = 0; p < size_; ++p)
    while (peers_[p].rma_pending != 0 && !peers_[p].failed)  // (settle_bye ends it after a BYE)
      if (rma_poll(p, "FM_finalize") != FM_SUCCESS) break;
  if (deferred_count_ != 0) flush_deferred();
  // 1. BYE to every live node, after all our data (FIFO), so it knows our traffic is complete.
  for (unsigned p = 0; p < size_; ++p) {
    if (p == rank_ || peers_[p].failed) continue;
    int rc;
    while ((rc = send_control(p, kBye)) == FM_EAGAIN && !peers_[p].failed) progress();
  }
  finalizing_ = true;
  // 2. Deliver everything sent to us before the senders' BYE; complete our own sends.  Bounded:
  // past the peer time-out it gives up, saying what it still waited for.
  const std::uint64_t drain_cap = now_ns() + cfg_.peer_timeout_ms * 1000000ull;
  int drain_rc = FM_SUCCESS;
  for (std::uint32_t spins = 0;; ++spins) {
    (void)progress();
    dispatch(SIZE_MAX);
    if (deferred_count_ != 0) flush_deferred();  // answers owed to peers still draining
    check_liveness(false);
    bool done = tx_outstanding_ == 0 && ready_count_ == 0;
    for (unsigned p = 0; p < size_ && done; ++p)
      done = p == rank_ || peers_[p].failed || peers_[p].bye;
    for (auto& tp : tps_) done = done && tp->quiescent();  // everything sent is acknowledged
    if (done) break;
    if ((spins & 1023) == 0 && now_ns() >= drain_cap) {
      std::string waiting;
      for (unsigned p = 0; p < size_; ++p) {
        const Peer& q = peers_[p];
        if (p == rank_ || q.failed) continue;
        if (!q.bye) waiting += " no BYE from node " + std::to_string(p) + ";";
        if (!q.q.empty() || q.rx != Peer::kIdle)
          waiting += " node " + std::to_string(p) + "'s messages not all handled (state " +
                     std::to_string(static_cast<int>(q.rx)) + ");";
        if (q.deferred_head != q.deferred.size())
          waiting += " answers owed to node " + std::to_string(p) + ";";
      }
      bool quiet = true;
      for (auto& tp : tps_) quiet = quiet && tp->quiescent();
      drain_rc = fail(FM_ETIMEDOUT,
                      "FM_finalize: gave up after %u ms: %u sends incomplete, %zu nodes ready,%s%s",
                      cfg_.peer_timeout_ms, tx_outstanding_, ready_count_, waiting.c_str(),
                      quiet ? "" : " transport not quiescent");
      FM_ERROR("%s", last_error());
      break;
    }
    if (spins > 1000) {
      timespec ts{0, 50000};
      nanosleep(&ts, nullptr);
    }
  }
  // Transports with their own reliability keep answering until every peer says it needs nothing
  // more (a peer whose last acknowledgements were lost still retransmits and must hear from us);
  // bounded by the peer time-out for a peer that died meanwhile.
  for (auto& tp : tps_) tp->begin_close();
  const std::uint64_t close_cap = now_ns() + cfg_.peer_timeout_ms * 1000000ull;
  for (std::uint32_t spins = 0;; ++spins) {
    bool closed = true;
    for (auto& tp : tps_) closed = closed && tp->peers_closed();
    if (closed || now_ns() >= close_cap) break;
    (void)progress();
    if (spins > 1000) {
      timespec ts{0, 50000};
      nanosleep(&ts, nullptr);
    }
  }
  bool any_failed = false;
  for (auto& q : peers_) any_failed = any_failed || q.failed;
  int rc = drain_rc;
  if (cfg_.stats) print_stats(any_failed);
  // 3. Launcher barrier (skipped after a failure: the dead never arrive).
  if (boot_ != nullptr) {
    if (!any_failed && drain_rc == FM_SUCCESS && boot_->size() > 1) rc = boot_->barrier();
    int rc2 = boot_->finalize();
    if (rc == FM_SUCCESS) rc = rc2;
  }
  closed_ = true;
  tps_.clear();
  return rc;
}

// ------------------------------------------------------------------------------------------------
// progress thread

void Context::start_progress_thread() {
  if (threaded_ || closed_) return;
  threaded_ = true;
  stop_progress_ = false;
  progress_thread_ = std::thread([this] { progress_thread_main(); });
}

void Context::stop_progress_thread() {
  if (!progress_thread_.joinable()) return;
  stop_progress_ = true;
  progress_thread_.join();
  threaded_ = false;
}

// Extracts whenever the program is not inside FM; failures are left for the program's own calls
// to report.  Handlers run on this thread too, one at a time with the program's FM calls.
void Context::progress_thread_main() {
  t_current = this;
  while (!stop_progress_.load(std::memory_order_relaxed)) {
    bool busy = false;
    {
      std::unique_lock<std::recursive_mutex> lk(api_mu_, std::try_to_lock);
      if (lk.owns_lock() && !closed_ && !finalizing_) {
        if (progress() >= 0) {
          busy = dispatch(SIZE_MAX) > 0;
          if (deferred_count_ != 0) flush_deferred();
          if ((++extract_calls_ & 63) == 0 || g_peer_event) check_liveness(false);
        }
      }
    }
    if (!busy && cfg_.progress_us > 0) {
      timespec ts{0, static_cast<long>(cfg_.progress_us) * 1000};
      nanosleep(&ts, nullptr);
    }
  }
}

// FM_STATS=1: this node's per-peer table on stderr, and on node 0 the job's traffic matrix
// (payload bytes sent, messages plus one-sided, row = sender), gathered through the launcher.
void Context::print_stats(bool any_failed) {
  std::string out;
  char line[320];
  std::snprintf(line, sizeof line,
                "fm stats, node %u of %u:\n%6s %10s %14s %10s %14s %8s %12s %8s %14s %8s %12s "
                "%10s\n",
                rank_, size_, "peer", "msgs_out", "bytes_out", "msgs_in", "bytes_in", "stalls",
                "zcopy_in", "rma_out", "rma_bytes_out", "rma_in", "handler_ms", "retrans");
  out += line;
  for (unsigned p = 0; p < size_; ++p) {
    const Peer& q = peers_[p];
    std::snprintf(line, sizeof line,
                  "%6u %10llu %14llu %10llu %14llu %8llu %12llu %8llu %14llu %8llu %12.3f %10llu\n",
                  p, (unsigned long long)q.msgs_out, (unsigned long long)q.bytes_out,
                  (unsigned long long)q.msgs_in, (unsigned long long)q.bytes_in,
                  (unsigned long long)q.credit_stalls, (unsigned long long)q.zcopy_bytes,
                  (unsigned long long)q.rma_ops_out, (unsigned long long)q.rma_bytes_out,
                  (unsigned long long)q.rma_ops_in, q.handler_ns / 1e6,
                  (unsigned long long)retransmissions(p));
    out += line;
  }
  std::fputs(out.c_str(), stderr);
  if (boot_ == nullptr || boot_->size() < 2 || any_failed) return;
  std::string row;
  for (unsigned p = 0; p < size_; ++p)
    row += (p ? "," : "") + std::to_string(peers_[p].bytes_out + peers_[p].rma_bytes_out);
  if (row.size() > 1000) {  // beyond one PMI value: no matrix
    if (rank_ == 0) std::fputs("fm stats: traffic matrix omitted (too many nodes)\n", stderr);
    return;
  }
  if (boot_->put("fm-st-" + std::to_string(rank_), row) != FM_SUCCESS ||
      boot_->fence() != FM_SUCCESS)
    return;
  if (rank_ != 0) return;
  out = "fm stats: traffic matrix, payload bytes from row node to column node\n      ";
  for (unsigned c = 0; c < size_; ++c) {
    std::snprintf(line, sizeof line, " %12u", c);
    out += line;
  }
  out += "\n";
  for (unsigned r = 0; r < size_; ++r) {
    std::string v;
    if (boot_->get("fm-st-" + std::to_string(r), &v) != FM_SUCCESS) return;
    std::snprintf(line, sizeof line, "%6u", r);
    out += line;
    std::size_t pos = 0;
    for (unsigned c = 0; c < size_; ++c) {
      const std::size_t end = v.find(',', pos);
      std::snprintf(line, sizeof line, " %12s", v.substr(pos, end - pos).c_str());
      out += line;
      pos = end == std::string::npos ? v.size() : end + 1;
    }
    out += "\n";
  }
  std::fputs(out.c_str(), stderr);
}

// ------------------------------------------------------------------------------------------------
// in-process jobs over the loopback transport (unit tests)

transport::ReliableParams Context::reliable_params(const Config& cfg, std::uint32_t credits,
                                                   unsigned rank, unsigned size,
                                                   std::uint32_t auto_min_rto_us) {
  transport::ReliableParams rp;
  rp.rank = rank;
  rp.size = size;
  rp.window = std::max<std::uint32_t>(64, 2 * (credits + kControlReserve));
  rp.peer_timeout_ms = cfg.peer_timeout_ms;
  rp.min_rto_us = cfg.rto_min_us != 0 ? cfg.rto_min_us : auto_min_rto_us;
  rp.initial_rto_us = std::max(rp.initial_rto_us, rp.min_rto_us);
  return rp;
}

std::vector<std::unique_ptr<Context>> Context::create_loopback_job(
    unsigned n, const Config& cfg, int* rc, transport::LoopbackFabric** fab,
    const transport::FaultParams* fault, int fault_node, bool reliable) {
  std::vector<std::unique_ptr<Context>> job;
  auto fabric = transport::make_loopback_fabric(n);
  if (fab != nullptr) *fab = fabric.get();
  for (unsigned r = 0; r < n; ++r) {
    Wiring w;
    w.cfg = cfg;
    w.rank = r;
    w.size = n;
    if (n > 1) {
      auto tp = transport::open_loopback(
          fabric, r, cfg.packet_size + (reliable ? transport::kReliableHeader : 0));
      if (fault != nullptr && (fault_node < 0 || static_cast<unsigned>(fault_node) == r)) {
        transport::FaultParams fp = *fault;
        fp.seed += r;  // each node its own stream
        tp = transport::open_fault(std::move(tp), fp);
      }
      if (reliable) {
        // the nodes are threads sharing the cores: the floor for shared CPUs
        tp = transport::open_reliable(std::move(tp),
                                      reliable_params(cfg, cfg.window(false), r, n, 2000));
      }
      w.transports.push_back(std::move(tp));
    }
    w.peer_tp.assign(n, 0);
    w.peer_tp[r] = -1;
    w.windows.assign(n, cfg.window(false));
    w.my_window.assign(1, cfg.window(false));
    w.tp_packet.assign(1, cfg.packet_size);
    w.peer_packet.assign(n, cfg.packet_size);
    w.hosts.assign(n, "loopback");
    w.pids.assign(n, 0);
    auto c = create(std::move(w), rc);
    if (c == nullptr) return {};
    c->fabric_keepalive_ = fabric;
    job.push_back(std::move(c));
  }
  return job;
}

}  // namespace fm::core
