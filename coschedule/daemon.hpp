// daemon.hpp - fm-dcsd's state: options, registered clients and their jobs, and the pieces of
// the event loop (main.cpp), the registry (server.cpp) and the policies (policy.cpp) share.
#ifndef FM_DCSD_DAEMON_HPP
#define FM_DCSD_DAEMON_HPP

#include <fm/fm_cosched.h>
#include <fm/fm_topology.h>
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sched.hpp"
#include "topo.hpp"

namespace fm::dcsd {

struct Options {
  std::uint32_t policy = FM_DCS_POLICY_DCS;
  std::string socket = FM_DCS_SOCKET;
  long tick_us = 10000;   // dcs: how often pages are read
  long boost_us = 10000;  // longest a boost lasts
  long window_ms = 100;   // fairness window
  long slice_ms = 50;     // gang slice
  int rt_prio = 1;        // clients' SCHED_RR priority while boosted
  int self_prio = 10;     // the daemon's SCHED_FIFO priority: above its clients, so it can demote
  std::string state, log;
  bool place = false, foreground = false, log_slices = false;
};

constexpr unsigned kMaxClients = 4096;
constexpr unsigned kMaxPerUid = 1024;

// Boosted time charged over the sliding window: closed spans, plus open boosts counted up to
// their deadlines (committed, not yet spent).
struct Usage {
  std::deque<std::pair<std::int64_t, std::int64_t>> spans;  // [start, end) in CLOCK_MONOTONIC ns
  // closed spans' time inside [now - window, now); forgets older ones
  std::int64_t spent(std::int64_t now, std::int64_t window);
};

struct Job;

struct Client {
  std::uint64_t id = 0;
  int sock = -1, pidfd = -1;
  pid_t peer_pid = 0;
  uid_t uid = 0;
  bool registered = false;
  fm_dcs_msg msg{};  // the REGISTER, checked
  std::string name;  // printable job name
  std::uint64_t starttime = 0;
  fm_dcs_page* page = nullptr;  // mapped read-write; only line 3 is written
  Job* job = nullptr;
  int slot = -1;  // state-file entry
  int cpu = -1;   // --place
  // boost
  bool boosted = false;
  SchedAttr saved{};
  std::int64_t boost_start = 0, deadline = 0, cooldown_until = 0;
  std::uint64_t boosts = 0;
  std::int64_t boosted_ns = 0;
  // last tick's view
  std::uint64_t pending = 0;
  std::uint64_t taken = 0;  // packets it has taken from same-host ranks, in all
  std::uint64_t prev_pending = 0, prev_taken = 0;  // the same at the previous tick
  std::uint64_t run_delay = 0;
  bool have_delay = false;
};

struct JobKey {
  uid_t uid;
  std::uint64_t job;
  auto operator<=>(const JobKey&) const = default;
};

struct Job {
  JobKey key{};
  std::string name;
  std::uint32_t size = 0, local_size = 0;
  std::vector<Client*> by_local;  // local_size slots
  unsigned ranks = 0;
  unsigned place_offset = 0;
  Usage usage;
};

struct Daemon {
  Options opt;
  Topology topo;
  std::string host;
  long rt_runtime_us = 0;
  int epfd = -1, lsock = -1, timerfd = -1, sigfd = -1;
  std::unordered_map<std::uint64_t, std::unique_ptr<Client>> clients;
  std::map<JobKey, Job> jobs;
  std::map<uid_t, Usage> uid_usage;
  std::map<uid_t, unsigned> conns_per_uid;
  std::vector<unsigned> free_slots;
  unsigned host_ranks = 0;
  unsigned next_place = 0;
  std::uint64_t next_id = 1;
  std::uint32_t gen = 1;
  StateFile state;
  std::int64_t gang_slice = -1;  // last slice logged
  bool changed = false;          // a client came or went: run the policy now
  // dcs acts only while the host is contended: more FM ranks than CPUs, or tasks waiting for a
  // CPU at least a quarter of the time (FM_load_sample: CPU pressure, read at most every 100 ms; it
  // then counts for 2 s)
  std::int64_t load_checked = 0, load_until = 0;
  FM_load_probe load{};
  bool stopping = false;
};

// epoll tags: what an event's u64 names
enum : std::uint64_t { kTagListen = 1, kTagTimer = 2, kTagSignal = 3 };
inline std::uint64_t tag_sock(std::uint64_t id) {
  return (id << 2) | 0;
}
inline std::uint64_t tag_pidfd(std::uint64_t id) {
  return (id << 2) | 1;
}
// ids start at 16 so they never collide with the fixed tags
constexpr std::uint64_t kFirstId = 16;

void logf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::int64_t now_ns();  // CLOCK_MONOTONIC

// server.cpp
void accept_clients(Daemon& d);
void on_client_readable(Daemon& d, Client& c);
enum class Gone { kSilent, kBye, kExited, kClosed };
void drop_client(Daemon& d, std::uint64_t id, Gone why);
std::string status_text(const Daemon& d);

// policy.cpp
void policy_tick(Daemon& d);
void boost(Daemon& d, Client& c, std::int64_t now, std::int64_t until);
void demote(Daemon& d, Client& c, std::int64_t now, bool restore);
void demote_all(Daemon& d);
void update_host_ranks(Daemon& d);
void refresh_pending(Daemon& d);              // each rank's packets pending, from the pages
std::int64_t next_wakeup(Daemon& d);          // CLOCK_MONOTONIC ns, or 0 for none
bool contended(Daemon& d, std::int64_t now);  // dcs acts only then

}  // namespace fm::dcsd

#endif
