// liveness.cpp - peer failure detection and reporting.
#include "core/liveness.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::core {

// Hydra signals the surviving ranks with SIGUSR1 when a rank's PMI connection closes before it
// finalized (with -disable-auto-cleanup; otherwise it kills the job).  FM takes it as a hint to
// check its peers' liveness now.
volatile sig_atomic_t g_peer_event = 0;

namespace {
void on_sigusr1(int) {
  g_peer_event = 1;
}

int pidfd_open(int pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}
}  // namespace

void install_failure_signal() noexcept {
  struct sigaction old {};
  if (sigaction(SIGUSR1, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) return;  // not ours
  struct sigaction sa {};
  sa.sa_handler = on_sigusr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
}

Liveness::~Liveness() {
  for (Peer& q : s_.peers)
    if (q.link.pidfd >= 0) close(q.link.pidfd);
}

// Liveness of same-host peers through process descriptors (no polling of /proc).
void Liveness::setup() {
  for (unsigned p = 0; p < s_.size; ++p) {
    PeerLink& l = s_.peers[p].link;
    if (p == s_.rank || !l.same_host || l.pid <= 0) continue;
    l.pidfd = pidfd_open(l.pid);
    if (l.pidfd >= 0) {
      pidfds_.push_back(pollfd{l.pidfd, POLLIN, 0});
      pidfd_peer_.push_back(p);
    }
  }
  last_check_ns_ = now_ns();
  quiet_.assign(s_.size, Quiet{});
}

void Liveness::check(bool force) {
  if (g_peer_event) {
    g_peer_event = 0;
    force = true;
  }
  const std::uint64_t now = now_ns();
  if (!force && now - last_check_ns_ < s_.cfg.liveness_ms * 1000000ull) return;
  last_check_ns_ = now;
  if (!pidfds_.empty() && ::poll(pidfds_.data(), pidfds_.size(), 0) > 0) {
    for (std::size_t i = 0; i < pidfds_.size(); ++i)
      if (pidfds_[i].revents != 0) {
        exited(pidfd_peer_[i]);
        pidfds_[i].fd = -pidfds_[i].fd - 1;  // poll ignores negative descriptors
      }
  }
  for (unsigned p = 0; p < s_.size; ++p) {  // same-host peers without a process descriptor
    const PeerLink& l = s_.peers[p].link;
    if (p != s_.rank && l.same_host && l.pidfd < 0 && l.pid > 0 && !l.failed &&
        kill(l.pid, 0) != 0 && errno == ESRCH)
      exited(p);
  }
  // Peers we wait for (a wait on it, e.g. for a zero-copy piece's reader; credits, the rest of a
  // stream, one-sided replies, its BYE), over transports that find a failure only through packets
  // left unacknowledged (FM's reliability layer), or off-host over TCP connections, whose kernels
  // acknowledge: a credit request (harmless) now and then gives them one, so that a peer that
  // became unreachable meanwhile is reported within the peer time-out instead of being waited for
  // forever.  Off-host peers over TCP that nobody waits for are kept alive while quiet.
  waited_.clear();
  bool named = false;
  for (unsigned p = 0; p < s_.size; ++p) {
    Peer& q = s_.peers[p];
    if (p == s_.rank || q.link.failed || q.link.lane < 0) continue;
    const transport::Caps& c = s_.lane_of(p).caps();
    const bool acks = c.host_acks && !q.link.same_host;
    if (!c.probe && !acks) continue;
    if (q.link.waits != 0 || q.tx.credit_requested || q.rx.state == PeerRx::kSuspended ||
        (s_.events != nullptr && s_.events->awaiting(p)) || (s_.finalizing && !q.rx.bye)) {
      (void)send_control(p, kCreditRequest);
      if (acks) waited_.push_back(p);
      named = named || acks;
    } else if (acks && keepalive(p, now)) {
      waited_.push_back(p);
    }
  }
  // Peers waited for are judged at every check, quiet ones at most every eighth of the time-out
  // (a look costs a few system calls per socket).
  if (!waited_.empty() && (named || now - scanned_ns_ >= s_.cfg.peer_timeout_ms * 125000ull)) {
    scanned_ns_ = now;
    unacknowledged();
  }
}

// Whether off-host peer p (over TCP) is quiet and kept alive: no data packets either way for a
// quarter of the peer time-out.  It is then probed every quarter of the time-out while it stays
// quiet, so that its host becoming unreachable is found even when nothing names it: a rank
// blocked in a receive from any source (FM_extract_wait, MPI_Recv, a barrier) or idle between
// exchanges reports it within about 1.5 times the time-out.  Over udp a probe needs the peer
// process's own answer, so a peer computing for longer than the time-out would be taken for dead:
// quiet peers are left alone there.  Only peers we have exchanged data with (probing others
// would open connections to the whole job), and not after their BYE (their process may be gone).
bool Liveness::keepalive(unsigned p, std::uint64_t now) {
  const Peer& q = s_.peers[p];
  if (p >= quiet_.size() || (q.tx.seq == 0 && q.rx.seq == 0) || q.rx.bye) return false;
  Quiet& k = quiet_[p];
  const std::uint64_t quarter = s_.cfg.peer_timeout_ms * 250000ull;
  if (q.tx.seq != k.sent || q.rx.seq != k.received) {
    k.sent = q.tx.seq;
    k.received = q.rx.seq;
    k.since_ns = now;
    return false;
  }
  if (now - k.since_ns < quarter) return false;
  if (now - k.probed_ns >= quarter && send_control(p, kCreditRequest) == FM_SUCCESS)
    k.probed_ns = now;
  return true;
}

// Of the off-host peers over TCP we wait for (waited_), those whose hosts acknowledged nothing
// for the peer time-out (the probes above keep data in flight to them): unreachable, so failed.
// Their kernels acknowledge for stopped or starved processes: a slow peer is not taken for dead.
void Liveness::unacknowledged() {
  for (std::size_t i = 0; i < s_.lanes.size(); ++i) {
    transport::Transport& tp = *s_.lanes[i].tp;
    if (!tp.caps().host_acks) continue;
    lane_peers_.clear();
    for (unsigned p : waited_)
      if (s_.peers[p].link.lane == static_cast<int>(i)) lane_peers_.push_back(p);
    silent_.clear();
    tp.unacknowledged(lane_peers_, s_.cfg.peer_timeout_ms, silent_);
    char why[160];
    std::snprintf(why, sizeof why,
                  "its host acknowledged nothing sent to it over %s for %u ms (unreachable)",
                  tp.caps().name.c_str(), s_.cfg.peer_timeout_ms);
    for (unsigned p : silent_) fail_peer(p, why);
  }
}

void Liveness::warn_stalled(unsigned p, const char* what) const {
  const PeerLink& l = s_.peers[p].link;
  char path[48], state = '?';
  std::snprintf(path, sizeof path, "/proc/%d/stat", l.pid);
  if (FILE* f = std::fopen(path, "r")) {  // "pid (comm) S ...": comm may hold spaces
    char line[512];
    if (std::fgets(line, sizeof line, f) != nullptr)
      if (const char* c = std::strrchr(line, ')'); c != nullptr && c[1] == ' ') state = c[2];
    std::fclose(f);
  }
  FM_WARN(
      "%s: node %u (pid %d, state %c) accepted nothing for %u ms; its process is alive, so "
      "FM keeps waiting",
      what, p, l.pid, state, s_.cfg.peer_timeout_ms);
}

void Liveness::fail_peer(unsigned p, const char* why) {
  PeerLink& l = s_.peers[p].link;
  if (l.failed || p == s_.rank) return;
  l.failed = true;
  l.failure = why;
  unreported_ = true;
  FM_ERROR("node %u (pid %d on %s) failed: %s", p, l.pid, l.host.c_str(), why);
  if (l.lane >= 0) s_.lane_of(p).tp->give_up(p);  // no more retransmissions to it
  if (s_.events != nullptr) s_.events->peer_failed(p);
}

// A same-host peer's process is gone: failed, and its lane drops what the process left behind.
void Liveness::exited(unsigned p) {
  fail_peer(p, "its process exited");
  const PeerLink& l = s_.peers[p].link;
  if (l.lane >= 0) s_.lane_of(p).tp->peer_exited(p, l.pid);
}

int Liveness::peer_error(unsigned p, const char* op) const {
  const PeerLink& l = s_.peers[p].link;
  return fail(FM_EPEERFAILED, "%s: node %u (pid %d on host %s) failed: %s", op, p, l.pid,
              l.host.c_str(), l.failure.c_str());
}

int Liveness::report() {
  unreported_ = false;
  int rc = FM_SUCCESS;
  for (unsigned p = 0; p < s_.size; ++p) {
    PeerLink& l = s_.peers[p].link;
    if (!l.failed || l.failure_reported) continue;
    if (rc == FM_SUCCESS) {
      l.failure_reported = true;
      rc = peer_error(p, "FM_extract");
    } else {
      unreported_ = true;  // one per call
    }
  }
  return rc;
}

int Liveness::send_control(unsigned p, PacketType type) {
  Peer& q = s_.peers[p];
  const PacketHeader h = make_header(s_.rank, type, q.rx.answer_flag(), 0, 0, 0, 0, q.rx.owed);
  Lane& lane = s_.lane_of(p);
  int rc;
  if (lane.caps().inject_size >= sizeof h) {
    rc = lane.tp->inject(p, &h, sizeof h);
  } else {
    Buf* b = s_.tx_free.pop();
    if (b == nullptr) return FM_EAGAIN;
    b->dest = p;
    std::memcpy(b->hdr(), &h, sizeof h);
    const iovec iov{b->hdr(), sizeof h};
    rc = lane.tp->send(p, &iov, 1, &b->op);
    if (rc == FM_SUCCESS)
      ++s_.tx_outstanding;
    else
      s_.tx_free.push(b);
  }
  if (rc == FM_SUCCESS) {
    s_.idle->sent(p);
    (void)q.rx.take_owed();
  } else if (rc != FM_EAGAIN) {
    fail_peer(p, "sending a control packet failed");
  }
  return rc;
}

}  // namespace fm::core
