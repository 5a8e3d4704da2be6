// ofi_rdm.cpp - the libfabric transport: one endpoint, FI_EP_RDM (shm, tcp;ofi_rxm,
// verbs;ofi_rxm: reliable, ordered, with RMA) or FI_EP_DGRAM (udp, verbs UD: FM's reliability
// layer goes on top), with FI_MSG, an FI_AV_TABLE address vector indexed through a rank ->
// fi_addr_t table, and one CQ shared by sends and receives.
//
// Provider quirks normalised here (the core only sees Caps):
//  * mr_mode: we offer FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY but not FI_MR_LOCAL, so
//    every provider that accepts the hints registers message buffers internally and we may pass
//    desc = NULL.  (With API >= 1.5 an mr_mode of 0 would mean "no mode bits supported"; the old
//    FI_MR_BASIC / FI_MR_SCALABLE values are never used.)  We request no RMA, so the VIRT_ADDR /
//    PROV_KEY bits only widen the set of acceptable providers.
//  * FI_CONTEXT / FI_CONTEXT2: we offer both.  If the chosen provider asks for either, every
//    operation's context must point at provider-owned scratch space that stays untouched until the
//    completion; the caller's ctx cannot be used directly then.  We carve a fixed pool of OpSlot
//    (fi_context2, which covers fi_context too, plus the caller's ctx) at open time, rx_depth slots
//    for receives and tx_depth for sends, each with an intrusive free list: no allocation on the
//    data path, and an exhausted list simply means FM_EAGAIN.  Providers that do not ask for it
//    (shm, tcp;ofi_rxm in libfabric 1.17) get the caller's ctx verbatim.
//  * FI_BUFFERED_RECV (offered by ofi_rxm) is not requested: mode in the hints is only FI_CONTEXT*,
//    so rxm falls back to ordinary posted receives.
//  * Wait object: FI_WAIT_FD is requested for the CQ when OpenParams::wait_fd says so (FM_WAIT),
//    and we fall back to FI_WAIT_NONE (Caps::wait_fd = false) when the provider refuses it (shm
//    in 1.17: -FI_ENOSYS; tcp;ofi_rxm supports it).  try_wait() (fi_trywait) must succeed before
//    sleeping on the fd.
//  * Inject size is asked for explicitly (see open()): tcp;ofi_rxm otherwise reports 64 bytes.
//  * Progress is manual for the providers we use: fi_cq_read() drives it, so a caller spinning on
//    FM_EAGAIN from send()/inject() must keep calling poll().  The first sends to a new peer
//    return -FI_EAGAIN for a while on both shm and tcp;ofi_rxm (connection set-up).
//  * A message longer than the posted receive gives an FI_ETRUNC error completion; on
//    tcp;ofi_rxm the connection to that peer is dead afterwards, so never rely on truncation.
#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#include <dirent.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "transport/factories.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::transport {
namespace {

// ofi_rxm's eager limit in libfabric 1.17: FI_OFI_RXM_EAGER_LIMIT, else its buffer size
// (FI_OFI_RXM_BUFFER_SIZE), else 16 KiB.  Messages above it go by segmentation (SAR) or
// rendezvous, and their receive completions can follow those of eager messages sent after them
// (seen with 32 KiB packets over tcp: FM's ping-pong found packets out of order and failed the
// peer), so FM's packets on such a lane stay within it.
std::size_t rxm_eager_limit() {
  for (const char* var : {"FI_OFI_RXM_EAGER_LIMIT", "FI_OFI_RXM_BUFFER_SIZE"}) {
    const char* v = std::getenv(var);
    if (v == nullptr || *v == '\0') continue;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 0);
    if (end != v && *end == '\0' && n > 0) return static_cast<std::size_t>(n);
  }
  return 16384;
}

// Gives ofi_rxm an eager limit of n bytes unless the user chose one (either variable above).
// libfabric has no call to set a provider's parameter, and rxm 1.17 reads this one when an
// endpoint is looked up (fi_getinfo), not when libfabric loads its providers: checked with a
// process that had used tcp;ofi_rxm before the variable was set.  Set-up only; it stays in the
// environment, so processes this one starts inherit it.
void give_rxm_eager_limit(std::size_t n) {
  for (const char* var : {"FI_OFI_RXM_EAGER_LIMIT", "FI_OFI_RXM_BUFFER_SIZE"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return;
  }
  const std::string text = std::to_string(n);
  if (setenv("FI_OFI_RXM_EAGER_LIMIT", text.c_str(), 0) == 0)
    FM_DEBUG("FI_OFI_RXM_EAGER_LIMIT=%s for FM's packets", text.c_str());
}

// Debian's libfabric 1.17 links its psm provider's libinfinipath, whose constructor installs
// handlers for SIGINT, SIGTERM, SIGSEGV, SIGBUS, SIGILL, SIGABRT and SIGFPE that call exit().  A
// process stopped by its launcher (mpiexec forwards SIGINT/SIGTERM) then runs the exit handlers,
// FM's and libfabric's teardown among them, inside the libfabric call it interrupted, and
// deadlocks on a lock that call holds: it never exits (seen with fm_perf over tcp).  Its
// IPATH_NO_BACKTRACE variable is read before main, too late for a library to set.  So those
// handlers, and only those (the application's own are kept), go back to the default action.
// Set-up only.
void drop_infinipath_signal_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE}) {
    struct sigaction sa {};
    if (sigaction(sig, nullptr, &sa) != 0) continue;
    void* fn = (sa.sa_flags & SA_SIGINFO) != 0 ? reinterpret_cast<void*>(sa.sa_sigaction)
                                               : reinterpret_cast<void*>(sa.sa_handler);
    if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN) continue;
    Dl_info where{};
    if (dladdr(fn, &where) == 0 || where.dli_fname == nullptr ||
        std::strstr(where.dli_fname, "libinfinipath") == nullptr)
      continue;
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    (void)sigaction(sig, &dfl, nullptr);
  }
}

// libfabric's shm provider names its region /dev/shm/<pid>:<n>:<m>.  A process killed before it
// closed its endpoint leaves the file behind, and a later process that gets the same pid then
// fails fi_enable with EBUSY (seen in CI after the kill tests).  A file under our own pid that
// we have not created yet can only be such a leftover: remove it.  Set-up only.
//
// The same for a peer whose process has exited (peer_exited()): its region would stay until a
// process with its pid came along.
void remove_shm_regions_of(int pid) {
  char prefix[32];
  const int n = std::snprintf(prefix, sizeof prefix, "%d:", pid);
  DIR* d = opendir("/dev/shm");
  if (d == nullptr || n <= 0) {
    if (d != nullptr) closedir(d);
    return;
  }
  while (dirent* e = readdir(d)) {
    if (std::strncmp(e->d_name, prefix, static_cast<std::size_t>(n)) != 0) continue;
    if (unlinkat(dirfd(d), e->d_name, 0) == 0)
      FM_DEBUG("ofi: removed /dev/shm/%s, left by process %d, which has exited", e->d_name, pid);
  }
  closedir(d);
}

// Calls f(fd, its stat) for every socket of this process of the given type (SOCK_DGRAM,
// SOCK_STREAM) until it returns true.  libfabric does not hand out its sockets; the few socket
// options FM needs (below) are set or read on the descriptors it finds.  Cold paths only.
template <class F>
void each_socket(int type, F&& f) {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(d)) continue;
    struct stat st {};
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int t = 0;
    socklen_t tl = sizeof t;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &t, &tl) != 0 || t != type) continue;
    if (f(static_cast<int>(fd), st)) break;
  }
  closedir(d);
}

// Whether two socket addresses name the same IPv4 or IPv6 host (and, with port, the same port).
bool same_address(const sockaddr_storage& a, const sockaddr_storage& b, bool port) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto &x = reinterpret_cast<const sockaddr_in&>(a),
               &y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_addr.s_addr == y.sin_addr.s_addr && (!port || x.sin_port == y.sin_port);
  }
  if (a.ss_family == AF_INET6) {
    const auto &x = reinterpret_cast<const sockaddr_in6&>(a),
               &y = reinterpret_cast<const sockaddr_in6&>(b);
    return std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0 &&
           (!port || x.sin6_port == y.sin6_port);
  }
  return false;
}

// An endpoint address as a socket address, when it is one (the tcp and udp providers' names are
// a sockaddr_in or sockaddr_in6); family AF_UNSPEC otherwise.
sockaddr_storage as_sockaddr(const void* addr, std::size_t len) {
  sockaddr_storage sa{};
  if (len < sizeof(sa_family_t)) return sa;
  std::memcpy(&sa, addr, std::min(len, sizeof sa));
  if (!(sa.ss_family == AF_INET && len >= sizeof(sockaddr_in)) &&
      !(sa.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)))
    sa.ss_family = AF_UNSPEC;
  return sa;
}

// The udp provider's datagrams wait in its socket's kernel buffer until it is polled; more in
// flight towards an endpoint than that buffer holds are dropped by the kernel (and cost FM a
// retransmission each).  Finds the endpoint's socket (the datagram socket bound to its address),
// asks for a larger buffer (SO_RCVBUFFORCE with CAP_NET_ADMIN, else SO_RCVBUF, which the kernel
// caps at net.core.rmem_max), and returns how many datagrams of `datagram` bytes the buffer
// holds, or 0 when the socket is not found.  Set-up only.
std::size_t grow_udp_rcvbuf(const void* addr, std::size_t addrlen, std::size_t datagram) {
  constexpr int kWant = 4 << 20;
  const sockaddr_storage want = as_sockaddr(addr, addrlen);
  if (want.ss_family == AF_UNSPEC) return 0;
  std::size_t fit = 0;
  each_socket(SOCK_DGRAM, [&](int fd, const struct stat&) {
    sockaddr_storage got{};
    socklen_t gl = sizeof got;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&got), &gl) != 0 ||
        !same_address(got, want, true))
      return false;
    int v = kWant;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) != 0)
      (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    int have = 0;
    socklen_t hl = sizeof have;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &have, &hl) == 0 && have > 0)
      fit = static_cast<std::size_t>(have) / (2 * datagram);  // data plus kernel overhead
    FM_DEBUG("ofi: udp socket %d: receive buffer %d bytes, room for %zu datagrams", fd, have, fit);
    return true;
  });
  return fit;
}

// The hosts this process has TCP connections to that acknowledged nothing for timeout_ms while
// data (or zero-window probes) to them stayed in flight, from the kernel's record (TCP_INFO),
// which a peer's kernel keeps up whatever its process does.  The clock starts when a scan first
// sees a socket with something in flight and no acknowledgement since (`since`, by socket inode,
// kept from scan to scan): the time since the last acknowledgement alone would also count the
// quiet time before the data was sent (this process, stopped for seconds, then sending).
class TcpAcks {
 public:
  void silent_hosts(std::uint32_t timeout_ms, std::vector<sockaddr_storage>& out) {
    const std::uint64_t now = now_ns();
    seen_.clear();
    each_socket(SOCK_STREAM, [&](int fd, const struct stat& st) {
      tcp_info ti{};
      socklen_t tl = sizeof ti;
      if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0 ||
          ti.tcpi_state != TCP_ESTABLISHED || (ti.tcpi_unacked == 0 && ti.tcpi_probes == 0))
        return false;
      std::uint64_t since = now;
      const auto known = std::lower_bound(since_.begin(), since_.end(), Seen{st.st_ino, 0});
      if (known != since_.end() && known->first == st.st_ino) since = known->second;
      // an acknowledgement after `since`: the wait starts again
      if (std::uint64_t{ti.tcpi_last_ack_recv} * 1000000 < now - since) since = now;
      seen_.emplace_back(st.st_ino, since);
      if (now - since < std::uint64_t{timeout_ms} * 1000000) return false;
      sockaddr_storage peer{};
      socklen_t pl = sizeof peer;
      if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0) return false;
      FM_DEBUG("ofi: tcp socket %d: %u segments unacknowledged, %u probes, last ack %u ms ago", fd,
               ti.tcpi_unacked, ti.tcpi_probes, ti.tcpi_last_ack_recv);
      out.push_back(peer);
      return false;
    });
    std::sort(seen_.begin(), seen_.end());  // (by inode, for the next scan's lookups)
    since_.swap(seen_);                     // sockets gone or with nothing in flight are forgotten
  }

 private:
  using Seen = std::pair<ino_t, std::uint64_t>;  // a socket's inode, since when it waits
  std::vector<Seen> since_, seen_;
};

// Per-operation storage used only when the provider requires FI_CONTEXT or FI_CONTEXT2.
// The fi_context2 must be the first member: the provider hands the same pointer back as
// op_context, and writes into it between post and completion.
struct OpSlot {
  fi_context2 fi_ctx;  // provider scratch (FI_CONTEXT uses the first 4 words of it)
  void* user_ctx;      // the caller's context, returned in the Completion
  OpSlot* next_free;   // free-list link while the slot is idle
};

// Closes a libfabric object, logging (never failing) on error: used by the destructor and by
// partially completed opens.
void close_fid(fid* f, const char* what) {
  if (f == nullptr) return;
  int rc = fi_close(f);
  if (rc != 0) FM_WARN("ofi: fi_close(%s): %s", what, fi_strerror(-rc));
}

[[gnu::cold]] int ofi_fail(const char* call, int rc) {
  return fail(FM_ETRANSPORT, "libfabric %s failed: %s", call, fi_strerror(rc < 0 ? -rc : rc));
}

class OfiRdmTransport final : public Transport {
 public:
  OfiRdmTransport() = default;
  ~OfiRdmTransport() override;

  // Set-up: everything in open_ofi() that needs the object lives here.
  [[gnu::cold]] int open(const OpenParams& params);

  std::vector<std::byte> address() const override;
  int insert_peers(std::span<const std::vector<std::byte>> addrs) override;

  int post_recv(void* buf, std::size_t len, void* ctx) override;
  int send(unsigned peer, const iovec* iov, std::size_t iovcnt, void* ctx) override;
  int inject(unsigned peer, const void* buf, std::size_t len) override;
  int poll(Completion* out, int max) override;

  int expose(const void* buf, std::size_t len, Region* out, bool writable) override;
  void unexpose(Region* r) override;
  int read(unsigned peer, void* buf, std::size_t len, std::uint64_t raddr, std::uint64_t key,
           void* ctx) override;
  int write(unsigned peer, const void* buf, std::size_t len, std::uint64_t raddr, std::uint64_t key,
            void* ctx) override;

  int wait_fd() override { return wait_fd_; }
  bool try_wait() override;
  void peer_exited(unsigned, int pid) override {
    if (shm_ && pid > 0) remove_shm_regions_of(pid);
  }
  void unacknowledged(std::span<const unsigned> peers, std::uint32_t timeout_ms,
                      std::vector<unsigned>& out) override;

 private:
  // Batch size for one fi_cq_read: bounded stack storage, no allocation.
  static constexpr int kCqBatch = 32;

  // Context to hand to libfabric for an operation carrying the caller's ctx; nullptr when the
  // provider needs an OpSlot and none is free.
  void* acquire(OpSlot** free_list, void* ctx) noexcept {
    if (!need_ctx_) return ctx;
    OpSlot* s = *free_list;
    if (s == nullptr) return nullptr;
    *free_list = s->next_free;
    s->user_ctx = ctx;
    return s;
  }
  // Undoes acquire() after a failed post.
  void release(OpSlot** free_list, void* op_ctx) noexcept {
    if (!need_ctx_) return;
    auto* s = static_cast<OpSlot*>(op_ctx);
    s->next_free = *free_list;
    *free_list = s;
  }
  // Maps a completion's op_context back to the caller's ctx, returning the slot to its list.
  void* complete(void* op_ctx) noexcept {
    if (!need_ctx_ || op_ctx == nullptr) return op_ctx;
    auto* s = static_cast<OpSlot*>(op_ctx);
    OpSlot** list = (s < slots_.get() + rx_slots_) ? &rx_free_ : &tx_free_;
    void* user = s->user_ctx;
    s->next_free = *list;
    *list = s;
    return user;
  }

  [[gnu::cold]] int bad_peer(const char* call, unsigned peer) const;
  [[gnu::cold]] int post_error(const char* call, unsigned peer, ssize_t rc) const;
  [[gnu::cold]] int read_cq_error(Completion* out);

  fi_info* info_ = nullptr;
  fid_fabric* fabric_ = nullptr;
  fid_domain* domain_ = nullptr;
  fid_av* av_ = nullptr;
  fid_cq* cq_ = nullptr;
  fid_ep* ep_ = nullptr;
  int wait_fd_ = -1;
  std::size_t iov_limit_ = 1;
  std::uint64_t mr_mode_ = 0;              // what the provider requires of registrations
  std::uint64_t next_key_ = 1;             // requested keys when the provider does not choose them
  std::vector<fi_addr_t> peers_;           // by rank; FI_ADDR_NOTAVAIL when not reachable here
  std::vector<sockaddr_storage> peer_sa_;  // tcp: by rank, its address (host_acks)
  TcpAcks tcp_acks_;                       // tcp: unacknowledged()

  bool need_ctx_ = false;  // provider mode has FI_CONTEXT or FI_CONTEXT2
  bool shm_ = false;       // libfabric's shm provider (named regions in /dev/shm)
  std::unique_ptr<OpSlot[]> slots_;
  std::size_t rx_slots_ = 0;
  OpSlot* rx_free_ = nullptr;
  OpSlot* tx_free_ = nullptr;
};

OfiRdmTransport::~OfiRdmTransport() {
  // The endpoint goes first: closing it cancels posted receives and outstanding sends without
  // generating completions, so nothing refers to the CQ, AV or slot pool afterwards.
  close_fid(ep_ ? &ep_->fid : nullptr, "endpoint");
  close_fid(av_ ? &av_->fid : nullptr, "av");
  close_fid(cq_ ? &cq_->fid : nullptr, "cq");
  close_fid(domain_ ? &domain_->fid : nullptr, "domain");
  close_fid(fabric_ ? &fabric_->fid : nullptr, "fabric");
  if (info_ != nullptr) fi_freeinfo(info_);
}

int OfiRdmTransport::open(const OpenParams& params) {
  if (params.spec == nullptr || params.spec->fabric == nullptr)
    return fail(FM_EINVAL, "ofi: no libfabric provider given");
  const char* prov_name = params.spec->fabric;
  const bool dgram = params.spec->datagram;
  const bool shm = params.spec->local;
  if (params.rx_depth == 0 || params.tx_depth == 0 || params.packet_size == 0)
    return fail(FM_EINVAL, "ofi: rx_depth, tx_depth and packet_size must be non-zero");

  drop_infinipath_signal_handlers();
  if (params.rxm_eager != 0 && std::strstr(prov_name, "ofi_rxm") != nullptr)
    give_rxm_eager_limit(params.rxm_eager);
  std::unique_ptr<fi_info, decltype(&fi_freeinfo)> hints(fi_allocinfo(), &fi_freeinfo);
  if (!hints) return fail(FM_ENOMEM, "ofi: fi_allocinfo failed");
  hints->ep_attr->type = dgram ? FI_EP_DGRAM : FI_EP_RDM;
  // RMA reads serve zero-copy receives; a provider without them still carries messages.
  hints->caps =
      dgram ? FI_MSG : FI_MSG | FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE;
  // Offered, not demanded: a provider that needs per-op scratch space tells us in info->mode.
  // Datagram providers may reserve a prefix in every buffer (verbs UD: the 40-byte GRH).
  hints->mode = FI_CONTEXT | FI_CONTEXT2 | (dgram ? FI_MSG_PREFIX : 0);
  hints->tx_attr->msg_order = dgram ? FI_ORDER_NONE : FI_ORDER_SAS;
  hints->rx_attr->msg_order = dgram ? FI_ORDER_NONE : FI_ORDER_SAS;
  hints->domain_attr->mr_mode = FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY;
  hints->domain_attr->threading = FI_THREAD_DOMAIN;
  hints->domain_attr->data_progress = FI_PROGRESS_MANUAL;
  hints->domain_attr->control_progress = FI_PROGRESS_UNSPEC;
  hints->domain_attr->av_type = FI_AV_TABLE;
  // fi_freeinfo() frees these strings.
  hints->fabric_attr->prov_name = strdup(prov_name);
  if (hints->fabric_attr->prov_name == nullptr) return fail(FM_ENOMEM, "ofi: strdup failed");
  const bool want_iface = !params.iface.empty() && !shm;
  if (want_iface) {
    hints->domain_attr->name = strdup(params.iface.c_str());
    if (hints->domain_attr->name == nullptr) return fail(FM_ENOMEM, "ofi: strdup failed");
  }

  // Inject size: providers report a default, not their maximum, when the hints leave it 0
  // (tcp;ofi_rxm reports 64 bytes but accepts up to FI_OFI_RXM_BUFFER_SIZE, 16 KiB by default), and
  // treat a non-zero hint as a minimum.  So ask for kWantInject first and retry without on
  // -FI_ENODATA.
  constexpr std::size_t kWantInject = 4096;
  hints->tx_attr->inject_size = std::min(params.packet_size, kWantInject);
  // libfabric orders the results by preference (for tcp in 1.17: non-loopback interfaces first,
  // IPv4 before IPv6, loopback last); we take the first one and let params.iface override.
  const std::uint32_t version = FI_VERSION(FI_MAJOR_VERSION, FI_MINOR_VERSION);
  int rc = fi_getinfo(version, nullptr, nullptr, 0, hints.get(), &info_);
  if (rc == -FI_ENODATA) {
    hints->tx_attr->inject_size = 0;
    rc = fi_getinfo(version, nullptr, nullptr, 0, hints.get(), &info_);
  }
  if (rc == -FI_ENODATA) {  // no RMA: messages only
    hints->caps = FI_MSG;
    hints->tx_attr->inject_size = std::min(params.packet_size, kWantInject);
    rc = fi_getinfo(version, nullptr, nullptr, 0, hints.get(), &info_);
    if (rc == -FI_ENODATA) {
      hints->tx_attr->inject_size = 0;
      rc = fi_getinfo(version, nullptr, nullptr, 0, hints.get(), &info_);
    }
  }
  if (rc == -FI_ENODATA)
    return fail(FM_ENOPROVIDER, "libfabric provider %s not available (fi_getinfo: %s)", prov_name,
                fi_strerror(-rc));
  if (rc != 0) return ofi_fail("fi_getinfo", rc);
  fi_info* info = info_;
  if (want_iface) {
    // ofi_rxm does not pass the domain name hint down to its core provider (1.17 returns eth0
    // for a hint of "lo"), so filter the list ourselves.  tcp domains are interface names
    // ("eth0", "lo"); verbs domains are device names ("mlx5_0").
    while (info != nullptr && (info->domain_attr->name == nullptr ||
                               std::strcmp(info->domain_attr->name, params.iface.c_str()) != 0))
      info = info->next;
    if (info == nullptr)
      return fail(FM_ENOPROVIDER, "libfabric provider %s not available on interface %s", prov_name,
                  params.iface.c_str());
  }

  need_ctx_ = (info->mode & (FI_CONTEXT | FI_CONTEXT2)) != 0;
  if (info->tx_attr->mode & (FI_CONTEXT | FI_CONTEXT2)) need_ctx_ = true;
  if (info->rx_attr->mode & (FI_CONTEXT | FI_CONTEXT2)) need_ctx_ = true;

  if (info->ep_attr->max_msg_size < params.packet_size)
    return fail(FM_EINVAL, "ofi: packet_size %zu exceeds %s max_msg_size %zu", params.packet_size,
                info->fabric_attr->prov_name, info->ep_attr->max_msg_size);

  // libfabric's shm goes by its FM_PROVIDER name, apart from FM's own shm transport
  caps_.name = std::strcmp(prov_name, "shm") == 0 ? "ofi-shm" : info->fabric_attr->prov_name;
  caps_.rma_read =
      (info->caps & (FI_RMA | FI_READ)) == (FI_RMA | FI_READ) && (info->caps & FI_REMOTE_READ) != 0;
  caps_.rma_write =
      caps_.rma_read && (info->caps & (FI_WRITE | FI_REMOTE_WRITE)) == (FI_WRITE | FI_REMOTE_WRITE);
  mr_mode_ = info->domain_attr->mr_mode;
  caps_.max_rma = std::min<std::size_t>(info->ep_attr->max_msg_size, std::size_t{1} << 30);
  caps_.max_msg = info->ep_attr->max_msg_size;
  if (std::strstr(info->fabric_attr->prov_name, "ofi_rxm") != nullptr)
    caps_.ordered_msg = rxm_eager_limit();
  caps_.prefix = (info->mode & FI_MSG_PREFIX) != 0 ? info->ep_attr->msg_prefix_size : 0;
  if (caps_.prefix != 0) caps_.inject_size = 0;  // prefixed buffers go through send()
  caps_.inject_size = info->tx_attr->inject_size;
  caps_.rx_depth = static_cast<std::uint32_t>(std::min<std::size_t>(
      info->rx_attr->size ? info->rx_attr->size : params.rx_depth, params.rx_depth));
  caps_.tx_depth = static_cast<std::uint32_t>(std::min<std::size_t>(
      info->tx_attr->size ? info->tx_attr->size : params.tx_depth, params.tx_depth));
  caps_.ordered = !dgram;   // FI_ORDER_SAS was required in the hints
  caps_.reliable = !dgram;  // FI_EP_RDM
  caps_.datagram = dgram;
  caps_.local = shm;
  caps_.host_acks = std::strcmp(info->fabric_attr->prov_name, "tcp;ofi_rxm") == 0;  // kernel TCP
  iov_limit_ = std::max<std::size_t>(info->tx_attr->iov_limit, 1);

  rc = fi_fabric(info->fabric_attr, &fabric_, nullptr);
  if (rc != 0) return ofi_fail("fi_fabric", rc);
  rc = fi_domain(fabric_, info, &domain_, nullptr);
  if (rc != 0) return ofi_fail("fi_domain", rc);

  fi_av_attr av_attr{};
  av_attr.type = FI_AV_TABLE;
  av_attr.count = std::max(params.size, 1u);
  rc = fi_av_open(domain_, &av_attr, &av_, nullptr);
  if (rc != 0) return ofi_fail("fi_av_open", rc);

  fi_cq_attr cq_attr{};
  cq_attr.size = std::size_t{caps_.rx_depth} + caps_.tx_depth;
  cq_attr.format = FI_CQ_FORMAT_MSG;  // op_context, flags, len
  // Datagrams are never waited for (FM's reliability needs its timers polled): a wait object
  // would only cost a signal write and read per completion.  Elsewhere the caller decides
  // (FM_WAIT): with a wait object tcp;ofi_rxm polls its sockets through the wait set's epoll
  // descriptor, measured 0.4-0.7 us more per one-way 8-byte message than without.
  cq_attr.wait_obj = dgram || !params.wait_fd ? FI_WAIT_NONE : FI_WAIT_FD;
  rc = fi_cq_open(domain_, &cq_attr, &cq_, nullptr);
  if (rc != 0) {
    FM_DEBUG("ofi: %s refuses a CQ with FI_WAIT_FD (%s); polling only", caps_.name.c_str(),
             fi_strerror(-rc));
    cq_attr.wait_obj = FI_WAIT_NONE;
    rc = fi_cq_open(domain_, &cq_attr, &cq_, nullptr);
    if (rc != 0) return ofi_fail("fi_cq_open", rc);
  }
  if (cq_attr.wait_obj == FI_WAIT_FD) {
    int fd = -1;
    rc = fi_control(&cq_->fid, FI_GETWAIT, &fd);
    if (rc == 0 && fd >= 0) {
      wait_fd_ = fd;
    } else {
      FM_DEBUG("ofi: fi_control(FI_GETWAIT) on %s: %s; polling only", caps_.name.c_str(),
               fi_strerror(rc < 0 ? -rc : FI_EOTHER));
    }
  }
  caps_.wait_fd = wait_fd_ >= 0;

  if (shm) remove_shm_regions_of(static_cast<int>(getpid()));
  shm_ = shm;
  rc = fi_endpoint(domain_, info, &ep_, nullptr);
  if (rc != 0) return ofi_fail("fi_endpoint", rc);
  rc = fi_ep_bind(ep_, &av_->fid, 0);
  if (rc != 0) return ofi_fail("fi_ep_bind(av)", rc);
  rc = fi_ep_bind(ep_, &cq_->fid, FI_TRANSMIT | FI_RECV);
  if (rc != 0) return ofi_fail("fi_ep_bind(cq)", rc);
  rc = fi_enable(ep_);
  if (rc != 0) return ofi_fail("fi_enable", rc);
  if (dgram && std::strcmp(prov_name, "udp") == 0) {  // beyond the socket buffer: lost
    const std::vector<std::byte> me = address();
    const std::size_t fit = grow_udp_rcvbuf(me.data(), me.size(), caps_.max_msg);
    if (fit != 0)
      caps_.rx_depth = static_cast<std::uint32_t>(std::min<std::size_t>(caps_.rx_depth, fit));
  }

  if (need_ctx_) {
    rx_slots_ = caps_.rx_depth;
    std::size_t n = rx_slots_ + caps_.tx_depth;
    slots_.reset(new (std::nothrow) OpSlot[n]);
    if (!slots_) return fail(FM_ENOMEM, "ofi: cannot allocate %zu operation contexts", n);
    for (std::size_t i = 0; i < n; ++i) {
      OpSlot** list = i < rx_slots_ ? &rx_free_ : &tx_free_;
      slots_[i].next_free = *list;
      *list = &slots_[i];
    }
  }
  peers_.assign(params.size, FI_ADDR_NOTAVAIL);

  FM_DEBUG("ofi: opened %s fabric %s domain %s: inject %zu, rx %u, tx %u, iov %zu, wait_fd %d%s",
           caps_.name.c_str(), info->fabric_attr->name, info->domain_attr->name, caps_.inject_size,
           caps_.rx_depth, caps_.tx_depth, iov_limit_, wait_fd_, need_ctx_ ? ", FI_CONTEXT" : "");
  return FM_SUCCESS;
}

std::vector<std::byte> OfiRdmTransport::address() const {
  std::vector<std::byte> addr(256);
  std::size_t len = addr.size();
  int rc = fi_getname(&ep_->fid, addr.data(), &len);
  if (rc == -FI_ETOOSMALL) {  // len now holds the size needed
    addr.resize(len);
    rc = fi_getname(&ep_->fid, addr.data(), &len);
  }
  if (rc != 0) {
    ofi_fail("fi_getname", rc);
    FM_WARN("ofi: fi_getname: %s", fi_strerror(-rc));
    return {};
  }
  addr.resize(len);
  return addr;
}

int OfiRdmTransport::insert_peers(std::span<const std::vector<std::byte>> addrs) {
  if (addrs.size() > peers_.size()) peers_.resize(addrs.size(), FI_ADDR_NOTAVAIL);
  for (std::size_t r = 0; r < addrs.size(); ++r) {
    if (addrs[r].empty()) continue;
    if (peers_[r] != FI_ADDR_NOTAVAIL) {  // re-insertion replaces the old entry
      int rc = fi_av_remove(av_, &peers_[r], 1, 0);
      if (rc != 0) FM_WARN("ofi: fi_av_remove(rank %zu): %s", r, fi_strerror(-rc));
      peers_[r] = FI_ADDR_NOTAVAIL;
    }
    fi_addr_t fa = FI_ADDR_NOTAVAIL;
    int rc = fi_av_insert(av_, addrs[r].data(), 1, &fa, 0, nullptr);
    if (rc != 1 || fa == FI_ADDR_NOTAVAIL)
      return fail(FM_ETRANSPORT, "libfabric fi_av_insert of rank %zu's address failed: %s", r,
                  fi_strerror(rc < 0 ? -rc : FI_EINVAL));
    peers_[r] = fa;
    if (caps_.host_acks) {
      if (peer_sa_.size() < peers_.size()) peer_sa_.resize(peers_.size());
      peer_sa_[r] = as_sockaddr(addrs[r].data(), addrs[r].size());
    }
  }
  return FM_SUCCESS;
}

void OfiRdmTransport::unacknowledged(std::span<const unsigned> peers, std::uint32_t timeout_ms,
                                     std::vector<unsigned>& out) {
  if (!caps_.host_acks || peers.empty()) return;
  std::vector<sockaddr_storage> silent;
  tcp_acks_.silent_hosts(timeout_ms, silent);
  for (unsigned p : peers) {
    if (p >= peer_sa_.size() || peer_sa_[p].ss_family == AF_UNSPEC) continue;
    for (const sockaddr_storage& h : silent)
      if (same_address(h, peer_sa_[p], false)) {
        out.push_back(p);
        break;
      }
  }
}

int OfiRdmTransport::bad_peer(const char* call, unsigned peer) const {
  return fail(FM_ENODEST, "ofi %s: rank %u is not reachable on %s (%zu ranks)", call, peer,
              caps_.name.c_str(), peers_.size());
}

int OfiRdmTransport::post_error(const char* call, unsigned peer, ssize_t rc) const {
  return fail(FM_ETRANSPORT, "libfabric %s (rank %u) failed: %s", call, peer,
              fi_strerror(static_cast<int>(-rc)));
}

int OfiRdmTransport::post_recv(void* buf, std::size_t len, void* ctx) {
  void* op = acquire(&rx_free_, ctx);
  if (need_ctx_ && op == nullptr) return FM_EAGAIN;  // more than rx_depth receives posted
  ssize_t rc = fi_recv(ep_, buf, len, nullptr, FI_ADDR_UNSPEC, op);
  if (rc == 0) [[likely]]
    return FM_SUCCESS;
  release(&rx_free_, op);
  if (rc == -FI_EAGAIN) return FM_EAGAIN;
  return fail(FM_ETRANSPORT, "libfabric fi_recv failed: %s", fi_strerror(static_cast<int>(-rc)));
}

int OfiRdmTransport::send(unsigned peer, const iovec* iov, std::size_t iovcnt, void* ctx) {
  if (peer >= peers_.size() || peers_[peer] == FI_ADDR_NOTAVAIL) [[unlikely]]
    return bad_peer("send", peer);
  if (iovcnt > iov_limit_) [[unlikely]]
    return fail(FM_EINVAL, "ofi send: %zu iov entries, %s allows %zu", iovcnt, caps_.name.c_str(),
                iov_limit_);
  void* op = acquire(&tx_free_, ctx);
  if (need_ctx_ && op == nullptr) return FM_EAGAIN;  // tx_depth sends outstanding
  ssize_t rc = fi_sendv(ep_, iov, nullptr, iovcnt, peers_[peer], op);
  if (rc == 0) [[likely]]
    return FM_SUCCESS;
  release(&tx_free_, op);
  if (rc == -FI_EAGAIN) return FM_EAGAIN;
  return post_error("fi_sendv", peer, rc);
}

int OfiRdmTransport::inject(unsigned peer, const void* buf, std::size_t len) {
  if (peer >= peers_.size() || peers_[peer] == FI_ADDR_NOTAVAIL) [[unlikely]]
    return bad_peer("inject", peer);
  if (len > caps_.inject_size) [[unlikely]]
    return fail(FM_EINVAL, "ofi inject: %zu bytes exceed %s inject_size %zu", len,
                caps_.name.c_str(), caps_.inject_size);
  // fi_inject never generates a completion, so it needs no context (and no OpSlot).
  ssize_t rc = fi_inject(ep_, buf, len, peers_[peer]);
  if (rc == 0) [[likely]]
    return FM_SUCCESS;
  if (rc == -FI_EAGAIN) return FM_EAGAIN;
  return post_error("fi_inject", peer, rc);
}

int OfiRdmTransport::read_cq_error(Completion* out) {
  fi_cq_err_entry err{};
  // err_data_size == 0: the provider supplies (and owns) err_data, valid until the next CQ call.
  ssize_t rc = fi_cq_readerr(cq_, &err, 0);
  if (rc == -FI_EAGAIN) return 0;  // someone raced us to it; nothing to report
  if (rc < 0)
    return fail(FM_ETRANSPORT, "libfabric fi_cq_readerr failed: %s",
                fi_strerror(static_cast<int>(-rc)));
  char buf[128];
  const char* detail = fi_cq_strerror(cq_, err.prov_errno, err.err_data, buf, sizeof buf);
  const char* what = (err.flags & FI_RECV) ? "receive" : (err.flags & FI_SEND) ? "send" : "op";
  FM_WARN("ofi: %s %s completion error: %s (%s)", caps_.name.c_str(), what, fi_strerror(err.err),
          detail ? detail : "");
  out->kind = Completion::error;
  out->status = FM_ETRANSPORT;
  out->ctx = complete(err.op_context);
  out->len = err.len;
  return 1;
}

int OfiRdmTransport::poll(Completion* out, int max) {
  int got = 0;
  while (got < max) {
    fi_cq_msg_entry ent[kCqBatch];
    std::size_t want = static_cast<std::size_t>(std::min(max - got, kCqBatch));
    ssize_t n = fi_cq_read(cq_, ent, want);
    if (n > 0) [[likely]] {
      for (ssize_t i = 0; i < n; ++i) {
        Completion& c = out[got++];
        c.kind = (ent[i].flags & FI_RECV)                ? Completion::recv
                 : (ent[i].flags & (FI_READ | FI_WRITE)) ? Completion::read
                                                         : Completion::send;
        c.status = FM_SUCCESS;
        c.ctx = complete(ent[i].op_context);
        c.len = ent[i].len;
      }
      if (static_cast<std::size_t>(n) < want) break;  // drained
      continue;
    }
    if (n == -FI_EAGAIN) break;
    if (n == -FI_EAVAIL) {
      int e = read_cq_error(&out[got]);
      if (e < 0) return got > 0 ? got : e;
      if (e == 0) break;  // error entry vanished: do not spin on -FI_EAVAIL
      got += e;
      continue;
    }
    if (got > 0) break;  // report what we have; the error recurs on the next call
    return fail(FM_ETRANSPORT, "libfabric fi_cq_read failed: %s",
                fi_strerror(static_cast<int>(-n)));
  }
  return got;
}

// mr_mode normalised here, once: FI_MR_VIRT_ADDR decides whether peers address the region by
// virtual address or by offset, FI_MR_PROV_KEY whether the provider or we choose the key, and
// FI_MR_ENDPOINT whether the region must be bound to the endpoint before use.
int OfiRdmTransport::expose(const void* buf, std::size_t len, Region* out, bool writable) {
  if (!caps_.rma_read) return fail(FM_EUNSUPPORTED, "%s: no RMA read", caps_.name.c_str());
  if (writable && !caps_.rma_write)
    return fail(FM_EUNSUPPORTED, "%s: no RMA write", caps_.name.c_str());
  fid_mr* mr = nullptr;
  const std::uint64_t want_key = (mr_mode_ & FI_MR_PROV_KEY) ? 0 : next_key_++;
  const std::uint64_t access = FI_REMOTE_READ | (writable ? FI_REMOTE_WRITE : 0);
  int rc = fi_mr_reg(domain_, buf, len, access, 0, want_key, 0, &mr, nullptr);
  if (rc != 0) return ofi_fail("fi_mr_reg", rc);
  if (mr_mode_ & FI_MR_ENDPOINT) {
    rc = fi_mr_bind(mr, &ep_->fid, 0);
    if (rc == 0) rc = fi_mr_enable(mr);
    if (rc != 0) {
      close_fid(&mr->fid, "mr");
      return ofi_fail("fi_mr_bind/enable", rc);
    }
  }
  out->handle = mr;
  out->key = fi_mr_key(mr);
  out->addr = (mr_mode_ & FI_MR_VIRT_ADDR) ? reinterpret_cast<std::uint64_t>(buf) : 0;
  return FM_SUCCESS;
}

void OfiRdmTransport::unexpose(Region* r) {
  if (r->handle != nullptr) close_fid(&static_cast<fid_mr*>(r->handle)->fid, "mr");
  r->handle = nullptr;
}

int OfiRdmTransport::read(unsigned peer, void* buf, std::size_t len, std::uint64_t raddr,
                          std::uint64_t key, void* ctx) {
  if (peer >= peers_.size() || peers_[peer] == FI_ADDR_NOTAVAIL) [[unlikely]]
    return bad_peer("read", peer);
  void* op = acquire(&tx_free_, ctx);
  if (need_ctx_ && op == nullptr) return FM_EAGAIN;
  ssize_t rc = fi_read(ep_, buf, len, nullptr, peers_[peer], raddr, key, op);
  if (rc == 0) [[likely]]
    return FM_SUCCESS;
  release(&tx_free_, op);
  if (rc == -FI_EAGAIN) return FM_EAGAIN;
  return post_error("fi_read", peer, rc);
}

int OfiRdmTransport::write(unsigned peer, const void* buf, std::size_t len, std::uint64_t raddr,
                           std::uint64_t key, void* ctx) {
  if (peer >= peers_.size() || peers_[peer] == FI_ADDR_NOTAVAIL) [[unlikely]]
    return bad_peer("write", peer);
  void* op = acquire(&tx_free_, ctx);
  if (need_ctx_ && op == nullptr) return FM_EAGAIN;
  iovec iov{const_cast<void*>(buf), len};
  fi_rma_iov rma{raddr, len, key};
  fi_msg_rma msg{};
  msg.msg_iov = &iov;
  msg.iov_count = 1;
  msg.addr = peers_[peer];
  msg.rma_iov = &rma;
  msg.rma_iov_count = 1;
  msg.context = op;
  // Delivery complete: the completion means the bytes are in the target's memory (FM_flush).
  ssize_t rc = fi_writemsg(ep_, &msg, FI_COMPLETION | FI_DELIVERY_COMPLETE);
  if (rc == 0) [[likely]]
    return FM_SUCCESS;
  release(&tx_free_, op);
  if (rc == -FI_EAGAIN) return FM_EAGAIN;
  return post_error("fi_writemsg", peer, rc);
}

bool OfiRdmTransport::try_wait() {
  if (wait_fd_ < 0) return false;
  fid* fids[1] = {&cq_->fid};
  return fi_trywait(fabric_, fids, 1) == FI_SUCCESS;
}

}  // namespace

int open_ofi(const OpenParams& params, std::unique_ptr<Transport>* out) {
  if (out == nullptr) return fail(FM_EINVAL, "open_ofi: out is NULL");
  auto t = std::make_unique<OfiRdmTransport>();
  int rc = t->open(params);
  if (rc != FM_SUCCESS) return rc;  // the destructor closes whatever was opened
  *out = std::move(t);
  return FM_SUCCESS;
}

}  // namespace fm::transport
