// proto.cpp - see proto.hpp.
#include "proto.hpp"

#include <fcntl.h>

#include <charconv>
#include <cstring>

namespace fm::dcsd {

const char* check_request(const void* buf, std::size_t len, bool truncated, fm_dcs_msg* out) {
  if (truncated || len != sizeof(fm_dcs_msg)) return "message of the wrong size";
  fm_dcs_msg m;
  std::memcpy(&m, buf, sizeof m);
  if (m.magic != FM_DCS_MSG_MAGIC) return "bad magic";
  if (m.version != FM_DCS_VERSION) return "unsupported protocol version";
  if (m.type == FM_DCS_BYE || m.type == FM_DCS_STATUS) {
    *out = m;
    return nullptr;
  }
  if (m.type != FM_DCS_REGISTER) return "unknown message type";
  if (m.pid <= 0 || m.tid <= 0) return "bad pid or tid";
  if (m.size == 0 || m.rank >= m.size) return "rank out of range";
  if (m.local_size == 0 || m.local_size > kMaxLocal || m.local_rank >= m.local_size)
    return "local rank out of range";
  if (m.local_size > m.size) return "more local ranks than ranks";
  if (std::memchr(m.job_name, 0, sizeof m.job_name) == nullptr) return "job name not terminated";
  *out = m;
  return nullptr;
}

const char* check_page_fd(long long size, int seals) {
  if (size != FM_DCS_PAGE_BYTES) return "page of the wrong size";
  // unsealed, the client could shrink the file under the daemon's mapping: SIGBUS in the daemon
  if (seals < 0) return "page is not a sealable memfd";
  if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW))
    return "page not sealed against resizing";
  return nullptr;
}

const char* check_page_head(const fm_dcs_page& p, const fm_dcs_msg& m) {
  if (p.magic != FM_DCS_PAGE_MAGIC) return "page has a bad magic";
  if (p.version != FM_DCS_VERSION) return "page has an unsupported version";
  if (p.pid != m.pid || p.tid != m.tid) return "page names another pid or tid";
  if (p.rank != m.rank || p.size != m.size || p.job != m.job) return "page names another rank";
  if (p.local_rank != m.local_rank || p.local_size != m.local_size)
    return "page names another local rank";
  return nullptr;
}

bool parse_task_stat(std::string_view text, char* state, std::uint64_t* starttime) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 >= text.size()) return false;
  std::string_view rest = text.substr(close + 2);  // field 3 on
  if (rest.empty() || rest[0] == ' ') return false;
  *state = rest[0];
  // field 22 is the 20th from field 3
  for (int field = 3; field < 22; ++field) {
    const std::size_t sp = rest.find(' ');
    if (sp == std::string_view::npos) return false;
    rest = rest.substr(sp + 1);
  }
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (ec != std::errc() || end == rest.data()) return false;
  *starttime = v;
  return true;
}

bool parse_schedstat(std::string_view text, std::uint64_t* run_ns, std::uint64_t* delay_ns) {
  const char* p = text.data();
  const char* e = p + text.size();
  auto r1 = std::from_chars(p, e, *run_ns);
  if (r1.ec != std::errc() || r1.ptr == e || *r1.ptr != ' ') return false;
  auto r2 = std::from_chars(r1.ptr + 1, e, *delay_ns);
  return r2.ec == std::errc();
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

int gang_owner(const std::vector<std::uint64_t>& jobs, const std::vector<std::uint32_t>& uids,
               std::uint64_t k) {
  int best = -1;
  std::uint64_t best_h = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::uint64_t h = splitmix64(jobs[i] ^ k);
    if (best < 0 || h < best_h || (h == best_h && uids[i] < uids[best])) {
      best = static_cast<int>(i);
      best_h = h;
    }
  }
  return best;
}

fm_dcs_reply make_reply(std::uint16_t type, std::uint32_t policy, std::uint32_t cpus,
                        std::uint32_t host_ranks, std::int32_t cpu, const char* reason) {
  fm_dcs_reply r;
  std::memset(&r, 0, sizeof r);
  r.magic = FM_DCS_MSG_MAGIC;
  r.version = FM_DCS_VERSION;
  r.type = type;
  r.policy = policy;
  r.cpus = cpus;
  r.host_ranks = host_ranks;
  r.cpu = cpu;
  if (reason != nullptr) {
    const std::size_t n = strnlen(reason, sizeof r.reason - 1);
    std::memcpy(r.reason, reason, n);
  }
  return r;
}

std::string printable_name(const char* name, std::size_t max) {
  std::string s;
  for (std::size_t i = 0; i < max && i < 31 && name[i] != '\0'; ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    s += (c > 32 && c < 127) ? static_cast<char>(c) : '?';
  }
  if (s.empty()) s = "?";
  return s;
}

bool make_sockaddr(std::string_view name, sockaddr_un* sa, socklen_t* len) {
  std::memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (name.empty() || name.size() >= sizeof sa->sun_path) return false;
  if (name[0] == '@') {
    if (name.size() == 1) return false;
    // abstract: a leading NUL, and the length says where the name ends (no trailing NUL)
    std::memcpy(sa->sun_path + 1, name.data() + 1, name.size() - 1);
    *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  } else {
    std::memcpy(sa->sun_path, name.data(), name.size());
    *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
  }
  return true;
}

std::string state_name(std::string_view socket) {
  if (!socket.empty() && socket[0] == '@') socket.remove_prefix(1);
  std::string s;
  for (char c : socket) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    s += ok ? c : '_';
  }
  if (s.empty() || s[0] == '.') s.insert(0, "_");  // never "", "." or ".."
  return s;
}

const char* policy_name(std::uint32_t policy) {
  switch (policy) {
    case FM_DCS_POLICY_NONE:
      return "none";
    case FM_DCS_POLICY_DCS:
      return "dcs";
    case FM_DCS_POLICY_GANG:
      return "gang";
  }
  return "unknown";
}

const char* state_word(std::uint32_t state) {
  switch (state) {
    case FM_DCS_COMPUTING:
      return "computing";
    case FM_DCS_SPINNING:
      return "spinning";
    case FM_DCS_BLOCKED:
      return "blocked";
    case FM_DCS_FINALIZED:
      return "finalized";
  }
  return "invalid";
}

}  // namespace fm::dcsd
