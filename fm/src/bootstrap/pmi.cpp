// pmi.cpp - a PMI-1 wire-protocol client (no libpmi): newline-terminated lines of space-separated
// key=value tokens over the socket that Hydra's mpiexec passes down in PMI_FD.
//
// Hydra 4.0.2 (Debian's mpich), as observed with mpiexec.hydra:
//  * get_maxes answers kvsname_max=256 keylen_max=64 vallen_max=1024.  These are C buffer sizes:
//    Hydra silently truncates keys to keylen_max - 1 and values to vallen_max - 1 characters, so
//    put() accepts at most that many.
//  * put is cached by the node's proxy; the pairs become visible to every process after the next
//    barrier_in/barrier_out.  get before that answers rc=-1, even for the process's own key.
//  * an unknown key: "cmd=get_result rc=-1 msg=key_K_not_found value=unknown".
//  * an unrecognised command makes mpiexec kill the whole job: only the commands below are sent.
//  * finalize is answered at once by the local proxy (it involves no other process).
//  * the socket closing before finalize means the process failed: by default the launcher then
//    kills the whole job.  So only finalize() closes it: on a failed open() or a destruction
//    without finalize() the descriptor stays open (close-on-exec) until the process exits, which
//    lets the caller report its error before the launcher tears the job down.
#include "bootstrap/pmi.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::bootstrap {
namespace {

constexpr double k_default_timeout_s = 300.0;
constexpr std::size_t k_max_answer = 1u << 20;  // a longer line is not a PMI-1 answer

// Strict decimal: digits only, no sign or spaces, at most max.
bool parse_uint(const char* s, unsigned long max, unsigned long* out) {
  if (s == nullptr || *s < '0' || *s > '9') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long v = std::strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max) return false;
  *out = v;
  return true;
}

// One answer line, e.g. "cmd=get_result rc=0 msg=success value=abc".
class Answer {
 public:
  void parse(std::string line) {
    line_ = std::move(line);
    fields_.clear();
    std::string_view rest(line_);
    while (!rest.empty()) {
      std::size_t start = rest.find_first_not_of(" \t\r");
      if (start == std::string_view::npos) break;
      rest.remove_prefix(start);
      std::size_t end = rest.find_first_of(" \t\r");
      std::string_view token = rest.substr(0, end);
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
      std::size_t eq = token.find('=');
      if (eq == std::string_view::npos)
        fields_.emplace_back(std::string(token), std::string());
      else
        fields_.emplace_back(std::string(token.substr(0, eq)), std::string(token.substr(eq + 1)));
    }
  }
  const std::string* find(std::string_view key) const {
    for (const auto& kv : fields_)
      if (kv.first == key) return &kv.second;
    return nullptr;
  }
  // The rc field; an answer without one (barrier_out, finalize_ack) counts as success.
  long rc() const {
    const std::string* v = find("rc");
    if (v == nullptr) return 0;
    char* end = nullptr;
    long r = std::strtol(v->c_str(), &end, 10);
    return (end == v->c_str() || *end != '\0') ? -1 : r;
  }
  const char* c_str() const { return line_.c_str(); }

 private:
  std::string line_;
  std::vector<std::pair<std::string, std::string>> fields_;
};

class Pmi1 final : public Bootstrap {
 public:
  ~Pmi1() override = default;  // the descriptor is closed only by finalize(): see the top
  const char* name() const noexcept override { return "pmi-1"; }

  int open();
  void set_timeout(double seconds);  // 0: wait for the launcher forever
  int put(const std::string& key, const std::string& value) override;
  int fence() override { return barrier_as("fence"); }
  int get(const std::string& key, std::string* value) override;
  int barrier() override { return barrier_as("barrier"); }
  int finalize() override;
  void abort(int code, const char* msg) override;

 private:
  std::uint64_t deadline() const { return timeout_ns_ == 0 ? 0 : now_ns() + timeout_ns_; }
  int usable(const char* what);
  int check_key(const char* what, const std::string& key);
  int wait_fd(const char* what, short events, std::uint64_t dl);
  int send_all(const char* what, const std::string& line, std::uint64_t dl);
  int read_line(const char* what, std::uint64_t dl, std::string* line);
  int exchange(const char* what, const std::string& request, const char* expect, Answer* answer);
  int barrier_as(const char* what);
  int read_max(const Answer& a, const char* field, unsigned long* out);

  int fd_ = -1;
  bool broken_ = false;  // a failed exchange left the stream out of step
  bool finalized_ = false;
  std::uint64_t timeout_ns_ = 0;  // 0: wait for the launcher forever
  double timeout_s_ = k_default_timeout_s;
  std::string kvsname_;
  unsigned long kvsname_max_ = 0, keylen_max_ = 0, vallen_max_ = 0;
  std::string in_;  // received bytes not yet consumed as lines
};

void Pmi1::set_timeout(double seconds) {
  timeout_s_ = seconds;
  timeout_ns_ = static_cast<std::uint64_t>(timeout_s_ * 1e9);
  if (timeout_s_ > 0 && timeout_ns_ == 0) timeout_ns_ = 1;
}

int Pmi1::open() {
  const char* fd_env = std::getenv("PMI_FD");
  unsigned long fd = 0;
  if (!parse_uint(fd_env, INT_MAX, &fd))
    return fail(FM_ELAUNCH, "PMI_FD=%s is not a descriptor", fd_env ? fd_env : "(unset)");
  int fl = ::fcntl(static_cast<int>(fd), F_GETFD);
  if (fl < 0)
    return fail(FM_ELAUNCH, "PMI_FD=%lu is not an open descriptor (%s)", fd, std::strerror(errno));
  struct stat st;
  if (::fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode))
    return fail(FM_ELAUNCH, "PMI_FD=%lu is not a socket: not started by Hydra's mpiexec?", fd);
  // Programs exec'd by this process must not inherit the launcher connection.
  if (::fcntl(static_cast<int>(fd), F_SETFD, fl | FD_CLOEXEC) != 0)
    return fail(FM_ELAUNCH, "PMI_FD=%lu: cannot set close-on-exec (%s)", fd, std::strerror(errno));

  const char* size_env = std::getenv("PMI_SIZE");
  const char* rank_env = std::getenv("PMI_RANK");
  unsigned long size = 0, rank = 0;
  if (!parse_uint(size_env, UINT_MAX, &size) || size == 0)
    return fail(FM_ELAUNCH, "PMI_SIZE=%s is not a job size (PMI_FD=%lu is set)",
                size_env ? size_env : "(unset)", fd);
  if (!parse_uint(rank_env, UINT_MAX, &rank))
    return fail(FM_ELAUNCH, "PMI_RANK=%s is not a rank (PMI_FD=%lu is set)",
                rank_env ? rank_env : "(unset)", fd);
  if (rank >= size) return fail(FM_ELAUNCH, "PMI_RANK=%lu is not below PMI_SIZE=%lu", rank, size);
  fd_ = static_cast<int>(fd);
  rank_ = static_cast<unsigned>(rank);
  size_ = static_cast<unsigned>(size);

  Answer a;
  int rc = exchange("init", "cmd=init pmi_version=1 pmi_subversion=1\n", "response_to_init", &a);
  if (rc != FM_SUCCESS) return rc;
  const std::string* version = a.find("pmi_version");
  if (a.rc() != 0 || version == nullptr || *version != "1")
    return fail(FM_ELAUNCH, "PMI: the launcher refused PMI-1 (answer \"%.160s\")", a.c_str());

  if ((rc = exchange("get_maxes", "cmd=get_maxes\n", "maxes", &a)) != FM_SUCCESS ||
      (rc = read_max(a, "kvsname_max", &kvsname_max_)) != FM_SUCCESS ||
      (rc = read_max(a, "keylen_max", &keylen_max_)) != FM_SUCCESS ||
      (rc = read_max(a, "vallen_max", &vallen_max_)) != FM_SUCCESS)
    return rc;

  rc = exchange("get_my_kvsname", "cmd=get_my_kvsname\n", "my_kvsname", &a);
  if (rc != FM_SUCCESS) return rc;
  const std::string* kvs = a.find("kvsname");
  if (a.rc() != 0 || kvs == nullptr || kvs->empty() || !wire_safe(*kvs, true))
    return fail(FM_ELAUNCH, "PMI: no usable kvsname in \"%.160s\"", a.c_str());
  kvsname_ = *kvs;
  FM_DEBUG(
      "PMI-1: rank %u of %u, PMI_FD=%d, kvsname %s, keylen_max %lu, vallen_max %lu, "
      "timeout %g s",
      rank_, size_, fd_, kvsname_.c_str(), keylen_max_, vallen_max_, timeout_s_);
  return FM_SUCCESS;
}

int Pmi1::read_max(const Answer& a, const char* field, unsigned long* out) {
  const std::string* v = a.find(field);
  if (v == nullptr || !parse_uint(v->c_str(), 1u << 30, out) || *out < 2)
    return fail(FM_ELAUNCH, "PMI: get_maxes answer has no usable %s: \"%.160s\"", field, a.c_str());
  return FM_SUCCESS;
}

int Pmi1::usable(const char* what) {
  if (finalized_) return fail(FM_ELAUNCH, "PMI: %s after finalize", what);
  if (broken_)
    return fail(FM_ELAUNCH, "PMI: %s: the launcher connection is unusable after an earlier failure",
                what);
  return FM_SUCCESS;
}

int Pmi1::check_key(const char* what, const std::string& key) {
  if (key.empty()) return fail(FM_EINVAL, "PMI: %s: empty key", what);
  if (key.size() >= keylen_max_)
    return fail(FM_EINVAL,
                "PMI: %s: key \"%.40s...\" is %zu chars, longer than keylen_max %lu "
                "allows (%lu)",
                what, key.c_str(), key.size(), keylen_max_, keylen_max_ - 1);
  if (!wire_safe(key, true))
    return fail(FM_EINVAL, "PMI: %s: key \"%.64s\" holds a space, '=' or non-printable character",
                what, key.c_str());
  return FM_SUCCESS;
}

// Waits until fd_ is ready for events (or has hung up/failed: the next I/O call says which).
int Pmi1::wait_fd(const char* what, short events, std::uint64_t dl) {
  for (;;) {
    int ms = -1;
    if (dl != 0) {
      std::uint64_t now = now_ns();
      std::uint64_t left = dl > now ? dl - now : 0;
      ms = static_cast<int>(std::min<std::uint64_t>((left + 999999) / 1000000, INT_MAX));
    }
    pollfd p{fd_, events, 0};
    int n = ::poll(&p, 1, ms);
    if (n > 0) return FM_SUCCESS;
    if (n == 0) {
      if (dl != 0 && now_ns() >= dl)
        return fail(FM_ELAUNCH,
                    "PMI: no answer from the launcher to %s within %g s "
                    "(FM_PMI_TIMEOUT_S)",
                    what, timeout_s_);
      continue;
    }
    if (errno == EINTR) continue;
    return fail(FM_ELAUNCH, "PMI: poll on PMI_FD=%d failed during %s: %s", fd_, what,
                std::strerror(errno));
  }
}

int Pmi1::send_all(const char* what, const std::string& line, std::uint64_t dl) {
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (int rc = wait_fd(what, POLLOUT, dl); rc != FM_SUCCESS) return rc;
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
      return fail(FM_ELAUNCH, "PMI: launcher closed the connection during %s", what);
    return fail(FM_ELAUNCH, "PMI: sending %s on PMI_FD=%d failed: %s", what, fd_,
                n < 0 ? std::strerror(errno) : "no progress");
  }
  return FM_SUCCESS;
}

int Pmi1::read_line(const char* what, std::uint64_t dl, std::string* line) {
  std::size_t scanned = 0;
  for (;;) {
    std::size_t nl = in_.find('\n', scanned);
    if (nl != std::string::npos) {
      line->assign(in_, 0, nl);
      in_.erase(0, nl + 1);
      return FM_SUCCESS;
    }
    scanned = in_.size();
    if (in_.size() > k_max_answer)
      return fail(FM_ELAUNCH, "PMI: answer to %s longer than %zu bytes", what, k_max_answer);
    if (int rc = wait_fd(what, POLLIN, dl); rc != FM_SUCCESS) return rc;
    char buf[4096];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0 || errno == ECONNRESET)
      return fail(FM_ELAUNCH, "PMI: launcher closed the connection during %s", what);
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    return fail(FM_ELAUNCH, "PMI: reading the answer to %s on PMI_FD=%d failed: %s", what, fd_,
                std::strerror(errno));
  }
}

// Sends one request and reads its one-line answer, which must be "cmd=<expect> ...".  Any failure
// leaves the stream out of step, so later exchanges are refused.
int Pmi1::exchange(const char* what, const std::string& request, const char* expect,
                   Answer* answer) {
  if (int rc = usable(what); rc != FM_SUCCESS) return rc;
  std::uint64_t dl = deadline();
  std::string line;
  int rc = send_all(what, request, dl);
  if (rc == FM_SUCCESS) rc = read_line(what, dl, &line);
  if (rc != FM_SUCCESS) {
    broken_ = true;
    return rc;
  }
  answer->parse(std::move(line));
  const std::string* cmd = answer->find("cmd");
  if (cmd == nullptr || *cmd != expect) {
    broken_ = true;
    return fail(FM_ELAUNCH, "PMI: unexpected answer to %s: \"%.160s\"", what, answer->c_str());
  }
  return FM_SUCCESS;
}

int Pmi1::put(const std::string& key, const std::string& value) {
  if (int rc = usable("put"); rc != FM_SUCCESS) return rc;
  if (int rc = check_key("put", key); rc != FM_SUCCESS) return rc;
  if (value.size() >= vallen_max_)
    return fail(FM_EINVAL,
                "PMI: value for key %.64s is %zu chars, longer than vallen_max %lu "
                "allows (%lu)",
                key.c_str(), value.size(), vallen_max_, vallen_max_ - 1);
  if (!wire_safe(value, false))
    return fail(FM_EINVAL, "PMI: value for key %.64s holds a space or non-printable character",
                key.c_str());
  std::string req;
  req.reserve(40 + kvsname_.size() + key.size() + value.size());
  req.append("cmd=put kvsname=").append(kvsname_).append(" key=").append(key);
  req.append(" value=").append(value).append("\n");
  Answer a;
  if (int rc = exchange("put", req, "put_result", &a); rc != FM_SUCCESS) return rc;
  if (a.rc() != 0)
    return fail(FM_ELAUNCH, "PMI: launcher refused put of key %.64s: \"%.160s\"", key.c_str(),
                a.c_str());
  return FM_SUCCESS;
}

int Pmi1::get(const std::string& key, std::string* value) {
  if (int rc = usable("get"); rc != FM_SUCCESS) return rc;
  if (value == nullptr) return fail(FM_EINVAL, "PMI: get: null value pointer");
  if (int rc = check_key("get", key); rc != FM_SUCCESS) return rc;
  std::string req = "cmd=get kvsname=" + kvsname_ + " key=" + key + "\n";
  Answer a;
  if (int rc = exchange("get", req, "get_result", &a); rc != FM_SUCCESS) return rc;
  const std::string* v = a.find("value");
  if (a.rc() != 0 || v == nullptr)
    return fail(FM_ELAUNCH, "PMI: key %.64s not found (put by no process before the last fence)",
                key.c_str());
  *value = *v;
  return FM_SUCCESS;
}

int Pmi1::barrier_as(const char* what) {
  Answer a;
  if (int rc = exchange(what, "cmd=barrier_in\n", "barrier_out", &a); rc != FM_SUCCESS) return rc;
  if (a.rc() != 0) return fail(FM_ELAUNCH, "PMI: %s failed: \"%.160s\"", what, a.c_str());
  return FM_SUCCESS;
}

// Local in Hydra (no other process takes part), so it completes after a peer died.  After an
// earlier failure (say a barrier that timed out) a late answer may still be queued: lines other
// than finalize_ack are skipped.  The descriptor is closed whatever happens.
int Pmi1::finalize() {
  if (finalized_) return FM_SUCCESS;
  finalized_ = true;
  std::uint64_t dl = deadline();
  int rc = send_all("finalize", "cmd=finalize\n", dl);
  while (rc == FM_SUCCESS) {
    std::string line;
    rc = read_line("finalize", dl, &line);
    if (rc != FM_SUCCESS) break;
    Answer a;
    a.parse(std::move(line));
    const std::string* cmd = a.find("cmd");
    if (cmd != nullptr && *cmd == "finalize_ack") break;
    FM_DEBUG("PMI: finalize skips a stale answer \"%.160s\"", a.c_str());
  }
  ::close(fd_);
  fd_ = -1;
  in_.clear();
  return rc;
}

// Hydra kills every process of the job, this one included, and exits with `code`.  Does not
// return: if the launcher has not killed this process within 10 s, it exits with `code`.
void Pmi1::abort(int code, const char* msg) {
  char line[600];
  int n = std::snprintf(line, sizeof line, "fm: rank %u of %u aborts the job (code %d): %s\n",
                        rank_, size_, code, msg != nullptr ? msg : "");
  if (n > 0) {
    ssize_t ignored =
        ::write(2, line, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof line - 1));
    (void)ignored;
  }
  if (fd_ >= 0 && !finalized_) {
    // Hydra kills the job as soon as it reads the abort, and may drop what it has not yet
    // forwarded of our stderr: give it a moment to forward the message first.
    ::usleep(200'000);
    std::uint64_t dl = now_ns() + 10'000'000'000ull;
    if (send_all("abort", "cmd=abort exitcode=" + std::to_string(code) + "\n", dl) == FM_SUCCESS) {
      // Hydra sends no answer; wait for the kill (or the launcher going away).
      char buf[256];
      while (wait_fd("abort", POLLIN, dl) == FM_SUCCESS) {
        ssize_t r = ::read(fd_, buf, sizeof buf);
        if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) break;
      }
    }
  }
  std::_Exit(code);
}

}  // namespace

int open_pmi1(std::unique_ptr<Bootstrap>* out, double timeout_s) {
  auto p = std::make_unique<Pmi1>();
  p->set_timeout(timeout_s);
  if (int rc = p->open(); rc != FM_SUCCESS) return rc;
  *out = std::move(p);
  return FM_SUCCESS;
}

}  // namespace fm::bootstrap
