// send.cpp - the send side.  See send.hpp.
//
// Hot path (small messages): FM_send of a message that fits the lane's inject size, with a credit
// in hand, builds the packet in the preallocated scratch buffer and injects it: no allocation,
// lock or system call of ours.
#include "core/send.hpp"

#include <algorithm>
#include <cstring>

#include "core/handlers.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::core {

// ------------------------------------------------------------------------------------------------
// buffers and credits

Buf* Sender::get_tx_buf(unsigned dest) {
  if (s_.tx_free.empty()) {  // sends complete locally; bounded all the same
    char what[64];
    std::snprintf(what, sizeof what, "a send buffer (%u sends outstanding)", s_.tx_outstanding);
    const int rc = rx_.wait_until(dest, Wait{.what = what, .timed = true, .handlers = false},
                                  [&] { return !s_.tx_free.empty(); });
    if (rc != FM_SUCCESS) return nullptr;
  }
  Buf* b = s_.tx_free.pop();
  b->dest = dest;
  b->len = 0;
  return b;
}

void Sender::take_credit(OutStream* o) noexcept {
  if (o->reserved > 0)
    --o->reserved;
  else
    --s_.peers[o->peer].tx.credits;
}

int Sender::wait_credit(unsigned p) {
  Peer& q = s_.peers[p];
  if (q.tx.credits > 0) return FM_SUCCESS;
  if (s_.in_handler())
    return fail(FM_EAGAIN, "no credits for node %u inside a handler; return and retry", p);
  ++q.stats.credit_stalls;
  // credits come back in packets: the wait may sleep until one arrives
  return rx_.wait_until(p, Wait{.what = "send (waiting for credits)", .block = true}, [&] {
    if (q.tx.credits > 0) return true;
    // ask once; a request the transport could not take now (full) is asked again
    if (p != s_.rank && !q.tx.credit_requested && live_.send_control(p, kCreditRequest) == 0)
      q.tx.credit_requested = true;
    return false;
  });
}

// Sends a packet: header completed here (sequence number, piggybacked credits).  Its payload is
// b's own (b->len bytes), or ext_len bytes of the caller's buffer ext (a gathered send: b then
// carries only the header, and its completion tells when ext may be reused).
int Sender::transmit(unsigned dest, Buf* b, const void* ext, std::size_t ext_len) {
  Peer& q = s_.peers[dest];
  PacketHeader* h = b->hdr();
  h->seq = static_cast<std::uint32_t>(q.tx.seq++);
  h->len = static_cast<std::uint32_t>(b->len + ext_len);
  q.stats.bytes_out += h->len;
  if (dest == s_.rank) {
    h->credits = 0;
    b->off = 0;
    rx_.deliver_self(b);
    return FM_SUCCESS;
  }
  h->flags |= q.rx.answer_flag();
  h->credits = q.rx.take_owed();
  Lane& lane = s_.lane_of(dest);
  const std::size_t inline_len = sizeof(PacketHeader) + b->len;
  const iovec iov[2] = {{h, inline_len}, {const_cast<void*>(ext), ext_len}};
  int rc = FM_SUCCESS;
  // A full shm ring: after spinning, the wait may sleep until the receiver has made room.
  const bool room = lane.caps().space_wake;
  const Wait w{.what = "send (the transport accepting a packet)",
               .timed = true,
               .handlers = false,
               .block = room,
               .room = room,
               .sleeps = &q.stats.full_sleeps};
  bool full = false;
  const int wrc = rx_.wait_until(dest, w, [&] {
    if (ext == nullptr && inline_len <= lane.caps().inject_size) {
      rc = lane.tp->inject(dest, h, inline_len);
      if (rc == FM_SUCCESS) s_.free_tx(b);
      if (rc == FM_SUCCESS) s_.idle->sent(dest, lane.caps().fenced);
    } else {
      rc = lane.tp->send(dest, iov, ext != nullptr ? 2 : 1, &b->op);
      if (rc == FM_SUCCESS) {
        s_.idle->sent(dest, lane.caps().fenced);
        ++s_.tx_outstanding;
        if (ext != nullptr) {
          b->gather = 1;
          ++q.tx.gather_pending;
        }
      }
    }
    if (rc == FM_EAGAIN && !full) {
      full = true;
      ++q.stats.full;
    }
    return rc != FM_EAGAIN;
  });
  if (wrc == FM_ETIMEDOUT)
    live_.fail_peer(dest, "its endpoint accepted nothing for the peer time-out");
  if (wrc != FM_SUCCESS) {
    s_.free_tx(b);
    return q.link.failed ? live_.peer_error(dest, "send") : wrc;
  }
  if (rc != FM_SUCCESS) {
    live_.fail_peer(dest, last_error());
    s_.free_tx(b);
    return live_.peer_error(dest, "send");
  }
  return FM_SUCCESS;
}

// ------------------------------------------------------------------------------------------------
// streams

int Sender::check_dest(unsigned dest, int handler, const char* op) {
  if (s_.closed) return fail(FM_ENOTINIT, "%s: FM is finalized", op);
  if (dest >= s_.size)
    return fail(FM_ENODEST, "%s: destination %u out of range (%u nodes)", op, dest, s_.size);
  if (handler_at(handler) == nullptr)
    return fail(FM_EHANDLER, "%s: handler %d is not registered", op, handler);
  Peer& q = s_.peers[dest];
  if (q.link.failed) return live_.peer_error(dest, op);
  if (s_.finalizing && dest != s_.rank)
    return fail(FM_ENOTINIT, "%s: FM_finalize is in progress; sends to node %u are refused", op,
                dest);
  if (q.tx.stream_open && s_.in_handler() && q.tx.stream_owner != s_.current_in)
    return fail(FM_EAGAIN,  // a send it interrupted
                "%s: a stream to node %u opened outside this handler is in progress; send after "
                "the handler",
                op, dest);
  if (q.tx.stream_open)
    return fail(FM_EBUSY, "%s: a stream to node %u is already open (end it first)", op, dest);
  return FM_SUCCESS;
}

std::size_t Sender::try_max(unsigned dest) const noexcept {
  const PeerTx& t = s_.peers[dest].tx;
  const std::size_t window = static_cast<std::size_t>(t.window) * t.payload;  // FM_ELENGTH above
  if (dest == s_.rank || t.payload == 0) return window;
  const transport::Transport& tp = *s_.lane_of(dest).tp;
  const auto fits = [&](std::size_t len) {  // begin_message's room_for question, ring empty
    const std::size_t npk = len == 0 ? 1 : (len + t.payload - 1) / t.payload;
    return tp.could_hold(dest, npk, len + npk * sizeof(PacketHeader));
  };
  if (fits(window)) return window;
  if (!fits(0)) return 0;
  std::size_t lo = 0, hi = window;  // fits(lo), !fits(hi); packets make fits() monotonic
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

FM_stream* Sender::begin_message(unsigned dest, std::size_t length, int handler, bool no_wait) {
  const char* op = no_wait ? "FM_try_begin_message" : "FM_begin_message";
  if (check_dest(dest, handler, op) != FM_SUCCESS) return nullptr;
  if (length > max_message()) {
    fail(FM_ELENGTH, "%s: length %zu exceeds the maximum %zu", op, length, max_message());
    return nullptr;
  }
  Peer& q = s_.peers[dest];
  PeerTx& t = q.tx;
  OutStream& o = t.out;
  o.reserved = 0;
  const bool handler_ctx = s_.in_handler();
  if (handler_ctx || no_wait) {  // the whole message must be guaranteed now, or NULL
    const char* where = handler_ctx ? "inside a handler" : "without waiting";
    const std::uint64_t npk = length == 0 ? 1 : (length + t.payload - 1) / t.payload;
    if (npk > t.window) {
      fail(FM_ELENGTH,
           "%s: %zu bytes need %llu packets, more than node %u's %u-packet credit window; %s "
           "send at most %zu bytes",
           op, length, static_cast<unsigned long long>(npk), dest, t.window, where,
           static_cast<std::size_t>(t.window) * t.payload);
      return nullptr;
    }
    if (t.credits < static_cast<std::int64_t>(npk)) {
      ++q.stats.credit_stalls;
      if (dest != s_.rank && !t.credit_requested && live_.send_control(dest, kCreditRequest) == 0)
        t.credit_requested = true;
      fail(FM_EAGAIN, "%s: %llu packets to node %u cannot be guaranteed %s now; %s", op,
           static_cast<unsigned long long>(npk), dest, where,
           handler_ctx ? "return from the handler and retry" : "extract and retry");
      return nullptr;
    }
    // Without waiting, the transport must take the whole message now too: a full shm ring would
    // otherwise hold the sender in transmit() until the receiver polls (an MPI_Isend of a few
    // 16 KiB messages to a rank computing outside MPI).  The receiver rings our doorbell when it
    // has made room, for a sender that then sleeps in a wait.
    if (no_wait && dest != s_.rank) {
      Lane& lane = s_.lane_of(dest);
      if (!lane.tp->room_for(dest, npk, length + npk * sizeof(PacketHeader))) {
        ++q.stats.full;
        if (lane.caps().space_wake) lane.tp->want_space(dest);
        fail(FM_EAGAIN, "%s: node %u's ring cannot take %zu bytes now; extract and retry", op, dest,
             length);
        return nullptr;
      }
    }
    t.credits -= static_cast<std::int64_t>(npk);
    o.reserved = static_cast<std::uint32_t>(npk);
  }
  o.magic = kOutMagic;
  o.peer = dest;
  o.ctx = s_.owner;
  o.handler = handler;
  o.declared = length;
  o.sent = 0;
  o.cur = nullptr;
  o.first = true;
  o.last_sent = false;
  t.stream_open = true;
  t.stream_owner = s_.current_in;
  ++q.stats.msgs_out;
  return &o;
}

// A packet buffer for stream o.  Self-sends draw on the self pool, whose free buffers are the
// self credits, so the credit is taken here; other destinations take theirs in flush().
Buf* Sender::acquire(OutStream* o, int* rc) {
  const unsigned dest = o->peer;
  Buf* b;
  if (dest == s_.rank) {
    if (o->reserved > 0) {
      --o->reserved;
    } else {
      if ((*rc = wait_credit(dest)) != FM_SUCCESS) return nullptr;
      --s_.peers[dest].tx.credits;
    }
    b = s_.self_free.pop();
  } else {
    b = get_tx_buf(dest);
    if (b == nullptr) {
      *rc = s_.peers[dest].link.failed ? live_.peer_error(dest, "FM_send_piece") : last_status();
      return nullptr;
    }
  }
  b->len = 0;
  return b;
}

void Sender::fill_data_header(OutStream* o, Buf* b, std::uint8_t flags) {
  // seq, len and credits are completed by transmit()
  *b->hdr() =
      make_header(s_.rank, kData, static_cast<std::uint8_t>((o->first ? kFirst : 0) | flags),
                  o->handler, 0, o->declared, 0, 0);
  o->first = false;
}

int Sender::flush(OutStream* o, bool last) {
  const unsigned dest = o->peer;
  int rc = FM_SUCCESS;
  if (o->cur == nullptr && (o->cur = acquire(o, &rc)) == nullptr) return rc;
  Buf* b = o->cur;
  if (dest != s_.rank) {
    if ((rc = stream_credit(o)) != FM_SUCCESS) return rc;
    take_credit(o);
  }
  fill_data_header(o, b, last ? kLast : 0);
  o->cur = nullptr;
  return transmit(dest, b);
}

OutStream* Sender::out_stream(FM_stream* s, const char* op) {
  if (s == nullptr || s->magic != kOutMagic || s->ctx != s_.owner) {
    fail(FM_ESTREAM, "%s: not an open outgoing stream", op);
    return nullptr;
  }
  return static_cast<OutStream*>(s);
}

int Sender::send_piece(FM_stream* s, const void* buf, std::size_t n) {
  OutStream* o = out_stream(s, "FM_send_piece");
  if (o == nullptr) return last_status();
  if (buf == nullptr && n != 0) return fail(FM_EINVAL, "FM_send_piece: buf is NULL");
  if (n > o->declared - o->sent)
    return fail(FM_ELENGTH,
                "FM_send_piece: %zu bytes go beyond the declared length %llu (%llu already sent)",
                n, static_cast<unsigned long long>(o->declared),
                static_cast<unsigned long long>(o->sent));
  Peer& q = s_.peers[o->peer];
  if (q.link.failed) return live_.peer_error(o->peer, "FM_send_piece");
  const std::size_t pl = q.tx.payload;
  // Whole packets go straight from the caller's buffer (no copy) outside handlers; inside a
  // handler FM may not wait for the receiver, so it copies.
  const bool outside = o->peer != s_.rank && !s_.in_handler();
  const bool gather = outside && n >= pl;
  if (outside) {  // large pieces: zero-copy where the transport reads
    const Lane& lane = s_.lane_of(o->peer);
    if (lane.zcopy != 0 && n >= lane.zcopy && lane.caps().rma_read)
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
int Sender::send_direct(OutStream* o, const std::byte* src, std::size_t len, bool last) {
  const unsigned dest = o->peer;
  Peer& q = s_.peers[dest];
  int rc = stream_credit(o);
  if (rc != FM_SUCCESS) return rc;
  Buf* b = get_tx_buf(dest);
  if (b == nullptr) return q.link.failed ? live_.peer_error(dest, "FM_send_piece") : last_status();
  take_credit(o);
  fill_data_header(o, b, last ? kLast : 0);
  o->last_sent = last;
  return transmit(dest, b, src, len);
}

// Zero-copy (receiver-driven rendezvous): the piece stays in the caller's buffer, exposed for RMA
// reads; one descriptor packet (per GiB) tells the receiver where, and each FM_receive of the
// handler reads what it asks for in one RMA read straight into the handler's buffer.  Per-sender
// FIFO consumption means the descriptors are consumed (read or discarded) once the receiver has
// returned credits for them; the last one asks for that at once (kAck), or, from a same-host
// receiver, once its board says so (board.hpp).  Then the buffer is the caller's again.
int Sender::send_zcopy(OutStream* o, const std::byte* src, std::size_t n) {
  const unsigned dest = o->peer;
  Peer& q = s_.peers[dest];
  Lane& lane = s_.lane_of(dest);
  int rc = FM_SUCCESS;
  if (o->cur != nullptr && (rc = flush(o, false)) != FM_SUCCESS) return rc;  // bytes before it
  transport::Transport::Region reg;
  if ((rc = lane.tp->expose(src, n, &reg)) != FM_SUCCESS) return rc;
  std::uint64_t sent_rts = 0;
  for (std::size_t off = 0; off < n;) {
    const std::size_t chunk = std::min<std::size_t>(n - off, kMaxRndv);
    const bool last = o->sent + chunk == o->declared;
    if ((rc = stream_credit(o)) != FM_SUCCESS) break;
    Buf* b = get_tx_buf(dest);
    if (b == nullptr) {
      rc = q.link.failed ? live_.peer_error(dest, "FM_send_piece") : last_status();
      break;
    }
    take_credit(o);
    fill_data_header(
        o, b,
        static_cast<std::uint8_t>((last ? kLast : 0) | kRndv |
                                  (off + chunk == n && q.tx.acked == nullptr ? kAck : 0)));
    const std::uint64_t desc[3] = {reg.addr + off, reg.key, chunk};
    std::memcpy(b->payload(), desc, sizeof desc);
    b->len = sizeof desc;
    o->last_sent = last;
    if ((rc = transmit(dest, b)) != FM_SUCCESS) break;
    ++sent_rts;
    o->sent += chunk;
    off += chunk;
  }
  // Even after an error, descriptors already sent may still be read: wait for them (unless the
  // receiver is dead) before the region goes away.  Outside handlers: extracts meanwhile, since
  // dest may be waiting for us in the same way.
  if (sent_rts > 0) {
    const std::uint64_t target = q.tx.seq;
    const Wait w{.what = "FM_send_piece (the receiver reading a zero-copy piece)"};
    const int wrc = rx_.wait_until(dest, w, [&] {
      return q.tx.returned >= target ||
             (q.tx.acked != nullptr && Board::peek(q.tx.acked) >= target);
    });
    if (rc == FM_SUCCESS) rc = wrc;
  }
  lane.tp->unexpose(&reg);
  return rc;
}

// Waits until the transport is done with the caller's buffers of gathered sends to dest.
int Sender::wait_gathered(unsigned dest) {
  PeerTx& t = s_.peers[dest].tx;
  const int rc =
      rx_.wait_until(dest, Wait{.what = "FM_send_piece (a gathered send)", .handlers = false},
                     [&] { return t.gather_pending == 0; });
  if (rc != FM_SUCCESS) t.gather_pending = 0;
  return rc;
}

int Sender::end_message(FM_stream* s) {
  OutStream* o = out_stream(s, "FM_end_message");
  if (o == nullptr) return last_status();
  Peer& q = s_.peers[o->peer];
  int rc = q.link.failed  ? live_.peer_error(o->peer, "FM_end_message")
           : o->last_sent ? FM_SUCCESS  // a gathered packet ended it
                          : flush(o, true);
  if (o->cur != nullptr) {  // flush failed before sending it
    Buf* b = o->cur;
    o->cur = nullptr;
    if (b->pool == Buf::kSelf) {
      s_.self_free.push(b);
      ++q.tx.credits;
    } else {
      s_.free_tx(b);
    }
  }
  q.tx.credits += o->reserved;
  o->reserved = 0;
  o->magic = 0;
  q.tx.stream_open = false;
  return rc;
}

int Sender::send(unsigned dest, int handler, const void* buf, std::size_t n, bool no_wait) {
  if (buf == nullptr && n != 0) return fail(FM_EINVAL, "FM_send: buf is NULL");
  // fast path: one packet to another node that fits an inject, with a credit in hand
  if (dest < s_.size && dest != s_.rank && n + sizeof(PacketHeader) <= s_.scratch.size() &&
      !s_.closed && !s_.finalizing) {
    Peer& q = s_.peers[dest];
    Lane& lane = s_.lane_of(dest);
    if (q.tx.credits > 0 && !q.tx.stream_open && !q.link.failed && handler_at(handler) != nullptr &&
        sizeof(PacketHeader) + n <= lane.caps().inject_size) {
      auto* h = reinterpret_cast<PacketHeader*>(s_.scratch.data());
      *h = make_header(s_.rank, kData, kFirst | kLast | q.rx.answer_flag(), handler, n, n,
                       static_cast<std::uint32_t>(q.tx.seq), q.rx.owed);
      if (n != 0) std::memcpy(h + 1, buf, n);
      const int rc = lane.tp->inject(dest, h, sizeof *h + n);
      if (rc == FM_SUCCESS) {
        s_.idle->sent(dest, lane.caps().fenced);
        ++q.tx.seq;
        --q.tx.credits;
        (void)q.rx.take_owed();
        ++q.stats.msgs_out;
        q.stats.bytes_out += n;
        return FM_SUCCESS;
      }
      if (rc != FM_EAGAIN) {
        live_.fail_peer(dest, last_error());
        return live_.peer_error(dest, "FM_send");
      }
      // queue full: the general path progresses and retries
    }
  }
  FM_stream* s = begin_message(dest, n, handler, no_wait);
  if (s == nullptr) return last_status();
  const int rc = send_piece(s, buf, n);
  const int rc2 = end_message(s);
  return rc != FM_SUCCESS ? rc : rc2;
}

// ------------------------------------------------------------------------------------------------
// pending sends

int Sender::pending_add(unsigned dest, FM_pending* req) {
  if (s_.closed) return fail(FM_ENOTINIT, "FM_pending_add: FM is finalized");
  if (req == nullptr || req->func == nullptr)
    return fail(FM_EINVAL, "FM_pending_add: request or its func is NULL");
  if (dest >= s_.size)
    return fail(FM_ENODEST, "FM_pending_add: destination %u out of range (%u nodes)", dest,
                s_.size);
  PeerTx& t = s_.peers[dest].tx;
  req->next_ = nullptr;
  req->dest_ = dest;
  if (t.pend_tail != nullptr)
    t.pend_tail->next_ = req;
  else
    t.pend_head = req;
  t.pend_tail = req;
  ++t.pend_count;
  ++pending_total_;
  return FM_SUCCESS;
}

std::size_t Sender::pending_count(unsigned dest) const noexcept {
  return dest < s_.size ? s_.peers[dest].tx.pend_count : 0;
}

void Sender::drain(bool async_only) {
  async_only = async_only || t_async_only;
  if (draining_ || pending_total_ == 0 || s_.in_handler()) return;
  draining_ = true;
  bool again = true;
  while (again && pending_total_ != 0) {  // requests queued meanwhile go out in this same loop
    again = false;
    for (unsigned p = 0; p < s_.size; ++p) {
      PeerTx& t = s_.peers[p].tx;
      while (t.pend_head != nullptr && !t.stream_open) {  // the program is sending to it: later
        // Off the list while its function runs (it may free it; requests queued meanwhile go to
        // the tail), still counted; back at the head if it says "not yet".
        FM_pending* r = t.pend_head;
        if (async_only && (r->flags & FM_PENDING_ASYNC) == 0) break;  // for the program's calls
        t.pend_head = r->next_;
        if (t.pend_head == nullptr) t.pend_tail = nullptr;
        if (r->func(r) == FM_EAGAIN) {
          r->next_ = t.pend_head;
          t.pend_head = r;
          if (t.pend_tail == nullptr) t.pend_tail = r;
          break;
        }
        --t.pend_count;
        --pending_total_;
        again = true;
      }
    }
  }
  draining_ = false;
}

}  // namespace fm::core
