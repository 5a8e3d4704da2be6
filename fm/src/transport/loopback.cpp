// loopback.cpp - an in-process fabric of n endpoints, for unit tests that run every rank of a job
// in one process.  Reliable and ordered like an RDM endpoint; a packet that finds no posted receive
// is kept as "unexpected" (as a provider would) and counted as an overrun, which FM's credit flow
// control must never cause; the most receive buffers an endpoint had in use at once (taken by
// packets and not yet posted again) tells how close a run came to that.  A mutex makes it usable
// from one thread per endpoint; this transport is for tests, the hot-path rules apply to the
// libfabric ones.
#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

#include "transport/factories.hpp"
#include "transport/stack.hpp"
#include "util/error.hpp"

namespace fm::transport {

class LoopbackFabric {
 public:
  struct Posted {
    void* buf;
    std::size_t len;
    void* ctx;
  };
  struct Endpoint {
    std::deque<Posted> posted;
    std::deque<std::vector<std::byte>> unexpected;
    std::deque<Completion> cq;
    bool closed = false;  // its transport is gone: packets to it vanish, as on a closed endpoint
    std::size_t most_posted = 0;  // all its buffers (FM posts them all before any traffic)
    std::size_t least_posted = SIZE_MAX;
  };
  explicit LoopbackFabric(unsigned n) : eps(n) {}

  std::mutex mu;
  std::vector<Endpoint> eps;
  std::uint64_t overruns = 0;

  // Delivers bytes to endpoint dst (lock held).
  int deliver(unsigned dst, const iovec* iov, std::size_t iovcnt) {
    Endpoint& ep = eps[dst];
    if (ep.closed) return FM_SUCCESS;
    std::size_t total = 0;
    for (std::size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    if (ep.posted.empty()) {
      ++overruns;
      std::vector<std::byte> copy(total);
      std::size_t off = 0;
      for (std::size_t i = 0; i < iovcnt; ++i) {
        std::memcpy(copy.data() + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
      }
      ep.unexpected.push_back(std::move(copy));
      return FM_SUCCESS;
    }
    Posted p = ep.posted.front();
    ep.posted.pop_front();
    ep.least_posted = std::min(ep.least_posted, ep.posted.size());
    if (total > p.len)
      return fail(FM_ETRANSPORT,
                  "loopback: %zu-byte packet for rank %u exceeds its %zu-byte receive", total, dst,
                  p.len);
    std::size_t off = 0;
    for (std::size_t i = 0; i < iovcnt; ++i) {
      std::memcpy(static_cast<std::byte*>(p.buf) + off, iov[i].iov_base, iov[i].iov_len);
      off += iov[i].iov_len;
    }
    ep.cq.push_back(Completion{Completion::recv, FM_SUCCESS, p.ctx, total});
    return FM_SUCCESS;
  }
};

namespace {

class LoopbackTransport final : public Transport {
 public:
  LoopbackTransport(std::shared_ptr<LoopbackFabric> fabric, unsigned rank, std::size_t packet_size)
      : fabric_(std::move(fabric)), rank_(rank) {
    caps_.name = "loopback";
    caps_.local = true;
    caps_.max_msg = packet_size;
    caps_.inject_size = 256;
    caps_.rx_depth = 1u << 20;
    caps_.tx_depth = 1u << 20;
    caps_.ordered = true;
    caps_.reliable = true;
    caps_.wait_fd = false;
  }

  // The receive buffers posted here belong to the owner and die with it.
  ~LoopbackTransport() override {
    std::lock_guard lk(fabric_->mu);
    auto& ep = fabric_->eps[rank_];
    ep.closed = true;
    ep.posted.clear();
    ep.unexpected.clear();
    ep.cq.clear();
  }

  std::vector<std::byte> address() const override {
    std::vector<std::byte> a(sizeof rank_);
    std::memcpy(a.data(), &rank_, sizeof rank_);
    return a;
  }
  int insert_peers(std::span<const std::vector<std::byte>>) override { return FM_SUCCESS; }

  int post_recv(void* buf, std::size_t len, void* ctx) override {
    std::lock_guard lk(fabric_->mu);
    auto& ep = fabric_->eps[rank_];
    if (!ep.unexpected.empty()) {  // an overrun packet takes the buffer at once
      auto& u = ep.unexpected.front();
      std::memcpy(buf, u.data(), std::min(len, u.size()));
      ep.cq.push_back(Completion{Completion::recv, FM_SUCCESS, ctx, std::min(len, u.size())});
      ep.unexpected.pop_front();
      return FM_SUCCESS;
    }
    ep.posted.push_back({buf, len, ctx});
    ep.most_posted = std::max(ep.most_posted, ep.posted.size());
    return FM_SUCCESS;
  }

  int send(unsigned peer, const iovec* iov, std::size_t iovcnt, void* ctx) override {
    if (peer >= fabric_->eps.size()) return fail(FM_ENODEST, "loopback: no rank %u", peer);
    std::lock_guard lk(fabric_->mu);
    int rc = fabric_->deliver(peer, iov, iovcnt);
    if (rc != FM_SUCCESS) return rc;
    fabric_->eps[rank_].cq.push_back(Completion{Completion::send, FM_SUCCESS, ctx, 0});
    return FM_SUCCESS;
  }

  int inject(unsigned peer, const void* buf, std::size_t len) override {
    if (peer >= fabric_->eps.size()) return fail(FM_ENODEST, "loopback: no rank %u", peer);
    iovec iov{const_cast<void*>(buf), len};
    std::lock_guard lk(fabric_->mu);
    return fabric_->deliver(peer, &iov, 1);
  }

  int poll(Completion* out, int max) override {
    std::lock_guard lk(fabric_->mu);
    auto& cq = fabric_->eps[rank_].cq;
    int n = 0;
    while (n < max && !cq.empty()) {
      out[n++] = cq.front();
      cq.pop_front();
    }
    return n;
  }

  int wait_fd() override { return -1; }
  bool try_wait() override { return false; }

 private:
  std::shared_ptr<LoopbackFabric> fabric_;
  unsigned rank_;
};

}  // namespace

std::shared_ptr<LoopbackFabric> make_loopback_fabric(unsigned n) {
  return std::make_shared<LoopbackFabric>(n);
}

std::unique_ptr<Transport> open_loopback(const std::shared_ptr<LoopbackFabric>& fabric,
                                         unsigned rank, std::size_t packet_size) {
  return std::make_unique<LoopbackTransport>(fabric, rank, packet_size);
}

std::uint64_t loopback_overruns(const LoopbackFabric& fabric) {
  return fabric.overruns;
}

std::size_t loopback_most_in_use(LoopbackFabric& fabric, unsigned rank) {
  std::lock_guard lk(fabric.mu);
  const auto& ep = fabric.eps[rank];
  return ep.least_posted == SIZE_MAX ? 0 : ep.most_posted - ep.least_posted;
}

}  // namespace fm::transport
