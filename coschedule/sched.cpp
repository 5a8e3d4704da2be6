// sched.cpp - see sched.hpp.
#include "sched.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "proto.hpp"

namespace fm::dcsd {

namespace {

bool read_small(const char* path, char* buf, std::size_t cap, std::size_t* n) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t r = ::read(fd, buf, cap - 1);
  ::close(fd);
  if (r <= 0) return false;
  buf[r] = '\0';
  *n = static_cast<std::size_t>(r);
  return true;
}

}  // namespace

bool read_task(pid_t pid, pid_t tid, char* state, std::uint64_t* starttime) {
  char path[64], buf[1024];
  std::snprintf(path, sizeof path, "/proc/%d/task/%d/stat", static_cast<int>(pid),
                static_cast<int>(tid));
  std::size_t n = 0;
  return read_small(path, buf, sizeof buf, &n) &&
         parse_task_stat(std::string_view(buf, n), state, starttime);
}

bool read_schedstat(pid_t pid, pid_t tid, std::uint64_t* run_ns, std::uint64_t* delay_ns) {
  char path[64], buf[128];
  std::snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", static_cast<int>(pid),
                static_cast<int>(tid));
  std::size_t n = 0;
  return read_small(path, buf, sizeof buf, &n) &&
         parse_schedstat(std::string_view(buf, n), run_ns, delay_ns);
}

StateFile::~StateFile() {
  if (t_ != nullptr) munmap(t_, sizeof(StateTable));
  if (fd_ >= 0) ::close(fd_);
}

bool StateFile::open(const std::string& path, std::string* err) {
  const std::size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    const std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      *err = "cannot create " + dir + ": " + std::strerror(errno);
      return false;
    }
  }
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) {
    *err = "cannot open state file " + path + ": " + std::strerror(errno);
    return false;
  }
  // two daemons on one table would undo each other's boosts
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    *err = "state file " + path + " is in use by another daemon";
    return false;
  }
  struct stat st;
  if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    *err = "state file " + path + " is not a regular file";
    return false;
  }
  const bool fresh = st.st_size != static_cast<off_t>(sizeof(StateTable));
  if (fresh && ftruncate(fd_, sizeof(StateTable)) != 0) {
    *err = "cannot size state file " + path + ": " + std::strerror(errno);
    return false;
  }
  void* p = mmap(nullptr, sizeof(StateTable), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) {
    *err = "cannot map state file " + path + ": " + std::strerror(errno);
    return false;
  }
  t_ = static_cast<StateTable*>(p);
  if (fresh || t_->magic != kStateMagic || t_->slots != kStateSlots) {
    std::memset(t_, 0, sizeof *t_);  // not ours, or from another layout: nothing to trust
    t_->magic = kStateMagic;
    t_->slots = kStateSlots;
  }
  return true;
}

void StateFile::restore(const std::function<void(const StateEntry&)>& said) {
  for (StateEntry& e : t_->entry) {
    if (e.used != 1) continue;
    char state = 0;
    std::uint64_t start = 0;
    if (read_task(e.pid, e.tid, &state, &start) && start == e.starttime) {
      SchedAttr a{};
      a.policy = e.policy;
      a.nice = e.nice;
      a.prio = e.prio;
      a.flags = e.flags;
      a.runtime_ns = e.runtime;
      if (set_attr(e.tid, a)) said(e);
    }
  }
  clear_all();
}

void StateFile::save(unsigned slot, pid_t pid, pid_t tid, std::uint64_t starttime,
                     const SchedAttr& a) {
  StateEntry& e = t_->entry[slot];
  e.pid = pid;
  e.tid = tid;
  e.policy = a.policy;
  e.starttime = starttime;
  e.nice = a.nice;
  e.prio = a.prio;
  e.flags = a.flags;
  e.runtime = a.runtime_ns;
  // in the page cache as soon as stored; the fence keeps `used` after the fields
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::atomic_ref<std::uint32_t>(e.used).store(1, std::memory_order_release);
}

void StateFile::clear(unsigned slot) {
  std::atomic_ref<std::uint32_t>(t_->entry[slot].used).store(0, std::memory_order_release);
}

void StateFile::clear_all() {
  for (unsigned i = 0; i < kStateSlots; ++i) clear(i);
}

}  // namespace fm::dcsd
