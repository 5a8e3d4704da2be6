// wireup.cpp - FM_initialize's wiring, in the order it happens (as UCX keeps ucp/wireup/):
//  1. the configuration (what the program set, then the environment) and the launcher;
//  2. round 1 of the address exchange: every node's host, pid and board;
//  3. a lane per kind of peer, opened by transport::open_stack: the local provider for same-host
//     peers and the network provider for the others (FM_PROVIDER=auto), or one provider for all;
//  4. round 2: per lane, the credit window granted, the packet size received, the address;
//  5. peers inserted, boards attached, the Context created; a launcher barrier, so that every
//     node's receives are posted before anybody sends.
#include "core/wireup.hpp"

#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::core {
namespace {

namespace bs = fm::bootstrap;
namespace tr = fm::transport;

// Whether this machine runs more of the job's ranks than this process may use CPUs (ranks
// counted per machine, i.e. host name, not per network namespace).  Busy-polling ranks then wait
// for a scheduler time slice (milliseconds) before they answer.
bool machine_oversubscribed(const std::vector<std::string>& hosts, unsigned me) {
  const auto machine = [](const std::string& key) { return key.substr(0, key.rfind(':')); };
  const std::string mine = machine(hosts[me]);
  unsigned ranks = 0;
  for (const auto& h : hosts) ranks += machine(h) == mine ? 1 : 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  const int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  return ranks > static_cast<unsigned>(cpus);
}

// Lanes: same-host peers and the others.
enum Slot { kLocal = 0, kNet = 1, kSlots = 2 };

std::string key(const char* f, unsigned a) {
  char b[64];
  std::snprintf(b, sizeof b, f, a);
  return b;
}

// Splits "a,b,c" into fields.
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

}  // namespace

int wire_up(const FM_bootstrap* ext, std::unique_ptr<Context>* out) {
  // 1. configuration and launcher
  Wiring w;
  // Whatever fails once the job is joined leaves its launcher to FM_abort (bootstrap.hpp: keep).
  struct KeepLauncher {
    Wiring& w;
    const std::unique_ptr<Context>& out;
    ~KeepLauncher() {
      if (out == nullptr) bs::keep(std::move(w.boot));
    }
  } keep_launcher{w, *out};
  w.cfg = preset_config();
  const int env_rc = w.cfg.apply_env();
  if (env_rc == FM_SUCCESS) log::set_level(w.cfg.log_level.c_str());
  // The job is joined even when the environment is refused, so that FM_abort can end it.
  const std::string env_error = env_rc != FM_SUCCESS ? last_error() : "";
  int rc =
      ext != nullptr ? bs::open_external(ext, &w.boot) : bs::open(&w.boot, w.cfg.pmi_timeout_s);
  if (env_rc != FM_SUCCESS) return fail(env_rc, "%s", env_error.c_str());
  if (rc != FM_SUCCESS) return rc;
  bs::Bootstrap& boot = *w.boot;
  if (boot.size() > 1) install_failure_signal();
  w.rank = boot.rank();
  w.size = boot.size();
  const unsigned me = w.rank, n = w.size;

  // 2. round 1: where everybody is, and its board (board.hpp; "-" when it has none)
  if (n > 1) {
    int brc;
    w.board = Board::create(me, n, &brc);
    if (w.board == nullptr)
      FM_WARN("no shared-memory board (%s): same-host zero-copy sends are acknowledged by packets",
              last_error());
  }
  w.idle = std::make_unique<Idle>();
  if (n > 1 && w.idle->create(w.cfg, me, n) != FM_SUCCESS)
    FM_WARN("no status page (%s): waits nap instead of sleeping until woken", last_error());
  const std::string my_host = bs::host_key();
  rc = boot.put(key("fm-h-%u", me),
                bs::hex_encode(my_host.data(), my_host.size()) + "," + std::to_string(getpid()) +
                    "," + (w.board != nullptr ? w.board->name() : "-") + "," + w.idle->name());
  if (rc == FM_SUCCESS) rc = boot.fence();
  if (rc != FM_SUCCESS) return rc;
  w.hosts.resize(n);
  w.pids.resize(n);
  std::vector<std::string> boards(n), pages(n);
  for (unsigned r = 0; r < n; ++r) {
    std::string v, host;
    if ((rc = boot.get(key("fm-h-%u", r), &v)) != FM_SUCCESS) return rc;
    const auto f = split(v, ',');
    if (f.size() != 4 || !bs::hex_decode(f[0], &host))
      return fail(FM_ELAUNCH, "FM_initialize: malformed host record of node %u: \"%s\"", r,
                  v.c_str());
    w.hosts[r] = host;
    w.pids[r] = std::atoi(f[1].c_str());
    boards[r] = f[2];
    pages[r] = f[3];
  }
  w.oversubscribed = machine_oversubscribed(w.hosts, me);
  // Our host's ranks of the job (by host key, so namespace hosts count apart), the job's
  // identity (the same on every rank with no further exchange), our daemon, our CPU.
  {
    std::vector<int> local(n, -1);
    int next = 0;
    for (unsigned r = 0; r < n; ++r)
      if (w.hosts[r] == my_host) local[r] = next++;
    const std::string id = w.hosts[0] + ":" + std::to_string(w.pids[0]);
    std::uint64_t job = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : id) job = (job ^ c) * 1099511628211ull;
    w.idle->describe(local, job, w.oversubscribed);
    for (unsigned r = 0; r < n; ++r)
      if (r != me && local[r] >= 0 && pages[r] != "-" && !w.idle->attach(pages[r], r))
        FM_WARN("%s; its waits are woken by naps", last_error());
    w.idle->register_daemon();
    w.idle->bind_cpu();
    w.idle->set_slice(w.cfg.slice_us);
  }

  // 3. which lane serves each peer, and with which provider
  const std::string& prov = w.cfg.provider;
  const bool automatic = prov == "auto";
  const tr::ProviderSpec* spec[kSlots] = {tr::find_provider(tr::kLocalProvider),
                                          tr::find_provider(tr::kNetProvider)};
  if (!automatic) {
    const tr::ProviderSpec* chosen = tr::find_provider(prov);
    if (chosen == nullptr) return fail(FM_EINVAL, "FM_PROVIDER=\"%s\": unknown", prov.c_str());
    if (chosen->impl == tr::ProviderSpec::Impl::loopback && n > 1)
      return fail(FM_ENOPROVIDER, "FM_PROVIDER=%s serves a single process (job has %u)",
                  prov.c_str(), n);
    spec[chosen->local ? kLocal : kNet] = chosen;
  }
  std::vector<int> slot_of(n, -1);
  unsigned count[kSlots] = {0, 0};
  for (unsigned r = 0; r < n; ++r) {
    if (r == me) continue;
    const bool local = w.hosts[r] == my_host;
    int slot;
    if (automatic) {
      slot = local ? kLocal : kNet;
    } else if (spec[kLocal]->name == prov) {  // a local-only provider for everybody
      if (!local)
        return fail(FM_ENOPROVIDER,
                    "FM_PROVIDER=%s, but node %u is on another host (%s); use tcp or auto",
                    prov.c_str(), r, w.hosts[r].c_str());
      slot = kLocal;
    } else {
      slot = kNet;
    }
    slot_of[r] = slot;
    ++count[slot];
  }
  // An explicitly chosen provider is opened even by a singleton, so that its absence shows.
  if (n == 1 && !automatic && prov != "loopback")
    ++count[spec[kLocal]->name == prov ? kLocal : kNet];

  tr::Stack stacks[kSlots];
  for (int s = 0; s < kSlots; ++s) {
    if (count[s] == 0) continue;
    tr::StackParams sp;
    sp.open.spec = spec[s];
    sp.open.iface = w.cfg.iface;
    sp.open.rank = me;
    sp.open.size = n;
    sp.open.packet_size = s == kLocal                  ? w.cfg.shm_packet_size
                          : w.cfg.packet_size == kAuto ? 0  // the transport's
                                                       : w.cfg.packet_size;
    sp.open.tx_depth = 256;
    sp.open.shm_ring = w.cfg.shm_ring;
    sp.open.shm_cma = w.cfg.shm_cma == "off" ? 0 : w.cfg.shm_cma == "on" ? 1 : -1;
    sp.open.shm_membarrier = w.cfg.shm_membarrier == "off" ? 0 : 1;
    sp.open.shm_sweep = w.cfg.shm_sweep;
    sp.open.shm_split = w.cfg.shm_split;
    // a wait object when waits will sleep: this job oversubscribes the host, FM_IDLE=block, or
    // the daemon counts more ranks here than CPUs
    const bool contended = w.oversubscribed || w.cfg.idle == "block" ||
                           (w.cfg.idle == "auto" && w.idle->page() != nullptr &&
                            w.idle->daemon_connected() && w.idle->page()->host_contended != 0);
    sp.open.wait_fd = w.cfg.wait == "fd" || (w.cfg.wait == "auto" && contended);
    sp.peers = count[s];
    sp.credits = w.cfg.credits;
    sp.rx_memory = w.cfg.rx_memory;
    sp.control_reserve = kControlReserve;
    // the floor of the udp retransmission time-out, 2 ms: below it a rank descheduled for a
    // moment (shared CPUs: up to 10x as many retransmissions, 3x the run time; but also 2 ranks
    // on 2 CPUs, where 200 us let 16 MiB gets resend 60-120 packets that were not lost, all
    // found as duplicates at the receiver) answers after the time-out.  Losses recover sooner
    // through the selective acknowledgements (fast retransmission after an RTT).
    sp.reliable = Context::reliable_params(w.cfg, me, n, 2000);
    rc = tr::open_stack(sp, &stacks[s]);
    if (rc != FM_SUCCESS && s == kLocal && automatic) {
      FM_WARN("%s unavailable (%s); using %s for same-host peers", spec[kLocal]->name, last_error(),
              spec[kNet]->name);
      for (unsigned r = 0; r < n; ++r)
        if (slot_of[r] == kLocal) slot_of[r] = kNet;
      count[kNet] += count[kLocal];
      count[kLocal] = 0;
      continue;  // kNet is opened next
    }
    if (rc != FM_SUCCESS) return rc;
  }

  // 4. round 2: per lane, the credit window we grant, the packet size we receive, our address
  std::string rec = "fm1";
  for (const tr::Stack& st : stacks) {
    rec += "," + std::to_string(st.window) + "," + std::to_string(st.packet) + ",";
    if (st.tp) {
      const auto a = st.tp->address();
      rec += bs::hex_encode(a.data(), a.size());
    }
  }
  rc = boot.put(key("fm-a-%u", me), rec);
  if (rc == FM_SUCCESS) rc = boot.fence();
  if (rc != FM_SUCCESS) return rc;
  std::vector<std::vector<std::byte>> addrs[kSlots];
  for (auto& a : addrs) a.resize(n);
  w.windows.assign(n, 0);
  w.peer_packet.assign(n, 0);
  for (unsigned r = 0; r < n; ++r) {
    std::string v;
    if ((rc = boot.get(key("fm-a-%u", r), &v)) != FM_SUCCESS) return rc;
    const auto f = split(v, ',');
    if (f.size() != 1 + 3 * kSlots || f[0] != "fm1")
      return fail(FM_ELAUNCH,
                  "FM_initialize: malformed address record of node %u (another FM version?)", r);
    if (r == me || slot_of[r] < 0) continue;
    const int s = slot_of[r];
    std::string raw;
    if (!bs::hex_decode(f[3 + 3 * s], &raw) || raw.empty())
      return fail(FM_ELAUNCH,
                  "FM_initialize: node %u published no %s address (inconsistent FM_PROVIDER?)", r,
                  s == kLocal ? "same-host" : "network");
    addrs[s][r].resize(raw.size());
    std::memcpy(addrs[s][r].data(), raw.data(), raw.size());
    w.windows[r] = static_cast<std::uint32_t>(std::stoul(f[1 + 3 * s]));
    w.peer_packet[r] = std::stoul(f[2 + 3 * s]);
    if (w.windows[r] < 2 || w.peer_packet[r] < 512)
      return fail(FM_ELAUNCH, "FM_initialize: node %u published window %u, packet %zu", r,
                  w.windows[r], w.peer_packet[r]);
  }

  // 5. peers inserted, lanes handed over, boards attached
  int index[kSlots] = {-1, -1};
  for (int s = 0; s < kSlots; ++s) {
    if (!stacks[s].tp) continue;
    if ((rc = stacks[s].tp->insert_peers(addrs[s])) != FM_SUCCESS) return rc;
    index[s] = static_cast<int>(w.lanes.size());
    Lane lane;
    lane.tp = std::move(stacks[s].tp);
    lane.packet = stacks[s].packet;
    lane.window = stacks[s].window;
    // FM_ZCOPY_NET=auto: two packets, as the 32 KiB it was for 16 KiB packets
    lane.zcopy = s == kLocal                ? w.cfg.zcopy_shm
                 : w.cfg.zcopy_net == kAuto ? 2 * stacks[s].packet
                                            : w.cfg.zcopy_net;
    lane.kind = static_cast<std::uint8_t>(s);
    w.lanes.push_back(std::move(lane));
  }
  w.peer_lane.assign(n, -1);
  for (unsigned r = 0; r < n; ++r)
    if (slot_of[r] >= 0) w.peer_lane[r] = index[slot_of[r]];
  // Peers served by the local lane read our zero-copy sends from this host: their boards
  // acknowledge them.
  w.acked.assign(n, nullptr);
  for (unsigned r = 0; r < n && w.board != nullptr; ++r) {
    if (slot_of[r] != kLocal || boards[r] == "-") continue;
    if ((w.acked[r] = w.board->attach(boards[r], r, me)) == nullptr)
      FM_WARN("%s; zero-copy sends to it are acknowledged by packets", last_error());
  }
  Board* board = w.board.get();
  bs::Bootstrap* bp = w.boot.get();
  auto ctx = Context::create(std::move(w), &rc);
  if (ctx == nullptr) return rc;
  if (n > 1 && (rc = bp->barrier()) != FM_SUCCESS) return rc;
  if (board != nullptr) board->unpublish();
  ctx->connected();
  *out = std::move(ctx);
  return FM_SUCCESS;
}

}  // namespace fm::core
