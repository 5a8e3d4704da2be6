// idle.hpp - what a node does when it has nothing to do, and what it tells its host about it.
//
// Waits run in two phases (implicit coscheduling, Arpaci-Dusseau et al., SIGMETRICS'98): they
// spin for an adaptive bound (FM_SPIN_MIN_US..FM_SPIN_US: longer while spinning pays off), then,
// when the host is contended (FM_IDLE), sleep until something can end them.  Network lanes wake
// a sleeper through their completion queue's descriptor; libfabric's shm has none, so each
// process has a doorbell of its own, a pipe its same-host peers write one byte to after sending
// to it, only when its status page says it sleeps (one load of a mostly clean line, and a
// system call only on the slow path).
//
// The status page (fm/fm_cosched.h) is an anonymous memory file shared with the same-host
// peers (read-only: the doorbell state) and with the host's coscheduling daemon, fm-dcsd, when
// one listens (FM_COSCHED): what the process is doing, packets sent to and taken from each
// same-host rank, so the daemon sees who has messages pending while it does not run and boosts
// it (demand-based coscheduling, Sobalvarro et al., JSSPP'98).  Peers open the page and the
// doorbell through /proc/PID/fd like the board (board.hpp): nothing is left behind.
#pragma once

#include <fm/fm_cosched.h>
#include <fm/fm_topology.h>
#include <poll.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "util/config.hpp"

namespace fm::core {

class Idle {
 public:
  Idle() = default;
  ~Idle();
  Idle(const Idle&) = delete;
  Idle& operator=(const Idle&) = delete;

  // The page and the doorbell of node `rank` (of `size`).  Without them (no memfd, or a test
  // that makes none) waits still work: they sleep in short naps instead.
  int create(const Config& cfg, unsigned rank, unsigned size);
  // What same-host peers need to attach it ("PID:PAGEFD:BELLFD:NONCE"), or "-".
  std::string name() const;
  // Line 0 of the page, once round 1 says who is where: the job's same-host ranks (`local`:
  // per node its index among them, or -1) and the job's identity.
  void describe(const std::vector<int>& local, std::uint64_t job, bool oversubscribed);
  // Maps same-host node `peer`'s page (read-only) and opens its doorbell; false (with
  // FM_last_error()) when that fails: it is then never rung, and its sleeps are bounded.
  bool attach(const std::string& name, unsigned peer);
  // FM_COSCHED=auto: registers with the host's fm-dcsd, when one listens (FM_COSCHED_SOCKET).
  void register_daemon();
  // FM_BIND.
  void bind_cpu();
  // FM_SLICE_US (us, 0: none): the calling (FM) thread's scheduler slice; finalize() gives the
  // old one back.  Also without create() (a single node).
  void set_slice(std::uint32_t us);
  // FM_finalize: the page says so, the daemon hears BYE, the slice is the program's again.
  void finalize();

  bool active() const noexcept { return page_ != nullptr; }
  const fm_dcs_page* page() const noexcept { return page_; }
  int daemon_cpus() const noexcept { return daemon_cpus_; }
  bool daemon_connected() const noexcept { return sock_ >= 0; }

  // ---- hot path: a packet left for `dest`, a packet arrived from `src`
  // fenced: the transport issued a sequentially consistent fence after making the packet
  // visible (Caps::fenced), which serves the doorbell's Dekker check too.
  void sent(unsigned dest, bool fenced = false) noexcept {
    if (dest >= local_.size() || local_[dest] < 0) return;
    bump(&page_->sent[local_[dest]]);
    if (ring_) ring(dest, fenced);
  }
  void taken(unsigned src) noexcept {
    if (src < local_.size() && local_[src] >= 0) bump(&page_->taken[local_[src]]);
  }
  // FM_notify: wakes same-host node `dest` if it sleeps (after a direct store into its memory).
  void notify(unsigned dest) noexcept {
    if (dest < local_.size() && local_[dest] >= 0) ring(dest, false);
  }

  // ---- waiting
  // Whether waits sleep after spinning, now (FM_IDLE, and for auto what the host looks like).
  bool blocks() noexcept;
  // The spin bound now, in ns: 0 while the daemon boosts us (a real-time thread that spins
  // keeps its peers off the CPU).
  std::uint64_t spin_ns() const noexcept;
  // The same for a wait that yields the CPU while it polls (the host is contended):
  // FM_YIELD_US, unless boosted.
  std::uint64_t yield_ns() const noexcept {
    const std::uint64_t s = spin_ns();
    return s == 0 ? 0 : std::max<std::uint64_t>(s, std::uint64_t{cfg_.yield_us} * 1000);
  }
  void enter_wait() noexcept;  // phase 1 begins
  struct WaitScope {           // enter_wait ... leave_wait
    explicit WaitScope(Idle& i) noexcept : idle(i) { idle.enter_wait(); }
    ~WaitScope() { idle.leave_wait(); }
    WaitScope(const WaitScope&) = delete;
    WaitScope& operator=(const WaitScope&) = delete;
    Idle& idle;
  };
  // The wait ended (computing again).  A boost the daemon gave us for the wait ends here too:
  // the thread returns to its own scheduling policy at once (lowering needs no privilege), so a
  // boosted rank never computes at real-time priority until the daemon's next look.
  void leave_wait() noexcept {
    set_state(FM_DCS_COMPUTING);
    if (sock_ >= 0 && __atomic_load_n(&page_->boosted, __ATOMIC_RELAXED) != 0) unboost();
  }
  // Phase 2: announces the sleep.  The caller then checks once more for anything that ends the
  // wait (a sender that missed the announcement did so before its packet was visible), and
  // calls sleep() only if there was none; disarm() in every case.
  // waiting = false: the progress thread's park (the page's state stays what the program's
  // thread does).
  void arm(bool waiting = true) noexcept;
  // Sleeps on the doorbell and `fds` (lanes' wait objects) for at most timeout_ms.
  void sleep(pollfd* fds, nfds_t nfds, int timeout_ms) noexcept;
  void disarm(std::uint64_t slept_ns) noexcept;
  // Whether the doorbell wakes us for every same-host sender.
  bool covered() const noexcept { return covered_; }

  // ---- the progress thread's parking (Context::park).  It sleeps without the API lock, beside
  // the program's own calls and waits.  It never drains the doorbell then: a ring that the
  // program sleeps for stays the program's.  A wait of the program that ends kicks it (the
  // wait's disarm cleared the flag peers look at before ringing), and so do the program's calls
  // that leave work behind (Context::leave_api); it then arms again or works.
  // Whether it may: peers ring doorbells (FM_IDLE is not poll: the job's setting), and the
  // doorbell and the kick exist.
  bool can_park() const noexcept;
  void park_begin() noexcept { parked_.store(true, std::memory_order_relaxed); }
  // Sleeps on the kick, the doorbell and fds for at most timeout_ms (without the lock).
  void park_sleep(pollfd* fds, nfds_t nfds, int timeout_ms) noexcept;
  // Under the lock again: disarmed quietly, the doorbell and the kick drained.
  void park_end() noexcept;
  bool parked() const noexcept { return parked_.load(std::memory_order_relaxed); }
  // A thread of the program sleeps in a wait's phase 2 (and holds the API lock meanwhile).
  bool program_asleep() const noexcept {
    return page_ != nullptr &&
           __atomic_load_n(&page_->state, __ATOMIC_RELAXED) == std::uint32_t{FM_DCS_BLOCKED};
  }
  void kick() noexcept;
  std::uint64_t kicks() const noexcept { return kicks_.load(std::memory_order_relaxed); }

  // counters (FM_STATS, tests)
  std::uint64_t waits() const noexcept { return waits_; }
  std::uint64_t sleeps() const noexcept { return sleeps_; }
  std::uint64_t rings() const noexcept { return rings_; }

 private:
  static void bump(std::uint64_t* w) noexcept {
    std::atomic_ref<std::uint64_t> a(*w);
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void ring(unsigned dest, bool fenced) noexcept;
  [[gnu::cold]] void ring_slow(unsigned dest, std::uint64_t epoch) noexcept;
  [[gnu::cold]] void refresh() noexcept;
  void set_state(std::uint32_t st) noexcept;
  [[gnu::cold]] void unboost() noexcept;
  fm_dcs_msg message(std::uint16_t type) const noexcept;  // to the daemon, about us

  Config cfg_;
  unsigned rank_ = 0;
  fm_dcs_page* page_ = nullptr;
  int page_fd_ = -1;
  int bell_r_ = -1, bell_w_ = -1;  // our doorbell
  bool ring_ = false;              // we ring peers (FM_IDLE is not poll)
  bool covered_ = false;           // every same-host peer attached: they ring us
  bool oversubscribed_ = false;    // this job alone has more ranks here than CPUs
  std::uint64_t load_checked_ns_ = 0, load_until_ns_ = 0;
  FM_load_probe load_{};    // the host's CPU pressure between two looks (fm/fm_topology.h)
  std::vector<int> local_;  // per node: local rank, or -1
  struct PeerBell {
    const fm_dcs_page* page = nullptr;
    int fd = -1;
    std::uint64_t rang = 0;  // the sleep we last rang for (its block_epoch)
  };
  std::vector<PeerBell> peers_;
  std::uint64_t spin_cur_ns_ = 0;
  std::uint64_t waits_ = 0, sleeps_ = 0, rings_ = 0;
  // the daemon
  int sock_ = -1;
  int daemon_cpus_ = 0;
  std::uint64_t job_ = 0;
  std::uint64_t retry_ns_ = 0;
  int own_policy_ = 0;  // our FM thread's scheduling policy and priority at set-up
  int own_prio_ = 0;
  pid_t slice_tid_ = 0;             // the thread FM_SLICE_US changed (0: none)
  std::uint64_t slice_old_ns_ = 0;  // and its slice before
  std::uint64_t unboosted_ = 0;     // the daemon's boost count when we last returned to them
  // the progress thread's parking
  int kick_fd_ = -1;  // eventfd: wakes a parked progress thread
  std::atomic<bool> parked_{false};
  std::atomic<std::uint64_t> kicks_{0};
};

}  // namespace fm::core
