// api.cpp - the C API over the process-wide default Context, and FM_initialize's wiring: join the
// job through the bootstrap, choose a transport per peer (shm on the same host, the network
// provider otherwise, or FM_PROVIDER for all), open the endpoints and exchange their addresses.
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/context.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace {

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

// The floor of the udp retransmission time-out: on shared CPUs a shorter time-out only resends
// packets that were not lost (measured: up to 10x as many retransmissions, 3x the run time).
std::uint32_t auto_rto_min_us(const std::vector<std::string>& hosts, unsigned me) {
  return machine_oversubscribed(hosts, me) ? 2000 : 200;
}

using fm::core::Context;

std::unique_ptr<Context> g_ctx;

constexpr std::uint32_t kControlReserve = 8;  // must match context.cpp

// Slots of the address exchange: same-host transport and network transport.
enum Slot { kShm = 0, kNet = 1, kSlots = 2 };

std::string fmt(const char* f, unsigned a) {
  char b[64];
  std::snprintf(b, sizeof b, f, a);
  return b;
}

// Splits "a,b,c" into fields.
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

int initialize(const FM_bootstrap* ext) {
  namespace bs = fm::bootstrap;
  namespace tr = fm::transport;
  fm::log::set_level_from_env();
  fm::core::Wiring w;
  int rc = w.cfg.apply_env();
  if (rc != FM_SUCCESS) return rc;
  rc = ext != nullptr ? bs::open_external(ext, &w.boot) : bs::open(&w.boot);
  if (rc != FM_SUCCESS) return rc;
  bs::Bootstrap& boot = *w.boot;
  if (boot.size() > 1) fm::core::install_failure_signal();
  w.rank = boot.rank();
  w.size = boot.size();
  const unsigned me = w.rank, n = w.size;
  const bool cfg_progress_thread = w.cfg.progress_thread != 0;

  // Round 1: where everybody is, and its board (fm/src/core/board.hpp; "-" when it has none).
  if (n > 1) {
    int brc;
    w.board = fm::core::Board::create(me, n, &brc);
    if (w.board == nullptr)
      FM_WARN("no shared-memory board (%s): same-host zero-copy sends are acknowledged by packets",
              fm::last_error());
  }
  const std::string my_host = bs::host_key();
  rc = boot.put(fmt("fm-h-%u", me), bs::hex_encode(my_host.data(), my_host.size()) + "," +
                                        std::to_string(getpid()) + "," +
                                        (w.board != nullptr ? w.board->name() : "-"));
  if (rc == FM_SUCCESS) rc = boot.fence();
  if (rc != FM_SUCCESS) return rc;
  w.hosts.resize(n);
  w.pids.resize(n);
  std::vector<std::string> boards(n);
  for (unsigned r = 0; r < n; ++r) {
    std::string v, host;
    if ((rc = boot.get(fmt("fm-h-%u", r), &v)) != FM_SUCCESS) return rc;
    auto f = split(v, ',');
    if (f.size() != 3 || !bs::hex_decode(f[0], &host))
      return fm::fail(FM_ELAUNCH, "FM_initialize: malformed host record of node %u: \"%s\"", r,
                      v.c_str());
    w.hosts[r] = host;
    w.pids[r] = std::atoi(f[1].c_str());
    boards[r] = f[2];
  }

  // Which transport serves each peer.
  const std::string& prov = w.cfg.provider;
  std::vector<int> slot_of(n, -1);
  unsigned count[kSlots] = {0, 0};
  for (unsigned r = 0; r < n; ++r) {
    if (r == me) continue;
    const bool local = w.hosts[r] == my_host;
    int slot;
    if (prov == "shm") {
      if (!local)
        return fm::fail(FM_ENOPROVIDER,
                        "FM_PROVIDER=shm, but node %u is on another host (%s); use tcp or auto", r,
                        w.hosts[r].c_str());
      slot = kShm;
    } else if (prov == "auto") {
      slot = local ? kShm : kNet;
    } else {
      slot = kNet;  // tcp, verbs (and loopback, refused below)
    }
    slot_of[r] = slot;
    ++count[slot];
  }
  if (prov == "loopback" && n > 1)
    return fm::fail(FM_ENOPROVIDER, "FM_PROVIDER=loopback serves a single process (job has %u)", n);
  // An explicitly chosen provider is opened even by a singleton, so that its absence shows.
  const bool explicit_net = prov == "tcp" || prov == "verbs" || prov == "udp" || prov == "verbs-ud";
  if (n == 1 && prov == "shm") count[kShm] = 1;
  if (n == 1 && explicit_net) count[kNet] = 1;

  std::unique_ptr<tr::Transport> tps[kSlots];
  std::uint32_t window[kSlots] = {0, 0};
  std::size_t packet[kSlots] = {w.cfg.shm_packet_size, w.cfg.packet_size};
  for (int s = 0; s < kSlots; ++s) {
    if (count[s] == 0) continue;
    tr::OpenParams op;
    const bool udp = s == kNet && (prov == "udp" || prov == "verbs-ud");  // datagrams
    op.provider = s == kShm ? "shm" : (prov == "verbs" || udp ? prov : "tcp");
    op.iface = w.cfg.iface;
    op.rank = me;
    op.size = n;
    op.packet_size = udp ? 512 : packet[s];  // udp: sized to the datagram limit below
    op.rx_depth = udp ? 1024 : count[s] * (w.cfg.window(false) + kControlReserve);
    op.tx_depth = 256;
    op.wait_fd =
        w.cfg.wait == "fd" || (w.cfg.wait == "auto" && machine_oversubscribed(w.hosts, me));
    rc = tr::open_ofi(op, &tps[s]);
    if (rc != FM_SUCCESS && s == kShm && prov == "auto") {
      FM_WARN("shm unavailable (%s); using tcp for same-host peers", fm::last_error());
      for (unsigned r = 0; r < n; ++r)
        if (slot_of[r] == kShm) slot_of[r] = kNet;
      count[kNet] += count[kShm];
      count[kShm] = 0;
      continue;  // kNet is opened next
    }
    if (rc != FM_SUCCESS) return rc;
    if (udp)  // datagrams: packets as large as a datagram, under FM's reliability header
      packet[s] = std::min(w.cfg.packet_size, tps[s]->caps().max_msg - tps[s]->caps().prefix) -
                  tr::kReliableHeader;
    // credits per sender, within what the endpoint lets us post
    const std::uint32_t depth = tps[s]->caps().rx_depth;
    std::uint32_t win = w.cfg.window(udp);
    if (count[s] * (win + kControlReserve) > depth)
      win = depth / count[s] > kControlReserve ? depth / count[s] - kControlReserve : 0;
    // and within the receive-buffer memory budget (large shm packets, many peers)
    const std::size_t fit = w.cfg.rx_memory / (count[s] * packet[s]);
    if (win + kControlReserve > fit)
      win = static_cast<std::uint32_t>(fit > kControlReserve + 2 ? fit - kControlReserve : 2);
    if (udp && w.cfg.credits == 0) {
      // The automatic datagram window counts the reliability layer's copies too (a send and a
      // reorder window of twice the credits per peer): the budget shrinks it, down to 64.
      const std::size_t fit5 = fit / 5;
      if (win + kControlReserve > fit5)
        win = static_cast<std::uint32_t>(std::max<std::size_t>(
            std::min<std::size_t>(win, 64), fit5 > kControlReserve ? fit5 - kControlReserve : 0));
    }
    if (udp)  // FM's own reliability on top, its windows sized to the credits
      tps[s] = tr::open_reliable(
          std::move(tps[s]),
          Context::reliable_params(w.cfg, win, me, n, auto_rto_min_us(w.hosts, me)));
    if (win < 2)
      return fm::fail(FM_ETRANSPORT,
                      "FM_initialize: %s can post only %u receives, too few for %u peers",
                      tps[s]->caps().name.c_str(), depth, count[s]);
    window[s] = win;
  }

  // Round 2: per slot, the credit window we grant, the packet size we receive, our address.
  std::string rec = "fm1";
  for (int s = 0; s < kSlots; ++s) {
    rec += "," + std::to_string(window[s]) + "," + std::to_string(packet[s]) + ",";
    if (tps[s]) {
      auto a = tps[s]->address();
      rec += bs::hex_encode(a.data(), a.size());
    }
  }
  rc = boot.put(fmt("fm-a-%u", me), rec);
  if (rc == FM_SUCCESS) rc = boot.fence();
  if (rc != FM_SUCCESS) return rc;
  std::vector<std::vector<std::byte>> addrs[kSlots];
  for (auto& a : addrs) a.resize(n);
  w.windows.assign(n, 0);
  w.peer_packet.assign(n, 0);
  for (unsigned r = 0; r < n; ++r) {
    std::string v;
    if ((rc = boot.get(fmt("fm-a-%u", r), &v)) != FM_SUCCESS) return rc;
    auto f = split(v, ',');
    if (f.size() != 1 + 3 * kSlots || f[0] != "fm1")
      return fm::fail(FM_ELAUNCH,
                      "FM_initialize: malformed address record of node %u (another FM version?)",
                      r);
    if (r == me || slot_of[r] < 0) continue;
    const int s = slot_of[r];
    std::string raw;
    if (!bs::hex_decode(f[3 + 3 * s], &raw) || raw.empty())
      return fm::fail(FM_ELAUNCH,
                      "FM_initialize: node %u published no %s address (inconsistent FM_PROVIDER?)",
                      r, s == kShm ? "shm" : "network");
    addrs[s][r].resize(raw.size());
    std::memcpy(addrs[s][r].data(), raw.data(), raw.size());
    w.windows[r] = static_cast<std::uint32_t>(std::stoul(f[1 + 3 * s]));
    w.peer_packet[r] = std::stoul(f[2 + 3 * s]);
    if (w.windows[r] < 2 || w.peer_packet[r] < 512)
      return fm::fail(FM_ELAUNCH, "FM_initialize: node %u published window %u, packet %zu", r,
                      w.windows[r], w.peer_packet[r]);
  }
  int index[kSlots] = {-1, -1};
  for (int s = 0; s < kSlots; ++s) {
    if (!tps[s]) continue;
    if ((rc = tps[s]->insert_peers(addrs[s])) != FM_SUCCESS) return rc;
    index[s] = static_cast<int>(w.transports.size());
    w.my_window.push_back(window[s]);
    w.tp_packet.push_back(packet[s]);
    w.tp_zcopy.push_back(s == kShm ? w.cfg.zcopy_shm : w.cfg.zcopy_net);
    w.transports.push_back(std::move(tps[s]));
  }
  w.peer_tp.assign(n, -1);
  for (unsigned r = 0; r < n; ++r)
    if (slot_of[r] >= 0) w.peer_tp[r] = index[slot_of[r]];
  // Peers served by shm read our zero-copy sends from this host: their boards acknowledge them.
  w.acked.assign(n, nullptr);
  for (unsigned r = 0; r < n && w.board != nullptr; ++r) {
    if (slot_of[r] != kShm || boards[r] == "-") continue;
    if ((w.acked[r] = w.board->attach(boards[r], r, me)) == nullptr)
      FM_WARN("%s; zero-copy sends to it are acknowledged by packets", fm::last_error());
  }
  fm::core::Board* board = w.board.get();

  fm::bootstrap::Bootstrap* bp = w.boot.get();
  w.oversubscribed = machine_oversubscribed(w.hosts, me);
  auto ctx = Context::create(std::move(w), &rc);
  if (ctx == nullptr) return rc;
  // Everybody's receives are posted before anybody sends, and every board mapped by its readers.
  if (n > 1 && (rc = bp->barrier()) != FM_SUCCESS) return rc;
  if (board != nullptr) board->unpublish();
  g_ctx = std::move(ctx);
  fm::core::set_default(g_ctx.get());
  if (cfg_progress_thread) g_ctx->start_progress_thread();
  return FM_SUCCESS;
}

// The Context's API lock when a progress thread runs (else nothing is locked).
std::unique_lock<std::recursive_mutex> lock(Context* c) {
  return c != nullptr ? c->api_lock() : std::unique_lock<std::recursive_mutex>();
}

Context* ctx_or_fail(const char* op) {
  Context* c = fm::core::current();
  if (c == nullptr) fm::fail(FM_ENOTINIT, "%s: FM is not initialized (call FM_initialize)", op);
  return c;
}

}  // namespace

extern "C" {

int FM_initialize(void) {
  if (g_ctx != nullptr) return fm::fail(FM_EALREADY, "FM_initialize: FM is already initialized");
  int rc = initialize(nullptr);
  if (rc != FM_SUCCESS)
    FM_ERROR("FM_initialize failed: %s (%s)", fm::last_error(), fm::strerror(rc));
  return rc;
}

int FM_initialize_with(const FM_bootstrap* boot) {
  if (g_ctx != nullptr)
    return fm::fail(FM_EALREADY, "FM_initialize_with: FM is already initialized");
  if (boot == nullptr) return fm::fail(FM_EINVAL, "FM_initialize_with: bootstrap is NULL");
  int rc = initialize(boot);
  if (rc != FM_SUCCESS)
    FM_ERROR("FM_initialize_with failed: %s (%s)", fm::last_error(), fm::strerror(rc));
  return rc;
}

int FM_finalize(void) {
  if (Context* c = fm::core::current(); c != nullptr && c->in_handler())
    return fm::fail(FM_EINHANDLER, "FM_finalize: called inside a handler");
  if (g_ctx == nullptr) return fm::fail(FM_ENOTINIT, "FM_finalize: FM is not initialized");
  g_ctx->stop_progress_thread();
  int rc = g_ctx->finalize();
  if (rc == FM_EINHANDLER) return rc;
  fm::core::set_default(nullptr);
  g_ctx.reset();
  return rc;
}

unsigned FM_nodeid(void) {
  Context* c = fm::core::current();
  return c != nullptr ? c->rank() : 0;
}

unsigned FM_numnodes(void) {
  Context* c = fm::core::current();
  return c != nullptr ? c->size() : 0;
}

int FM_same_host(unsigned node) {
  Context* c = ctx_or_fail("FM_same_host");
  const auto api_lock_ = lock(c);
  if (c == nullptr) return FM_ENOTINIT;
  if (node >= c->size())
    return fm::fail(FM_ENODEST, "FM_same_host: node %u out of range (%u nodes)", node, c->size());
  return c->peer(node).same_host ? 1 : 0;
}

const char* FM_transport_name(unsigned node) {
  Context* c = fm::core::current();
  return c != nullptr ? c->transport_name(node) : nullptr;
}

int FM_register_handler(int id, FM_handler fn) {
  return fm::core::register_handler(id, fn);
}
int FM_unregister_handler(int id) {
  return fm::core::unregister_handler(id);
}

FM_stream* FM_begin_message(unsigned dest, size_t length, int handler) {
  Context* c = ctx_or_fail("FM_begin_message");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->begin_message(dest, length, handler) : nullptr;
}

FM_stream* FM_try_begin_message(unsigned dest, size_t length, int handler) {
  Context* c = ctx_or_fail("FM_try_begin_message");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->begin_message(dest, length, handler, true) : nullptr;
}

int FM_send_piece(FM_stream* s, const void* buf, size_t n) {
  if (s == nullptr) return fm::fail(FM_ESTREAM, "FM_send_piece: stream is NULL");
  if (s->magic != fm::core::kOutMagic)
    return fm::fail(FM_ESTREAM, "FM_send_piece: not an open outgoing stream");
  const auto api_lock_ = lock(s->ctx);
  return s->ctx->send_piece(s, buf, n);
}

int FM_end_message(FM_stream* s) {
  if (s == nullptr) return fm::fail(FM_ESTREAM, "FM_end_message: stream is NULL");
  if (s->magic != fm::core::kOutMagic)
    return fm::fail(FM_ESTREAM, "FM_end_message: not an open outgoing stream");
  const auto api_lock_ = lock(s->ctx);
  return s->ctx->end_message(s);
}

int FM_send(unsigned dest, int handler, const void* buf, size_t n) {
  Context* c = ctx_or_fail("FM_send");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->send(dest, handler, buf, n) : FM_ENOTINIT;
}

int FM_try_send(unsigned dest, int handler, const void* buf, size_t n) {
  Context* c = ctx_or_fail("FM_try_send");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->send(dest, handler, buf, n, true) : FM_ENOTINIT;
}

int FM_send_4(unsigned dest, int handler, uint32_t i0, uint32_t i1, uint32_t i2, uint32_t i3) {
  const uint32_t v[4] = {i0, i1, i2, i3};
  Context* c = ctx_or_fail("FM_send_4");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->send(dest, handler, v, sizeof v) : FM_ENOTINIT;
}

long FM_extract(size_t maxbytes) {
  Context* c = ctx_or_fail("FM_extract");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->extract(maxbytes) : long{FM_ENOTINIT};
}

long FM_extract_wait(size_t maxbytes, int timeout_ms) {
  Context* c = ctx_or_fail("FM_extract_wait");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->extract_wait(maxbytes, timeout_ms) : long{FM_ENOTINIT};
}

long FM_receive(void* buf, FM_stream* s, size_t n) {
  if (s == nullptr) return fm::fail(FM_ESTREAM, "FM_receive: stream is NULL");
  if (s->magic != fm::core::kInMagic)
    return fm::fail(FM_ESTREAM, "FM_receive: not the stream of a running handler");
  const auto api_lock_ = lock(s->ctx);
  return s->ctx->receive(buf, s, n);
}

size_t FM_stream_length(FM_stream* s) {
  if (s == nullptr) return 0;
  if (s->magic == fm::core::kInMagic) return static_cast<fm::core::InStream*>(s)->declared;
  if (s->magic == fm::core::kOutMagic) return static_cast<fm::core::OutStream*>(s)->declared;
  return 0;
}

size_t FM_packet_payload(void) {
  Context* c = fm::core::current();
  if (c != nullptr) return c->payload();
  fm::Config cfg;  // before FM_initialize: a singleton's packets
  (void)cfg.apply_env();
  return cfg.packet_size - sizeof(fm::core::PacketHeader);
}

size_t FM_max_message(void) {
  return SIZE_MAX / 2;
}

int FM_in_handler(void) {
  Context* c = fm::core::current();
  return c != nullptr && c->in_handler() ? 1 : 0;
}

int FM_peer_failed(unsigned node) {
  Context* c = ctx_or_fail("FM_peer_failed");
  const auto api_lock_ = lock(c);
  if (c == nullptr) return FM_ENOTINIT;
  if (node >= c->size())
    return fm::fail(FM_ENODEST, "FM_peer_failed: node %u out of range (%u nodes)", node, c->size());
  return c->peer(node).failed ? 1 : 0;
}

uint64_t FM_atomic_local(void* addr, int op, int type, uint64_t operand, uint64_t compare) {
  return fm::core::apply_local(addr, op, type, operand, compare);
}

int FM_oversubscribed(void) {
  Context* c = fm::core::current();
  return c != nullptr && c->oversubscribed() ? 1 : 0;
}

void FM_abort(int code, const char* msg) {
  if (Context* c = fm::core::current(); c != nullptr) c->abort(code, msg);
  std::fprintf(stderr, "fm: the job aborts (code %d): %s\n", code, msg != nullptr ? msg : "");
  std::_Exit(code);
}

int FM_get_peer_stats(unsigned node, FM_peer_stats* out) {
  Context* c = ctx_or_fail("FM_get_peer_stats");
  const auto api_lock_ = lock(c);
  if (c == nullptr) return FM_ENOTINIT;
  if (out == nullptr) return fm::fail(FM_EINVAL, "FM_get_peer_stats: out is NULL");
  if (node >= c->size())
    return fm::fail(FM_ENODEST, "FM_get_peer_stats: node %u out of range (%u nodes)", node,
                    c->size());
  const fm::core::Peer& q = c->peer(node);
  *out = FM_peer_stats{q.msgs_in,
                       q.bytes_in,
                       q.msgs_out,
                       q.bytes_out,
                       q.credit_stalls,
                       q.zcopy_bytes,
                       q.rma_ops_out,
                       q.rma_bytes_out,
                       q.rma_ops_in,
                       q.rma_bytes_in,
                       c->retransmissions(node),
                       q.handler_ns};
  return FM_SUCCESS;
}

int FM_register_memory(void* buf, size_t len, unsigned access, FM_region* out) {
  Context* c = ctx_or_fail("FM_register_memory");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->register_memory(buf, len, access, out) : FM_ENOTINIT;
}
int FM_deregister_memory(const FM_region* region) {
  Context* c = ctx_or_fail("FM_deregister_memory");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->deregister_memory(region) : FM_ENOTINIT;
}
int FM_put_nb(const FM_region* dst, uint64_t offset, const void* src, size_t len,
              FM_request** req) {
  Context* c = ctx_or_fail("FM_put_nb");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->rma_start(0, dst, offset, const_cast<void*>(src), len, 0, 0, nullptr,
                                     nullptr, req, "FM_put_nb")
                      : FM_ENOTINIT;
}
int FM_get_nb(const FM_region* src, uint64_t offset, void* dst, size_t len, FM_request** req) {
  Context* c = ctx_or_fail("FM_get_nb");
  const auto api_lock_ = lock(c);
  return c != nullptr
             ? c->rma_start(1, src, offset, dst, len, 0, 0, nullptr, nullptr, req, "FM_get_nb")
             : FM_ENOTINIT;
}
int FM_atomic_nb(const FM_region* dst, uint64_t offset, int op, int type, const void* operand,
                 const void* compare, void* result, FM_request** req) {
  Context* c = ctx_or_fail("FM_atomic_nb");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->rma_start(2, dst, offset, result, 0, op, type, operand, compare, req,
                                     "FM_atomic_nb")
                      : FM_ENOTINIT;
}

namespace {
fm::core::RmaOp* op_of(FM_request* req, const char* what) {
  Context* c = ctx_or_fail(what);
  if (c == nullptr) return nullptr;
  auto* op = reinterpret_cast<fm::core::RmaOp*>(req);
  if (req == nullptr || !c->owns(op) || op->state == fm::core::RmaOp::kFree || op->detached) {
    fm::fail(FM_EINVAL, "%s: not a live request handle", what);
    return nullptr;
  }
  return op;
}
}  // namespace

int FM_wait(FM_request* req) {
  const auto api_lock_ = lock(fm::core::current());
  fm::core::RmaOp* op = op_of(req, "FM_wait");
  return op != nullptr ? op->ctx->rma_wait(op) : FM_last_status();
}
int FM_test(FM_request* req, int* done) {
  if (done == nullptr) return fm::fail(FM_EINVAL, "FM_test: done is NULL");
  *done = 0;
  const auto api_lock_ = lock(fm::core::current());
  fm::core::RmaOp* op = op_of(req, "FM_test");
  return op != nullptr ? op->ctx->rma_test(op, done) : FM_last_status();
}
int FM_put(const FM_region* dst, uint64_t offset, const void* src, size_t len) {
  FM_request* req = nullptr;
  const int rc = FM_put_nb(dst, offset, src, len, &req);
  return rc != FM_SUCCESS ? rc : FM_wait(req);
}
int FM_get(const FM_region* src, uint64_t offset, void* dst, size_t len) {
  FM_request* req = nullptr;
  const int rc = FM_get_nb(src, offset, dst, len, &req);
  return rc != FM_SUCCESS ? rc : FM_wait(req);
}
int FM_atomic(const FM_region* dst, uint64_t offset, int op, int type, const void* operand,
              const void* compare, void* result) {
  FM_request* req = nullptr;
  const int rc = FM_atomic_nb(dst, offset, op, type, operand, compare, result, &req);
  return rc != FM_SUCCESS ? rc : FM_wait(req);
}

// Strided: one non-blocking operation per block, then a flush of that node.
int FM_put_strided(const FM_region* dst, uint64_t offset, ptrdiff_t dst_stride, const void* src,
                   ptrdiff_t src_stride, size_t elem_size, size_t count) {
  if (dst == nullptr) return fm::fail(FM_EINVAL, "FM_put_strided: region is NULL");
  const auto* s = static_cast<const std::byte*>(src);
  for (size_t i = 0; i < count; ++i) {
    const auto off = static_cast<std::int64_t>(offset) + static_cast<std::int64_t>(i) * dst_stride;
    if (off < 0) return fm::fail(FM_EACCESS, "FM_put_strided: block %zu lies before the region", i);
    const int rc = FM_put_nb(dst, static_cast<uint64_t>(off),
                             s + static_cast<std::ptrdiff_t>(i) * src_stride, elem_size, nullptr);
    if (rc != FM_SUCCESS) return rc;
  }
  return FM_flush(dst->node);
}
int FM_get_strided(const FM_region* src, uint64_t offset, ptrdiff_t src_stride, void* dst,
                   ptrdiff_t dst_stride, size_t elem_size, size_t count) {
  if (src == nullptr) return fm::fail(FM_EINVAL, "FM_get_strided: region is NULL");
  auto* d = static_cast<std::byte*>(dst);
  for (size_t i = 0; i < count; ++i) {
    const auto off = static_cast<std::int64_t>(offset) + static_cast<std::int64_t>(i) * src_stride;
    if (off < 0) return fm::fail(FM_EACCESS, "FM_get_strided: block %zu lies before the region", i);
    const int rc = FM_get_nb(src, static_cast<uint64_t>(off),
                             d + static_cast<std::ptrdiff_t>(i) * dst_stride, elem_size, nullptr);
    if (rc != FM_SUCCESS) return rc;
  }
  return FM_flush(src->node);
}
int FM_progress_thread(int on) {
  Context* c = ctx_or_fail("FM_progress_thread");
  if (c == nullptr) return FM_ENOTINIT;
  if (c->in_handler()) return fm::fail(FM_EINHANDLER, "FM_progress_thread: inside a handler");
  const int was = c->threaded() ? 1 : 0;
  if (on != 0 && on != 1)
    return fm::fail(FM_EINVAL, "FM_progress_thread: on is %d, not 0 or 1", on);
  if (on)
    c->start_progress_thread();
  else
    c->stop_progress_thread();
  return was;
}

int FM_fence(unsigned node) {
  Context* c = ctx_or_fail("FM_fence");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->fence(node) : FM_ENOTINIT;
}
int FM_flush(unsigned node) {
  Context* c = ctx_or_fail("FM_flush");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->flush_node(node, "FM_flush") : FM_ENOTINIT;
}
int FM_quiet(void) {
  Context* c = ctx_or_fail("FM_quiet");
  const auto api_lock_ = lock(c);
  return c != nullptr ? c->quiet() : FM_ENOTINIT;
}

const char* FM_strerror(int status) {
  return fm::strerror(status);
}
int FM_last_status(void) {
  return fm::last_status();
}
const char* FM_last_error(void) {
  return fm::last_error();
}

}  // extern "C"
