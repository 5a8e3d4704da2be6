// stack.cpp - provider names, and opening a lane's transport with its decorators and sizes.
#include "transport/stack.hpp"

#include <algorithm>
#include <cstring>

#include "transport/factories.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::transport {
namespace {

using Impl = ProviderSpec::Impl;
constexpr ProviderSpec k_providers[] = {
    {"shm", nullptr, false, true, true, Impl::shm},
    {"ofi-shm", "shm", false, true, true, Impl::ofi},
    {"tcp", "tcp;ofi_rxm", false, false, true, Impl::ofi},
    {"verbs", "verbs;ofi_rxm", false, false, true, Impl::ofi},
    {"udp", "udp", true, false, false, Impl::ofi},
    {"verbs-ud", "verbs", true, false, false, Impl::ofi},
    {"loopback", nullptr, false, true, false, Impl::loopback},
};

// The largest window (credits per sender) that fits the endpoint's receive queue and the memory
// budget, for `peers` senders of `packet`-byte packets.
std::uint32_t fit_window(const StackParams& p, bool datagram, std::uint32_t depth,
                         std::size_t packet) {
  const std::uint32_t reserve = p.control_reserve;
  const unsigned n = std::max(p.peers, 1u);
  std::uint32_t win = p.credits != 0 ? p.credits : datagram ? 256 : 64;
  if (n * (win + reserve) > depth) win = depth / n > reserve ? depth / n - reserve : 0;
  const std::size_t fit = p.rx_memory / (n * packet);
  if (win + reserve > fit) win = static_cast<std::uint32_t>(fit > reserve + 2 ? fit - reserve : 2);
  if (datagram && p.credits == 0) {
    // The automatic datagram window counts the reliability layer's copies too (a send and a
    // reorder window of twice the credits per peer): the budget shrinks it, down to 64.
    const std::size_t fit5 = fit / 5;
    if (win + reserve > fit5)
      win = static_cast<std::uint32_t>(std::max<std::size_t>(std::min<std::size_t>(win, 64),
                                                             fit5 > reserve ? fit5 - reserve : 0));
  }
  return win;
}

// FM_PACKET_SIZE=auto over tcp: 64 KiB, where ofi_rxm's eager path (its limit raised to match,
// see open_stack) is about twice as fast as 16 KiB packets for 16-256 KiB messages; 32 or 16 KiB
// when the automatic window of larger packets for every peer would not fit FM_RX_MEMORY (64 MiB:
// 64 KiB up to 14 network peers, 32 KiB up to 28), so that big jobs keep their windows.
std::size_t auto_tcp_packet(const StackParams& p) {
  const std::size_t bufs =
      std::size_t{std::max(p.peers, 1u)} * ((p.credits != 0 ? p.credits : 64) + p.control_reserve);
  for (std::size_t packet = 65536; packet > 16384; packet /= 2)
    if (bufs * packet <= p.rx_memory) return packet;
  return 16384;
}

}  // namespace

std::span<const ProviderSpec> providers() noexcept {
  return k_providers;
}

const ProviderSpec* find_provider(const std::string& name) noexcept {
  for (const ProviderSpec& s : k_providers)
    if (name == s.name) return &s;
  return nullptr;
}

int open_stack(const StackParams& p, Stack* out) {
  const ProviderSpec* spec = p.open.spec;
  if (spec == nullptr) return fail(FM_EINVAL, "open_stack: no provider");
  Stack st;
  const std::uint32_t reserve = p.control_reserve;
  ReliableParams rp = p.reliable;
  if (spec->impl == Impl::loopback) {  // loopback (tests): the sizes as asked
    if (!p.loopback) return fail(FM_EINVAL, "open_stack: loopback needs a fabric");
    const bool reliable = p.force_reliable;
    st.packet = p.open.packet_size;
    st.tp = open_loopback(p.loopback, p.open.rank,
                          p.open.packet_size + (reliable ? kReliableHeader : 0));
    if (p.fault != nullptr) st.tp = open_fault(std::move(st.tp), *p.fault);
    st.window = p.credits != 0 ? p.credits : 64;
    if (reliable) {
      rp.window = std::max<std::uint32_t>(64, 2 * (st.window + reserve));
      st.tp = open_reliable(std::move(st.tp), rp);
    }
    *out = std::move(st);
    return FM_SUCCESS;
  }
  OpenParams op = p.open;
  if (spec->impl == Impl::shm) {
    op.rx_depth = std::max(p.peers, 1u) * ((p.credits != 0 ? p.credits : 64) + reserve);
    int rc = open_shm(op, &st.tp);
    if (rc != FM_SUCCESS) return rc;
    const Caps& c = st.tp->caps();
    // a quarter of a ring at most, less FM's reliability header where it is forced (tests)
    st.packet = c.max_msg - (p.force_reliable ? kReliableHeader : 0);
    st.window = fit_window(p, false, c.rx_depth, st.packet);
    if (st.window < 2)
      return fail(FM_ETRANSPORT,
                  "FM_initialize: shm can post only %u receives, too few for %u peers", c.rx_depth,
                  p.peers);
    if (p.fault != nullptr) st.tp = open_fault(std::move(st.tp), *p.fault);
    if (p.force_reliable) {
      rp.window = std::max<std::uint32_t>(64, 2 * (st.window + reserve));
      st.tp = open_reliable(std::move(st.tp), rp);
    }
    *out = std::move(st);
    return FM_SUCCESS;
  }
  const bool tcp = std::strcmp(spec->name, "tcp") == 0;
  const bool automatic = p.open.packet_size == 0;  // FM_PACKET_SIZE=auto
  const std::size_t want = !automatic ? p.open.packet_size : tcp ? auto_tcp_packet(p) : 16384;
  if (spec->datagram) {
    op.packet_size = 512;  // sized to the datagram limit below
    op.rx_depth = 1024;
  } else {
    op.packet_size = want;
    op.rx_depth = std::max(p.peers, 1u) * ((p.credits != 0 ? p.credits : 64) + reserve);
    // ofi_rxm's eager limit (16 KiB) bounds FM's packets (Caps::ordered_msg); over tcp, FM raises
    // it to them, 64 KiB at least, unless the user set it (the same in every process, as rxm
    // needs).  Not over verbs, where rxm receives eager messages into registered buffers of its
    // own: untried here, without a device.
    if (tcp) op.rxm_eager = std::max<std::size_t>(want, 65536);
  }
  int rc = open_ofi(op, &st.tp);
  if (rc != FM_SUCCESS) return rc;
  const Caps& c = st.tp->caps();
  // datagrams: packets as large as a datagram, under FM's reliability header
  st.packet = spec->datagram ? std::min(want, c.max_msg - c.prefix) - kReliableHeader
                             : std::min(want, c.ordered_msg);
  if (!spec->datagram && st.packet < want) {
    if (st.packet < 512)
      return fail(FM_EINVAL,
                  "FM_initialize: %s's eager limit of %zu bytes (FI_OFI_RXM_EAGER_LIMIT) is below "
                  "FM's smallest packet, 512 bytes",
                  c.name.c_str(), c.ordered_msg);
    if (automatic)
      FM_INFO("%s's eager limit is %zu bytes (FI_OFI_RXM_EAGER_LIMIT), so are its packets",
              c.name.c_str(), c.ordered_msg);
    else
      FM_WARN(
          "FM_PACKET_SIZE=%zu exceeds %s's eager limit of %zu bytes (FI_OFI_RXM_EAGER_LIMIT): "
          "larger messages may complete out of order there, so its packets are %zu bytes",
          want, c.name.c_str(), c.ordered_msg, st.packet);
  }
  st.window = fit_window(p, spec->datagram, c.rx_depth, st.packet);
  if (st.window < 2)
    return fail(FM_ETRANSPORT, "FM_initialize: %s can post only %u receives, too few for %u peers",
                c.name.c_str(), c.rx_depth, p.peers);
  if (p.fault != nullptr) st.tp = open_fault(std::move(st.tp), *p.fault);
  if (spec->datagram || p.force_reliable) {  // FM's own reliability, its windows sized to credits
    rp.window = std::max<std::uint32_t>(64, 2 * (st.window + reserve));
    st.tp = open_reliable(std::move(st.tp), rp);
  }
  *out = std::move(st);
  return FM_SUCCESS;
}

}  // namespace fm::transport
