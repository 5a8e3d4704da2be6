// config.hpp - every tunable declared once (name, type, default, help).  Programmatic values come
// first; FM_<NAME> environment variables override them; `fm_info -c` prints the table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fm {

struct Config {
  std::string provider = "auto";        // auto | shm | tcp | verbs | loopback
  std::size_t packet_size = 16384;      // network packets: wire bytes, header included
  std::size_t shm_packet_size = 65568;  // shm packets: 64 KiB payload + header
  std::size_t rx_memory = 64u << 20;    // receive buffers per transport; windows shrink to fit
  // Pieces this large are pulled by RMA read over shm (0: never).  Above the shm inject size the
  // read beats copying through packets (8 KiB ping-pong 3.3 -> 2.2 us; streaming 4 KiB -5 %,
  // 16 KiB +30 %), as Open MPI's vader switches to single copy above 4 KiB.
  std::size_t zcopy_shm = 4096;
  std::size_t zcopy_net = 32768;  // the same over tcp/verbs (0: never)
  // Packets a sender may have unconsumed at one receiver.  0 (automatic): 64, and over datagram
  // transports (udp, verbs-ud; 1.4-4 KB packets) 256, shrunk to fit rx_memory but not below 64.
  std::uint32_t credits = 0;
  std::size_t handler_stack = 256 * 1024;  // stack of a handler that may suspend
  std::uint32_t spin_us = 50;              // FM_extract_wait spins this long before sleeping
  std::string wait = "auto";               // FM_WAIT: auto | fd | poll (how FM_extract_wait sleeps)
  std::uint32_t peer_timeout_ms = 10000;   // a peer silent this long while awaited is failed
  std::uint32_t liveness_ms = 200;         // how often idle/stalled callers check peers' liveness
  std::uint32_t rto_min_us = 0;            // udp: floor of the retransmission time-out; 0: auto
  std::uint32_t progress_thread = 0;       // FM_PROGRESS_THREAD: extract in a background thread
  std::uint32_t progress_us = 100;         // its sleep between idle polls
  std::string rma = "emulated";  // FM_RMA: emulated | native (where the transport has RMA)
  std::uint32_t stats = 0;       // FM_STATS: time handlers, print statistics at finalize
  std::string iface;             // network interface for tcp (default: the provider's choice)

  // Applies FM_* environment overrides.  Returns 0, or FM_EINVAL with FM_last_error() naming the
  // variable.
  int apply_env();

  // The credit window before a transport's limits: `credits`, or its automatic value.
  std::uint32_t window(bool datagrams) const noexcept {
    return credits != 0 ? credits : datagrams ? 256 : 64;
  }
};

struct ConfigEntry {
  const char* name;  // environment variable
  const char* type;
  const char* def;
  const char* help;
};
// The table of tunables, terminated by {nullptr...}.
const ConfigEntry* config_table() noexcept;

}  // namespace fm
