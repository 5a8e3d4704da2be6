// transport.cpp - defaults of the transport interface's optional operations.
#include "transport/transport.hpp"

#include "util/error.hpp"

namespace fm::transport {

// Optional operations a transport does not offer.
int Transport::expose(const void*, std::size_t, Region*, bool) {
  return fail(FM_EUNSUPPORTED, "%s: no RMA", caps_.name.c_str());
}
void Transport::unexpose(Region*) {}
int Transport::write(unsigned, const void*, std::size_t, std::uint64_t, std::uint64_t, void*) {
  return fail(FM_EUNSUPPORTED, "%s: no RMA", caps_.name.c_str());
}
int Transport::read(unsigned, void*, std::size_t, std::uint64_t, std::uint64_t, void*) {
  return fail(FM_EUNSUPPORTED, "%s: no RMA", caps_.name.c_str());
}

}  // namespace fm::transport
