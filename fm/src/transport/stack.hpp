// stack.hpp - the one place that turns a provider name into an opened transport: the libfabric
// endpoint, FM's reliability layer over datagrams, the fault decorator for tests, or the
// in-process loopback; with the credit window and packet size the lane will use, sized to what
// the opened endpoint can take.  The core sees transports only through this header and
// transport.hpp.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "transport/transport.hpp"

namespace fm::transport {

std::span<const ProviderSpec> providers() noexcept;
// nullptr for an unknown name (and for "auto", which is a policy, not a provider).
const ProviderSpec* find_provider(const std::string& name) noexcept;
inline constexpr const char* kLocalProvider = "shm";  // auto: same-host peers
inline constexpr const char* kNetProvider = "tcp";    // auto: the others

class LoopbackFabric;

struct StackParams {
  OpenParams open;     // the provider (open.spec), interface, rank, size, packet size, wait object
  unsigned peers = 1;  // peers this lane serves (receive buffers are per peer)
  // Credit window policy: FM_CREDITS (0: automatic, 64, or 256 over datagrams), the receive-buffer
  // memory the window must fit in for every peer (FM_RX_MEMORY), and the receive buffers kept per
  // peer beyond it for control packets.
  std::uint32_t credits = 0;
  std::size_t rx_memory = 64u << 20;
  std::uint32_t control_reserve = 8;
  // Datagrams: the reliability layer's parameters (its window is set from the credits).
  ReliableParams reliable;
  // Tests: the loopback fabric (spec "loopback"), a fault decorator on top of the endpoint, and
  // the reliability layer over it even though loopback is reliable.
  std::shared_ptr<LoopbackFabric> loopback;
  const FaultParams* fault = nullptr;
  bool force_reliable = false;
};

// An opened lane's transport and sizes: `packet` is the wire size of the packets it receives
// (header included), `window` the credits per sender it can grant.
struct Stack {
  std::unique_ptr<Transport> tp;
  std::size_t packet = 0;
  std::uint32_t window = 0;
};

// Opens the transport p.spec names with its decorators.  FM_ENOPROVIDER / FM_ETRANSPORT with a
// one-line FM_last_error() (e.g. "libfabric provider verbs;ofi_rxm not available").
int open_stack(const StackParams& p, Stack* out);

// In-process loopback: a fabric of n endpoints living in one process (unit tests).
std::shared_ptr<LoopbackFabric> make_loopback_fabric(unsigned n);
// Packets that arrived with no receive posted (a flow-control violation); tests assert 0.
std::uint64_t loopback_overruns(const LoopbackFabric& fabric);
// The most receive buffers endpoint `rank` had in use at once (taken by packets, not yet reposted).
std::size_t loopback_most_in_use(LoopbackFabric& fabric, unsigned rank);

}  // namespace fm::transport
