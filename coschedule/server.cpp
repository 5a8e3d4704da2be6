// server.cpp - fm-dcsd's registry: accepting connections, checking registrations against the
// peer's credentials, forgetting clients, and the status text.  Every client is untrusted: a
// failed check sends NAK, logs one line and closes the connection; the daemon keeps serving.
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "daemon.hpp"
#include "proto.hpp"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5; glibc 2.36's headers predate it
#endif

namespace fm::dcsd {

namespace {

constexpr unsigned kMaxFds = 16;  // room for a few: the rest are discarded by the kernel (CTRUNC)
constexpr std::size_t kMaxStatus = 4u << 20;

void send_reply(int sock, const fm_dcs_reply& r) {
  // never waits: a client that does not read loses its answer, not the daemon's time
  (void)send(sock, &r, sizeof r, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void close_all(std::vector<int>& fds) {
  for (int fd : fds) close(fd);
  fds.clear();
}

bool exited(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

void refuse(Daemon& d, Client& c, const char* why) {
  send_reply(c.sock, make_reply(FM_DCS_NAK, d.opt.policy, d.topo.cpus, d.host_ranks, -1, why));
  logf("refused pid %d uid %u: %s", static_cast<int>(c.peer_pid), static_cast<unsigned>(c.uid),
       why);
  drop_client(d, c.id, Gone::kSilent);
}

int peer_pidfd(int sock, pid_t pid) {
  // the pidfd of the socket's peer itself (no pid-reuse window), else one from its pid
  int fd = -1;
  socklen_t len = sizeof fd;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 && fd >= 0) {
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
  }
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

// Checks a REGISTER with its descriptors (all closed here, kept or not); nullptr on success.
const char* register_client(Daemon& d, Client& c, const fm_dcs_msg& m, std::vector<int>& fds,
                            char* why_buf, std::size_t why_len) {
  if (c.registered) return "already registered";
  if (fds.size() != 1) return "REGISTER needs exactly one descriptor";
  if (m.pid != c.peer_pid) return "a process registers only itself";
  const int pidfd = peer_pidfd(c.sock, c.peer_pid);
  if (pidfd < 0) return "cannot watch the process (pidfd)";
  c.pidfd = pidfd;  // closed by drop_client from here on
  char st = 0;
  std::uint64_t start = 0;
  if (!read_task(m.pid, m.tid, &st, &start)) {
    std::snprintf(why_buf, why_len, "tid %d is not a thread of pid %d", m.tid, m.pid);
    return why_buf;
  }
  // read after the pidfd was taken: if the process is still alive, /proc spoke of it
  if (exited(pidfd)) return "process exited while registering";
  struct stat sb;
  if (fstat(fds[0], &sb) != 0 || !S_ISREG(sb.st_mode)) return "page is not a memfd";
  if (const char* why = check_page_fd(sb.st_size, fcntl(fds[0], F_GET_SEALS))) return why;
  void* p = mmap(nullptr, FM_DCS_PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
  if (p == MAP_FAILED) {
    std::snprintf(why_buf, why_len, "page cannot be mapped: %s", std::strerror(errno));
    return why_buf;
  }
  close_all(fds);
  c.page = static_cast<fm_dcs_page*>(p);  // unmapped by drop_client from here on
  // line 0 copied once: the client may rewrite it, the daemon goes by the copy
  static fm_dcs_page head;
  std::memcpy(&head, c.page, 64);
  if (const char* why = check_page_head(head, m)) return why;

  const JobKey key{c.uid, m.job};
  auto it = d.jobs.find(key);
  if (it != d.jobs.end()) {
    Job& j = it->second;
    if (j.size != m.size || j.local_size != m.local_size) return "sizes disagree with the job's";
    if (j.by_local[m.local_rank] != nullptr) return "local rank already registered";
  }
  if (d.free_slots.empty()) return "too many clients";
  if (it == d.jobs.end()) {
    Job j;
    j.key = key;
    j.name = printable_name(m.job_name, sizeof m.job_name);
    j.size = m.size;
    j.local_size = m.local_size;
    j.by_local.assign(m.local_size, nullptr);
    j.place_offset = d.next_place;  // jobs side by side on the cores, not all from core 0
    d.next_place += m.local_size;
    it = d.jobs.emplace(key, std::move(j)).first;
  }
  Job& j = it->second;
  c.registered = true;
  c.msg = m;
  c.name = j.name;
  c.starttime = start;
  c.job = &j;
  c.slot = static_cast<int>(d.free_slots.back());
  d.free_slots.pop_back();
  j.by_local[m.local_rank] = &c;
  ++j.ranks;
  ++d.host_ranks;
  if (d.opt.place && !d.topo.core_cpu.empty())
    c.cpu = d.topo.core_cpu[(j.place_offset + m.local_rank) % d.topo.core_cpu.size()];
  std::atomic_ref<std::uint64_t>(c.page->boosts).store(0, std::memory_order_relaxed);
  std::atomic_ref<std::uint32_t>(c.page->boosted).store(0, std::memory_order_relaxed);
  std::atomic_ref<std::uint32_t>(c.page->daemon_gen).store(d.gen, std::memory_order_release);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag_pidfd(c.id);
  if (epoll_ctl(d.epfd, EPOLL_CTL_ADD, pidfd, &ev) != 0) return "cannot watch the process";
  update_host_ranks(d);
  d.changed = true;
  return nullptr;
}

void send_status(Daemon& d, Client& c) {
  refresh_pending(d);
  std::string text = status_text(d);
  if (text.size() > kMaxStatus) {
    text.resize(kMaxStatus);
    text += "\n(truncated)\n";
  }
  std::vector<char> out(sizeof(fm_dcs_reply) + text.size() + 1);
  const fm_dcs_reply r =
      make_reply(FM_DCS_STATUS_TEXT, d.opt.policy, d.topo.cpus, d.host_ranks, -1, nullptr);
  std::memcpy(out.data(), &r, sizeof r);
  std::memcpy(out.data() + sizeof r, text.c_str(), text.size() + 1);
  // one datagram must fit the socket's send buffer
  int want = static_cast<int>(out.size() * 2 + 65536);
  if (setsockopt(c.sock, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) != 0)
    (void)setsockopt(c.sock, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
  (void)send(c.sock, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace

std::int64_t Usage::spent(std::int64_t now, std::int64_t window) {
  const std::int64_t from = now - window;
  while (!spans.empty() && spans.front().second <= from) spans.pop_front();
  std::int64_t sum = 0;
  for (const auto& [s, e] : spans) sum += e - (s > from ? s : from);
  return sum;
}

void accept_clients(Daemon& d) {
  for (;;) {
    const int s = accept4(d.lsock, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) logf("accept: %s", std::strerror(errno));
      return;
    }
    ucred cr{};
    socklen_t len = sizeof cr;
    if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
      close(s);
      continue;
    }
    const char* why = nullptr;
    if (d.clients.size() >= kMaxClients)
      why = "too many clients";
    else if (d.conns_per_uid[cr.uid] >= kMaxPerUid)
      why = "too many clients for this user";
    if (why != nullptr) {
      send_reply(s, make_reply(FM_DCS_NAK, d.opt.policy, d.topo.cpus, d.host_ranks, -1, why));
      logf("refused pid %d uid %u: %s", static_cast<int>(cr.pid), static_cast<unsigned>(cr.uid),
           why);
      close(s);
      continue;
    }
    auto c = std::make_unique<Client>();
    c->id = d.next_id++;
    c->sock = s;
    c->peer_pid = cr.pid;
    c->uid = cr.uid;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag_sock(c->id);
    if (epoll_ctl(d.epfd, EPOLL_CTL_ADD, s, &ev) != 0) {
      close(s);
      continue;
    }
    ++d.conns_per_uid[cr.uid];
    d.clients.emplace(c->id, std::move(c));
  }
}

void on_client_readable(Daemon& d, Client& c) {
  alignas(8) char buf[sizeof(fm_dcs_msg) + 1];  // one byte more: a longer message is truncated
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxFds)];
  iovec iov{buf, sizeof buf};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  const ssize_t n = recvmsg(c.sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    drop_client(d, c.id, c.registered ? Gone::kClosed : Gone::kSilent);
    return;
  }
  std::vector<int> fds;  // every descriptor received, closed unless kept
  for (cmsghdr* h = CMSG_FIRSTHDR(&mh); h != nullptr; h = CMSG_NXTHDR(&mh, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < k; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  if (n == 0) {  // end of the connection (or an empty datagram, which no client sends)
    close_all(fds);
    if (c.registered)
      drop_client(d, c.id, exited(c.pidfd) ? Gone::kExited : Gone::kClosed);
    else
      drop_client(d, c.id, Gone::kSilent);
    return;
  }
  fm_dcs_msg m;
  const char* why = nullptr;
  if ((mh.msg_flags & MSG_CTRUNC) != 0)
    why = "too many descriptors";
  else
    why = check_request(buf, static_cast<std::size_t>(n), (mh.msg_flags & MSG_TRUNC) != 0, &m);
  if (why == nullptr && m.type != FM_DCS_REGISTER && !fds.empty())
    why = "descriptors sent with a message that takes none";
  if (why != nullptr) {
    close_all(fds);
    refuse(d, c, why);
    return;
  }
  switch (m.type) {
    case FM_DCS_STATUS:
      send_status(d, c);
      drop_client(d, c.id, c.registered ? Gone::kClosed : Gone::kSilent);
      return;
    case FM_DCS_BYE:
      drop_client(d, c.id, c.registered ? Gone::kBye : Gone::kSilent);
      return;
    default:
      break;
  }
  char why_buf[96];
  why = register_client(d, c, m, fds, why_buf, sizeof why_buf);
  close_all(fds);
  if (why != nullptr) {
    refuse(d, c, why);
    return;
  }
  send_reply(c.sock,
             make_reply(FM_DCS_ACK, d.opt.policy, d.topo.cpus, d.host_ranks, c.cpu, nullptr));
  logf("registered pid %d rank %u/%u job %016" PRIx64 " (%s)", m.pid, m.rank, m.size, m.job,
       c.name.c_str());
}

void drop_client(Daemon& d, std::uint64_t id, Gone why) {
  auto it = d.clients.find(id);
  if (it == d.clients.end()) return;
  Client& c = *it->second;
  if (c.registered) {
    // a process that is gone has nothing to give back: its tid may already be someone else's
    const bool alive = why != Gone::kExited && !exited(c.pidfd);
    demote(d, c, now_ns(), alive);
    Job& j = *c.job;
    j.by_local[c.msg.local_rank] = nullptr;
    --d.host_ranks;
    d.free_slots.push_back(static_cast<unsigned>(c.slot));
    if (--j.ranks == 0) d.jobs.erase(j.key);
    d.changed = true;
    if (why == Gone::kBye)
      logf("bye pid %d", c.msg.pid);
    else if (why == Gone::kExited)
      logf("pid %d gone", c.msg.pid);
    else if (why == Gone::kClosed)
      logf("pid %d closed its connection", c.msg.pid);
  }
  if (c.page != nullptr) munmap(c.page, FM_DCS_PAGE_BYTES);
  if (c.pidfd >= 0) {
    epoll_ctl(d.epfd, EPOLL_CTL_DEL, c.pidfd, nullptr);
    close(c.pidfd);
  }
  epoll_ctl(d.epfd, EPOLL_CTL_DEL, c.sock, nullptr);
  close(c.sock);
  if (--d.conns_per_uid[c.uid] == 0) d.conns_per_uid.erase(c.uid);
  const bool counted = c.registered;
  d.clients.erase(it);
  if (counted) update_host_ranks(d);
}

std::string status_text(const Daemon& d) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line,
                "fm-dcsd on %s: policy %s, %u cpus, %u cores, sched_rt_runtime_us %ld, "
                "%zu connections, %u ranks%s\n",
                d.host.c_str(), policy_name(d.opt.policy), d.topo.cpus, d.topo.cores,
                d.rt_runtime_us, d.clients.size(), d.host_ranks,
                d.host_ranks > d.topo.cpus ? " (contended)" : "");
  out += line;
  for (const auto& [key, j] : d.jobs) {
    std::snprintf(line, sizeof line, "job %016" PRIx64 " uid %u name %s ranks %u/%u\n", key.job,
                  static_cast<unsigned>(key.uid), j.name.c_str(), j.ranks, j.local_size);
    out += line;
    for (const Client* c : j.by_local) {
      if (c == nullptr) continue;
      const std::uint32_t st =
          std::atomic_ref<std::uint32_t>(c->page->state).load(std::memory_order_relaxed);
      std::int64_t ns = c->boosted_ns;
      if (c->boosted) ns += now_ns() - c->boost_start;
      std::snprintf(line, sizeof line,
                    "  rank %u pid %d tid %d state %s pending %" PRIu64
                    " boosted %s boosts %" PRIu64 " boost_ms %.3f cpu %d\n",
                    c->msg.rank, c->msg.pid, c->msg.tid, state_word(st), c->pending,
                    c->boosted ? "yes" : "no", c->boosts, static_cast<double>(ns) / 1e6, c->cpu);
      out += line;
    }
  }
  return out;
}

}  // namespace fm::dcsd
