// proto.hpp - fm-dcsd's pure checks and formats: registration messages, status pages, /proc
// lines, gang slice owners.  No system calls in here, so every rule a client's bytes must pass
// is unit-tested (tests/test_proto.cpp) and fuzzed without a daemon.
#ifndef FM_DCSD_PROTO_HPP
#define FM_DCSD_PROTO_HPP

#include <fm/fm_cosched.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fm::dcsd {

// Most ranks of one job a host may run (the page's counters are sized by it).
constexpr std::uint32_t kMaxLocal = FM_DCS_MAX_LOCAL;

// A pending count larger than this is garbage from a client, not traffic: counted as 0.
constexpr std::uint64_t kMaxPending = 1ull << 32;

// Checks a request as received: `len` bytes, `truncated` when the datagram did not fit (the
// kernel's MSG_TRUNC).  On success copies it to *out and returns nullptr; else why not.
const char* check_request(const void* buf, std::size_t len, bool truncated, fm_dcs_msg* out);

// Checks the fstat size and F_GET_SEALS of a page's descriptor.
const char* check_page_fd(long long size, int seals);

// Checks a copy of a page's line 0 against the REGISTER message it came with.
const char* check_page_head(const fm_dcs_page& page, const fm_dcs_msg& msg);

// Packets one sender has not yet seen taken: sent - taken, and 0 for anything a well-behaved
// pair of counters cannot produce (taken ahead of sent, or an absurd gap).
inline std::uint64_t pending_from(std::uint64_t sent, std::uint64_t taken) {
  if (sent <= taken) return 0;
  const std::uint64_t d = sent - taken;
  return d > kMaxPending ? 0 : d;
}

// Fields of /proc/PID/task/TID/stat: the state letter (field 3) and starttime (field 22, in
// clock ticks since boot).  The command name (field 2) may hold spaces and ')': parse after the
// last ')'.
bool parse_task_stat(std::string_view text, char* state, std::uint64_t* starttime);

// /proc/PID/task/TID/schedstat: time on CPU and time waited on a run queue, in ns.
bool parse_schedstat(std::string_view text, std::uint64_t* run_ns, std::uint64_t* delay_ns);

std::uint64_t splitmix64(std::uint64_t x);

// The job owning gang slice k: the least splitmix64(job ^ k); ties (only between two users'
// jobs with the same id) go to the lower uid.  Hosts running the same jobs agree without a
// message.  Returns an index into jobs/uids, or -1 if there are none.
int gang_owner(const std::vector<std::uint64_t>& jobs, const std::vector<std::uint32_t>& uids,
               std::uint64_t k);

// Boosted time a job (or a user) may be charged over a window: its share of the host's CPUs.
inline std::int64_t fair_budget_ns(std::int64_t window_ns, unsigned cpus, unsigned sharers) {
  if (sharers == 0) sharers = 1;
  return window_ns * static_cast<std::int64_t>(cpus) / sharers;
}

fm_dcs_reply make_reply(std::uint16_t type, std::uint32_t policy, std::uint32_t cpus,
                        std::uint32_t host_ranks, std::int32_t cpu, const char* reason);

// A client's job name fit for a log line: printable ASCII only, at most 31 characters.
std::string printable_name(const char* name, std::size_t max);

// "@name" is a Linux abstract socket, anything else a path.  False if it does not fit.
bool make_sockaddr(std::string_view name, sockaddr_un* sa, socklen_t* len);

// The default state file's base name for a socket name: "@fm-dcsd" -> "fm-dcsd".
std::string state_name(std::string_view socket);

const char* policy_name(std::uint32_t policy);
const char* state_word(std::uint32_t state);

}  // namespace fm::dcsd

#endif
