// idle.cpp - see idle.hpp.
#include "core/idle.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <random>

#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/membarrier.hpp"
#include "util/memfd.hpp"

namespace fm::core {

static_assert(sizeof(fm_dcs_page) <= FM_DCS_PAGE_BYTES, "the status page outgrew its size");
static_assert(offsetof(fm_dcs_page, blocked) == 64 && offsetof(fm_dcs_page, state) == 128 &&
                  offsetof(fm_dcs_page, daemon_gen) == 192 && offsetof(fm_dcs_page, sent) == 256,
              "one writer per cache line");

namespace {

std::uint32_t load32(const std::uint32_t* w) noexcept {
  return __atomic_load_n(w, __ATOMIC_RELAXED);
}
void store32(std::uint32_t* w, std::uint32_t v) noexcept {
  __atomic_store_n(w, v, __ATOMIC_RELAXED);
}

int allowed_cpus() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

// The n-th CPU of this thread's allowed set (modulo its size), or -1.
int nth_allowed_cpu(unsigned n) noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) == 0) return -1;
  unsigned k = n % static_cast<unsigned>(CPU_COUNT(&set));
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set) && k-- == 0) return c;
  return -1;
}

}  // namespace

Idle::~Idle() {
  finalize();
  for (PeerBell& p : peers_) {
    if (p.page != nullptr) munmap(const_cast<fm_dcs_page*>(p.page), FM_DCS_PAGE_BYTES);
    if (p.fd >= 0) ::close(p.fd);
  }
  if (page_ != nullptr) munmap(page_, FM_DCS_PAGE_BYTES);
  for (int fd : {page_fd_, bell_r_, bell_w_, kick_fd_})
    if (fd >= 0) ::close(fd);
}

int Idle::create(const Config& cfg, unsigned rank, unsigned size) {
  cfg_ = cfg;
  rank_ = rank;
  ring_ = cfg.idle != "poll";
  spin_cur_ns_ = std::uint64_t{cfg.spin_us} * 1000;
  peers_.assign(size, PeerBell{});
  void* p = nullptr;
  if (const int e = memfd::create_sealed("fm-status", FM_DCS_PAGE_BYTES, &page_fd_, &p); e != 0)
    return fail(FM_ENOMEM, "a status page: %s", strerror(e));
  page_ = static_cast<fm_dcs_page*>(p);
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    munmap(page_, FM_DCS_PAGE_BYTES);
    page_ = nullptr;
    return fail(FM_ENOMEM, "a doorbell pipe: %s", strerror(errno));
  }
  bell_r_ = fds[0];
  bell_w_ = fds[1];  // kept open: the read end never sees end-of-file
  kick_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);  // < 0: the progress thread never parks
  std::random_device rd;
  page_->magic = FM_DCS_PAGE_MAGIC;
  page_->version = FM_DCS_VERSION;
  page_->pid = static_cast<std::int32_t>(getpid());
  page_->tid = static_cast<std::int32_t>(gettid());
  page_->rank = rank;
  page_->size = size;
  page_->nonce = (std::uint64_t{rd()} << 32) | rd();
  page_->spin_us = cfg.spin_us;
  own_policy_ = sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
  sched_param sp{};
  if (own_policy_ < 0 || sched_getparam(0, &sp) != 0) own_policy_ = SCHED_OTHER;
  own_prio_ = sp.sched_priority;
  return FM_SUCCESS;
}

std::string Idle::name() const {
  if (page_ == nullptr) return "-";
  char b[96];
  std::snprintf(b, sizeof b, "%d:%d:%d:%016" PRIx64, static_cast<int>(getpid()), page_fd_, bell_w_,
                page_->nonce);
  return b;
}

void Idle::describe(const std::vector<int>& local, std::uint64_t job, bool oversubscribed) {
  oversubscribed_ = oversubscribed;
  job_ = job;
  if (page_ == nullptr) return;
  unsigned n = 0;
  for (int l : local) n += l >= 0 ? 1 : 0;
  if (n > FM_DCS_MAX_LOCAL || rank_ >= local.size() || local[rank_] < 0) {
    FM_WARN("%u ranks of the job on this host: beyond what a status page counts (%d)", n,
            FM_DCS_MAX_LOCAL);
    return;  // no counts; the doorbell still works
  }
  local_ = local;
  page_->local_rank = static_cast<std::uint32_t>(local[rank_]);
  page_->local_size = n;
  page_->job = job;
  covered_ = n <= 1;
}

bool Idle::attach(const std::string& name, unsigned peer) {
  int pid = 0, pfd = -1, bfd = -1, used = 0;
  std::uint64_t nonce = 0;
  if (peer >= peers_.size() ||
      std::sscanf(name.c_str(), "%d:%d:%d:%" SCNx64 "%n", &pid, &pfd, &bfd, &nonce, &used) != 4 ||
      static_cast<std::size_t>(used) != name.size()) {
    fail(FM_ELAUNCH, "node %u published no status page (\"%s\")", peer, name.c_str());
    return false;
  }
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd/";
  void* p = nullptr;
  std::size_t len = 0;
  if (const int e = memfd::map_peer(pid, pfd, PROT_READ, FM_DCS_PAGE_BYTES, &p, &len); e != 0) {
    fail(FM_ELAUNCH, "node %u's status page (%s%d) cannot be opened or mapped: %s", peer,
         dir.c_str(), pfd, strerror(e));
    return false;
  }
  const auto* pg = static_cast<const fm_dcs_page*>(p);
  if (len != FM_DCS_PAGE_BYTES || pg->magic != FM_DCS_PAGE_MAGIC || pg->nonce != nonce ||
      pg->rank != peer || pg->pid != pid) {
    munmap(p, len);
    fail(FM_ELAUNCH, "%s%d is not node %u's status page", dir.c_str(), pfd, peer);
    return false;
  }
  const int b = memfd::open_peer(pid, bfd, O_WRONLY | O_NONBLOCK);
  if (b < 0) {
    munmap(p, FM_DCS_PAGE_BYTES);
    fail(FM_ELAUNCH, "node %u's doorbell (%s%d) cannot be opened: %s", peer, dir.c_str(), bfd,
         strerror(errno));
    return false;
  }
  peers_[peer].page = pg;
  peers_[peer].fd = b;
  unsigned want = 0, have = 0;
  for (std::size_t r = 0; r < local_.size(); ++r) {
    if (r == rank_ || local_[r] < 0) continue;
    ++want;
    have += peers_[r].page != nullptr ? 1 : 0;
  }
  covered_ = have == want;
  return true;
}

void Idle::ring(unsigned dest, bool fenced) noexcept {
  const PeerBell& b = peers_[dest];
  if (b.page == nullptr) return;
  // Dekker with the sleeper's arm(): our packet is in its queue before we look at its flag, its
  // flag is set before it looks at its queue; one of us sees the other.
  if (!fenced) std::atomic_thread_fence(std::memory_order_seq_cst);
  // (acquire: the epoch read next is at least the one arm() stored before `blocked`)
  if (__atomic_load_n(&b.page->blocked, __ATOMIC_ACQUIRE) == 0) return;
  const std::uint64_t epoch = __atomic_load_n(&b.page->block_epoch, __ATOMIC_ACQUIRE);
  if (epoch != b.rang) ring_slow(dest, epoch);
}

void Idle::ring_slow(unsigned dest, std::uint64_t epoch) noexcept {
  PeerBell& b = peers_[dest];
  b.rang = epoch;
  ++rings_;
  const char c = 0;
  (void)!::write(b.fd, &c, 1);  // EAGAIN: full, rung anyway
}

void Idle::set_state(std::uint32_t st) noexcept {
  if (page_ != nullptr) store32(&page_->state, st);
}

bool Idle::blocks() noexcept {
  if (cfg_.idle == "block") return true;
  if (cfg_.idle == "poll") return false;
  if (oversubscribed_) return true;
  const std::uint64_t now = now_ns();
  if (now - load_checked_ns_ > 100'000'000) {  // at most every 100 ms
    load_checked_ns_ = now;
    refresh();
    // another job busy-polling shows as tasks waiting for a CPU: block for a while
    if (FM_load_sample(&load_, static_cast<unsigned>(allowed_cpus())) >= FM_LOAD_CONTENDED)
      load_until_ns_ = now + 2'000'000'000;
  }
  if (sock_ >= 0 && page_ != nullptr && load32(&page_->host_contended) != 0) return true;
  return now < load_until_ns_;
}

std::uint64_t Idle::spin_ns() const noexcept {
  if (sock_ >= 0 && page_ != nullptr && load32(&page_->boosted) != 0 &&
      __atomic_load_n(&page_->boosts, __ATOMIC_RELAXED) != unboosted_)
    return 0;
  return spin_cur_ns_;
}

void Idle::enter_wait() noexcept {
  ++waits_;
  if (page_ == nullptr) return;
  set_state(FM_DCS_SPINNING);
  __atomic_store_n(&page_->waits, waits_, __ATOMIC_RELAXED);
}

void Idle::unboost() noexcept {
  const std::uint64_t n = __atomic_load_n(&page_->boosts, __ATOMIC_RELAXED);
  if (n == unboosted_ || gettid() != page_->tid) return;  // done already, or not the FM thread
  unboosted_ = n;
  sched_param sp{};
  sp.sched_priority = own_prio_;
  (void)sched_setscheduler(0, own_policy_, &sp);
}

void Idle::arm(bool waiting) noexcept {
  if (page_ == nullptr) return;
  __atomic_store_n(&page_->block_epoch, page_->block_epoch + 1, __ATOMIC_RELAXED);
  __atomic_store_n(&page_->blocked, 1u, __ATOMIC_SEQ_CST);  // then the caller looks once more
  // Senders over FM's shm check `blocked` without a fence (Caps::fenced): a barrier on their
  // CPUs now makes their packets visible to that look, or our flag to their check.  (Without
  // membarrier it is a seq_cst fence: the store above alone does not order the relaxed loads of
  // the look after it in C++'s model, nor on arm64.)
  membarrier::global();
  if (waiting) set_state(FM_DCS_BLOCKED);
}

void Idle::sleep(pollfd* fds, nfds_t nfds, int timeout_ms) noexcept {
  pollfd all[9];
  nfds_t n = 0;
  if (bell_r_ >= 0) all[n++] = pollfd{bell_r_, POLLIN, 0};
  for (nfds_t i = 0; i < nfds && n < 9; ++i) all[n++] = fds[i];
  ++sleeps_;
  if (page_ != nullptr) __atomic_store_n(&page_->blocks, sleeps_, __ATOMIC_RELAXED);
  if (::poll(all, n, timeout_ms) > 0 && bell_r_ >= 0 && (all[0].revents & POLLIN)) {
    char buf[64];
    while (::read(bell_r_, buf, sizeof buf) > 0) {
    }
    if (page_ != nullptr) __atomic_store_n(&page_->wakeups, page_->wakeups + 1, __ATOMIC_RELAXED);
  }
}

void Idle::disarm(std::uint64_t slept_ns) noexcept {
  if (page_ != nullptr) {
    __atomic_store_n(&page_->blocked, 0u, __ATOMIC_RELAXED);
    set_state(FM_DCS_SPINNING);
  }
  if (parked()) kick();  // it arms again: peers now see no sleeper
  // The bound adapts (Arpaci-Dusseau: spin about as long as an answer takes when answers come):
  // a sleep that ended within twice the top bound (the wake-up's own cost included) would have
  // been caught by spinning longer: double it; a sleep far beyond the top says the others are
  // busy elsewhere: spin less.  (Measured against the top, not the current bound, so that a
  // wake-up's latency alone cannot drive the bound down.)
  const std::uint64_t lo = std::uint64_t{cfg_.spin_min_us} * 1000;
  const std::uint64_t hi = std::uint64_t{cfg_.spin_us} * 1000;
  if (slept_ns == 0) return;
  if (slept_ns < 2 * hi)
    spin_cur_ns_ = std::min(hi, spin_cur_ns_ * 2 + 1000);
  else if (slept_ns > 20 * hi)
    spin_cur_ns_ = std::max(std::min(lo, hi), spin_cur_ns_ * 3 / 4);
  if (page_ != nullptr) store32(&page_->spin_us, static_cast<std::uint32_t>(spin_cur_ns_ / 1000));
}

// ------------------------------------------------------------------------------------------------
// the progress thread's parking

bool Idle::can_park() const noexcept {
  return ring_ && bell_r_ >= 0 && kick_fd_ >= 0;
}

void Idle::park_sleep(pollfd* fds, nfds_t nfds, int timeout_ms) noexcept {
  pollfd all[10];
  nfds_t n = 0;
  all[n++] = pollfd{kick_fd_, POLLIN, 0};
  all[n++] = pollfd{bell_r_, POLLIN, 0};
  for (nfds_t i = 0; i < nfds && n < 10; ++i) all[n++] = fds[i];
  (void)::poll(all, n, timeout_ms);
}

void Idle::park_end() noexcept {
  parked_.store(false, std::memory_order_relaxed);
  if (page_ != nullptr) __atomic_store_n(&page_->blocked, 0u, __ATOMIC_RELAXED);
  char buf[64];
  while (::read(bell_r_, buf, sizeof buf) > 0) {
  }
  std::uint64_t k = 0;
  while (::read(kick_fd_, &k, sizeof k) > 0) {
  }
}

void Idle::kick() noexcept {
  if (kick_fd_ < 0) return;
  const std::uint64_t one = 1;
  (void)!::write(kick_fd_, &one, sizeof one);
  kicks_.fetch_add(1, std::memory_order_relaxed);
}

// ------------------------------------------------------------------------------------------------
// the daemon

fm_dcs_msg Idle::message(std::uint16_t type) const noexcept {
  fm_dcs_msg m{};
  m.magic = FM_DCS_MSG_MAGIC;
  m.version = FM_DCS_VERSION;
  m.type = type;
  m.pid = page_->pid;
  m.tid = page_->tid;
  m.rank = page_->rank;
  m.size = page_->size;
  m.local_rank = page_->local_rank;
  m.local_size = page_->local_size;
  m.job = page_->job;
  std::snprintf(m.job_name, sizeof m.job_name, "%s", program_invocation_short_name);
  return m;
}

void Idle::register_daemon() {
  if (cfg_.cosched == "off" || page_ == nullptr || local_.empty() || sock_ >= 0) return;
  const std::string& name = cfg_.cosched_socket;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (name.empty() || name.size() >= sizeof sa.sun_path) return;
  std::memcpy(sa.sun_path, name.data(), name.size());
  if (name[0] == '@') sa.sun_path[0] = '\0';  // an abstract name
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  const int s = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  if (::connect(s, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    FM_DEBUG("no coscheduling daemon on %s (%s): waits spin, then block", name.c_str(),
             strerror(errno));
    ::close(s);
    return;
  }
  // only root or ourselves may listen there (an abstract name is anybody's to take)
  ucred cr{};
  socklen_t cl = sizeof cr;
  if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 ||
      (cr.uid != 0 && cr.uid != getuid())) {
    FM_WARN("%s is held by uid %u, neither root nor us: not registering", name.c_str(),
            static_cast<unsigned>(cr.uid));
    ::close(s);
    return;
  }
  const timeval tv{0, 500000};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  fm_dcs_msg m = message(FM_DCS_REGISTER);
  iovec iov{&m, sizeof m};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl;
  mh.msg_controllen = sizeof ctl;
  cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &page_fd_, sizeof(int));
  fm_dcs_reply r{};
  if (::sendmsg(s, &mh, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof m) ||
      ::recv(s, &r, sizeof r, 0) != static_cast<ssize_t>(sizeof r) || r.magic != FM_DCS_MSG_MAGIC) {
    FM_WARN("fm-dcsd on %s did not answer our registration (%s): not coscheduled", name.c_str(),
            strerror(errno));
    ::close(s);
    return;
  }
  if (r.type != FM_DCS_ACK) {
    r.reason[sizeof r.reason - 1] = '\0';
    FM_WARN("fm-dcsd on %s refused this process: %s", name.c_str(), r.reason);
    ::close(s);
    return;
  }
  ::fcntl(s, F_SETFL, ::fcntl(s, F_GETFL) | O_NONBLOCK);
  sock_ = s;
  daemon_cpus_ = static_cast<int>(r.cpus);
  FM_INFO("registered with fm-dcsd on %s: policy %u, %u CPUs, %u FM ranks on the host, CPU %d",
          name.c_str(), r.policy, r.cpus, r.host_ranks, r.cpu);
  if (cfg_.bind == "daemon" && r.cpu >= 0 && r.cpu < CPU_SETSIZE) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(r.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
      FM_WARN("FM_BIND=daemon: binding to CPU %d failed: %s", r.cpu, strerror(errno));
  }
}

void Idle::bind_cpu() {
  if (cfg_.bind != "core" || page_ == nullptr || local_.empty()) return;
  const int cpu = nth_allowed_cpu(page_->local_rank);
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    FM_WARN("FM_BIND=core: binding to CPU %d failed: %s", cpu, strerror(errno));
}

// Linux 6.12's EEVDF lets a fair thread ask for a shorter slice (sched_attr.sched_runtime); a
// woken thread whose slice is shorter preempts the running one at once.  A rank woken by a
// message is exactly that thread: with a CPU-bound process beside the job (a build, another
// job's computation), each wake-up otherwise waits out that process's slice, a millisecond or
// more (bench/hog.sh, bench/results/hog.md).  The share of the CPU does not change (that is
// the weight's, nice's), only when the rank gets it.  Earlier kernels accept and ignore it.
void Idle::set_slice(std::uint32_t us) {
  if (us == 0 || slice_tid_ != 0) return;
  FM_sched_attr a{};
  if (FM_sched_get(0, &a) != 0 || !FM_sched_fair(a.policy)) return;  // RT: not ours
  const std::uint64_t want = std::uint64_t{std::max<std::uint32_t>(us, 100)} * 1000;
  if (a.runtime_ns == want) return;
  const std::uint64_t old = a.runtime_ns;
  a.runtime_ns = want;
  if (FM_sched_set(0, &a) != 0) {
    FM_INFO("FM_SLICE_US=%u: sched_setattr: %s", us, strerror(errno));
    return;
  }
  slice_tid_ = static_cast<pid_t>(gettid());
  slice_old_ns_ = old;
}

// At most every 100 ms (blocks()): a daemon that went away is forgotten (its boost flag with it);
// a daemon (re)started is registered with, at most once a second.
void Idle::refresh() noexcept {
  const std::uint64_t now = now_ns();
  if (sock_ >= 0) {
    pollfd p{sock_, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLIN))) {
      char buf[256];
      if ((p.revents & (POLLHUP | POLLERR)) || ::recv(sock_, buf, sizeof buf, 0) == 0) {
        FM_INFO("fm-dcsd went away: waits spin, then block, on their own");
        ::close(sock_);
        sock_ = -1;
        retry_ns_ = now + 1'000'000'000;
      }
    }
  } else if (cfg_.cosched != "off" && now > retry_ns_ && page_ != nullptr &&
             load32(&page_->state) != FM_DCS_FINALIZED) {
    retry_ns_ = now + 1'000'000'000;
    try {
      register_daemon();
    } catch (...) {
    }
  }
}

void Idle::finalize() {
  if (slice_tid_ != 0 && slice_tid_ == static_cast<pid_t>(gettid())) {
    FM_sched_attr a{};  // nice and policy as they are now: only the slice goes back
    if (FM_sched_get(0, &a) == 0 && FM_sched_fair(a.policy)) {
      a.runtime_ns = slice_old_ns_;
      (void)FM_sched_set(0, &a);
    }
  }
  slice_tid_ = 0;
  set_state(FM_DCS_FINALIZED);
  if (sock_ < 0) return;
  const fm_dcs_msg m = message(FM_DCS_BYE);
  (void)::send(sock_, &m, sizeof m, MSG_NOSIGNAL);
  ::close(sock_);
  sock_ = -1;
}

}  // namespace fm::core
