// main.cpp - fm-dcsd: one daemon per host that coschedules FM processes on demand (HPVM's
// FM-DCS revived).  Options, startup checks, and the event loop: the listening socket, each
// client's connection and pidfd, one timerfd for the policy and a signalfd, all nonblocking, so
// no client can stall the loop.  The contract with clients is fm/fm_cosched.h.
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "daemon.hpp"
#include "proto.hpp"

namespace fm::dcsd {

namespace {

FILE* g_log = stderr;

constexpr const char* kVersionText = "fm-dcsd 0.1.0 (protocol 1)";

constexpr const char* kUsage =
    R"(Usage: fm-dcsd [OPTION]...
       fm-dcsd --status [--socket NAME]

Coschedules the FM processes of this host on demand (HPVM's FM-DCS): a process with packets
pending that waits for a CPU gets a short, bounded real-time boost (SCHED_RR), charged to its
job so that no job or user gets more than its share of the CPUs over a window.  FM processes
find the daemon by themselves on its socket and register their status page (fm/fm_cosched.h).
Run one per host, as root or with CAP_SYS_NICE (the shipped fm-dcsd.service does).

Policies:
  --policy dcs      demand-based coscheduling (default)
  --policy gang     explicit time slices per job; hosts running the same jobs agree on the
                    owner of each slice from the clock alone
  --policy none     registry and --status only; FM processes spin-then-block by themselves

Options:
  --socket NAME     socket to serve (default @fm-dcsd); a leading @ names a Linux abstract
                    socket (one per network namespace), anything else a path
  --tick-us N       dcs: how often the status pages are read, in us (default 10000)
  --boost-us N      longest one boost lasts, in us (default 10000)
  --window-ms N     fairness window, in ms (default 100): over it a job's (and a user's)
                    boosted time stays within window x CPUs / jobs (users) on the host
  --slice-ms N      gang: slice length, in ms (default 50)
  --log-slices      gang: log each slice and its owner
  --rt-prio N       SCHED_RR priority of a boosted process (default 1)
  --self-prio N     the daemon's own SCHED_FIFO priority, above its clients so it can always
                    demote them (default 10)
  --place           give each rank a CPU in the registration's answer: a job's ranks spread
                    over the cores, each job offset from the others
  --state FILE      where boosts are recorded so a restarted daemon undoes those of one that
                    died (default /run/fm-dcsd/NAME.state, NAME from --socket)
  --foreground      stay in the foreground (else detach once the socket is bound)
  --log FILE        log here, one line per event (default standard error)
  --status          print the running daemon's jobs, ranks, states and boosts, and exit
  --help, --version

Safety: boosts last at most --boost-us and are undone when the process exits, deregisters,
or the daemon stops; a daemon killed with -9 leaves them in the state file, and the next one
restores them.  dcs and gang refuse to run with RT throttling off
(kernel.sched_rt_runtime_us = -1).  Without CAP_SYS_NICE the daemon falls back to none.

Exit status: 0 on success; 1 on an error (no daemon for --status, socket in use, RT
throttling off); 2 for a usage error.
)";

[[noreturn]] void usage_error(const char* fmt, const char* arg) {
  std::fprintf(stderr, "fm-dcsd: ");
  std::fprintf(stderr, fmt, arg);
  std::fprintf(stderr, "\nTry 'fm-dcsd --help'.\n");
  std::exit(2);
}

long number(const char* opt, const char* s, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "fm-dcsd: %s wants a number from %ld to %ld, not '%s'\n", opt, lo, hi, s);
    std::exit(2);
  }
  return v;
}

enum Opt {
  kPolicy = 256,
  kSocket,
  kTick,
  kBoost,
  kWindow,
  kSlice,
  kRtPrio,
  kSelfPrio,
  kState,
  kPlace,
  kForeground,
  kLog,
  kStatus,
  kHelp,
  kVersion,
  kLogSlices
};

bool parse(int argc, char** argv, Options* o) {
  static const option longs[] = {{"policy", required_argument, nullptr, kPolicy},
                                 {"socket", required_argument, nullptr, kSocket},
                                 {"tick-us", required_argument, nullptr, kTick},
                                 {"boost-us", required_argument, nullptr, kBoost},
                                 {"window-ms", required_argument, nullptr, kWindow},
                                 {"slice-ms", required_argument, nullptr, kSlice},
                                 {"rt-prio", required_argument, nullptr, kRtPrio},
                                 {"self-prio", required_argument, nullptr, kSelfPrio},
                                 {"state", required_argument, nullptr, kState},
                                 {"place", no_argument, nullptr, kPlace},
                                 {"foreground", no_argument, nullptr, kForeground},
                                 {"log", required_argument, nullptr, kLog},
                                 {"log-slices", no_argument, nullptr, kLogSlices},
                                 {"status", no_argument, nullptr, kStatus},
                                 {"help", no_argument, nullptr, kHelp},
                                 {"version", no_argument, nullptr, kVersion},
                                 {nullptr, 0, nullptr, 0}};
  bool status = false;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", longs, nullptr)) != -1) {
    switch (c) {
      case kPolicy:
        if (std::strcmp(optarg, "dcs") == 0)
          o->policy = FM_DCS_POLICY_DCS;
        else if (std::strcmp(optarg, "gang") == 0)
          o->policy = FM_DCS_POLICY_GANG;
        else if (std::strcmp(optarg, "none") == 0)
          o->policy = FM_DCS_POLICY_NONE;
        else
          usage_error("unknown policy '%s' (dcs, gang or none)", optarg);
        break;
      case kSocket:
        o->socket = optarg;
        break;
      case kTick:
        o->tick_us = number("--tick-us", optarg, 50, 1000000);
        break;
      case kBoost:
        o->boost_us = number("--boost-us", optarg, 10, 600000000);
        break;
      case kWindow:
        o->window_ms = number("--window-ms", optarg, 1, 3600000);
        break;
      case kSlice:
        o->slice_ms = number("--slice-ms", optarg, 1, 3600000);
        break;
      case kRtPrio:
        o->rt_prio = static_cast<int>(number("--rt-prio", optarg, 1, 98));
        break;
      case kSelfPrio:
        o->self_prio = static_cast<int>(number("--self-prio", optarg, 1, 99));
        break;
      case kState:
        o->state = optarg;
        break;
      case kPlace:
        o->place = true;
        break;
      case kForeground:
        o->foreground = true;
        break;
      case kLog:
        o->log = optarg;
        break;
      case kLogSlices:
        o->log_slices = true;
        break;
      case kStatus:
        status = true;
        break;
      case kHelp:
        std::fputs(kUsage, stdout);
        std::exit(0);
      case kVersion:
        std::puts(kVersionText);
        std::exit(0);
      default:
        usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) usage_error("unexpected argument '%s'", argv[optind]);
  if (o->self_prio <= o->rt_prio)
    usage_error("--self-prio must be above --rt-prio (%s): the daemon must outrank its clients",
                "it demotes them");
  sockaddr_un sa;
  socklen_t len;
  if (!make_sockaddr(o->socket, &sa, &len)) usage_error("bad socket name '%s'", o->socket.c_str());
  return status;
}

int connect_to(const std::string& name, std::string* err) {
  sockaddr_un sa;
  socklen_t len = 0;
  make_sockaddr(name, &sa, &len);
  const int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    *err = std::strerror(errno);
    if (s >= 0) close(s);
    return -1;
  }
  return s;
}

int run_status(const Options& o) {
  std::string err;
  const int s = connect_to(o.socket, &err);
  if (s < 0) {
    std::fprintf(stderr, "fm-dcsd: no daemon on %s: %s\n", o.socket.c_str(), err.c_str());
    return 1;
  }
  fm_dcs_msg m{};
  m.magic = FM_DCS_MSG_MAGIC;
  m.version = FM_DCS_VERSION;
  m.type = FM_DCS_STATUS;
  m.pid = getpid();
  m.tid = m.pid;
  if (send(s, &m, sizeof m, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof m)) {
    std::fprintf(stderr, "fm-dcsd: cannot ask %s: %s\n", o.socket.c_str(), std::strerror(errno));
    return 1;
  }
  pollfd p{s, POLLIN, 0};
  if (poll(&p, 1, 10000) <= 0) {
    std::fprintf(stderr, "fm-dcsd: no answer from %s in 10 s\n", o.socket.c_str());
    return 1;
  }
  char probe;
  const ssize_t n = recv(s, &probe, 1, MSG_PEEK | MSG_TRUNC);  // the datagram's full length
  if (n < static_cast<ssize_t>(sizeof(fm_dcs_reply))) {
    std::fprintf(stderr, "fm-dcsd: bad answer from %s\n", o.socket.c_str());
    return 1;
  }
  std::vector<char> buf(static_cast<std::size_t>(n) + 1, '\0');
  const ssize_t got = recv(s, buf.data(), buf.size() - 1, 0);
  fm_dcs_reply r;
  std::memcpy(&r, buf.data(), sizeof r);
  if (got != n || r.magic != FM_DCS_MSG_MAGIC || r.type != FM_DCS_STATUS_TEXT) {
    std::fprintf(stderr, "fm-dcsd: bad answer from %s\n", o.socket.c_str());
    return 1;
  }
  std::fputs(buf.data() + sizeof r, stdout);
  close(s);
  return 0;
}

// Binds the socket; exits if a live daemon has it.
int bind_socket(const Options& o) {
  sockaddr_un sa;
  socklen_t len = 0;
  make_sockaddr(o.socket, &sa, &len);
  const int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) {
    std::fprintf(stderr, "fm-dcsd: socket: %s\n", std::strerror(errno));
    std::exit(1);
  }
  if (o.socket[0] != '@') {
    // a path left by a daemon that died is taken over; one that answers is not
    std::string err;
    const int probe = connect_to(o.socket, &err);
    if (probe >= 0) {
      close(probe);
      std::fprintf(stderr, "fm-dcsd: a daemon already serves %s\n", o.socket.c_str());
      std::exit(1);
    }
    unlink(o.socket.c_str());
  }
  if (bind(s, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    if (errno == EADDRINUSE)
      std::fprintf(stderr, "fm-dcsd: a daemon already serves %s\n", o.socket.c_str());
    else
      std::fprintf(stderr, "fm-dcsd: cannot bind %s: %s\n", o.socket.c_str(), std::strerror(errno));
    std::exit(1);
  }
  // any local user may register its own processes; the checks are per message
  if (o.socket[0] != '@') chmod(o.socket.c_str(), 0666);
  if (listen(s, 256) != 0) {
    std::fprintf(stderr, "fm-dcsd: listen: %s\n", std::strerror(errno));
    std::exit(1);
  }
  return s;
}

long read_rt_runtime() {
  FILE* f = std::fopen("/proc/sys/kernel/sched_rt_runtime_us", "re");
  long v = 0;
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld", &v) != 1) v = 0;
  std::fclose(f);
  return v;
}

void add(int epfd, int fd, std::uint64_t tag) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    logf("epoll_ctl: %s", std::strerror(errno));
    std::exit(1);
  }
}

void arm(Daemon& d) {
  itimerspec its{};
  const std::int64_t t = next_wakeup(d);
  its.it_value.tv_sec = t / 1000000000;
  its.it_value.tv_nsec = t % 1000000000;
  timerfd_settime(d.timerfd, TFD_TIMER_ABSTIME, &its, nullptr);  // 0: disarmed
}

void daemonize() {
  const pid_t p = fork();
  if (p < 0) {
    logf("fork: %s", std::strerror(errno));
    std::exit(1);
  }
  if (p > 0) _exit(0);  // the socket is bound: the caller may connect as soon as we return
  setsid();
  if (chdir("/") != 0) {
  }
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    close(null);
  }
}

int run(Options& o) {
  Daemon d;
  d.opt = o;
  if (!o.log.empty()) {
    g_log = std::fopen(o.log.c_str(), "ae");
    if (g_log == nullptr) {
      std::fprintf(stderr, "fm-dcsd: cannot open log %s: %s\n", o.log.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  d.rt_runtime_us = read_rt_runtime();
  if (d.opt.policy != FM_DCS_POLICY_NONE && d.rt_runtime_us < 0) {
    logf(
        "refusing --policy %s: RT throttling is off (kernel.sched_rt_runtime_us = -1), so a "
        "boosted spinning process could starve the machine; turn it back on "
        "(sysctl kernel.sched_rt_runtime_us=950000) or use --policy none",
        policy_name(d.opt.policy));
    return 1;
  }
  std::string err;
  d.topo = load_topology(&err);
  if (!err.empty()) logf("hwloc: %s; assuming %u cpu", err.c_str(), d.topo.cpus);
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  d.host = host;
  if (d.opt.state.empty()) d.opt.state = "/run/fm-dcsd/" + state_name(d.opt.socket) + ".state";

  // more descriptors than the default 1024: each client holds its socket and a pidfd
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  sigprocmask(SIG_BLOCK, &sigs, nullptr);

  d.lsock = bind_socket(d.opt);
  if (!d.state.open(d.opt.state, &err)) {
    logf("%s", err.c_str());
    if (d.opt.socket[0] != '@') unlink(d.opt.socket.c_str());
    return 1;
  }
  d.state.restore([](const StateEntry& e) {
    logf("restored pid %d tid %d (boosted by an earlier daemon)", e.pid, e.tid);
  });
  // the daemon outranks its clients, so a spinning boosted client cannot keep it from demoting
  if (d.opt.policy != FM_DCS_POLICY_NONE) {
    SchedAttr self{};
    self.policy = SCHED_FIFO;
    self.prio = static_cast<std::uint32_t>(d.opt.self_prio);
    SchedAttr probe{};
    if (!set_attr(0, self)) {
      logf(
          "cannot use real-time priorities (sched_setattr: %s; CAP_SYS_NICE needed): "
          "falling back to --policy none",
          std::strerror(errno));
      d.opt.policy = FM_DCS_POLICY_NONE;
    } else if (get_attr(0, &probe) && probe.policy != SCHED_FIFO) {
      d.opt.policy = FM_DCS_POLICY_NONE;
    }
  }
  for (unsigned i = kStateSlots; i > 0; --i) d.free_slots.push_back(i - 1);
  d.next_id = kFirstId;

  if (!d.opt.foreground) daemonize();
  // a generation per daemon start, so a client can tell a new daemon took its page
  d.gen = static_cast<std::uint32_t>(getpid()) | 1u;

  d.epfd = epoll_create1(EPOLL_CLOEXEC);
  d.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  d.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
  if (d.epfd < 0 || d.timerfd < 0 || d.sigfd < 0) {
    logf("cannot set up the event loop: %s", std::strerror(errno));
    return 1;
  }
  add(d.epfd, d.lsock, kTagListen);
  add(d.epfd, d.timerfd, kTagTimer);
  add(d.epfd, d.sigfd, kTagSignal);
  logf("serving %s: policy %s, %u cpus, %u cores, state %s", d.opt.socket.c_str(),
       policy_name(d.opt.policy), d.topo.cpus, d.topo.cores, d.opt.state.c_str());

  epoll_event evs[64];
  while (!d.stopping) {
    arm(d);
    const int n = epoll_wait(d.epfd, evs, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      logf("epoll_wait: %s", std::strerror(errno));
      break;
    }
    bool tick = false;
    for (int i = 0; i < n; ++i) {
      const std::uint64_t tag = evs[i].data.u64;
      if (tag == kTagListen) {
        accept_clients(d);
      } else if (tag == kTagTimer) {
        std::uint64_t expirations;
        (void)read(d.timerfd, &expirations, sizeof expirations);
        tick = true;
      } else if (tag == kTagSignal) {
        signalfd_siginfo si;
        if (read(d.sigfd, &si, sizeof si) == sizeof si) {
          logf("%s: demoting every client and exiting", strsignal(static_cast<int>(si.ssi_signo)));
          d.stopping = true;
        }
      } else {
        const std::uint64_t id = tag >> 2;
        auto it = d.clients.find(id);
        if (it == d.clients.end()) continue;  // dropped earlier in this batch
        if ((tag & 3) == 1)
          drop_client(d, id, Gone::kExited);
        else if ((evs[i].events & EPOLLIN) != 0)
          on_client_readable(d, *it->second);
        else
          drop_client(d, id, it->second->registered ? Gone::kClosed : Gone::kSilent);
      }
    }
    if (tick || d.changed) {
      d.changed = false;
      policy_tick(d);
    }
  }
  demote_all(d);
  d.state.clear_all();
  if (d.opt.socket[0] != '@') unlink(d.opt.socket.c_str());
  logf("exiting");
  return 0;
}

}  // namespace

void logf(const char* fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  std::fprintf(g_log, "fm-dcsd: %s\n", line);
  std::fflush(g_log);
}

std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

}  // namespace fm::dcsd

int main(int argc, char** argv) {
  fm::dcsd::Options o;
  if (fm::dcsd::parse(argc, argv, &o)) return fm::dcsd::run_status(o);
  return fm::dcsd::run(o);
}
