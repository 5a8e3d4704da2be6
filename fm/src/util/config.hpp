// config.hpp - every tunable declared once, in FM_TUNABLES below: its member, C++ type, variable,
// kind, default, range (or choices) and help text.  From that one list come the Config struct's
// members, their defaults, the parser, FM_config_set/FM_config_get and `fm_info -c`.  Values set
// by the program (FM_config_set) come first; FM_<NAME> environment variables override them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fm {

// Kinds of values: a byte count with an optional K/M/G suffix, an unsigned number, 0/1, one of a
// list of words, free text.
enum class Kind { size, uint, boolean, choice, text };

// X(member, type, NAME, kind, "default", lo, hi, "choices", "help")
// lo/hi bound numbers; choices are comma-separated (choice kind).  A number whose choices are
// "auto" also takes that word, stored as kAuto: FM picks the value per transport at set-up.  The
// provider list is checked against the transport layer's table of providers at set-up
// (transport/stack.hpp).
#define FM_TUNABLES(X)                                                                            \
  X(provider, std::string, "FM_PROVIDER", choice, "auto", 0, 0,                                   \
    "auto,shm,ofi-shm,tcp,verbs,udp,verbs-ud,loopback",                                           \
    "transport: auto (shm for same-host peers, tcp otherwise), shm (FM's own shared-memory "      \
    "rings), ofi-shm (libfabric's shm provider), tcp, verbs, udp (datagrams with FM's "           \
    "reliability), verbs-ud (InfiniBand UD datagrams, the same way), loopback")                   \
  X(packet_size, std::size_t, "FM_PACKET_SIZE", size, "auto", 512, 1u << 20, "auto",              \
    "bytes per network (tcp, verbs) packet, 32-byte header included (512..1M; over ofi_rxm "      \
    "at most its eager limit); auto: over tcp 64K (32K, 16K when the window for every peer "      \
    "would not fit FM_RX_MEMORY), elsewhere 16K")                                                 \
  X(shm_packet_size, std::size_t, "FM_SHM_PACKET_SIZE", size, "65568", 512, (4u << 20) + 32, "",  \
    "ofi-shm: bytes per packet, header included (512..4M; FM's shm: a quarter of its ring)")      \
  X(shm_ring, std::size_t, "FM_SHM_RING", size, "64K", 4096, 64u << 20, "",                       \
    "shm: bytes of the ring each same-host sender has in its receiver's segment, rounded down "   \
    "to a power of two (4K..64M); the largest packet is a quarter of it")                         \
  X(shm_cma, std::string, "FM_SHM_CMA", choice, "auto", 0, 0, "auto,on,off",                      \
    "shm: zero-copy pieces and RMA by cross-memory attach (process_vm_readv): auto (when every "  \
    "rank of the host can), on (fail without it), off (copies through the rings)")                \
  X(shm_membarrier, std::string, "FM_SHM_MEMBARRIER", choice, "auto", 0, 0, "auto,off",           \
    "shm: receivers going idle issue membarrier(2) so that sends need no fence: auto (when "      \
    "every rank of the host can), off (a fence in every send)")                                   \
  X(shm_sweep, std::size_t, "FM_SHM_SWEEP", size, "4096", 0, 1u << 30, "",                        \
    "shm: polls between looks at every ring, watched or not (rounded down to a power of two; "    \
    "0 = never: a diagnostic that makes a lost wake-up hang instead of wait)")                    \
  X(shm_split, std::size_t, "FM_SHM_SPLIT", size, "1M", 0, SIZE_MAX, "",                          \
    "shm: cross-memory reads of this many bytes or more are cut into chunks that the reader and " \
    "the memory's owner, when it is in FM's progress, copy at once on two CPUs (0 = off)")        \
  X(rx_memory, std::size_t, "FM_RX_MEMORY", size, "64M", 1u << 20, 16ull << 30, "",               \
    "receive-buffer memory per transport; credit windows shrink to fit (1M..16G)")                \
  X(zcopy_shm, std::size_t, "FM_ZCOPY_SHM", size, "64K", 0, SIZE_MAX, "",                         \
    "shm: pieces of this many bytes or more are pulled by RMA read into the handler's buffer "    \
    "(zero-copy rendezvous); 0 = never")                                                          \
  X(zcopy_net, std::size_t, "FM_ZCOPY_NET", size, "auto", 0, SIZE_MAX - 1, "auto",                \
    "the same for tcp and verbs; auto: twice the lane's packet (128K over tcp, 32K over "         \
    "verbs); 0 = never")                                                                          \
  X(credits, std::uint32_t, "FM_CREDITS", uint, "0", 0, 4096, "",                                 \
    "packets a sender may have unconsumed at one receiver (2..4096); 0: automatic, 64 (udp and "  \
    "verbs-ud: 256, fewer when FM_RX_MEMORY cannot hold them for every peer, not below 64)")      \
  X(handler_stack, std::size_t, "FM_HANDLER_STACK", size, "262144", 16384, 1u << 30, "",          \
    "stack bytes of a handler that may suspend")                                                  \
  X(spin_us, std::uint32_t, "FM_SPIN_US", uint, "50", 0, 10000000, "",                            \
    "waits spin at most this many microseconds before they sleep (the adaptive bound's top; "     \
    "0: sleep at once)")                                                                          \
  X(spin_min_us, std::uint32_t, "FM_SPIN_MIN_US", uint, "5", 0, 10000000, "",                     \
    "the adaptive spin bound's floor in microseconds")                                            \
  X(yield_us, std::uint32_t, "FM_YIELD_US", uint, "1000", 0, 10000000, "",                        \
    "while waits block (FM_IDLE), they first poll for up to this many microseconds, yielding "    \
    "the CPU between polls (a yielding waiter costs the ranks that have work next to nothing; "   \
    "waking a sleeper costs a context switch), then sleep")                                       \
  X(slice_us, std::uint32_t, "FM_SLICE_US", uint, "100", 0, 100000, "",                           \
    "the scheduler slice FM's thread asks for at FM_initialize (Linux 6.12 and later; 100.."      \
    "100000 us, less counts as 100): a rank that a message wakes then preempts a CPU-bound "      \
    "process beside it at once, not after that process's slice; 0: left as it is")                \
  X(idle, std::string, "FM_IDLE", choice, "auto", 0, 0, "auto,block,poll",                        \
    "what FM's waits (and MPI-FM's and SHMEM-FM's) do once they have spun: block (sleep until "   \
    "a packet or a same-host peer's doorbell wakes them), poll (keep polling: a dedicated CPU), " \
    "auto (block while the host runs more ranks than CPUs: this job's, or every job's as "        \
    "fm-dcsd or the load average says)")                                                          \
  X(cosched, std::string, "FM_COSCHED", choice, "auto", 0, 0, "auto,off",                         \
    "auto: register with the host's coscheduling daemon (fm-dcsd) when one listens; off: never")  \
  X(cosched_socket, std::string, "FM_COSCHED_SOCKET", text, "@fm-dcsd", 0, 0, "",                 \
    "the daemon's Unix socket (@name: an abstract name, one per network namespace)")              \
  X(bind, std::string, "FM_BIND", choice, "none", 0, 0, "none,core,daemon",                       \
    "CPU binding of the calling thread at FM_initialize: none, core (the local rank's CPU of "    \
    "the allowed set), daemon (the CPU fm-dcsd --place assigns; none without one)")               \
  X(wait, std::string, "FM_WAIT", choice, "auto", 0, 0, "auto,fd,poll",                           \
    "how FM_extract_wait sleeps after spinning: fd (on the completion queue's file descriptor, "  \
    "where the provider has one; costs tcp;ofi_rxm about 0.5 us per message, its progress then "  \
    "polls through an epoll set), poll (no wait object: sleeps of 20 us growing to 1 ms), auto "  \
    "(fd when this machine runs more ranks than this process has CPUs, else poll)")               \
  X(peer_timeout_ms, std::uint32_t, "FM_PEER_TIMEOUT_MS", uint, "10000", 100, 3600000, "",        \
    "bound on reporting a failed peer")                                                           \
  X(liveness_ms, std::uint32_t, "FM_LIVENESS_MS", uint, "200", 10, 60000, "",                     \
    "interval of peer liveness checks while idle or stalled")                                     \
  X(rto_min_us, std::uint32_t, "FM_RTO_MIN_US", uint, "0", 0, 1000000, "",                        \
    "udp: floor of the retransmission time-out in us (50..1000000); 0 = 200 when this "           \
    "machine's ranks have a CPU each, 2000 (above a scheduler time slice) when they share")       \
  X(iface, std::string, "FM_IFACE", text, "", 0, 0, "",                                           \
    "network interface for tcp (e.g. eth0); default: provider's choice")                          \
  X(pmi_timeout_s, std::uint32_t, "FM_PMI_TIMEOUT_S", uint, "300", 0, 86400, "",                  \
    "bound on waiting for the launcher (PMI); 0 = none")                                          \
  X(log_level, std::string, "FM_LOG_LEVEL", choice, "warn", 0, 0,                                 \
    "none,error,warn,info,debug,trace", "none, error, warn, info, debug, trace")                  \
  X(rma, std::string, "FM_RMA", choice, "emulated", 0, 0, "emulated,native",                      \
    "put/get: emulated (FM messages; every access checked by the target) or native (the "         \
    "transport's RMA where it has it: faster over tcp; a stale region is not reported)")          \
  X(progress_thread, std::uint32_t, "FM_PROGRESS_THREAD", boolean, "0", 0, 1, "",                 \
    "1: a background thread extracts (handlers and one-sided operations progress while the "      \
    "program computes); every FM call then takes a lock")                                         \
  X(progress_us, std::uint32_t, "FM_PROGRESS_US", uint, "100", 0, 1000000, "",                    \
    "the progress thread's nap when nothing arrived (it parks on the lanes' wait objects after "  \
    "16 idle naps where every lane can wake it)")                                                 \
  X(stats, std::uint32_t, "FM_STATS", boolean, "0", 0, 1, "",                                     \
    "1: time handlers and print per-peer statistics and a traffic matrix at FM_finalize")

// A numeric tunable set to "auto".
inline constexpr std::size_t kAuto = SIZE_MAX;

struct Config {
#define FM_CONFIG_MEMBER(member, type, name, kind, def, lo, hi, choices, help) type member{};
  FM_TUNABLES(FM_CONFIG_MEMBER)
#undef FM_CONFIG_MEMBER

  Config();  // every member at its declared default

  // Sets the tunable called `name` (its variable, e.g. "FM_CREDITS") from text; FM_EINVAL, with
  // FM_last_error() naming it and what it expects, for an unknown name or a bad value.
  int set(const char* name, const char* value);
  // The tunable's value as text; FM_EINVAL for an unknown name.
  int get(const char* name, std::string* value) const;
  // Applies FM_* environment overrides over the current values.
  int apply_env();

  // The credit window before a transport's limits: `credits`, or its automatic value.
  std::uint32_t window(bool datagrams) const noexcept {
    return credits != 0 ? credits : datagrams ? 256 : 64;
  }
  // FM_PACKET_SIZE where no transport decides it (a singleton, the loopback): auto is 16 KiB.
  std::size_t packet() const noexcept {
    return packet_size != kAuto ? packet_size : 16384;
  }
};

// What fm_info -c and FM_config_describe print: one entry per tunable, in declaration order.
struct ConfigEntry {
  const char* name;  // environment variable
  const char* type;  // size, uint, bool, choice, text
  const char* def;
  const char* help;
};
std::size_t config_count() noexcept;
const ConfigEntry& config_entry(std::size_t i) noexcept;

// The values the program set before FM_initialize (FM_config_set), which FM_initialize starts
// from; the environment then overrides them.
Config& preset_config() noexcept;

}  // namespace fm
