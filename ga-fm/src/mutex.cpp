// mutex.cpp - ARMCI's mutexes: a queue at the host of each mutex, so that waiting processes sleep
// in FM's extraction instead of hammering the network.  A lock is a request message to the host;
// the host's handler grants it at once when the mutex is free, or queues the requester (FIFO)
// and grants it when the holder's unlock arrives.
#include <atomic>
#include <cstdio>
#include <mutex>

#include "api.hpp"
#include "gafm.hpp"

namespace gafm {

void send_mutex(int op, int mutex, int proc, bool from_handler);  // rma.cpp

namespace {
std::mutex g_mu;  // the hosted mutexes (handlers may run on FM's progress thread)
// per world rank: grants received from it, not yet used
std::vector<std::atomic<int>>* g_grant_count = nullptr;
}  // namespace

void mutex_on_message(int op, int mutex, int from) {
  Mutexes& mx = st().mutex;
  if (op == 2) {  // a grant for us
    if (g_grant_count != nullptr) (*g_grant_count)[static_cast<std::size_t>(from)].fetch_add(1);
    return;
  }
  std::lock_guard<std::mutex> lk(g_mu);
  if (!mx.created || mutex < 0 || static_cast<std::size_t>(mutex) >= mx.local.size()) {
    std::fprintf(
        stderr,
        "[%d] ARMCI Error: process %d %s mutex %d, which this process does not host; ignored\n",
        st().me, from, op == 0 ? "locks" : "unlocks", mutex);
    return;
  }
  Mutexes::M& m = mx.local[static_cast<std::size_t>(mutex)];
  if (op == 0) {  // lock
    if (!m.held) {
      m.held = true;
      send_mutex(2, mutex, from, true);
    } else {
      m.waiting.push_back(from);
    }
    return;
  }
  // unlock: the next waiter, if any, holds it now
  if (m.head < m.waiting.size()) {
    const int next = m.waiting[m.head++];
    if (m.head == m.waiting.size()) {
      m.waiting.clear();
      m.head = 0;
    }
    send_mutex(2, mutex, next, true);
  } else {
    m.held = false;
  }
}

}  // namespace gafm

using namespace gafm;

GAFM_API(int, ARMCI_Create_mutexes, (int count)) {
  const char* call = "ARMCI_Create_mutexes";
  require_init(call);
  State& s = st();
  if (count < 0) error(call, "count %d is negative", count);
  if (s.mutex.created) error(call, "the mutexes exist already (ARMCI_Destroy_mutexes first)");
  std::vector<int> counts(static_cast<std::size_t>(s.nproc));
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, s.world.comm);
  {
    std::lock_guard<std::mutex> lk(g_mu);
    s.mutex.local.assign(static_cast<std::size_t>(count), Mutexes::M{});
    s.mutex.counts = counts;
    s.mutex.created = true;
  }
  if (g_grant_count == nullptr)
    g_grant_count = new std::vector<std::atomic<int>>(static_cast<std::size_t>(s.nproc));
  MPI_Barrier(s.world.comm);  // every host ready before anybody locks
  return 0;
}

GAFM_API(int, ARMCI_Destroy_mutexes, (void)) {
  const char* call = "ARMCI_Destroy_mutexes";
  require_init(call);
  State& s = st();
  if (!s.mutex.created) error(call, "no mutexes exist (ARMCI_Create_mutexes)");
  PARMCI_AllFence();  // unlocks sent are applied
  MPI_Barrier(s.world.comm);
  std::lock_guard<std::mutex> lk(g_mu);
  for (std::size_t m = 0; m < s.mutex.local.size(); ++m)
    if (s.mutex.local[m].held)
      std::fprintf(stderr, "[%d] ARMCI warning: mutex %zu destroyed while held\n", s.me, m);
  s.mutex.local.clear();
  s.mutex.counts.clear();
  s.mutex.created = false;
  return 0;
}

namespace {
void check_mutex(int mutex, int proc, const char* call) {
  require_init(call);
  check_proc(proc, call);
  const Mutexes& mx = st().mutex;
  if (!mx.created) error(call, "no mutexes exist (ARMCI_Create_mutexes)");
  if (mutex < 0 || mutex >= mx.counts[static_cast<std::size_t>(proc)])
    error(call, "mutex %d out of range: process %d hosts %d", mutex, proc,
          mx.counts[static_cast<std::size_t>(proc)]);
}
}  // namespace

GAFM_API(void, ARMCI_Lock, (int mutex, int proc)) {
  check_mutex(mutex, proc, "ARMCI_Lock");
  auto& grants = (*g_grant_count)[static_cast<std::size_t>(proc)];
  send_mutex(0, mutex, proc, false);
  // (one lock at a time per host is outstanding from this process: the grant is ours)
  while (grants.load(std::memory_order_acquire) == 0) progress("ARMCI_Lock");
  grants.fetch_sub(1);
}

GAFM_API(void, ARMCI_Unlock, (int mutex, int proc)) {
  check_mutex(mutex, proc, "ARMCI_Unlock");
  // what the holder wrote under the lock is complete before the next holder can see it
  fence(-1);
  send_mutex(1, mutex, proc, false);
}
