// dcs_client.cpp - a raw fm-dcsd client for the daemon's tests: registers the way FM does (a
// sealed memfd page, REGISTER with SCM_RIGHTS), and also the ways FM never would (another pid,
// bad pages, garbage), so the tests can check what the daemon accepts and refuses.
//
//   dcs_client [--socket S] register-self [--hold SEC] [--state STATE] [--job ID]
//   dcs_client [--socket S] register-pair [--pending N] [--state STATE] [--hold SEC]
//       two local ranks of one fake job: this process is local rank 0, a forked child local
//       rank 1 that has "sent" it N packets it has not taken (so rank 0 has N pending)
//   dcs_client [--socket S] register-pid PID          claims to be PID: must be refused
//   dcs_client [--socket S] register-bad-page KIND [--tid T]
//       KIND: unsealed, size, magic, tid (a tid not of this process, default 1), nofd, twofds
//   dcs_client [--socket S] garbage N [--seed X]      N connections of junk, some with fds
//   dcs_client [--socket S] status
//   dcs_client state FILE                             the state file's live entries
// --slice US (any command): first ask for a scheduler slice of US microseconds, as FM does at
// FM_initialize (FM_SLICE_US), so a test can check that a boost gives it back.
// Prints "ACK policy=.. cpus=.. host_ranks=.. cpu=.. pid=.." (exit 0) or "NAK <reason>" (3).
#include <fcntl.h>
#include <fm/fm_cosched.h>
#include <fm/fm_topology.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <cerrno>
#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../state.hpp"

namespace {

std::string g_socket = FM_DCS_SOCKET;
std::uint64_t g_job = 0;            // --job: a fixed job id (gang tests run one job on two daemons)
volatile sig_atomic_t g_leave = 0;  // SIGUSR1: end --hold early, with a BYE

void on_usr1(int) {
  g_leave = 1;
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "dcs_client: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

int connect_daemon() {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  socklen_t len;
  if (g_socket[0] == '@') {
    std::memcpy(sa.sun_path + 1, g_socket.data() + 1, g_socket.size() - 1);
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + g_socket.size());
  } else {
    std::strncpy(sa.sun_path, g_socket.c_str(), sizeof sa.sun_path - 1);
    len = sizeof sa;
  }
  const int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  if (connect(s, reinterpret_cast<sockaddr*>(&sa), len) != 0) die("connect");
  return s;
}

struct Page {
  int fd = -1;
  fm_dcs_page* p = nullptr;
};

Page make_page(bool seal, off_t size) {
  Page pg;
  pg.fd = memfd_create("fm-dcs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (pg.fd < 0) die("memfd_create");
  if (ftruncate(pg.fd, size) != 0) die("ftruncate");
  if (seal && fcntl(pg.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    die("F_ADD_SEALS");
  void* m = mmap(nullptr, FM_DCS_PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, pg.fd, 0);
  if (m == MAP_FAILED) die("mmap");
  pg.p = static_cast<fm_dcs_page*>(m);
  return pg;
}

fm_dcs_msg make_msg(int type, pid_t pid, pid_t tid, unsigned lr, unsigned ls, std::uint64_t job) {
  fm_dcs_msg m{};
  m.magic = FM_DCS_MSG_MAGIC;
  m.version = FM_DCS_VERSION;
  m.type = static_cast<std::uint16_t>(type);
  m.pid = pid;
  m.tid = tid;
  m.rank = lr;
  m.size = ls;
  m.local_rank = lr;
  m.local_size = ls;
  m.job = job;
  std::snprintf(m.job_name, sizeof m.job_name, "dcs_client");
  return m;
}

void fill_head(fm_dcs_page* p, const fm_dcs_msg& m) {
  p->magic = FM_DCS_PAGE_MAGIC;
  p->version = FM_DCS_VERSION;
  p->pid = m.pid;
  p->tid = m.tid;
  p->rank = m.rank;
  p->size = m.size;
  p->local_rank = m.local_rank;
  p->local_size = m.local_size;
  p->job = m.job;
  p->nonce = std::random_device{}();
}

void send_with_fds(int s, const void* buf, std::size_t len, const std::vector<int>& fds) {
  iovec iov{const_cast<void*>(buf), len};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  std::vector<char> cbuf(CMSG_SPACE(sizeof(int) * (fds.empty() ? 1 : fds.size())));
  if (!fds.empty()) {
    mh.msg_control = cbuf.data();
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(h), fds.data(), sizeof(int) * fds.size());
  }
  (void)sendmsg(s, &mh, MSG_NOSIGNAL);  // garbage may find the connection closed already
}

// Waits for the answer; prints it; returns 0 for ACK, 3 for NAK, 1 for none.
int answer(int s, bool print, const char* prefix = "") {
  pollfd p{s, POLLIN, 0};
  if (poll(&p, 1, 10000) <= 0) {
    std::printf("%sno answer\n", prefix);
    return 1;
  }
  fm_dcs_reply r{};
  const ssize_t n = recv(s, &r, sizeof r, 0);
  if (n != static_cast<ssize_t>(sizeof r) || r.magic != FM_DCS_MSG_MAGIC) {
    if (print) std::printf("%sno answer (connection closed)\n", prefix);
    return 1;
  }
  if (r.type == FM_DCS_ACK) {
    static const char* names[] = {"none", "dcs", "gang"};
    if (print)
      std::printf("%sACK policy=%s cpus=%u host_ranks=%u cpu=%d pid=%d\n", prefix,
                  r.policy < 3 ? names[r.policy] : "?", r.cpus, r.host_ranks, r.cpu,
                  static_cast<int>(getpid()));
    std::fflush(stdout);
    return 0;
  }
  r.reason[sizeof r.reason - 1] = '\0';
  if (print) std::printf("%sNAK %s\n", prefix, r.reason);
  std::fflush(stdout);
  return 3;
}

unsigned parse_state(const char* s) {
  if (std::strcmp(s, "computing") == 0) return FM_DCS_COMPUTING;
  if (std::strcmp(s, "spinning") == 0) return FM_DCS_SPINNING;
  if (std::strcmp(s, "blocked") == 0) return FM_DCS_BLOCKED;
  if (std::strcmp(s, "finalized") == 0) return FM_DCS_FINALIZED;
  std::fprintf(stderr, "dcs_client: unknown state %s\n", s);
  std::exit(2);
}

void hold_then_bye(int s, double hold, const fm_dcs_msg& reg) {
  if (hold > 0) {
    timespec ts{static_cast<time_t>(hold),
                static_cast<long>((hold - static_cast<double>(static_cast<time_t>(hold))) * 1e9)};
    while (!g_leave && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  fm_dcs_msg bye = reg;
  bye.type = FM_DCS_BYE;
  (void)send(s, &bye, sizeof bye, MSG_NOSIGNAL);
  close(s);
}

int register_one(unsigned lr, unsigned ls, std::uint64_t job, unsigned state, Page* out, int* sock,
                 const char* prefix) {
  Page pg = make_page(true, FM_DCS_PAGE_BYTES);
  const fm_dcs_msg m = make_msg(FM_DCS_REGISTER, getpid(), getpid(), lr, ls, job);
  fill_head(pg.p, m);
  pg.p->state = state;
  const int s = connect_daemon();
  send_with_fds(s, &m, sizeof m, {pg.fd});
  const int rc = answer(s, true, prefix);
  *out = pg;
  *sock = s;
  return rc;
}

int cmd_register_self(double hold, unsigned state) {
  Page pg;
  int s;
  const std::uint64_t job =
      g_job != 0 ? g_job : (std::uint64_t{std::random_device{}()} << 32) | getpid();
  const int rc = register_one(0, 1, job, state, &pg, &s, "");
  if (rc != 0) return rc;
  hold_then_bye(s, hold, make_msg(FM_DCS_BYE, getpid(), getpid(), 0, 1, job));
  return 0;
}

int cmd_register_pair(double hold, unsigned state, std::uint64_t pending) {
  const std::uint64_t job = (std::uint64_t{std::random_device{}()} << 32) | getpid();
  int ready[2];
  if (pipe(ready) != 0) die("pipe");
  const pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {  // local rank 1: has sent rank 0 `pending` packets, sleeps in FM
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test that kills rank 0 must not wait for this one
    close(ready[0]);
    Page pg;
    int s;
    const int rc = register_one(1, 2, job, FM_DCS_BLOCKED, &pg, &s, "rank1: ");
    pg.p->sent[0] = pending;
    (void)!write(ready[1], "x", 1);
    if (rc != 0) _exit(rc);
    hold_then_bye(s, hold, make_msg(FM_DCS_BYE, getpid(), getpid(), 1, 2, job));
    _exit(0);
  }
  close(ready[1]);
  char x;
  (void)!read(ready[0], &x, 1);  // rank 1 first, so its counters are there when rank 0 joins
  Page pg;
  int s;
  const int rc = register_one(0, 2, job, state, &pg, &s, "");
  if (rc == 0) hold_then_bye(s, hold, make_msg(FM_DCS_BYE, getpid(), getpid(), 0, 2, job));
  int st = 0;
  kill(child, rc != 0 ? SIGTERM : SIGUSR1);
  waitpid(child, &st, 0);
  return rc;
}

int cmd_register_pid(pid_t pid) {
  Page pg = make_page(true, FM_DCS_PAGE_BYTES);
  const fm_dcs_msg m = make_msg(FM_DCS_REGISTER, pid, pid, 0, 1, 42);
  fill_head(pg.p, m);
  const int s = connect_daemon();
  send_with_fds(s, &m, sizeof m, {pg.fd});
  return answer(s, true);
}

int cmd_bad_page(const std::string& kind, pid_t tid) {
  const bool seal = kind != "unsealed";
  Page pg = make_page(seal, kind == "size" ? FM_DCS_PAGE_BYTES * 2 : FM_DCS_PAGE_BYTES);
  fm_dcs_msg m = make_msg(FM_DCS_REGISTER, getpid(), getpid(), 0, 1, 43);
  if (kind == "tid") m.tid = tid;
  fill_head(pg.p, m);
  if (kind == "magic") pg.p->magic ^= 1;
  const int s = connect_daemon();
  std::vector<int> fds{pg.fd};
  if (kind == "nofd") fds.clear();
  if (kind == "twofds") fds.push_back(pg.fd);
  send_with_fds(s, &m, sizeof m, fds);
  return answer(s, true);
}

int cmd_garbage(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::printf("garbage: %d connections, seed %u\n", n, seed);
  int naks = 0;
  for (int i = 0; i < n; ++i) {
    const int s = connect_daemon();
    std::vector<int> fds;
    const int kind = static_cast<int>(rng() % 7);
    const int nfds = kind == 3 ? 20 : static_cast<int>(rng() % 4);
    for (int k = 0; k < nfds && kind >= 2; ++k) {
      int fd = -1;
      switch (rng() % 3) {
        case 0:
          fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
          break;
        case 1:
          fd = memfd_create("junk", MFD_CLOEXEC);
          break;
        default: {
          int pp[2];
          if (pipe2(pp, O_CLOEXEC) == 0) {
            close(pp[1]);
            fd = pp[0];
          }
        }
      }
      if (fd >= 0) fds.push_back(fd);
    }
    std::vector<unsigned char> buf;
    if (kind == 0 || kind == 3) {
      buf.resize(1 + rng() % 300);
      for (auto& b : buf) b = static_cast<unsigned char>(rng());
    } else if (kind == 1 || kind == 2 || kind == 6) {
      fm_dcs_msg m = make_msg(FM_DCS_REGISTER, getpid(), getpid(), 0, 1, rng());
      unsigned char* p = reinterpret_cast<unsigned char*>(&m);
      // a valid header, then random words in random places
      const int flips = static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f)
        p[8 + rng() % (sizeof m - 8)] = static_cast<unsigned char>(rng());
      if (kind == 6) m.pid = 1;
      buf.assign(p, p + sizeof m);
    } else if (kind == 5) {
      fm_dcs_msg m = make_msg(FM_DCS_STATUS, getpid(), getpid(), 0, 1, 0);
      const unsigned char* p = reinterpret_cast<const unsigned char*>(&m);
      buf.assign(p, p + sizeof m);
      if (fds.empty()) fds.push_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
    }
    if (kind != 4) {
      send_with_fds(s, buf.data(), buf.size(), fds);
      if (answer(s, false) == 3) ++naks;
    }
    for (int fd : fds) close(fd);
    close(s);
  }
  std::printf("garbage: %d refused with NAK\n", naks);
  return 0;
}

int cmd_status() {
  const int s = connect_daemon();
  const fm_dcs_msg m = make_msg(FM_DCS_STATUS, getpid(), getpid(), 0, 1, 0);
  (void)send(s, &m, sizeof m, MSG_NOSIGNAL);
  pollfd p{s, POLLIN, 0};
  if (poll(&p, 1, 10000) <= 0) return 1;
  std::vector<char> buf(8 << 20);
  const ssize_t n = recv(s, buf.data(), buf.size() - 1, 0);
  if (n < static_cast<ssize_t>(sizeof(fm_dcs_reply))) return 1;
  buf[static_cast<std::size_t>(n)] = '\0';
  std::fputs(buf.data() + sizeof(fm_dcs_reply), stdout);
  return 0;
}

int cmd_state(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  fm::dcsd::StateTable t{};
  if (read(fd, &t, sizeof t) != static_cast<ssize_t>(sizeof t)) {
    std::printf("state file empty or short\n");
    return 0;
  }
  for (const auto& e : t.entry)
    if (e.used == 1) std::printf("entry pid %d tid %d policy %u\n", e.pid, e.tid, e.policy);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  double hold = 0;
  unsigned state = FM_DCS_SPINNING;
  std::uint64_t pending = 5;
  pid_t tid = 1;
  unsigned seed = std::random_device{}();
  std::uint64_t slice_us = 0;
  std::vector<std::string> pos;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool more = i + 1 < args.size();
    if (args[i] == "--socket" && more)
      g_socket = args[++i];
    else if (args[i] == "--hold" && more)
      hold = std::atof(args[++i].c_str());
    else if (args[i] == "--state" && more)
      state = parse_state(args[++i].c_str());
    else if (args[i] == "--pending" && more)
      pending = std::strtoull(args[++i].c_str(), nullptr, 0);
    else if (args[i] == "--job" && more)
      g_job = std::strtoull(args[++i].c_str(), nullptr, 0);
    else if (args[i] == "--tid" && more)
      tid = std::atoi(args[++i].c_str());
    else if (args[i] == "--seed" && more)
      seed = static_cast<unsigned>(std::atoi(args[++i].c_str()));
    else if (args[i] == "--slice" && more)
      slice_us = std::strtoull(args[++i].c_str(), nullptr, 0);
    else
      pos.push_back(args[i]);
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = on_usr1;  // no SA_RESTART: the hold's sleep returns
  sigaction(SIGUSR1, &sa, nullptr);
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (slice_us != 0) {
    FM_sched_attr a{};
    if (FM_sched_get(0, &a) != 0) die("sched_getattr");
    a.runtime_ns = slice_us * 1000;
    if (FM_sched_set(0, &a) != 0) die("sched_setattr");
  }
  if (pos.empty()) {
    std::fprintf(stderr, "usage: see the comment at the top of dcs_client.cpp\n");
    return 2;
  }
  const std::string& cmd = pos[0];
  if (cmd == "register-self") return cmd_register_self(hold, state);
  if (cmd == "register-pair") return cmd_register_pair(hold, state, pending);
  if (cmd == "register-pid" && pos.size() == 2) return cmd_register_pid(std::atoi(pos[1].c_str()));
  if (cmd == "register-bad-page" && pos.size() == 2) return cmd_bad_page(pos[1], tid);
  if (cmd == "garbage" && pos.size() == 2) return cmd_garbage(std::atoi(pos[1].c_str()), seed);
  if (cmd == "status") return cmd_status();
  if (cmd == "state" && pos.size() == 2) return cmd_state(pos[1].c_str());
  std::fprintf(stderr, "dcs_client: unknown command %s\n", cmd.c_str());
  return 2;
}
