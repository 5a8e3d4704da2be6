// reliable_wire.hpp - the header FM's reliability layer (reliable.cpp) puts in front of every
// datagram.  Its own file so that tests can speak the protocol to a reliable endpoint.
#pragma once

#include <cstdint>

#include "transport/transport.hpp"

namespace fm::transport {

constexpr std::uint32_t kRelMagic = 0x524c4232;  // "RLB2"
enum : std::uint16_t { kRelData = 1, kRelAck = 2, kRelFin = 3 };
constexpr std::uint16_t kFinHaveYours = 1;  // kRelFin flag: the sender already has our FIN
constexpr std::uint16_t kHasEcho = 2;       // `echo` holds a time to echo

// A time on the wire: microseconds, wrapping (differences of up to 71 minutes are exact).
inline std::uint32_t wire_us(std::uint64_t ns) noexcept {
  return static_cast<std::uint32_t>(ns / 1000);
}

struct RelHdr {
  std::uint32_t magic;
  std::uint16_t type;
  std::uint16_t flags;
  std::uint32_t src;
  std::uint32_t seq;        // kRelData
  std::uint32_t ack;        // next sequence expected from the receiver of this packet
  std::uint32_t sack;       // bit i: ack + 1 + 32 * sack_word + i received
  std::uint16_t sack_word;  // which 32-packet word after `ack` the bitmap covers
  std::uint16_t reserved;
  std::uint32_t ts;    // sending time (us, the sender's clock)
  std::uint32_t echo;  // kHasEcho: `ts` of the oldest packet this one is the first to acknowledge
};
static_assert(sizeof(RelHdr) == kReliableHeader);

}  // namespace fm::transport
