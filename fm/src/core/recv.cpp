// recv.cpp - the receive side.  See recv.hpp.
//
// Hot path (small messages): progress() polls the lanes and queues DATA packets per sender;
// dispatch() runs single-packet handlers on the caller's stack.  No allocation, no lock, no
// system call of ours: buffers come from the slab carved at set-up.
#include "core/recv.hpp"

#include <algorithm>
#include <cstring>

#include "core/handlers.hpp"
#include "util/log.hpp"

namespace fm::core {

namespace {
constexpr int kPollBatch = 32;
}

constinit thread_local bool t_async_only FM_TLS_FAST = false;

Receiver::~Receiver() {
  for (Peer& q : s_.peers) delete q.rx.fiber;
}

void Receiver::setup() {
  ready_.assign(s_.size, 0);
  // a receiving side that made room for a sender asleep until it had some rings its doorbell
  for (Lane& lane : s_.lanes)
    lane.tp->on_space([](void* idle, unsigned p) { static_cast<Idle*>(idle)->notify(p); },
                      s_.idle.get());
  reads_.op.kind = OpCtx::kCallback;
  reads_.op.func = [](OpCtx* op, int status) {
    auto* r = reinterpret_cast<Reads*>(op);
    if (r->outstanding > 0) --r->outstanding;
    if (status != FM_SUCCESS) r->failed = true;
  };
}

// ------------------------------------------------------------------------------------------------
// completions and arrivals

int Receiver::progress() {
  transport::Completion comp[kPollBatch];
  for (Lane& lane : s_.lanes) {
    const int n = lane.tp->poll(comp, kPollBatch);
    if (n < 0) return n;
    for (int i = 0; i < n; ++i) {
      const transport::Completion& c = comp[i];
      if (c.kind == transport::Completion::peer_stalled) {
        if (c.len >= s_.size) continue;
        const auto p = static_cast<unsigned>(c.len);
        live_.check(true);  // a same-host peer that exited is reported as such
        if (live_.exact(p))
          live_.warn_stalled(p, lane.caps().name.c_str());  // alive, starved: keep resending
        else
          live_.fail_peer(p, "it acknowledged nothing for the peer time-out (unreachable or dead)");
        continue;
      }
      auto* op = static_cast<OpCtx*>(c.ctx);
      if (op == nullptr) continue;  // a send nobody waits for
      const bool ok = c.kind != transport::Completion::error;
      switch (op->kind) {
        case OpCtx::kRecvBuf: {
          Buf* b = Buf::of(op);
          if (ok) {
            b->len = static_cast<std::uint32_t>(c.len);
            on_arrival(b);
          } else if (!s_.closed) {
            FM_WARN("receive completed in error on %s; reposting", lane.caps().name.c_str());
            repost(b);
          }
          break;
        }
        case OpCtx::kSendBuf: {
          Buf* b = Buf::of(op);
          if (!ok) live_.fail_peer(b->dest, "a send to it failed in the transport");
          on_send_done(b);
          break;
        }
        case OpCtx::kCallback:
          op->func(op, ok ? FM_SUCCESS : (c.status != 0 ? c.status : FM_ETRANSPORT));
          break;
      }
    }
  }
  if (credit_pending_) {
    credit_pending_ = false;
    for (unsigned p = 0; p < s_.size; ++p)
      if (s_.peers[p].rx.credit_pending) {
        s_.peers[p].rx.credit_pending = false;
        return_credits(p, true);
      }
  }
  return FM_SUCCESS;
}

bool Receiver::lanes_wake() const noexcept {
  const Idle& idle = *s_.idle;
  for (const Lane& l : s_.lanes)
    if (!(l.caps().wait_fd && l.tp->wait_fd() >= 0) &&
        !(l.kind == 0 && idle.active() && idle.covered()))
      return false;
  return true;
}

bool Receiver::wait_fds(pollfd* fds, nfds_t max, nfds_t* n) {
  *n = 0;
  for (Lane& l : s_.lanes)
    if (l.caps().wait_fd && l.tp->wait_fd() >= 0 && *n < max) {
      if (!l.tp->try_wait()) return false;
      fds[(*n)++] = pollfd{l.tp->wait_fd(), POLLIN, 0};
    }
  return true;
}

std::uint64_t Receiver::sleep_lanes(std::uint64_t max_ns) {
  pollfd fds[8];
  nfds_t n = 0;
  if (!wait_fds(fds, 8, &n)) return 0;  // completions pending: no sleep
  // A lane nothing wakes us for (no wait object, and not same-host peers ringing our doorbell)
  // still needs progress: 1 ms naps.
  std::uint64_t ms = lanes_wake() ? s_.cfg.liveness_ms : 1;
  if (max_ns != UINT64_MAX) ms = std::min<std::uint64_t>(ms, max_ns / 1000000 + 1);
  const std::uint64_t t0 = now_ns();
  s_.idle->sleep(fds, n, static_cast<int>(ms));
  return std::max<std::uint64_t>(now_ns() - t0, 1);
}

void Receiver::repost(Buf* b) {
  Lane& lane = s_.lanes[b->lane];
  const int rc = lane.tp->post_recv(b->hdr(), lane.packet, &b->op);
  if (rc != FM_SUCCESS) FM_ERROR("reposting a receive buffer failed: %s", last_error());
}

void Receiver::on_arrival(Buf* b) {
  PacketHeader* h = b->hdr();
  if (b->len < sizeof(PacketHeader) || h->magic != kWireMagic || h->src >= s_.size ||
      h->src == s_.rank || h->len != b->len - sizeof(PacketHeader)) {
    FM_WARN("dropping a malformed %u-byte packet (magic %#x, src %u)", b->len, h->magic, h->src);
    repost(b);
    return;
  }
  const unsigned p = h->src;
  Peer& q = s_.peers[p];
  s_.idle->taken(p);
  if (h->credits != 0) q.tx.take_credits(h->credits);
  if (h->flags & kAnswer) q.tx.credit_requested = false;
  switch (h->type) {
    case kData:
      b->len = h->len;
      b->off = 0;
      if (h->flags & kRndv) {  // {addr, key, len}: the data stays at the sender until read
        std::uint64_t len = 0;
        if (h->len == 24) std::memcpy(&len, b->payload() + 16, 8);
        if (h->len != 24 || len == 0 || len > UINT32_MAX) {
          FM_ERROR("malformed zero-copy descriptor from node %u", p);
          live_.fail_peer(p, "it sent a malformed zero-copy descriptor");
        }
        b->len = static_cast<std::uint32_t>(len);
        b->rndv = 1;
      }
      if (h->seq != q.rx.seq && !q.link.failed) {  // once failed, its packets are dropped quietly
        FM_ERROR("packet %u from node %u arrived when %u was expected", h->seq, p, q.rx.seq);
        live_.fail_peer(p,
                        "packets arrived out of order, duplicated or lost (transport broke FIFO)");
      }
      ++q.rx.seq;
      on_data(p, b);
      return;
    case kCreditRequest:
      q.rx.starving = true;
      q.rx.asked = true;
      repost(b);
      return_credits(p, false);
      return;
    case kBye:
      q.rx.bye = true;
      repost(b);
      s_.events->peer_bye(p);
      return;
    default:  // kCredit: its credits were taken above
      repost(b);
      return;
  }
}

void Receiver::on_data(unsigned p, Buf* b) {
  Peer& q = s_.peers[p];
  if (q.rx.state == PeerRx::kDiscarding || q.link.failed) {  // the rest of a returned handler's
    if (q.rx.state == PeerRx::kDiscarding && (b->hdr()->flags & kLast)) q.rx.state = PeerRx::kIdle;
    release_rx(b);
    return;
  }
  q.rx.q.push(b);
  if (q.rx.state == PeerRx::kIdle || q.rx.state == PeerRx::kSuspended) mark_ready(p);
}

void Receiver::on_send_done(Buf* b) {
  if (b->gather) {
    b->gather = 0;
    PeerTx& t = s_.peers[b->dest].tx;
    if (t.gather_pending > 0) --t.gather_pending;
  }
  s_.tx_free.push(b);
  --s_.tx_outstanding;
}

void Receiver::mark_ready(unsigned p) noexcept {
  PeerRx& r = s_.peers[p].rx;
  if (r.ready) return;
  r.ready = true;
  ready_[(ready_head_ + ready_count_) % s_.size] = p;
  ++ready_count_;
}

// ------------------------------------------------------------------------------------------------
// dispatch: running handlers

long Receiver::dispatch(std::size_t budget, bool async_only) {
  async_only = async_only || t_async_only;
  budget_ = budget;
  extracted_ = 0;
  quit_ = false;
  // async_only: each sender ready now is looked at once (those left for the program go back)
  std::size_t turns = async_only ? ready_count_ : SIZE_MAX;
  while (ready_count_ > 0 && extracted_ < budget_ && !quit_ && turns-- > 0) {
    const unsigned p = ready_[ready_head_];
    ready_head_ = (ready_head_ + 1) % s_.size;
    --ready_count_;
    s_.peers[p].rx.ready = false;
    if (async_only && !async_runnable(p)) {
      mark_ready(p);
      continue;
    }
    run_peer(p);
  }
  return static_cast<long>(extracted_);
}

// The handler that would run next for p (a suspended one, or its next message's) is async-safe.
bool Receiver::async_runnable(unsigned p) const noexcept {
  const PeerRx& r = s_.peers[p].rx;
  if (r.state == PeerRx::kSuspended) return handler_async(r.handler);
  if (r.state != PeerRx::kIdle || r.q.empty()) return false;
  const PacketHeader* h = r.q.head->hdr();
  return (h->flags & kFirst) != 0 && handler_async(h->handler);
}

void Receiver::run_peer(unsigned p) {
  Peer& q = s_.peers[p];
  PeerRx& r = q.rx;
  if (r.state == PeerRx::kSuspended) {
    if (r.q.empty() && !q.link.failed && !r.budget_wait) return;
    ++handler_runs_;
    resume_fiber(p);
  } else if (r.state == PeerRx::kIdle) {
    if (r.q.empty()) return;
    ++handler_runs_;
    start_message(p);
  } else {
    return;
  }
  // one message (or one resumption) per turn; come back later for more (fairness across senders)
  if ((r.state == PeerRx::kIdle && !r.q.empty()) ||
      (r.state == PeerRx::kSuspended && r.budget_wait))
    mark_ready(p);
}

void Receiver::start_message(unsigned p) {
  Peer& q = s_.peers[p];
  PeerRx& r = q.rx;
  Buf* b = r.q.pop();
  PacketHeader* h = b->hdr();
  InStream& in = r.in;
  in.magic = kInMagic;
  in.peer = p;
  in.ctx = s_.owner;
  in.declared = h->msg_len;
  in.received = 0;
  in.cur = b;
  charge(q, b);
  ++q.stats.msgs_in;
  r.handler = h->handler;
  FM_handler fn = (h->flags & kFirst) ? handler_at(h->handler) : nullptr;
  if (fn == nullptr) {
    if (!(h->flags & kFirst))
      FM_ERROR("node %u: a message continuation arrived with no message open; dropped", p);
    else
      FM_ERROR("message from node %u for unregistered handler %u dropped (%llu bytes)", p,
               h->handler, static_cast<unsigned long long>(h->msg_len));
    ++dropped;
    finish_message(p);
    return;
  }
  if ((h->flags & kLast) && !b->rndv) {  // the whole message is here: run on this stack
    r.state = PeerRx::kRunning;
    run_handler(fn, p);
    finish_message(p);
    return;
  }
  if (fibers_.empty()) {
    auto f = std::make_unique<Fiber>(s_.cfg.handler_stack);
    if (!f->ok()) {
      FM_ERROR("cannot allocate a %zu-byte handler stack; message from node %u dropped",
               s_.cfg.handler_stack, p);
      ++dropped;
      finish_message(p);
      return;
    }
    fibers_.push_back(std::move(f));
  }
  r.fiber = fibers_.back().release();
  fibers_.pop_back();
  r.fiber->start(&Receiver::fiber_main, &q);
  r.owner = this;
  r.index = p;
  resume_fiber(p);
}

void Receiver::run_handler(FM_handler fn, unsigned p) {
  Peer& q = s_.peers[p];
  InStream* saved_in = s_.current_in;
  s_.current_in = &q.rx.in;
  ++s_.handler_depth;
  int r;
  const std::uint64_t t0 = s_.cfg.stats ? now_ns() : 0;
  {
    ScopedCurrent sc(s_.owner);
    r = fn(&q.rx.in, p);
  }
  if (s_.cfg.stats) q.stats.handler_ns += now_ns() - t0;
  --s_.handler_depth;
  s_.current_in = saved_in;
  if (r == FM_QUIT) quit_ = true;
}

void Receiver::fiber_main(void* arg) {
  Peer* q = static_cast<Peer*>(arg);
  Receiver* self = q->rx.owner;
  FM_handler fn = handler_at(q->rx.handler);
  const int r = fn != nullptr ? fn(&q->rx.in, q->rx.index) : FM_CONTINUE;
  if (r == FM_QUIT) self->quit_ = true;
}

void Receiver::resume_fiber(unsigned p) {
  Peer& q = s_.peers[p];
  PeerRx& r = q.rx;
  r.budget_wait = false;
  r.state = PeerRx::kRunning;
  InStream* saved_in = s_.current_in;
  s_.current_in = &r.in;
  ++s_.handler_depth;
  const std::uint64_t t0 = s_.cfg.stats ? now_ns() : 0;
  {
    ScopedCurrent sc(s_.owner);
    r.fiber->resume();
  }
  if (s_.cfg.stats) q.stats.handler_ns += now_ns() - t0;
  --s_.handler_depth;
  s_.current_in = saved_in;
  if (r.fiber->finished()) {
    fibers_.emplace_back(r.fiber);
    r.fiber = nullptr;
    finish_message(p);
  }
}

void Receiver::finish_message(unsigned p) {
  Peer& q = s_.peers[p];
  PeerRx& r = q.rx;
  InStream& in = r.in;
  bool last = false;
  if (in.cur != nullptr) {
    last = (in.cur->hdr()->flags & kLast) != 0;
    release_rx(in.cur);
    in.cur = nullptr;
  }
  while (!last && !r.q.empty()) {  // bytes the handler did not receive are discarded
    Buf* b = r.q.pop();
    last = (b->hdr()->flags & kLast) != 0;
    release_rx(b);
  }
  in.magic = 0;
  r.state = (last || q.link.failed) ? PeerRx::kIdle : PeerRx::kDiscarding;
  // A peer's BYE is settled once everything it sent before is handled.
  if (r.bye && r.q.empty() && r.state == PeerRx::kIdle) s_.events->peer_bye(p);
}

// ------------------------------------------------------------------------------------------------
// credits

void Receiver::release_rx(Buf* b) {
  if (b->pool == Buf::kSelf) {
    s_.self_free.push(b);
    ++s_.peers[s_.rank].tx.credits;
    return;
  }
  const unsigned p = b->hdr()->src;
  PeerRx& r = s_.peers[p].rx;
  const bool ack = (b->hdr()->flags & kAck) != 0;
  // a zero-copy sender on this host watches our board instead (it set no kAck)
  if (b->rndv && s_.board != nullptr) s_.board->post(p, r.consumed + 1);
  b->rndv = 0;
  repost(b);
  ++r.consumed;
  ++r.owed;
  if (ack) r.starving = true;  // its sender waits for this packet's credit
  return_credits(p, false);
}

void Receiver::return_credits(unsigned p, bool force) {
  Peer& q = s_.peers[p];
  if (q.rx.owed == 0 || q.link.failed || s_.closed) return;
  const std::uint32_t grant = s_.lane_of(p).window;
  if (!force && !q.rx.starving && q.rx.owed < grant / 2) return;
  if (live_.send_control(p, kCredit) == FM_EAGAIN) {
    q.rx.credit_pending = true;
    credit_pending_ = true;
  }
}

// ------------------------------------------------------------------------------------------------
// FM_receive

long Receiver::receive(void* buf, FM_stream* s, std::size_t n) {
  InStream* in = static_cast<InStream*>(s);
  if (in != s_.current_in)
    return fail(FM_ESTREAM, "FM_receive: called outside the handler of this stream");
  if (buf == nullptr && n != 0) return fail(FM_EINVAL, "FM_receive: buf is NULL");
  if (n > in->declared - in->received)
    return fail(FM_ELENGTH,
                "FM_receive: %zu bytes requested but only %llu of the declared %llu remain", n,
                static_cast<unsigned long long>(in->declared - in->received),
                static_cast<unsigned long long>(in->declared));
  const unsigned p = in->peer;
  Peer& q = s_.peers[p];
  PeerRx& r = q.rx;
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
      while (r.q.empty() || (extracted_ >= budget_ && r.fiber != nullptr)) {
        if (q.link.failed) {
          in->received += placed;
          return live_.peer_error(p, "FM_receive");
        }
        if (r.fiber == nullptr)
          return fail(FM_ESTREAM, "FM_receive: internal error: no packet and no fiber");
        r.budget_wait = !r.q.empty();
        r.state = PeerRx::kSuspended;
        r.fiber->yield();
      }
      b = r.q.pop();
      in->cur = b;
      charge(q, b);
    }
    const std::size_t k = std::min<std::size_t>(n - placed, b->len - b->off);
    if (b->rndv) {  // zero-copy: straight from the sender's memory into the handler's buffer
      // The budget counts a descriptor's bytes in packet-sized steps as they are read: with the
      // budget spent the handler suspends, like one waiting for its next packet.
      const std::size_t quantum = s_.max_rx_payload;
      while (b->off + k > b->charged) {
        if (extracted_ >= budget_ && r.fiber != nullptr) {
          r.budget_wait = true;
          r.state = PeerRx::kSuspended;
          r.fiber->yield();
          if (q.link.failed) {
            in->received += placed;
            return live_.peer_error(p, "FM_receive");
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

// Reads k bytes of a zero-copy descriptor's region, from its current offset, into dst.  Inside
// the handler: only progress while waiting (handlers do not nest).
int Receiver::rma_read(unsigned p, Buf* b, std::byte* dst, std::size_t k) {
  Peer& q = s_.peers[p];
  Lane& lane = s_.lanes[b->lane];
  std::uint64_t desc[3];
  std::memcpy(desc, b->payload(), sizeof desc);
  const std::size_t most = lane.caps().max_rma;
  const Wait w{.what = "FM_receive (a zero-copy read)", .handlers = false};
  for (std::size_t done = 0; done < k;) {  // in pieces the provider takes, all in flight at once
    const std::size_t len = std::min(k - done, most);
    int rc = FM_SUCCESS;
    const int wrc = wait_until(p, w, [&] {
      rc = lane.tp->read(p, dst + done, len, desc[0] + b->off + done, desc[1], &reads_.op);
      return rc != FM_EAGAIN;
    });
    if (wrc != FM_SUCCESS) return wrc;
    if (rc != FM_SUCCESS) {
      live_.fail_peer(p, last_error());
      return live_.peer_error(p, "FM_receive");
    }
    ++reads_.outstanding;
    done += len;
  }
  const int wrc = wait_until(p, w, [&] { return reads_.outstanding == 0; });
  if (wrc != FM_SUCCESS) {
    reads_.outstanding = 0;  // a read from a dead peer may never complete
    return wrc;
  }
  if (reads_.failed) {
    reads_.failed = false;
    live_.fail_peer(p, "an RMA read of its memory failed");
    return live_.peer_error(p, "FM_receive");
  }
  q.stats.zcopy_bytes += k;
  return FM_SUCCESS;
}

}  // namespace fm::core
