// reliable.cpp - FM's own reliability over an unreliable packet transport (datagrams): a
// decorator that gives the core what it needs (exactly-once, in-order delivery per sender) over a
// lower transport that may lose, duplicate and reorder packets.
//
// Per peer and direction: sequence numbers; the receiver acknowledges cumulatively (the next
// sequence it expects) plus selectively (a 32-packet bitmap; when packets beyond the first 32
// after a hole are present, successive acknowledgements carry successive 32-packet words, so the
// sender learns every hole of the window), piggybacked on every packet it sends to that peer and
// on its own after a short delay (at once for a duplicate or a gap, which speeds up recovery);
// the sender keeps a copy of every unacknowledged packet and retransmits the oldest when it has
// waited a retransmission time-out, and holes below selectively acknowledged packets after an
// RTT (fast retransmit).  RTT estimated (Jacobson/Karels) from echoed timestamps, as TCP's
// timestamp option does (RFC 7323): every packet carries its sending time, every acknowledgement
// echoes the time of the oldest packet it is the first to acknowledge, so a sample includes the
// time the receiver took to answer (queueing behind other packets, a process descheduled or
// busy elsewhere) and a retransmitted packet gives a sample of its own transmission (what Karn's
// rule had to exclude: without them, a path whose delay grew beyond the time-out was never
// measured and every packet was resent).  Time-out doubled on every time-out (backoff), reset by
// progress.  The receiver keeps out-of-order packets in a reorder window of the same size as the
// send window and drops duplicates.  A peer that acknowledges nothing for the peer time-out is
// reported stalled (Completion::peer_stalled, once per stall) and retransmitted to until it
// answers or the owner gives up on it (give_up()): only the owner knows whether a same-host peer is
// alive and merely starved of CPU, which must not fail it.
//
// Closing: a node whose packets are all acknowledged sends every peer a FIN ("I need nothing more
// from you") and keeps answering until it holds a FIN from every live peer: a peer whose last
// acknowledgements were lost still retransmits and must be acknowledged, however long its
// backed-off time-out.  FINs are not sequenced: a closing node that lacks a peer's FIN asks again
// every few ms with a FIN marked "yours missing", which a closing peer answers with its own; a
// node that holds every FIN stays a grace period for such requests, since its own last FIN may
// have been lost.
//
// The decorator posts its own receive buffers to the lower transport and copies each packet into
// one the core posted when it is next in order: one copy per packet on each side, kept off the
// core's path by the copy the core's send buffer is released after.
#include <algorithm>
#include <cstring>
#include <vector>

#include "transport/factories.hpp"
#include "transport/reliable_wire.hpp"
#include "transport/stack.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/ring.hpp"

namespace fm::transport {
namespace {

class ReliableTransport final : public Transport {
 public:
  ReliableTransport(std::unique_ptr<Transport> lower, const ReliableParams& p)
      : lower_(std::move(lower)), p_(p) {
    const Caps& lc = lower_->caps();
    caps_ = lc;
    caps_.name = lc.name + "+rel";
    caps_.reliable = caps_.ordered = true;
    pre_ = lc.prefix;  // the provider's bytes in front of every datagram (FI_MSG_PREFIX)
    caps_.prefix = 0;  // hidden from the core
    caps_.max_msg = lc.max_msg - pre_ - sizeof(RelHdr);
    caps_.inject_size = caps_.max_msg;  // every packet is copied anyway
    caps_.wait_fd = false;              // time-outs need polling
    caps_.space_wake = false;  // its own queues fill too, and nothing wakes a sender for them
    caps_.rma_read = caps_.rma_write = false;
    caps_.probe = true;
    caps_.fenced = false;
    pkt_ = lc.max_msg - pre_;
    const std::size_t stride = pre_ + pkt_;
    // A peer's windows are allocated when it is first sent to or heard from (ensure()): an idle
    // peer costs a Peer record, not 2 x window packets (at 1,000 ranks that was about 400 MB).
    peers_.resize(p.size);
    // our receives on the lower transport: enough for the packets in flight towards us, within
    // what the endpoint takes, and never a count that grows with the job (kMaxLowRecvs)
    const std::size_t nlow =
        std::min<std::size_t>({std::max<std::size_t>(64, std::size_t{p.size} * p.window / 2),
                               lc.rx_depth ? lc.rx_depth : 1024, kMaxLowRecvs});
    low_bufs_.resize(nlow * stride);
    low_ctx_.resize(nlow);
    ack_buf_.resize(kAckSlots * (pre_ + sizeof(RelHdr)));
    for (std::size_t i = 0; i < kAckSlots; ++i) ack_free_.push_back(i);
    for (std::size_t i = 0; i < nlow; ++i) {  // our receives on the lower transport
      low_ctx_[i] = i;
      if (lower_->post_recv(low_bufs_.data() + i * stride, stride, &low_ctx_[i]) != FM_SUCCESS)
        FM_WARN("reliable: could post only %zu of %zu receives on %s", i, nlow, lc.name.c_str());
    }
  }

  // The lower transport goes first: it may still hold (and, in-process, fill) our receives.
  ~ReliableTransport() override { lower_.reset(); }

  bool quiescent() const override {
    for (const auto& q : peers_)
      if (!q.failed && q.base != q.next_seq) return false;
    return true;
  }
  void begin_close() override {
    closing_ = true;
    for (unsigned p = 0; p < peers_.size(); ++p)
      if (p != p_.rank && !peers_[p].failed) send_fin(p);
  }
  bool peers_closed() override {
    for (unsigned p = 0; p < peers_.size(); ++p)
      if (p != p_.rank && !peers_[p].failed && !peers_[p].fin_rx) return false;
    // Everybody's FIN is here; ours, sent last, may have been lost.  A peer that lacks it asks
    // again every few ms: stay a grace period to answer (TCP's TIME_WAIT, shortened).
    const std::uint64_t now = now_ns();
    if (closed_at_ns_ == 0) closed_at_ns_ = now;
    return now - closed_at_ns_ >= kCloseGraceNs;
  }

  std::vector<std::byte> address() const override { return lower_->address(); }
  int insert_peers(std::span<const std::vector<std::byte>> addrs) override {
    return lower_->insert_peers(addrs);
  }
  void connected() override { lower_->connected(); }
  void peer_exited(unsigned peer, int pid) override { lower_->peer_exited(peer, pid); }
  void give_up(unsigned peer) override {
    if (peer < peers_.size()) peers_[peer].failed = true;
    lower_->give_up(peer);
  }

  int post_recv(void* buf, std::size_t len, void* ctx) override {
    posted_.push_back(Posted{buf, len, ctx});
    return FM_SUCCESS;
  }

  int send(unsigned peer, const iovec* iov, std::size_t iovcnt, void* ctx) override {
    const int rc = queue(peer, iov, iovcnt);
    if (rc == FM_SUCCESS) done_.push_back(Completion{Completion::send, FM_SUCCESS, ctx, 0});
    return rc;
  }
  int inject(unsigned peer, const void* buf, std::size_t len) override {
    iovec iov{const_cast<void*>(buf), len};
    return queue(peer, &iov, 1);
  }

  int poll(Completion* out, int max) override {
    // Drain the lower transport, within a bound: libfabric's udp provider reads one datagram
    // per progress call, and a sender that read one acknowledgement per poll while it sent
    // several packets kept a standing queue of acknowledgements ~2 ms old, so its window
    // stalled until the time-out and it resent packets that had arrived long before.
    for (int round = 0; round < kMaxPollRounds; ++round) {
      const int n = poll_lower();
      if (n < 0) return n;
      if (n == 0) break;
    }
    timers();
    int got = 0;
    while (got < max && !done_.empty()) {
      out[got++] = done_.front();
      done_.pop_front();
    }
    return got;
  }

  // One batch of lower completions: packets, acknowledgements' buffers, our sends.
  int poll_lower() {
    Completion c[32];
    const int n = lower_->poll(c, 32);
    if (n < 0) return n;
    for (int i = 0; i < n; ++i) {
      if (c[i].kind == Completion::recv && is_low(c[i].ctx)) {
        on_packet(*static_cast<std::size_t*>(c[i].ctx), c[i].len);
      } else if (is_ack(c[i].ctx)) {  // an acknowledgement's buffer (prefix transports)
        ack_free_.push_back(
            static_cast<std::size_t>(static_cast<std::byte*>(c[i].ctx) - ack_buf_.data()) /
            (pre_ + sizeof(RelHdr)));
      } else if (c[i].kind == Completion::send || c[i].kind == Completion::error) {
        // our own copies: nothing to free (they stay until acknowledged); errors are losses
        if (c[i].kind == Completion::error && !is_low(c[i].ctx)) ++lower_errors_;
      }
    }
    return n;
  }

  std::size_t memory() const override {
    return memory_ + peers_.size() * sizeof(Peer) + low_bufs_.size() + ack_buf_.size() +
           lower_->memory();
  }
  std::uint64_t retransmissions(unsigned peer) const override {
    return peer < peers_.size() ? peers_[peer].retransmitted : 0;
  }
  int wait_fd() override { return -1; }
  bool try_wait() override { return false; }

 private:
  struct TxSlot {
    std::byte* data = nullptr;
    std::size_t len = 0;
    std::uint64_t sent_ns = 0;
    bool used = false, sacked = false;
  };
  struct RxSlot {
    std::byte* data = nullptr;
    std::size_t len = 0;
    bool present = false;
  };
  struct Peer {
    // send side
    std::uint32_t next_seq = 0, base = 0;  // [base, next_seq) unacknowledged
    // [base, next_tx) handed to the lower transport at least once; [next_tx, next_seq) wait for
    // room in it (it said FM_EAGAIN: a full socket buffer).  Such packets are not lost, so they
    // are sent in order as soon as there is room instead of being left to the retransmission
    // timers (which took 0.5-2 ms per packet and counted as retransmissions).
    std::uint32_t next_tx = 0;
    std::vector<TxSlot> tx;
    std::uint64_t rto_ns = 0, srtt_ns = 0, rttvar_ns = 0, stall_since_ns = 0;
    std::uint64_t retransmitted = 0;
    std::uint32_t high_sack = 0;  // one past the highest sequence selectively acknowledged
    bool failed = false;          // given up on (give_up())
    bool stall_reported = false;  // Completion::peer_stalled sent for the current stall
    // receive side
    std::uint32_t expected = 0;  // next sequence to deliver
    std::vector<RxSlot> rx;
    std::uint64_t ack_due_ns = 0;  // 0: no acknowledgement owed
    std::uint32_t rx_high = 0;     // one past the highest sequence received (when > expected)
    std::uint32_t sack_word = 0;   // the selective-acknowledgement word to send next
    std::uint32_t echo_ts = 0;     // the sending time to echo in the next acknowledgement
    bool echo_valid = false;
    std::uint32_t acked = 0;  // the cumulative acknowledgement sent last
    // closing
    bool fin_rx = false;  // the peer needs nothing more from us
    std::uint64_t fin_sent_ns = 0;
    std::unique_ptr<std::byte[]> tx_mem, rx_mem;  // the windows' packets (ensure())
  };
  struct Posted {
    void* buf;
    std::size_t len;
    void* ctx;
  };

  bool is_ack(const void* ctx) const noexcept {
    const auto* p = static_cast<const std::byte*>(ctx);
    return pre_ != 0 && p >= ack_buf_.data() && p < ack_buf_.data() + ack_buf_.size();
  }
  bool is_low(const void* ctx) const noexcept {
    const auto* p = static_cast<const std::size_t*>(ctx);
    return !low_ctx_.empty() && p >= low_ctx_.data() && p < low_ctx_.data() + low_ctx_.size();
  }

  // The acknowledgement fields of a header about to be sent at `now` (also its sending time).
  void fill_ack(unsigned peer, RelHdr* h, std::uint64_t now) {
    Peer& q = peers_[peer];
    h->ack = q.acked = q.expected;
    h->sack = 0;
    h->sack_word = 0;
    // Packets present beyond `expected` (out of order): [expected + 1, rx_high).
    const std::uint32_t beyond = q.rx_high - q.expected;
    if (beyond > 1 && beyond <= p_.window && !q.rx.empty()) {
      std::uint32_t w = q.sack_word;
      if (1 + 32 * w >= beyond) w = 0;  // past the highest present: start again
      const std::uint32_t first = q.expected + 1 + 32 * w;
      for (std::uint32_t i = 0; i < 32 && 32 * w + i + 1 < p_.window; ++i)
        if (q.rx[(first + i) % p_.window].present) h->sack |= 1u << i;
      h->sack_word = static_cast<std::uint16_t>(w);
      q.sack_word = w + 1;
    }
    h->flags &= static_cast<std::uint16_t>(~kHasEcho);
    if (q.echo_valid) {
      h->flags |= kHasEcho;
      h->echo = q.echo_ts;
      q.echo_valid = false;
    }
    h->ts = wire_us(now);
    q.ack_due_ns = 0;
  }

  int queue(unsigned peer, const iovec* iov, std::size_t iovcnt) {
    if (peer >= peers_.size()) return fail(FM_ENODEST, "reliable: peer %u out of range", peer);
    Peer& q = peers_[peer];
    if (q.failed) return fail(FM_EPEERFAILED, "reliable: node %u stopped acknowledging", peer);
    // A long run of sends (a large message into an open window) reads what arrived meanwhile
    // every 16 packets: acknowledgements that open our window, and the peers' packets whose
    // acknowledgement rides on ours (else they waited out the run, ~1 ms, and were resent).
    if ((++sends_ & 15) == 0 && poll_lower() < 0) return last_status();
    if (q.next_seq - q.base >= p_.window) return FM_EAGAIN;  // window full: poll() and retry
    if (q.tx.empty() && !ensure(peer))
      return fail(FM_ENOMEM, "reliable: no memory for node %u's window", peer);
    TxSlot& s = q.tx[q.next_seq % p_.window];
    auto* h = reinterpret_cast<RelHdr*>(s.data);
    std::size_t len = sizeof(RelHdr);
    for (std::size_t i = 0; i < iovcnt; ++i) {
      if (len + iov[i].iov_len > pkt_) return fail(FM_ELENGTH, "reliable: packet too long");
      std::memcpy(s.data + len, iov[i].iov_base, iov[i].iov_len);
      len += iov[i].iov_len;
    }
    *h = RelHdr{kRelMagic, kRelData, 0, p_.rank, q.next_seq, 0, 0, 0, 0, 0, 0};
    s.len = len;
    s.used = true;
    s.sacked = false;
    if (q.next_seq == q.base) {
      q.stall_since_ns = now_ns();
      q.stall_reported = false;
    }
    ++q.next_seq;
    push_unsent(peer);
    return FM_SUCCESS;
  }

  // Hands the lower transport what waits for room, in order; stops at the first FM_EAGAIN.
  void push_unsent(unsigned peer) {
    Peer& q = peers_[peer];
    if (q.next_tx - q.base > q.next_seq - q.base) q.next_tx = q.base;  // (never: acks only sent)
    while (q.next_tx != q.next_seq && transmit(peer, q.tx[q.next_tx % p_.window])) ++q.next_tx;
  }

  // False when the lower transport had no room (FM_EAGAIN): the packet did not leave.  Other
  // errors count as a loss, which retransmission covers.
  bool transmit(unsigned peer, TxSlot& s) {
    s.sent_ns = now_ns();
    fill_ack(peer, reinterpret_cast<RelHdr*>(s.data), s.sent_ns);  // latest ack, piggybacked
    int rc = pre_ == 0 && s.len <= lower_->caps().inject_size
                 ? lower_->inject(peer, s.data, s.len)
                 : send_lower(peer, s.data - pre_, s.len + pre_);  // the prefix room in front
    if (rc == FM_EAGAIN) return false;
    if (rc != FM_SUCCESS) ++lower_errors_;
    return true;
  }

  int send_lower(unsigned peer, const void* buf, std::size_t len) {
    iovec iov{const_cast<void*>(buf), len};
    return lower_->send(peer, &iov, 1, nullptr);
  }

  // An unsequenced packet (acknowledgement, FIN): injected, or with a prefix sent from a buffer
  // of its own until its completion.  Best effort: none is sent when all buffers are in flight.
  void send_unsequenced(unsigned peer, const RelHdr& hdr) {
    if (pre_ == 0) {
      (void)lower_->inject(peer, &hdr, sizeof hdr);
      return;
    }
    if (ack_free_.empty()) return;
    std::byte* b = ack_buf_.data() + ack_free_.back() * (pre_ + sizeof(RelHdr));
    std::memcpy(b + pre_, &hdr, sizeof hdr);
    iovec iov{b, pre_ + sizeof hdr};
    if (lower_->send(peer, &iov, 1, b) == FM_SUCCESS) ack_free_.pop_back();
  }

  void send_ack(unsigned peer) {
    RelHdr h{kRelMagic, kRelAck, 0, p_.rank, 0, 0, 0, 0, 0, 0, 0};
    fill_ack(peer, &h, now_ns());
    send_unsequenced(peer, h);
  }

  void send_fin(unsigned peer) {
    Peer& q = peers_[peer];
    RelHdr h{
        kRelMagic, kRelFin, q.fin_rx ? kFinHaveYours : std::uint16_t{0}, p_.rank, 0, 0, 0, 0, 0,
        0,         0};
    q.fin_sent_ns = now_ns();
    fill_ack(peer, &h, q.fin_sent_ns);
    send_unsequenced(peer, h);
  }

  void on_packet(std::size_t index, std::size_t len) {
    std::byte* const buf = low_bufs_.data() + index * (pre_ + pkt_);
    std::byte* data = buf + pre_;  // behind the provider's prefix
    len = len >= pre_ ? len - pre_ : 0;
    const auto* h = reinterpret_cast<const RelHdr*>(data);
    if (len >= sizeof(RelHdr) && h->magic == kRelMagic && h->src < peers_.size()) {
      on_ack(*h);
      if (h->type == kRelData) {
        on_data(h->src, h->seq, h->ts, data, len);
      } else if (h->type == kRelFin) {
        peers_[h->src].fin_rx = true;
        if (closing_ && (h->flags & kFinHaveYours) == 0) send_fin(h->src);
      }
    }
    (void)lower_->post_recv(buf, pre_ + pkt_, &low_ctx_[index]);
  }

  void on_ack(const RelHdr& h) {
    const unsigned peer = h.src;
    const std::uint32_t ack = h.ack;
    Peer& q = peers_[peer];
    if (ack - q.base > q.next_seq - q.base) return;  // stale or bogus
    bool progress = false, news = false;
    while (q.base != ack) {
      q.tx[q.base % p_.window].used = false;
      ++q.base;
      progress = true;
    }
    if (q.high_sack - q.base > q.next_seq - q.base) q.high_sack = q.base;  // behind base
    const std::uint32_t first = ack + 1 + 32u * h.sack_word;
    for (std::uint32_t i = 0; i < 32; ++i)
      if (h.sack & (1u << i)) {
        const std::uint32_t seq = first + i;
        if (seq - q.base < q.next_seq - q.base) {
          TxSlot& s = q.tx[seq % p_.window];
          news |= !s.sacked;
          s.sacked = true;
          if (seq + 1 - q.base > q.high_sack - q.base) q.high_sack = seq + 1;
        }
      }
    // One RTT sample per acknowledgement that acknowledges something new: the time since the
    // transmission it echoes.
    const std::uint64_t now = now_ns();
    if ((progress || news) && (h.flags & kHasEcho) != 0) {
      const std::uint64_t rtt =
          std::max<std::uint64_t>(1, static_cast<std::uint32_t>(wire_us(now) - h.echo)) * 1000;
      if (q.srtt_ns == 0) {
        q.srtt_ns = rtt;
        q.rttvar_ns = rtt / 2;
      } else {
        const std::uint64_t d = rtt > q.srtt_ns ? rtt - q.srtt_ns : q.srtt_ns - rtt;
        q.rttvar_ns = (3 * q.rttvar_ns + d) / 4;
        q.srtt_ns = (7 * q.srtt_ns + rtt) / 8;
      }
    }
    if (progress) {
      q.rto_ns = std::clamp<std::uint64_t>(q.srtt_ns + 4 * q.rttvar_ns, p_.min_rto_us * 1000ull,
                                           p_.max_rto_us * 1000ull);
      q.stall_since_ns = now;
      q.stall_reported = false;
    }
  }

  void on_data(unsigned peer, std::uint32_t seq, std::uint32_t ts, const std::byte* data,
               std::size_t len) {
    Peer& q = peers_[peer];
    if (q.rx.empty() && !ensure(peer)) return;  // no memory: as if lost (it is resent)
    const std::uint32_t ahead = seq - q.expected;
    if (ahead >= p_.window) {  // a duplicate (behind) or beyond the window: acknowledge at once
      if (ahead > 0x80000000u) ++duplicates_;
      q.ack_due_ns = 1;
      return;
    }
    RxSlot& r = q.rx[seq % p_.window];
    if (r.present) {
      ++duplicates_;
      q.ack_due_ns = 1;
      return;
    }
    // The time to echo: that of the oldest packet not acknowledged yet, or of the one that
    // fills the hole the cumulative acknowledgement waits at (RFC 7323, 4.3).
    if (!q.echo_valid || seq == q.acked) {
      q.echo_ts = ts;
      q.echo_valid = true;
    }
    if (seq + 1 - q.expected > q.rx_high - q.expected || q.rx_high - q.expected > p_.window)
      q.rx_high = seq + 1;
    if (ahead == 0 && !posted_.empty()) {  // the common case: next in order, straight to the core
      const Posted p = posted_.front();
      posted_.pop_front();
      const std::size_t n = std::min(len - sizeof(RelHdr), p.len);
      std::memcpy(p.buf, data + sizeof(RelHdr), n);
      done_.push_back(Completion{Completion::recv, FM_SUCCESS, p.ctx, n});
      ++q.expected;
      deliver(peer);  // packets that were waiting behind it
      if (q.rx[q.expected % p_.window].present)
        q.ack_due_ns = 1;
      else if (q.ack_due_ns == 0)
        q.ack_due_ns = now_ns() + p_.ack_delay_us * 1000ull;
      return;
    }
    r.len = len - sizeof(RelHdr);
    std::memcpy(r.data, data + sizeof(RelHdr), r.len);
    r.present = true;
    deliver(peer);
    // a gap (something lost or overtaken): tell the sender now; else after the ack delay
    if (ahead != 0 || q.rx[q.expected % p_.window].present)
      q.ack_due_ns = 1;
    else if (q.ack_due_ns == 0)
      q.ack_due_ns = now_ns() + p_.ack_delay_us * 1000ull;
  }

  // Hands in-order packets to the core's posted receives.
  void deliver(unsigned peer) {
    Peer& q = peers_[peer];
    while (!posted_.empty() && !q.rx.empty()) {
      RxSlot& r = q.rx[q.expected % p_.window];
      if (!r.present) break;
      const Posted p = posted_.front();
      posted_.pop_front();
      const std::size_t n = std::min(r.len, p.len);
      std::memcpy(p.buf, r.data, n);
      done_.push_back(Completion{Completion::recv, FM_SUCCESS, p.ctx, n});
      r.present = false;
      ++q.expected;
    }
  }

  void timers() {
    const std::uint64_t now = now_ns();
    if (closing_)
      for (unsigned p = 0; p < peers_.size(); ++p) {
        Peer& q = peers_[p];
        if (!q.failed && !q.fin_rx && p != p_.rank &&
            now - q.fin_sent_ns > std::clamp<std::uint64_t>(2 * q.srtt_ns, 1000000, 5000000))
          send_fin(p);  // ask again (well within the peer's grace): our FIN or its answer was lost
      }
    for (const unsigned p : active_) {
      Peer& q = peers_[p];
      if (q.failed) continue;
      deliver(p);  // receives the core posted since
      if (q.ack_due_ns != 0 && q.ack_due_ns <= now) send_ack(p);
      if (q.base == q.next_seq) continue;
      push_unsent(p);
      if (!q.stall_reported && now - q.stall_since_ns > p_.peer_timeout_ms * 1000000ull) {
        q.stall_reported = true;  // the owner fails it (give_up()) or knows it alive
        done_.push_back(Completion{Completion::peer_stalled, FM_ETIMEDOUT, nullptr, p});
      }
      // Fast retransmission: a hole below a selectively acknowledged packet is a loss (or a
      // reordering) once it is older than the smoothed RTT; resend it without waiting for the
      // time-out, at most once per RTT.
      const std::uint64_t fast_after =
          std::max<std::uint64_t>(q.srtt_ns + q.rttvar_ns, p_.min_rto_us * 250ull);
      for (std::uint32_t seq = q.base; seq - q.base < q.high_sack - q.base; ++seq) {
        TxSlot& s = q.tx[seq % p_.window];
        if (s.sacked || now - s.sent_ns < fast_after) continue;
        if (transmit(p, s)) ++q.retransmitted;
      }
      // Time-out: the oldest packet again, and the time-out doubles until progress resets it.
      // (Only the oldest: resending every unacknowledged packet recovered no faster in the
      // fault tests and sent 2-6 times as many packets; a lost tail is resent one RTT apart.)
      if (q.next_tx == q.base) continue;  // nothing left yet: no room in the lower transport
      TxSlot& oldest = q.tx[q.base % p_.window];
      // (sent_ns may be later than `now`: just resent above as a hole)
      if (oldest.sent_ns >= now || now - oldest.sent_ns < q.rto_ns) continue;
      if (transmit(p, oldest)) ++q.retransmitted;
      q.rto_ns = std::min<std::uint64_t>(q.rto_ns * 2, p_.max_rto_us * 1000ull);  // backoff
    }
  }

  // Allocates a peer's send and reorder windows, on first contact.
  bool ensure(unsigned peer) {
    Peer& q = peers_[peer];
    if (!q.tx.empty()) return true;
    const std::size_t stride = pre_ + pkt_;
    q.tx_mem.reset(new (std::nothrow) std::byte[std::size_t{p_.window} * stride]);
    q.rx_mem.reset(new (std::nothrow) std::byte[std::size_t{p_.window} * pkt_]);
    if (!q.tx_mem || !q.rx_mem) {
      q.tx_mem.reset();
      q.rx_mem.reset();
      return false;
    }
    q.tx.resize(p_.window);
    q.rx.resize(p_.window);
    for (std::uint32_t k = 0; k < p_.window; ++k) {
      q.tx[k].data = q.tx_mem.get() + k * stride + pre_;
      q.rx[k].data = q.rx_mem.get() + k * pkt_;
    }
    q.rto_ns = p_.initial_rto_us * 1000ull;
    active_.push_back(peer);
    memory_ += std::size_t{p_.window} * (stride + pkt_ + sizeof(TxSlot) + sizeof(RxSlot));
    return true;
  }

  std::unique_ptr<Transport> lower_;
  ReliableParams p_;
  static constexpr std::size_t kAckSlots = 256;
  static constexpr std::size_t kMaxLowRecvs = 4096;
  static constexpr int kMaxPollRounds = 64;  // lower batches per poll (bounds one call)
  std::size_t pkt_ = 0;                      // lower packet size, without its prefix
  std::size_t pre_ = 0;                      // the lower transport's message prefix
  std::vector<std::size_t> ack_free_;
  std::vector<Peer> peers_;
  std::vector<unsigned> active_;  // peers whose windows exist (timers visit only those)
  std::size_t memory_ = 0;        // bytes of the peers' windows
  std::vector<std::byte> low_bufs_, ack_buf_;
  std::vector<std::size_t> low_ctx_;
  Ring<Posted> posted_{1024};    // the core's receives, in order
  Ring<Completion> done_{1024};  // completions for the core
  std::uint64_t duplicates_ = 0, lower_errors_ = 0;
  std::uint32_t sends_ = 0;  // packets queued (a poll of the lower transport every 16)
  bool closing_ = false;
  std::uint64_t closed_at_ns_ = 0;
  static constexpr std::uint64_t kCloseGraceNs = 30000000;  // 30 ms: several requests' time
};

}  // namespace

std::unique_ptr<Transport> open_reliable(std::unique_ptr<Transport> lower,
                                         const ReliableParams& p) {
  return std::make_unique<ReliableTransport>(std::move(lower), p);
}

}  // namespace fm::transport
