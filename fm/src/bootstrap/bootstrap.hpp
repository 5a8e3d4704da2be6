// bootstrap.hpp - joining a job: rank, size, and a key-value exchange with barriers.
//
// FM speaks the PMI-1 wire protocol (the PMI_FD socket set up by Hydra's mpiexec), so it needs no
// launcher of its own.  Without a launcher, a program runs as a singleton (rank 0 of 1).
#pragma once

#include <memory>
#include <string>

#include <fm/fm.h>

namespace fm::bootstrap {

class Bootstrap {
 public:
  virtual ~Bootstrap() = default;
  unsigned rank() const noexcept { return rank_; }
  unsigned size() const noexcept { return size_; }
  virtual const char* name() const noexcept = 0;  // "pmi-1", "singleton"

  // Publishes key=value for this process (value: printable, no spaces; hex-encode binary).
  virtual int put(const std::string& key, const std::string& value) = 0;
  // Makes every process's puts visible to all: a collective barrier.
  virtual int fence() = 0;
  // Reads a key published by any process before the last fence.
  virtual int get(const std::string& key, std::string* value) = 0;
  virtual int barrier() = 0;
  // Leaves the job cleanly.
  virtual int finalize() = 0;
  // Asks the launcher to kill the job.
  virtual void abort(int code, const char* msg) = 0;

 protected:
  unsigned rank_ = 0;
  unsigned size_ = 1;
};

// PMI-1 when the environment has PMI_FD (Hydra), singleton otherwise.  FM_ELAUNCH with a one-line
// explanation in FM_last_error() on a broken launcher environment.  timeout_s bounds each wait
// for the launcher (0: none).
int open(std::unique_ptr<Bootstrap>* out, double timeout_s);

// The launcher of an FM_initialize that failed after joining the job, kept for the rest of the
// process so that FM_abort can still end the job through it, as MPI_Init's failure does (a rank
// that exits without finalizing is not enough: Hydra 4.0.2's proxy may then report it killed by
// SIGHUP, exit status 1, when it reaps the rank before it reads the PMI socket's close, pmip.c).
// Replaces (and deletes) one kept before; never destroyed.
void keep(std::unique_ptr<Bootstrap> b);
// FM_abort without a context: the kept launcher's abort (which does not return), else nothing.
void abort_kept(int code, const char* msg);

// The program's own launcher interface (FM_initialize_with); FM_EINVAL when incomplete.
int open_external(const FM_bootstrap* ops, std::unique_ptr<Bootstrap>* out);

// An identifier of this host as the network sees it: hostname plus network-namespace inode, so
// that namespaces simulating hosts on one machine are distinct hosts.
std::string host_key();

// Hex encoding for binary values.
std::string hex_encode(const void* data, std::size_t len);
bool hex_decode(const std::string& hex, std::string* out);

}  // namespace fm::bootstrap
