// state.cpp - the shared state's set-up: peers from the wiring, the packet slab, receives posted.
#include "core/state.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "util/error.hpp"

namespace fm::core {
namespace {

constexpr std::uint32_t kTxBufs = 128;

std::size_t round_up(std::size_t v, std::size_t a) {
  return (v + a - 1) / a * a;
}

}  // namespace

constinit thread_local Context* t_current FM_TLS_FAST = nullptr;
Context* g_default = nullptr;

void set_default(Context* c) noexcept {
  g_default = c;
}
Context* default_context() noexcept {
  return g_default;
}
ScopedCurrent::ScopedCurrent(Context* c) noexcept : saved(t_current) {
  t_current = c;
}
ScopedCurrent::~ScopedCurrent() {
  t_current = saved;
}

int State::setup(Wiring&& w) {
  cfg = w.cfg;
  rank = w.rank;
  size = w.size;
  lanes = std::move(w.lanes);
  boot = std::move(w.boot);
  board = std::move(w.board);
  idle = w.idle ? std::move(w.idle) : std::make_unique<Idle>();
  oversubscribed = w.oversubscribed;
  fabric = std::move(w.fabric);
  std::size_t self_packet = cfg.packet();
  for (const Lane& l : lanes) {
    if (l.caps().max_msg < l.packet)
      return fail(FM_EINVAL, "packet size %zu exceeds transport %s's largest message (%zu)",
                  l.packet, l.caps().name.c_str(), l.caps().max_msg);
    self_packet = std::max(self_packet, l.packet);
  }
  max_rx_payload = self_packet - sizeof(PacketHeader);

  peers.resize(size);
  std::vector<std::uint32_t> rx_per_lane(lanes.size(), 0);
  for (unsigned p = 0; p < size; ++p) {
    Peer& q = peers[p];
    q.link.lane = w.peer_lane[p];
    q.link.host = p < w.hosts.size() ? w.hosts[p] : std::string();
    q.link.pid = p < w.pids.size() ? w.pids[p] : 0;
    q.link.same_host = p == rank || (!q.link.host.empty() && q.link.host == w.hosts[rank]);
    q.tx.window = p == rank ? cfg.window(false) : w.windows[p];
    q.tx.payload = static_cast<std::uint32_t>((p == rank ? self_packet : w.peer_packet[p]) -
                                              sizeof(PacketHeader));
    q.tx.credits = q.tx.window;
    q.tx.acked = p < w.acked.size() && p != rank ? w.acked[p] : nullptr;
    if (q.link.lane >= 0) {
      const auto l = static_cast<std::size_t>(q.link.lane);
      rx_per_lane[l] += lanes[l].window + kControlReserve;
    }
  }
  // one slab: receive buffers per lane, send buffers, self buffers
  const std::uint32_t ntx = lanes.empty() ? 0 : kTxBufs;
  const std::uint32_t nself = cfg.window(false);
  std::size_t tx_packet = 0;
  for (unsigned p = 0; p < size; ++p)
    if (p != rank) tx_packet = std::max(tx_packet, w.peer_packet[p]);
  auto stride = [](std::size_t packet) { return round_up(sizeof(Buf) + packet, 64); };
  slab_size = ntx * stride(tx_packet) + nself * stride(self_packet);
  for (std::size_t l = 0; l < lanes.size(); ++l)
    slab_size += rx_per_lane[l] * stride(lanes[l].packet);
  slab_size = round_up(slab_size, 4096);
  slab = static_cast<std::byte*>(std::aligned_alloc(4096, slab_size));
  if (slab == nullptr)
    return fail(FM_ENOMEM, "FM_initialize: cannot allocate %zu bytes of packet buffers", slab_size);
  std::byte* cursor = slab;
  auto take = [&](Buf::Pool pool, std::size_t packet) {
    Buf* b = reinterpret_cast<Buf*>(cursor);
    cursor += stride(packet);
    std::memset(static_cast<void*>(b), 0, sizeof *b);
    b->op.kind = pool == Buf::kRx ? OpCtx::kRecvBuf : OpCtx::kSendBuf;
    b->pool = pool;
    return b;
  };
  for (std::size_t l = 0; l < lanes.size(); ++l) {
    for (std::uint32_t i = 0; i < rx_per_lane[l]; ++i) {
      Buf* b = take(Buf::kRx, lanes[l].packet);
      b->lane = static_cast<std::uint8_t>(l);
      const int rc = lanes[l].tp->post_recv(b->hdr(), lanes[l].packet, &b->op);
      if (rc != FM_SUCCESS)
        return fail(rc, "FM_initialize: posting receive %u of %u on %s failed: %s", i,
                    rx_per_lane[l], lanes[l].caps().name.c_str(), last_error());
    }
  }
  for (std::uint32_t i = 0; i < ntx; ++i) tx_free.push(take(Buf::kTx, tx_packet));
  for (std::uint32_t i = 0; i < nself; ++i) self_free.push(take(Buf::kSelf, self_packet));
  std::size_t inject_max = 0;
  for (const Lane& l : lanes) inject_max = std::max(inject_max, l.caps().inject_size);
  scratch.assign(std::min(inject_max, tx_packet) + 64, std::byte{0});
  return FM_SUCCESS;
}

State::~State() {
  lanes.clear();  // close endpoints before freeing the buffers posted to them
  std::free(slab);
}

}  // namespace fm::core
