// api.cpp - the C API over the process-wide default Context, and FM_initialize's wiring: join the
// job through the bootstrap, choose a transport per peer (shm on the same host, the network
// provider otherwise, or FM_PROVIDER for all), open the endpoints and exchange their addresses.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "core/context.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace {

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

int initialize() {
  namespace bs = fm::bootstrap;
  namespace tr = fm::transport;
  fm::log::set_level_from_env();
  fm::core::Wiring w;
  int rc = w.cfg.apply_env();
  if (rc != FM_SUCCESS) return rc;
  rc = bs::open(&w.boot);
  if (rc != FM_SUCCESS) return rc;
  bs::Bootstrap& boot = *w.boot;
  if (boot.size() > 1) fm::core::install_failure_signal();
  w.rank = boot.rank();
  w.size = boot.size();
  const unsigned me = w.rank, n = w.size;

  // Round 1: where everybody is.
  const std::string my_host = bs::host_key();
  rc = boot.put(fmt("fm-h-%u", me),
                bs::hex_encode(my_host.data(), my_host.size()) + "," + std::to_string(getpid()));
  if (rc == FM_SUCCESS) rc = boot.fence();
  if (rc != FM_SUCCESS) return rc;
  w.hosts.resize(n);
  w.pids.resize(n);
  for (unsigned r = 0; r < n; ++r) {
    std::string v, host;
    if ((rc = boot.get(fmt("fm-h-%u", r), &v)) != FM_SUCCESS) return rc;
    auto f = split(v, ',');
    if (f.size() != 2 || !bs::hex_decode(f[0], &host))
      return fm::fail(FM_ELAUNCH, "FM_initialize: malformed host record of node %u: \"%s\"", r,
                      v.c_str());
    w.hosts[r] = host;
    w.pids[r] = std::atoi(f[1].c_str());
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
  const bool explicit_net = prov == "tcp" || prov == "verbs";
  if (n == 1 && prov == "shm") count[kShm] = 1;
  if (n == 1 && explicit_net) count[kNet] = 1;

  std::unique_ptr<tr::Transport> tps[kSlots];
  std::uint32_t window[kSlots] = {0, 0};
  std::size_t packet[kSlots] = {w.cfg.shm_packet_size, w.cfg.packet_size};
  for (int s = 0; s < kSlots; ++s) {
    if (count[s] == 0) continue;
    tr::OpenParams op;
    op.provider = s == kShm ? "shm" : (prov == "verbs" ? "verbs" : "tcp");
    op.iface = w.cfg.iface;
    op.rank = me;
    op.size = n;
    op.packet_size = packet[s];
    op.rx_depth = count[s] * (w.cfg.credits + kControlReserve);
    op.tx_depth = 256;
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
    // credits per sender, within what the endpoint lets us post
    const std::uint32_t depth = tps[s]->caps().rx_depth;
    std::uint32_t win = w.cfg.credits;
    if (count[s] * (win + kControlReserve) > depth)
      win = depth / count[s] > kControlReserve ? depth / count[s] - kControlReserve : 0;
    // and within the receive-buffer memory budget (large shm packets, many peers)
    const std::size_t fit = w.cfg.rx_memory / (count[s] * packet[s]);
    if (win + kControlReserve > fit)
      win = static_cast<std::uint32_t>(fit > kControlReserve + 2 ? fit - kControlReserve : 2);
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
    w.transports.push_back(std::move(tps[s]));
  }
  w.peer_tp.assign(n, -1);
  for (unsigned r = 0; r < n; ++r)
    if (slot_of[r] >= 0) w.peer_tp[r] = index[slot_of[r]];

  fm::bootstrap::Bootstrap* bp = w.boot.get();
  auto ctx = Context::create(std::move(w), &rc);
  if (ctx == nullptr) return rc;
  // Everybody's receives are posted before anybody sends.
  if (n > 1 && (rc = bp->barrier()) != FM_SUCCESS) return rc;
  g_ctx = std::move(ctx);
  fm::core::set_default(g_ctx.get());
  return FM_SUCCESS;
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
  int rc = initialize();
  if (rc != FM_SUCCESS)
    FM_ERROR("FM_initialize failed: %s (%s)", fm::last_error(), fm::strerror(rc));
  return rc;
}

int FM_finalize(void) {
  if (Context* c = fm::core::current(); c != nullptr && c->in_handler())
    return fm::fail(FM_EINHANDLER, "FM_finalize: called inside a handler");
  if (g_ctx == nullptr) return fm::fail(FM_ENOTINIT, "FM_finalize: FM is not initialized");
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
  return c != nullptr ? c->begin_message(dest, length, handler) : nullptr;
}

int FM_send_piece(FM_stream* s, const void* buf, size_t n) {
  if (s == nullptr) return fm::fail(FM_ESTREAM, "FM_send_piece: stream is NULL");
  return s->magic == fm::core::kOutMagic
             ? s->ctx->send_piece(s, buf, n)
             : fm::fail(FM_ESTREAM, "FM_send_piece: not an open outgoing stream");
}

int FM_end_message(FM_stream* s) {
  if (s == nullptr) return fm::fail(FM_ESTREAM, "FM_end_message: stream is NULL");
  return s->magic == fm::core::kOutMagic
             ? s->ctx->end_message(s)
             : fm::fail(FM_ESTREAM, "FM_end_message: not an open outgoing stream");
}

int FM_send(unsigned dest, int handler, const void* buf, size_t n) {
  Context* c = ctx_or_fail("FM_send");
  return c != nullptr ? c->send(dest, handler, buf, n) : FM_ENOTINIT;
}

int FM_send_4(unsigned dest, int handler, uint32_t i0, uint32_t i1, uint32_t i2, uint32_t i3) {
  const uint32_t v[4] = {i0, i1, i2, i3};
  Context* c = ctx_or_fail("FM_send_4");
  return c != nullptr ? c->send(dest, handler, v, sizeof v) : FM_ENOTINIT;
}

long FM_extract(size_t maxbytes) {
  Context* c = ctx_or_fail("FM_extract");
  return c != nullptr ? c->extract(maxbytes) : long{FM_ENOTINIT};
}

long FM_extract_wait(size_t maxbytes, int timeout_ms) {
  Context* c = ctx_or_fail("FM_extract_wait");
  return c != nullptr ? c->extract_wait(maxbytes, timeout_ms) : long{FM_ENOTINIT};
}

long FM_receive(void* buf, FM_stream* s, size_t n) {
  if (s == nullptr) return fm::fail(FM_ESTREAM, "FM_receive: stream is NULL");
  if (s->magic != fm::core::kInMagic)
    return fm::fail(FM_ESTREAM, "FM_receive: not the stream of a running handler");
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
  if (c == nullptr) return FM_ENOTINIT;
  if (node >= c->size())
    return fm::fail(FM_ENODEST, "FM_peer_failed: node %u out of range (%u nodes)", node, c->size());
  return c->peer(node).failed ? 1 : 0;
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
