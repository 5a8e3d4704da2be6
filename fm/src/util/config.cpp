#include "util/config.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/error.hpp"

namespace fm {
namespace {

const ConfigEntry k_table[] = {
    {"FM_PROVIDER", "string", "auto",
     "transport: auto (shm for same-host peers, tcp otherwise), shm, tcp, verbs, udp (datagrams "
     "with FM's reliability), verbs-ud (InfiniBand UD datagrams, the same way), loopback"},
    {"FM_PACKET_SIZE", "size", "16384",
     "bytes per network (tcp, verbs) packet, 32-byte header included (512..1M)"},
    {"FM_SHM_PACKET_SIZE", "size", "65568", "bytes per shm packet, header included (512..4M)"},
    {"FM_RX_MEMORY", "size", "64M",
     "receive-buffer memory per transport; credit windows shrink to fit (1M..16G)"},
    {"FM_ZCOPY_SHM", "size", "4096",
     "shm: pieces of this many bytes or more are pulled by RMA read into the handler's buffer "
     "(zero-copy rendezvous); 0 = never"},
    {"FM_ZCOPY_NET", "size", "32768", "the same for tcp and verbs; 0 = never"},
    {"FM_CREDITS", "uint", "0",
     "packets a sender may have unconsumed at one receiver (2..4096); 0: automatic, 64 (udp and "
     "verbs-ud: 256, fewer when FM_RX_MEMORY cannot hold them for every peer, not below 64)"},
    {"FM_HANDLER_STACK", "size", "262144", "stack bytes of a handler that may suspend"},
    {"FM_SPIN_US", "uint", "50", "FM_extract_wait spins this many microseconds before sleeping"},
    {"FM_WAIT", "string", "auto",
     "how FM_extract_wait sleeps after spinning: fd (on the completion queue's file descriptor, "
     "where the provider has one; costs tcp;ofi_rxm about 0.5 us per message, its progress then "
     "polls through an epoll set), poll (no wait object: sleeps of 20 us growing to 1 ms), auto "
     "(fd when this machine runs more ranks than this process has CPUs, else poll)"},
    {"FM_PEER_TIMEOUT_MS", "uint", "10000", "bound on reporting a failed peer"},
    {"FM_LIVENESS_MS", "uint", "200", "interval of peer liveness checks while idle or stalled"},
    {"FM_RTO_MIN_US", "uint", "0",
     "udp: floor of the retransmission time-out in us (50..1000000); 0 = 200 when this "
     "machine's ranks have a CPU each, 2000 (above a scheduler time slice) when they share"},
    {"FM_IFACE", "string", "", "network interface for tcp (e.g. eth0); default: provider's choice"},
    {"FM_PMI_TIMEOUT_S", "uint", "300", "bound on waiting for the launcher (PMI); 0 = none"},
    {"FM_LOG_LEVEL", "string", "warn", "none, error, warn, info, debug, trace"},
    {"FM_RMA", "string", "emulated",
     "put/get: emulated (FM messages; every access checked by the target) or native (the "
     "transport's RMA where it has it: faster over tcp; a stale region is not reported)"},
    {"FM_PROGRESS_THREAD", "bool", "0",
     "1: a background thread extracts (handlers and one-sided operations progress while the "
     "program computes); every FM call then takes a lock"},
    {"FM_PROGRESS_US", "uint", "100", "the progress thread's sleep when nothing arrived"},
    {"FM_STATS", "bool", "0",
     "1: time handlers and print per-peer statistics and a traffic matrix at FM_finalize"},
    {nullptr, nullptr, nullptr, nullptr}};

// Parses "123", "64K", "1M", "1G".
bool parse_size(const char* s, std::uint64_t* out) {
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s) return false;
  switch (*end) {
    case 'k':
    case 'K':
      v <<= 10;
      ++end;
      break;
    case 'm':
    case 'M':
      v <<= 20;
      ++end;
      break;
    case 'g':
    case 'G':
      v <<= 30;
      ++end;
      break;
    default:
      break;
  }
  if (*end != '\0') return false;
  *out = v;
  return true;
}

template <typename T>
int env_number(const char* name, T* out, std::uint64_t lo, std::uint64_t hi) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return FM_SUCCESS;
  std::uint64_t x = 0;
  if (!parse_size(v, &x) || x < lo || x > hi)
    return fail(FM_EINVAL, "%s=\"%s\": expected a number in [%llu, %llu]", name, v,
                static_cast<unsigned long long>(lo), static_cast<unsigned long long>(hi));
  *out = static_cast<T>(x);
  return FM_SUCCESS;
}

}  // namespace

const ConfigEntry* config_table() noexcept {
  return k_table;
}

int Config::apply_env() {
  if (const char* v = std::getenv("FM_PROVIDER"); v != nullptr && *v != '\0') {
    static const char* ok[] = {"auto", "shm", "tcp", "verbs", "udp", "verbs-ud", "loopback"};
    bool known = false;
    for (const char* o : ok) known = known || std::strcmp(v, o) == 0;
    if (!known)
      return fail(FM_EINVAL,
                  "FM_PROVIDER=\"%s\": expected auto, shm, tcp, verbs, udp, verbs-ud or loopback",
                  v);
    provider = v;
  }
  if (const char* v = std::getenv("FM_IFACE"); v != nullptr) iface = v;
  if (const char* v = std::getenv("FM_WAIT"); v != nullptr && *v != '\0') {
    if (std::strcmp(v, "auto") != 0 && std::strcmp(v, "fd") != 0 && std::strcmp(v, "poll") != 0)
      return fail(FM_EINVAL, "FM_WAIT=\"%s\": expected auto, fd or poll", v);
    wait = v;
  }
  if (const char* v = std::getenv("FM_RMA"); v != nullptr) {
    if (std::strcmp(v, "native") != 0 && std::strcmp(v, "emulated") != 0)
      return fail(FM_EINVAL, "FM_RMA=\"%s\": expected emulated or native", v);
    rma = v;
  }
  int rc = FM_SUCCESS;
  if ((rc = env_number("FM_PACKET_SIZE", &packet_size, 512, 1u << 20)) != 0) return rc;
  if ((rc = env_number("FM_SHM_PACKET_SIZE", &shm_packet_size, 512, (4u << 20) + 32)) != 0)
    return rc;
  if ((rc = env_number("FM_RX_MEMORY", &rx_memory, 1u << 20, 16ull << 30)) != 0) return rc;
  if ((rc = env_number("FM_ZCOPY_SHM", &zcopy_shm, 0, SIZE_MAX)) != 0) return rc;
  if ((rc = env_number("FM_ZCOPY_NET", &zcopy_net, 0, SIZE_MAX)) != 0) return rc;
  if ((rc = env_number("FM_CREDITS", &credits, 0, 4096)) != 0) return rc;
  if (credits == 1) return fail(FM_EINVAL, "FM_CREDITS=1: expected 0 (automatic) or 2..4096");
  if ((rc = env_number("FM_HANDLER_STACK", &handler_stack, 16384, 1u << 30)) != 0) return rc;
  if ((rc = env_number("FM_SPIN_US", &spin_us, 0, 10000000)) != 0) return rc;
  if ((rc = env_number("FM_PEER_TIMEOUT_MS", &peer_timeout_ms, 100, 3600000)) != 0) return rc;
  if ((rc = env_number("FM_LIVENESS_MS", &liveness_ms, 10, 60000)) != 0) return rc;
  if ((rc = env_number("FM_RTO_MIN_US", &rto_min_us, 0, 1000000)) != 0) return rc;
  if (rto_min_us != 0 && rto_min_us < 50)
    return fail(FM_EINVAL, "FM_RTO_MIN_US=%u: expected 0 (automatic) or 50..1000000", rto_min_us);
  if ((rc = env_number("FM_STATS", &stats, 0, 1)) != 0) return rc;
  if ((rc = env_number("FM_PROGRESS_THREAD", &progress_thread, 0, 1)) != 0) return rc;
  if ((rc = env_number("FM_PROGRESS_US", &progress_us, 0, 1000000)) != 0) return rc;
  return FM_SUCCESS;
}

}  // namespace fm
