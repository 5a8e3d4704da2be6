// liveness.hpp - which peers are alive, and the bounds of every wait.
//
// A peer is declared failed (fail_peer, once) when its process exits (same-host peers: process
// descriptors, checked when idle or stalled at most every FM_LIVENESS_MS and at once on Hydra's
// SIGUSR1), when the transport gives up on it (unacknowledged for the peer time-out, a failed
// send), when it is off-host over TCP and its host acknowledges nothing for the peer time-out
// (while FM waits for it, or kept alive while it is quiet: Liveness::keepalive), or when its
// packets break FIFO.  Failures are reported once each by FM_extract
// (report()).
#pragma once

#include <poll.h>
#include <signal.h>

#include <cstdint>
#include <vector>

#include "core/state.hpp"

namespace fm::core {

// Set asynchronously when the launcher signals a peer failure (SIGUSR1 from Hydra).
extern volatile sig_atomic_t g_peer_event;
// Installs FM's SIGUSR1 handler unless the application has one.
void install_failure_signal() noexcept;

class Liveness {
 public:
  explicit Liveness(State& s) : s_(s) {}
  ~Liveness();
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  // Opens process descriptors of same-host peers (after State::setup).
  void setup();

  // Checks peers' liveness if FM_LIVENESS_MS has passed since the last check (or force, or a
  // launcher signal): same-host processes, and a probe to peers we wait for over transports that
  // find failures only through unacknowledged packets.
  void check(bool force = false);
  // Declares p failed (once), with the reason; tells the parts above (Events::peer_failed).
  void fail_peer(unsigned p, const char* why);
  // FM_EPEERFAILED with a message naming p, its process and host, and why it failed.
  int peer_error(unsigned p, const char* op) const;
  // The first failure not yet reported (one per call), or FM_SUCCESS.
  int report();
  bool unreported() const noexcept { return unreported_; }

  // Whether p's liveness is known exactly: a process of this host we hold a process descriptor
  // of, not failed.  Waits on such a peer need no time-out: its death is seen at once, and a
  // peer that is alive but starved of CPU (stopped, or ranks > CPUs) must not be declared failed.
  bool exact(unsigned p) const noexcept {
    if (p >= s_.size) return false;  // waits on every node (finalize) keep their bound
    const PeerLink& l = s_.peers[p].link;
    return l.same_host && l.pidfd >= 0 && !l.failed;
  }
  // Warns (once per wait) that p, alive, has accepted nothing for the peer time-out: what it is
  // doing from /proc/PID/stat (e.g. T: stopped).
  void warn_stalled(unsigned p, const char* what) const;

  // A control packet (credits, credit request, BYE) to p; a transport error fails p.
  // FM_EAGAIN when the transport cannot take it now.
  int send_control(unsigned p, PacketType type);

 private:
  void exited(unsigned p);
  bool keepalive(unsigned p, std::uint64_t now);
  void unacknowledged();

  State& s_;
  std::uint64_t last_check_ns_ = 0;
  bool unreported_ = false;
  std::vector<pollfd> pidfds_;
  std::vector<unsigned> pidfd_peer_;
  std::vector<unsigned> waited_, lane_peers_, silent_;  // unacknowledged()
  // keepalive(): per node, the data packets seen each way at the last check, since when they
  // have not changed, and when it was last probed for being quiet
  struct Quiet {
    std::uint64_t sent = 0;
    std::uint32_t received = 0;
    std::uint64_t since_ns = 0, probed_ns = 0;
  };
  std::vector<Quiet> quiet_;
  std::uint64_t scanned_ns_ = 0;  // the last look at the transports' acknowledgements
};

}  // namespace fm::core
