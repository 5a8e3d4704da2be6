// singleton.cpp - the bootstrap of a program run without a launcher (rank 0 of 1), and the factory
// that picks PMI-1 or singleton from the environment.
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "bootstrap/bootstrap.hpp"
#include "bootstrap/pmi.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::bootstrap {
namespace {

// Behaves like a one-process PMI-1 job: puts become visible at the next fence, so code that forgets
// the fence fails here too and not only under a launcher.
class Singleton final : public Bootstrap {
 public:
  const char* name() const noexcept override { return "singleton"; }

  int put(const std::string& key, const std::string& value) override {
    if (finalized_) return fail(FM_ELAUNCH, "singleton: put after finalize");
    if (key.empty()) return fail(FM_EINVAL, "singleton: put: empty key");
    if (!wire_safe(key, true))
      return fail(FM_EINVAL,
                  "singleton: put: key \"%.64s\" holds a space, '=' or non-printable "
                  "character",
                  key.c_str());
    if (!wire_safe(value, false))
      return fail(FM_EINVAL,
                  "singleton: value for key %.64s holds a space or non-printable "
                  "character",
                  key.c_str());
    pending_[key] = value;
    return FM_SUCCESS;
  }

  int fence() override {
    if (finalized_) return fail(FM_ELAUNCH, "singleton: fence after finalize");
    for (auto& kv : pending_) visible_[kv.first] = std::move(kv.second);
    pending_.clear();
    return FM_SUCCESS;
  }

  int get(const std::string& key, std::string* value) override {
    if (finalized_) return fail(FM_ELAUNCH, "singleton: get after finalize");
    if (value == nullptr) return fail(FM_EINVAL, "singleton: get: null value pointer");
    auto it = visible_.find(key);
    if (it == visible_.end())
      return fail(FM_ELAUNCH, "singleton: key %.64s not found (not put before the last fence)",
                  key.c_str());
    *value = it->second;
    return FM_SUCCESS;
  }

  int barrier() override {
    if (finalized_) return fail(FM_ELAUNCH, "singleton: barrier after finalize");
    return FM_SUCCESS;
  }

  int finalize() override {
    finalized_ = true;
    pending_.clear();
    visible_.clear();
    return FM_SUCCESS;
  }

  // The job is this process: exits with `code`.
  void abort(int code, const char* msg) override {
    char line[600];
    int n = std::snprintf(line, sizeof line, "fm: singleton aborts (code %d): %s\n", code,
                          msg != nullptr ? msg : "");
    if (n > 0) {
      ssize_t ignored =
          ::write(2, line, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof line - 1));
      (void)ignored;
    }
    std::_Exit(code);
  }

 private:
  bool finalized_ = false;
  std::map<std::string, std::string> pending_;  // put since the last fence
  std::map<std::string, std::string> visible_;
};

// Strict decimal, as PMI variables are written.
bool env_uint(const char* s, unsigned long* out) {
  if (s == nullptr || *s < '0' || *s > '9') return false;
  char* end = nullptr;
  *out = std::strtoul(s, &end, 10);
  return *end == '\0' && *out <= UINT_MAX;
}

// Without PMI_FD: is this really a one-process job?  FM_ELAUNCH when the environment says the
// process belongs to a larger job that FM cannot join.
int check_no_launcher() {
  const char* no_pmi1 = "launched by a process manager that does not speak PMI-1 wire protocol";
  if (const char* port = std::getenv("PMI_PORT"); port != nullptr)
    return fail(FM_ELAUNCH,
                "%s over PMI_FD (PMI_PORT=%s: Hydra's -pmi-port?); use Hydra's "
                "mpiexec without -pmi-port",
                no_pmi1, port);
  const char* size = std::getenv("PMI_SIZE");
  const char* rank = std::getenv("PMI_RANK");
  unsigned long n = 1, r = 0;
  if ((size != nullptr && (!env_uint(size, &n) || n != 1)) ||
      (rank != nullptr && (!env_uint(rank, &r) || r != 0)))
    return fail(FM_ELAUNCH, "%s (PMI_SIZE=%s PMI_RANK=%s, PMI_FD not set); use Hydra's mpiexec",
                no_pmi1, size ? size : "(unset)", rank ? rank : "(unset)");
  if (const char* ompi = std::getenv("OMPI_COMM_WORLD_SIZE");
      ompi != nullptr && (!env_uint(ompi, &n) || n != 1))
    return fail(FM_ELAUNCH,
                "%s (Open MPI's mpirun, OMPI_COMM_WORLD_SIZE=%s); use Hydra's "
                "mpiexec",
                no_pmi1, ompi);
  if (size != nullptr || rank != nullptr)
    FM_WARN("PMI_SIZE/PMI_RANK say one process but PMI_FD is not set: running as a singleton");
  return FM_SUCCESS;
}

}  // namespace

int open(std::unique_ptr<Bootstrap>* out, double timeout_s) {
  if (out == nullptr) return fail(FM_EINVAL, "bootstrap::open: null output pointer");
  out->reset();
  if (std::getenv("PMI_FD") != nullptr) return open_pmi1(out, timeout_s);
  if (int rc = check_no_launcher(); rc != FM_SUCCESS) return rc;
  *out = std::make_unique<Singleton>();
  FM_DEBUG("bootstrap: no PMI_FD, running as a singleton (rank 0 of 1)");
  return FM_SUCCESS;
}

namespace {
// A plain pointer: keep() may run from a Context destroyed at exit, after function-local statics
// with destructors are gone.  The previous one is deleted (no launcher's destructor closes its
// connection: pmi.cpp).
Bootstrap* g_kept = nullptr;
}  // namespace

void keep(std::unique_ptr<Bootstrap> b) {
  if (b == nullptr) return;
  delete g_kept;
  g_kept = b.release();
}

void abort_kept(int code, const char* msg) {
  if (g_kept != nullptr) g_kept->abort(code, msg);
}

}  // namespace fm::bootstrap
