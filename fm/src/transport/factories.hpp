// factories.hpp - private to the transport layer (and its unit tests): the concrete transports'
// constructors.  The core opens transports through stack.hpp only.
#pragma once

#include <memory>

#include "transport/transport.hpp"

namespace fm::transport {

class LoopbackFabric;

// Opens a libfabric endpoint for params.spec (an RDM endpoint, or a DGRAM one for datagram
// providers).  On failure returns FM_ENOPROVIDER / FM_ETRANSPORT with a one-line explanation in
// FM_last_error() (e.g. "libfabric provider verbs;ofi_rxm not available").
int open_ofi(const OpenParams& params, std::unique_ptr<Transport>* out);

// FM's own transport between processes of one host (shm.cpp).
int open_shm(const OpenParams& params, std::unique_ptr<Transport>* out);

// The fault-injecting decorator (FaultParams in transport.hpp).
std::unique_ptr<Transport> open_fault(std::unique_ptr<Transport> lower, const FaultParams& p);

// FM's reliability over an unreliable transport (ReliableParams in transport.hpp).
std::unique_ptr<Transport> open_reliable(std::unique_ptr<Transport> lower, const ReliableParams& p);

// An endpoint of an in-process loopback fabric (make_loopback_fabric in stack.hpp).
std::unique_ptr<Transport> open_loopback(const std::shared_ptr<LoopbackFabric>& fabric,
                                         unsigned rank, std::size_t packet_size);

}  // namespace fm::transport
