// fault.cpp - a fault-injecting decorator over any transport, for tests: drops, duplicates,
// reorders and delays packets at configured rates, from a seeded generator (runs are repeatable).
//
// Every packet it disturbs travels as a copy in one of its own buffers (the caller's send is
// completed at once, as if the packet had left); undisturbed packets pass straight through.  Its
// own sends' completions are swallowed.  RMA is not disturbed (passed through), nor is the lower
// transport's state (quiescence, closing, memory, retransmissions, shared copies).  For tests: it
// allocates its buffer pool up front, takes no locks, and is driven by the caller's poll().
#include <algorithm>
#include <cstring>
#include <deque>
#include <vector>

#include "transport/factories.hpp"
#include "transport/stack.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"

namespace fm::transport {
namespace {

class FaultTransport final : public Transport {
 public:
  FaultTransport(std::unique_ptr<Transport> lower, const FaultParams& p)
      : lower_(std::move(lower)), p_(p), rng_(p.seed * 0x9e3779b97f4a7c15ull + 1) {
    caps_ = lower_->caps();
    caps_.fenced = false;      // held packets become visible later
    caps_.space_wake = false;  // its own queues fill too, and nothing wakes a sender for them
    caps_.name = "fault(" + caps_.name + ")";
    caps_.reliable = caps_.reliable && p.drop == 0 && p.dup == 0;
    caps_.ordered = caps_.ordered && p.reorder == 0 && p.delay_us == 0;
    slot_size_ = caps_.max_msg;
    if (p.prefix != 0) {
      caps_.prefix = p.prefix;
      caps_.max_msg += p.prefix;
      caps_.inject_size = 0;  // every send through send(), which checks the prefix room
    }
    const std::size_t n = kSlots;
    pool_.resize(n * slot_size_);
    slots_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      slots_[i].data = pool_.data() + i * slot_size_;
      free_.push_back(&slots_[i]);
    }
  }

  ~FaultTransport() override { lower_.reset(); }

  std::vector<std::byte> address() const override { return lower_->address(); }
  int insert_peers(std::span<const std::vector<std::byte>> addrs) override {
    const int rc = lower_->insert_peers(addrs);
    caps_.rma_read = lower_->caps().rma_read;  // decided by the peers (shm's CMA)
    caps_.rma_write = lower_->caps().rma_write;
    return rc;
  }
  void connected() override { lower_->connected(); }
  void peer_exited(unsigned peer, int pid) override { lower_->peer_exited(peer, pid); }
  void give_up(unsigned peer) override { lower_->give_up(peer); }
  void unacknowledged(std::span<const unsigned> peers, std::uint32_t timeout_ms,
                      std::vector<unsigned>& out) override {
    lower_->unacknowledged(peers, timeout_ms, out);
  }
  int post_recv(void* buf, std::size_t len, void* ctx) override {
    if (p_.prefix == 0) return lower_->post_recv(buf, len, ctx);
    if (len <= p_.prefix) return fail(FM_EINVAL, "fault: receive of %zu bytes has no room", len);
    std::memset(buf, 0xa5, p_.prefix);  // what a GRH would be to the layer above: not its data
    return lower_->post_recv(static_cast<std::byte*>(buf) + p_.prefix, len - p_.prefix, ctx);
  }

  int send(unsigned peer, const iovec* iov, std::size_t iovcnt, void* ctx) override {
    iovec stripped[4];
    if (p_.prefix != 0) {  // the first prefix bytes are the provider's: not sent
      if (iovcnt == 0 || iovcnt > 4 || iov[0].iov_len < p_.prefix)
        return fail(FM_EINVAL, "fault: a send without its %zu-byte prefix", p_.prefix);
      for (std::size_t i = 0; i < iovcnt; ++i) stripped[i] = iov[i];
      stripped[0].iov_base = static_cast<std::byte*>(iov[0].iov_base) + p_.prefix;
      stripped[0].iov_len -= p_.prefix;
      iov = stripped;
    }
    if (!disturb()) return lower_->send(peer, iov, iovcnt, ctx);
    const int rc = faulty(peer, iov, iovcnt);
    if (rc == FM_SUCCESS) synthetic_.push_back(Completion{Completion::send, FM_SUCCESS, ctx, 0});
    return rc;
  }

  int inject(unsigned peer, const void* buf, std::size_t len) override {
    if (p_.prefix != 0) return fail(FM_EINVAL, "fault: inject with a message prefix");
    if (!disturb()) return lower_->inject(peer, buf, len);
    iovec iov{const_cast<void*>(buf), len};
    return faulty(peer, &iov, 1);
  }

  int poll(Completion* out, int max) override {
    flush_due();
    int got = 0;
    while (got < max && !synthetic_.empty()) {
      out[got++] = synthetic_.front();
      synthetic_.pop_front();
    }
    while (got < max) {
      const int n = lower_->poll(out + got, max - got);
      if (n < 0) return got > 0 ? got : n;
      if (n == 0) break;
      int kept = 0;  // drop completions of our own copies
      for (int i = 0; i < n; ++i) {
        Completion& c = out[got + i];
        if (is_slot(c.ctx)) {
          free_.push_back(static_cast<Slot*>(c.ctx));
          continue;
        }
        if (c.kind == Completion::recv) c.len += p_.prefix;
        out[got + kept++] = c;
      }
      got += kept;
      if (kept == 0) continue;
    }
    return got;
  }

  int expose(const void* buf, std::size_t len, Region* out, bool writable) override {
    return lower_->expose(buf, len, out, writable);
  }
  void unexpose(Region* r) override { lower_->unexpose(r); }
  int read(unsigned peer, void* buf, std::size_t len, std::uint64_t raddr, std::uint64_t key,
           void* ctx) override {
    return lower_->read(peer, buf, len, raddr, key, ctx);
  }
  int write(unsigned peer, const void* buf, std::size_t len, std::uint64_t raddr, std::uint64_t key,
            void* ctx) override {
    return lower_->write(peer, buf, len, raddr, key, ctx);
  }
  // The rest is the lower transport's, plus the decorator's own pool.
  bool quiescent() const override { return lower_->quiescent(); }
  void begin_close() override { lower_->begin_close(); }
  bool peers_closed() override { return lower_->peers_closed(); }
  std::size_t memory() const override {
    return lower_->memory() + pool_.capacity() + slots_.capacity() * sizeof(Slot);
  }
  std::uint64_t retransmissions(unsigned peer) const override {
    return lower_->retransmissions(peer);
  }
  std::uint64_t shared_copy_bytes(unsigned peer) const override {
    return lower_->shared_copy_bytes(peer);
  }
  int wait_fd() override { return -1; }  // held packets need polling
  bool try_wait() override { return false; }

 private:
  static constexpr std::size_t kSlots = 512;
  struct Slot {
    std::byte* data = nullptr;
    std::size_t len = 0;
    unsigned peer = 0;
    std::uint64_t due_ns = 0;
  };

  double uniform() noexcept {  // xorshift64*
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return static_cast<double>((rng_ * 0x2545f4914f6cdd1dull) >> 11) * 0x1.0p-53;
  }
  bool disturb() noexcept {
    const double any = p_.drop + p_.dup + p_.reorder + (p_.delay_us ? p_.delay_rate : 0);
    return any > 0 && uniform() < any;
  }
  bool is_slot(const void* ctx) const noexcept {
    const auto* s = static_cast<const Slot*>(ctx);
    return !slots_.empty() && s >= slots_.data() && s < slots_.data() + slots_.size();
  }

  Slot* copy(unsigned peer, const iovec* iov, std::size_t iovcnt) {
    if (free_.empty()) return nullptr;
    Slot* s = free_.back();
    free_.pop_back();
    s->len = 0;
    s->peer = peer;
    for (std::size_t i = 0; i < iovcnt; ++i) {
      std::memcpy(s->data + s->len, iov[i].iov_base, iov[i].iov_len);
      s->len += iov[i].iov_len;
    }
    return s;
  }

  int forward(Slot* s) {
    iovec iov{s->data, s->len};
    int rc;
    while ((rc = lower_->send(s->peer, &iov, 1, s)) == FM_EAGAIN) {
      Completion c[16];
      const int n = lower_->poll(c, 16);  // make room; keep what is not ours for the caller
      for (int i = 0; i < n; ++i) {
        if (is_slot(c[i].ctx))
          free_.push_back(static_cast<Slot*>(c[i].ctx));
        else
          synthetic_.push_back(c[i]);
      }
      if (n < 0) return n;
    }
    if (rc != FM_SUCCESS) free_.push_back(s);
    return rc;
  }

  // One disturbed packet: which fault, by the rates' shares.
  int faulty(unsigned peer, const iovec* iov, std::size_t iovcnt) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    if (total > slot_size_) return fail(FM_ELENGTH, "fault: %zu-byte packet", total);
    const double delay = p_.delay_us ? p_.delay_rate : 0;
    const double x = uniform() * (p_.drop + p_.dup + p_.reorder + delay);
    if (x < p_.drop) {
      ++dropped;
      return FM_SUCCESS;
    }
    Slot* s = copy(peer, iov, iovcnt);
    if (s == nullptr) return FM_EAGAIN;
    if (x < p_.drop + p_.dup) {  // twice
      ++duplicated;
      Slot* t = copy(peer, iov, iovcnt);
      int rc = forward(s);
      if (rc == FM_SUCCESS && t != nullptr) rc = forward(t);
      return rc;
    }
    // reorder: held for up to 200 us, so that later packets overtake it; delay: held delay_us
    if (x < p_.drop + p_.dup + p_.reorder) {
      ++reordered;
      s->due_ns = now_ns() + 200000;  // at most 200 us
      held_.push_back(s);
    } else {
      ++delayed;
      s->due_ns = now_ns() + p_.delay_us * 1000ull;
      held_.push_back(s);
    }
    return FM_SUCCESS;
  }

  void flush_due() {
    if (held_.empty()) return;
    const std::uint64_t now = now_ns();
    for (std::size_t i = 0; i < held_.size();) {
      if (held_[i]->due_ns <= now) {
        Slot* s = held_[i];
        held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
        (void)forward(s);
      } else {
        ++i;
      }
    }
  }

  std::unique_ptr<Transport> lower_;
  FaultParams p_;
  std::uint64_t rng_;
  std::size_t slot_size_ = 0;
  std::vector<std::byte> pool_;
  std::vector<Slot> slots_;
  std::vector<Slot*> free_;
  std::vector<Slot*> held_;
  std::deque<Completion> synthetic_;

 public:
  std::uint64_t dropped = 0, duplicated = 0, reordered = 0, delayed = 0;
};

}  // namespace

std::unique_ptr<Transport> open_fault(std::unique_ptr<Transport> lower, const FaultParams& p) {
  return std::make_unique<FaultTransport>(std::move(lower), p);
}

}  // namespace fm::transport
