#include "scenarios.hpp"

#include <fm/fm.h>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace fmtest {
namespace {

// ---------------------------------------------------------------------------------------------
// checks

thread_local int t_fails = 0;
thread_local unsigned t_me = 0;  // set by each scenario run

#define CHECK(cond, ...)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      ++t_fails;                                                                          \
      char msg_[256];                                                                     \
      std::snprintf(msg_, sizeof msg_, __VA_ARGS__);                                      \
      std::fprintf(stderr, "node %u: %s:%d: CHECK(%s) failed: %s [%s]\n", t_me, __FILE__, \
                   __LINE__, #cond, msg_, FM_last_error());                               \
    }                                                                                     \
  } while (0)

using Clock = std::chrono::steady_clock;

// Extracts until pred() holds; false (and a failure) on an FM error or after 120 s.
template <typename Pred>
bool wait_for(Pred pred, const char* what) {
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!pred()) {
    long r = FM_extract(SIZE_MAX);
    if (r < 0) {
      CHECK(r >= 0, "FM_extract failed while waiting for %s: %s", what, FM_strerror((int)r));
      return false;
    }
    if (Clock::now() > deadline) {
      CHECK(false, "timed out waiting for %s", what);
      return false;
    }
  }
  return true;
}

inline std::uint8_t pat(unsigned src, std::uint32_t msg, std::size_t i) {
  return static_cast<std::uint8_t>(i * 131u + src * 7u + msg * 13u + (i >> 8));
}

void fill(std::uint8_t* p, std::size_t n, unsigned src, std::uint32_t msg, std::size_t from = 0) {
  for (std::size_t i = 0; i < n; ++i) p[i] = pat(src, msg, from + i);
}

// first mismatch, or SIZE_MAX
std::size_t verify(const std::uint8_t* p, std::size_t n, unsigned src, std::uint32_t msg,
                   std::size_t from = 0) {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != pat(src, msg, from + i)) return i;
  return SIZE_MAX;
}

enum : int {
  H_BAR = 10,
  H_REL,
  H_S11,
  H_S4,
  H_STREAM,
  H_FLOOD,
  H_PACE,
  H_PING,
  H_TRIG,
  H_SINK,
  H_SLOW,
  H_BAD,
  H_PART,
  H_WHOLE,
  H_SUSP,
  H_SMALL,
  H_ACK,
  H_SELF,
  H_WAKE,
  H_REGION,
  H_REUSE,
  H_PEND,
  H_PEND_ACK,
  H_SEG,
  H_ASYNC,
  H_SYNC,
  H_ALONG,
  H_GAP
};

std::size_t P() {
  return FM_packet_payload();
}

// ---------------------------------------------------------------------------------------------
// barrier

// Per node, not per thread: with a progress thread, handlers run on another thread of the node.
struct BarrierState {
  std::uint32_t round = 0;
  std::atomic<std::uint32_t> arrived[2] = {0, 0};
  std::atomic<std::uint32_t> released = 0;
};
constexpr unsigned kMaxTestNodes = 256;
BarrierState g_bar[kMaxTestNodes];
BarrierState& bar() {
  return g_bar[FM_nodeid() % kMaxTestNodes];
}

int h_bar(FM_stream* s, unsigned) {
  std::uint32_t r = 0;
  CHECK(FM_receive(&r, s, 4) == 4, "barrier arrival");
  ++bar().arrived[r & 1];
  return FM_CONTINUE;
}

int h_rel(FM_stream* s, unsigned) {
  std::uint32_t r = 0;
  CHECK(FM_receive(&r, s, 4) == 4, "barrier release");
  bar().released = r + 1;
  return FM_CONTINUE;
}

// ---------------------------------------------------------------------------------------------
// A. FM 1.1 sends (FM_send, FM_send_4), to every node including oneself

struct S11 {
  std::vector<std::uint32_t> count, count4;
};
thread_local S11 t_s11;

std::size_t s11_size(std::uint32_t k) {
  const std::size_t sizes[] = {0, 1, 8, 100, 4000, P(), P() + 1, 3 * P() + 5};
  return sizes[k % 8];
}

int h_s11(FM_stream* s, unsigned src) {
  const std::uint32_t k = t_s11.count[src]++;
  const std::size_t len = FM_stream_length(s);
  CHECK(len == s11_size(k), "message %u from %u: length %zu, expected %zu", k, src, len,
        s11_size(k));
  std::vector<std::uint8_t> buf(len + 1);  // per handler: several may be suspended at once
  long r = FM_receive(buf.data(), s, len);
  CHECK(r == (long)len, "FM_receive returned %ld of %zu", r, len);
  if (len >= 8) {
    std::uint32_t hdr[2];
    std::memcpy(hdr, buf.data(), 8);
    CHECK(hdr[0] == src && hdr[1] == k, "header (%u,%u) expected (%u,%u)", hdr[0], hdr[1], src, k);
    std::size_t bad = verify(buf.data() + 8, len - 8, src, k);
    CHECK(bad == SIZE_MAX, "message %u from %u differs at byte %zu", k, src, bad + 8);
  }
  CHECK(FM_receive(buf.data(), s, 1) == FM_ELENGTH, "receive past the end must fail");
  return FM_CONTINUE;
}

int h_s4(FM_stream* s, unsigned src) {
  std::uint32_t v[4];
  CHECK(FM_stream_length(s) == 16, "FM_send_4 length %zu", FM_stream_length(s));
  CHECK(FM_receive(v, s, 16) == 16, "FM_send_4 receive");
  const std::uint32_t k = t_s11.count4[src]++;
  CHECK(v[0] == src && v[1] == k && v[2] == k * 3 && v[3] == 0xdeadbeefu,
        "FM_send_4 words %u %u %u %#x from %u (expected k=%u)", v[0], v[1], v[2], v[3], src, k);
  return FM_CONTINUE;
}

int run_send11(unsigned me, unsigned n, bool big) {
  const std::uint32_t K = big ? 200 : 50;
  t_s11.count.assign(n, 0);
  t_s11.count4.assign(n, 0);
  fm_barrier();
  std::vector<std::uint8_t> buf(3 * P() + 5);
  for (std::uint32_t k = 0; k < K; ++k)
    for (unsigned d = 0; d < n; ++d) {
      const std::size_t len = s11_size(k);
      if (len >= 8) {
        std::uint32_t hdr[2] = {me, k};
        std::memcpy(buf.data(), hdr, 8);
        fill(buf.data() + 8, len - 8, me, k);
      }
      int rc = FM_send(d, H_S11, buf.data(), len);
      CHECK(rc == FM_SUCCESS, "FM_send to %u: %s", d, FM_strerror(rc));
      rc = FM_send_4(d, H_S4, me, k, k * 3, 0xdeadbeefu);
      CHECK(rc == FM_SUCCESS, "FM_send_4 to %u: %s", d, FM_strerror(rc));
    }
  wait_for(
      [&] {
        for (unsigned s = 0; s < n; ++s)
          if (t_s11.count[s] < K || t_s11.count4[s] < K) return false;
        return true;
      },
      "FM 1.1 messages");
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// B. Streams: 1..1000 pieces, 0 B..16 MiB, received in chunks of other sizes into scattered buffers

struct StreamHdr {
  std::uint64_t total;
  std::uint32_t msg;
  std::uint32_t pieces;
};
struct Streams {
  std::uint32_t received = 0;
  std::uint32_t expect_msg = 0;
};
thread_local Streams t_st;

int h_stream(FM_stream* s, unsigned src) {
  StreamHdr h{};
  long r = FM_receive(&h, s, sizeof h);
  CHECK(r == (long)sizeof h, "stream header: %ld", r);
  CHECK(h.msg == t_st.expect_msg, "stream %u arrived, expected %u", h.msg, t_st.expect_msg);
  t_st.expect_msg = h.msg + 1;
  // (the 1 MiB ones: shm shares reads of 1 MiB and more with the sender, FM_SHM_SPLIT)
  static const std::size_t cyc[] = {1, 3, 4093, 65536, 7, 100000, std::size_t{1} << 20};
  std::vector<std::vector<std::uint8_t>> chunks;  // scattered buffers
  std::uint64_t left = h.total;
  for (std::size_t i = 0; left > 0; ++i) {
    const std::size_t k = (std::size_t)std::min<std::uint64_t>(cyc[i % 7], left);
    chunks.emplace_back(k);
    r = FM_receive(chunks.back().data(), s, k);
    CHECK(r == (long)k, "stream %u chunk %zu: got %ld of %zu", h.msg, i, r, k);
    if (r != (long)k) return FM_CONTINUE;
    left -= k;
  }
  if (FM_stream_length(s) > sizeof h + h.total) {  // declared more than was sent
    std::uint8_t extra[16];
    r = FM_receive(extra, s, 10);
    CHECK(r == 0, "bytes after the end of a short message: %ld", r);
  }
  std::size_t off = 0;
  for (auto& c : chunks) {
    std::size_t bad = verify(c.data(), c.size(), src, h.msg, off);
    CHECK(bad == SIZE_MAX, "stream %u (%" PRIu64 " B) differs at byte %zu", h.msg, h.total,
          off + bad);
    if (bad != SIZE_MAX) break;
    off += c.size();
  }
  ++t_st.received;
  return FM_CONTINUE;
}

// Whether large pieces from node `from` take the zero-copy path (over shm and tcp, unless the
// environment turns it off).
bool zcopy_from(unsigned from) {
  const char* via = FM_transport_name(from);
  const bool shm = std::strcmp(via, "shm") == 0 || std::strcmp(via, "ofi-shm") == 0,
             tcp = std::strncmp(via, "tcp", 3) == 0;
  const char* zc = std::getenv(shm ? "FM_ZCOPY_SHM" : "FM_ZCOPY_NET");
  return (shm || tcp) && (zc == nullptr || std::strcmp(zc, "0") != 0);
}

int run_streams(unsigned me, unsigned n, bool big) {
  t_st = Streams{};
  fm_barrier();
  const std::uint64_t totals[] = {
      0, 1, 1000, P() - 16, P(), P() + 1, 65536, 1u << 20, big ? 16u << 20 : 4u << 20};
  const std::uint32_t piece_counts[] = {1, 7, 1000};
  const unsigned dest = (me + 1) % n;
  std::uint32_t msg = 0;
  std::vector<std::uint8_t> body(totals[8]);
  for (std::uint64_t total : totals)
    for (std::uint32_t pieces : piece_counts) {
      if (pieces > 1 && pieces > total) continue;
      fill(body.data(), total, me, msg);
      const std::size_t extra = (msg % 3 == 0) ? 100 : 0;
      FM_stream* s = FM_begin_message(dest, sizeof(StreamHdr) + total + extra, H_STREAM);
      CHECK(s != nullptr, "FM_begin_message(%u, %" PRIu64 ")", dest, total);
      if (s == nullptr) return t_fails;
      StreamHdr h{total, msg, pieces};
      CHECK(FM_send_piece(s, &h, sizeof h) == FM_SUCCESS, "header piece");
      std::uint64_t off = 0;
      for (std::uint32_t i = 0; i < pieces; ++i) {  // uneven pieces
        std::uint64_t k = (i + 1 == pieces) ? total - off : (total / pieces) + (i % 2 ? 1 : 0);
        if (off + k > total) k = total - off;
        int rc = FM_send_piece(s, body.data() + off, k);
        CHECK(rc == FM_SUCCESS, "piece %u: %s", i, FM_strerror(rc));
        off += k;
      }
      CHECK(FM_end_message(s) == FM_SUCCESS, "FM_end_message");
      ++msg;
    }
  const std::uint32_t expect = msg;  // every node sends the same list
  wait_for([&] { return t_st.received == expect; }, "streams");
  // Over shm and tcp, large pieces are pulled straight into the handler's buffers (zero-copy).
  const unsigned from = (me + n - 1) % n;
  FM_peer_stats st{};
  CHECK(FM_get_peer_stats(from, &st) == FM_SUCCESS, "FM_get_peer_stats");
  CHECK(st.msgs_in >= expect, "%llu messages counted from node %u, %u received",
        (unsigned long long)st.msgs_in, from, expect);
  if (from != me && zcopy_from(from))
    CHECK(st.zcopy_bytes_in >= (big ? 16u << 20 : 4u << 20),
          "only %llu bytes from node %u took the zero-copy path",
          (unsigned long long)st.zcopy_bytes_in, from);
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// C. All-to-all flood with per-sender sequence checks (small and multi-packet messages)

struct Flood {
  std::vector<std::uint32_t> next;
};
thread_local Flood t_fl;

int h_flood(FM_stream* s, unsigned src) {
  const std::size_t len = FM_stream_length(s);
  std::vector<std::uint8_t> buf(len);
  long r = FM_receive(buf.data(), s, len);
  CHECK(r == (long)len, "flood receive %ld of %zu", r, len);
  std::uint32_t hdr[2];
  std::memcpy(hdr, buf.data(), 8);
  CHECK(hdr[0] == src, "flood sender %u arrived from %u", hdr[0], src);
  CHECK(hdr[1] == t_fl.next[src], "from %u: message %u arrived, expected %u", src, hdr[1],
        t_fl.next[src]);
  t_fl.next[src] = hdr[1] + 1;
  std::size_t bad = verify(buf.data() + 8, len - 8, src, hdr[1]);
  CHECK(bad == SIZE_MAX, "flood message %u from %u differs at %zu", hdr[1], src, bad);
  return FM_CONTINUE;
}

// Message j of the flood: small (8..207 bytes), every 97th a three-piece stream of two packets
// and a bit, and every 250th (from the 125th) a large stream of 256 KiB, 1 MiB or 4 MiB sent in
// 64 KiB pieces.
std::size_t flood_len(std::uint32_t j) {
  static constexpr std::size_t kLarge[] = {std::size_t{4} << 20, 256u << 10, std::size_t{1} << 20};
  if (j % 250 == 125) return kLarge[(j / 250) % 3];
  return (j % 97 == 0) ? 2 * P() + 100 : 8 + (j * 37) % 200;
}

int run_flood(unsigned me, unsigned n, bool big) {
  const std::uint32_t M = big ? 3000 : 800;
  t_fl.next.assign(n, 0);
  fm_barrier();
  std::vector<std::uint8_t> buf((std::size_t{4} << 20) + 8);
  for (std::uint32_t j = 0; j < M; ++j) {
    const std::size_t len = flood_len(j);
    std::uint32_t hdr[2] = {me, j};
    std::memcpy(buf.data(), hdr, 8);
    fill(buf.data() + 8, len - 8, me, j);
    for (unsigned d = 0; d < n; ++d) {
      const unsigned dest = (me + d) % n;
      int rc;
      if (len > P()) {  // streamed: header, then the body in pieces
        FM_stream* s = FM_begin_message(dest, len, H_FLOOD);
        CHECK(s != nullptr, "begin");
        if (!s) return t_fails;
        const std::size_t piece = len > (64u << 10) ? (64u << 10) : P();
        rc = FM_send_piece(s, buf.data(), 8);
        for (std::size_t off = 8; rc == 0 && off < len; off += piece)
          rc = FM_send_piece(s, buf.data() + off, std::min(piece, len - off));
        int rc2 = FM_end_message(s);
        if (rc == 0) rc = rc2;
      } else {
        rc = FM_send(dest, H_FLOOD, buf.data(), len);
      }
      CHECK(rc == FM_SUCCESS, "flood send to %u: %s", dest, FM_strerror(rc));
    }
  }
  wait_for(
      [&] {
        for (unsigned s = 0; s < n; ++s)
          if (t_fl.next[s] < M) return false;
        return true;
      },
      "flood");
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// D. Pacing: FM_extract(k) never runs more than k bytes plus one packet

struct Pace {
  std::size_t bytes_this_call = 0;
  std::uint32_t received = 0;
};
// Chunks that divide the packet payload never straddle a packet, so the bytes a handler gets in
// one FM_extract call are exactly those of the packets that call extracted.
std::size_t pace_chunk() {
  return P() % 16 == 0 ? P() / 16 : P();
}
thread_local Pace t_pa;

int h_pace(FM_stream* s, unsigned) {
  const std::size_t len = FM_stream_length(s);
  std::vector<std::uint8_t> buf(std::max<std::size_t>(len, 1));
  std::size_t got = 0;
  while (got < len) {  // in chunks, so that budget suspension can cut in
    long r = FM_receive(buf.data() + got, s, std::min<std::size_t>(len - got, pace_chunk()));
    CHECK(r > 0, "pace receive %ld", r);
    if (r <= 0) break;
    got += (std::size_t)r;
    t_pa.bytes_this_call += (std::size_t)r;
  }
  ++t_pa.received;
  return FM_CONTINUE;
}

int run_pacing(unsigned me, unsigned n, bool) {
  const std::uint32_t M = 200;
  t_pa = Pace{};
  fm_barrier();
  if (me != 0) {
    std::vector<std::uint8_t> buf(4 * P());
    for (std::uint32_t j = 0; j < M; ++j) {
      const std::size_t len = j % 3 == 0 ? 16 : (j % 3 == 1 ? 8 * pace_chunk() : 4 * P());
      CHECK(FM_send(0, H_PACE, buf.data(), len) == FM_SUCCESS, "pace send");
    }
  } else {
    const std::size_t budgets[] = {1, 100, 5000, 2 * P(), 3 * P() + 1};
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    for (std::size_t i = 0; t_pa.received < M * (n - 1) && Clock::now() < deadline; ++i) {
      const std::size_t k = budgets[i % 5];
      t_pa.bytes_this_call = 0;
      long r = FM_extract(k);
      CHECK(r >= 0, "FM_extract(%zu) = %ld", k, r);
      CHECK(r <= (long)(k + P()), "FM_extract(%zu) extracted %ld bytes (packet payload %zu)", k, r,
            P());
      // Handlers count a chunk when FM_receive returns it: one that spans two packets (a lane's
      // packets may carry less than P(), e.g. FM's shm, a quarter of its ring) suspends at the
      // boundary when the budget is spent and returns in a later call, whole: at most one such
      // chunk per sender's suspended handler, its earlier bytes charged to the earlier call.
      CHECK(t_pa.bytes_this_call <= k + P() + (n - 1) * pace_chunk(),
            "FM_extract(%zu) delivered %zu bytes to handlers", k, t_pa.bytes_this_call);
    }
    CHECK(t_pa.received == M * (n - 1), "pacing: %u of %u messages", t_pa.received, M * (n - 1));
  }
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// E. Handlers that send: a ping-pong carried entirely by handlers

struct Ping {
  std::uint32_t last = 0;
  bool done = false;
  bool has_pending = false;
  unsigned pending_dest = 0;
  std::uint32_t pending = 0;
  std::uint32_t eagain = 0;
};
thread_local Ping t_pp;
constexpr std::uint32_t kPingEnd = 2000;

int send_ping(unsigned dest, std::uint32_t count) {
  if (count % 10 == 0) {  // every tenth reply spans three packets
    std::vector<std::uint8_t> big(2 * P() + 10, static_cast<std::uint8_t>(count));
    std::memcpy(big.data(), &count, 4);
    FM_stream* s = FM_begin_message(dest, big.size(), H_PING);
    if (s == nullptr) return FM_last_status();
    int rc = FM_send_piece(s, big.data(), big.size());
    int rc2 = FM_end_message(s);
    return rc != 0 ? rc : rc2;
  }
  return FM_send(dest, H_PING, &count, 4);
}

int h_ping(FM_stream* s, unsigned src) {
  std::uint32_t count = 0;
  CHECK(FM_receive(&count, s, 4) == 4, "ping receive");
  if (count % 10 == 0) {
    std::vector<std::uint8_t> rest(FM_stream_length(s) - 4);
    CHECK(FM_receive(rest.data(), s, rest.size()) == (long)rest.size(), "ping body");
    for (auto b : rest) {
      CHECK(b == static_cast<std::uint8_t>(count), "ping body byte");
      if (b != static_cast<std::uint8_t>(count)) break;
    }
  }
  CHECK(count == t_pp.last + 2 || (t_pp.last == 0 && count <= 2), "ping %u after %u", count,
        t_pp.last);  // each side sees every other count
  t_pp.last = count;
  if (count == 5) {  // the NULL rule: a message beyond the credit window is refused here
    FM_stream* big = FM_begin_message(src, P() * 100000, H_PING);
    CHECK(big == nullptr && FM_last_status() == FM_ELENGTH,
          "oversized begin inside a handler must return NULL/FM_ELENGTH");
    CHECK(FM_extract(SIZE_MAX) == FM_EINHANDLER, "FM_extract inside a handler");
  }
  if (count >= kPingEnd) {
    t_pp.done = true;
    if (count == kPingEnd) {  // tell the other side
      int rc = FM_send(src, H_PING, &(const std::uint32_t&)(count + 1), 4);
      if (rc == FM_EAGAIN) {
        t_pp.has_pending = true;
        t_pp.pending_dest = src;
        t_pp.pending = count + 1;
      }
    }
    return FM_CONTINUE;
  }
  int rc = send_ping(src, count + 1);
  if (rc == FM_EAGAIN) {  // the NULL rule: queue it for outside the handler
    ++t_pp.eagain;
    t_pp.has_pending = true;
    t_pp.pending_dest = src;
    t_pp.pending = count + 1;
  } else {
    CHECK(rc == FM_SUCCESS, "send inside a handler: %s", FM_strerror(rc));
  }
  return FM_CONTINUE;
}

int run_handler_pingpong(unsigned me, unsigned, bool) {
  t_pp = Ping{};
  fm_barrier();
  if (me <= 1) {
    if (me == 0) CHECK(send_ping(1, 1) == FM_SUCCESS, "first ping");
    wait_for(
        [&] {
          if (t_pp.has_pending) {
            t_pp.has_pending = false;
            CHECK(send_ping(t_pp.pending_dest, t_pp.pending) == FM_SUCCESS, "queued ping");
          }
          return t_pp.done;
        },
        "handler ping-pong");
  }
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// E2. The NULL rule under credit exhaustion: inside a handler, sends return FM_EAGAIN, never block

struct NullRule {
  std::uint32_t ok = 0;
  bool eagain = false;
  bool begin_null = false;
  std::uint32_t sunk = 0;
};
thread_local NullRule t_nr;
constexpr std::uint32_t kNullTotal = 5000;

int h_trig(FM_stream*, unsigned) {
  std::uint64_t v = 0;
  while (t_nr.ok < kNullTotal) {
    int rc = FM_send(1, H_SINK, &v, sizeof v);
    if (rc == FM_EAGAIN) {
      t_nr.eagain = true;
      FM_stream* s = FM_begin_message(1, 8, H_SINK);
      t_nr.begin_null = s == nullptr && FM_last_status() == FM_EAGAIN;
      if (s != nullptr) (void)FM_end_message(s);
      break;
    }
    CHECK(rc == FM_SUCCESS, "send in trigger handler: %s", FM_strerror(rc));
    ++t_nr.ok;
  }
  return FM_CONTINUE;
}

int h_sink(FM_stream*, unsigned) {
  ++t_nr.sunk;
  return FM_CONTINUE;
}

int run_null_rule(unsigned me, unsigned, bool) {
  t_nr = NullRule{};
  fm_barrier();
  if (me == 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // not extracting
    wait_for([&] { return t_nr.sunk == kNullTotal; }, "sink messages");
  } else if (me == 0) {
    CHECK(FM_send(0, H_TRIG, nullptr, 0) == FM_SUCCESS, "trigger");
    wait_for([&] { return t_nr.eagain || t_nr.ok == kNullTotal; }, "trigger handler");
    CHECK(t_nr.eagain, "a handler out of credits got no FM_EAGAIN after %u sends", t_nr.ok);
    CHECK(t_nr.begin_null, "FM_begin_message inside a handler without credits: not NULL/EAGAIN");
    CHECK(t_nr.ok <= 4096, "%u sends succeeded without credits being returned", t_nr.ok);
    std::uint64_t v = 0;
    for (std::uint32_t i = t_nr.ok; i < kNullTotal; ++i)  // outside the handler: these block
      CHECK(FM_send(1, H_SINK, &v, sizeof v) == FM_SUCCESS, "blocking send");
  }
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// F. A receiver that does not extract for a while: senders block, nothing is lost

struct Slow {
  std::vector<std::uint32_t> next;
  std::uint32_t received = 0;
};
thread_local Slow t_sl;

int h_slow(FM_stream* s, unsigned src) {
  const std::size_t len = FM_stream_length(s);
  std::vector<std::uint8_t> buf(len);
  CHECK(FM_receive(buf.data(), s, len) == (long)len, "slow receive");
  std::uint32_t j;
  std::memcpy(&j, buf.data(), 4);
  CHECK(j == t_sl.next[src], "slow: %u from %u, expected %u", j, src, t_sl.next[src]);
  t_sl.next[src] = j + 1;
  std::size_t bad = verify(buf.data() + 4, len - 4, src, j);
  CHECK(bad == SIZE_MAX, "slow message %u from %u differs at %zu", j, src, bad);
  ++t_sl.received;
  return FM_CONTINUE;
}

int run_slow_receiver(unsigned me, unsigned n, bool) {
  const std::uint32_t M = 600;
  t_sl = Slow{};
  t_sl.next.assign(n, 0);
  fm_barrier();
  if (me == 0) {
    // FM_TEST_STOP_S=N (multi-process runs): the receiver is stopped (SIGSTOP) for N seconds
    // instead of sleeping 2, a child of it sending the SIGCONT: a starved process, which its
    // senders must wait for (beyond FM_PEER_TIMEOUT_MS), not declare failed.
    const char* stop = std::getenv("FM_TEST_STOP_S");
    if (stop != nullptr && std::atoi(stop) > 0) {
      const pid_t parent = getpid();
      const pid_t child = fork();
      if (child == 0) {
        sleep(static_cast<unsigned>(std::atoi(stop)));
        kill(parent, SIGCONT);
        _exit(0);
      }
      CHECK(child > 0, "fork: %s", std::strerror(errno));
      if (child > 0) {
        raise(SIGSTOP);
        waitpid(child, nullptr, 0);
      }
    } else {
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    wait_for([&] { return t_sl.received == M * (n - 1); }, "slow receiver's messages");
  } else {
    std::vector<std::uint8_t> buf(200 * 1024);
    for (std::uint32_t j = 0; j < M; ++j) {
      const std::size_t len = j % 50 == 0 ? buf.size() : P();
      std::memcpy(buf.data(), &j, 4);
      fill(buf.data() + 4, len - 4, me, j);
      int rc = FM_send(0, H_SLOW, buf.data(), len);
      CHECK(rc == FM_SUCCESS, "send to a slow receiver: %s", FM_strerror(rc));
    }
  }
  fm_barrier();
  return t_fails;
}

// F2. Sends that never wait (FM_try_send / FM_try_begin_message): against a receiver that does
// not extract, they fail with FM_EAGAIN once the credit window is used up, instead of blocking;
// extracting and retrying delivers everything, in order.  A message beyond the whole window is
// FM_ELENGTH.  Then one message of FM_try_max bytes: promised once the receiver has caught up,
// and delivered whole.

int run_try_send(unsigned me, unsigned n, bool) {
  const std::uint32_t M = 300;
  t_sl = Slow{};
  t_sl.next.assign(n, 0);
  fm_barrier();
  if (me == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    wait_for([&] { return t_sl.received == (M + 1) * (n - 1); }, "try_send messages");
  } else {
    std::vector<std::uint8_t> buf(64);
    std::uint32_t eagain = 0, first_eagain = 0;
    for (std::uint32_t j = 0; j < M; ++j) {
      std::memcpy(buf.data(), &j, 4);
      fill(buf.data() + 4, buf.size() - 4, me, j);
      int rc;
      while ((rc = FM_try_send(0, H_SLOW, buf.data(), buf.size())) == FM_EAGAIN) {
        if (eagain++ == 0) first_eagain = j;
        CHECK(FM_extract(SIZE_MAX) >= 0, "extract while retrying");
      }
      CHECK(rc == FM_SUCCESS, "try_send %u: %s", j, FM_strerror(rc));
    }
    // node 0 slept through the first sends: the window ran out, and nothing waited
    CHECK(eagain > 0 && first_eagain > 0, "FM_try_send never said FM_EAGAIN (%u)", eagain);
    FM_stream* s = FM_try_begin_message(0, std::size_t{1} << 30, H_SLOW);
    CHECK(s == nullptr && (FM_last_status() == FM_ELENGTH || FM_last_status() == FM_EAGAIN),
          "try_begin beyond the window: %s", FM_strerror(FM_last_status()));

    CHECK(FM_try_max(n) == 0 && FM_last_status() == FM_ENODEST, "FM_try_max(%u) of %u nodes", n, n);
    const std::size_t max = FM_try_max(0);
    CHECK(max >= 4, "FM_try_max(0) = %zu", max);
    if (std::strcmp(FM_transport_name(0), "shm") == 0) {  // a whole ring, not the window
      char ring[32] = "";
      CHECK(FM_config_get("FM_SHM_RING", ring, sizeof ring) == FM_SUCCESS, "FM_SHM_RING");
      CHECK(max < std::strtoull(ring, nullptr, 10), "FM_try_max(0) = %zu over a %s-byte ring", max,
            ring);
    }
    if (max >= 4) {
      std::vector<std::uint8_t> big(max);
      std::memcpy(big.data(), &M, 4);
      fill(big.data() + 4, max - 4, me, M);
      wait_for(
          [&] {
            s = FM_try_begin_message(0, max, H_SLOW);
            CHECK(s != nullptr || FM_last_status() == FM_EAGAIN,
                  "FM_try_begin_message(0, FM_try_max(0) = %zu): %s", max,
                  FM_strerror(FM_last_status()));
            return s != nullptr || FM_last_status() != FM_EAGAIN;
          },
          "a promise of FM_try_max bytes");
      if (s != nullptr) {
        CHECK(FM_send_piece(s, big.data(), max) == FM_SUCCESS, "FM_try_max message's piece");
        CHECK(FM_end_message(s) == FM_SUCCESS, "FM_try_max message's end");
      }
      std::fprintf(stderr, "node %u: FM_try_max(0) = %zu over %s\n", me, max, FM_transport_name(0));
    }
  }
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// G. Self-sends: small, FM_send_4, a stream beyond the self credit window, from a handler

struct Self {
  std::uint32_t small = 0, big = 0, from_handler = 0;
};
thread_local Self t_sf;

int h_self(FM_stream* s, unsigned src) {
  CHECK(src == FM_nodeid(), "self message from %u", src);
  const std::size_t len = FM_stream_length(s);
  std::vector<std::uint8_t> buf(len);
  CHECK(FM_receive(buf.data(), s, len) == (long)len, "self receive");
  if (len == 4) {
    std::uint32_t tag;
    std::memcpy(&tag, buf.data(), 4);
    if (tag == 7) {  // a self-send from inside a handler
      std::uint32_t t2 = 8;
      CHECK(FM_send(src, H_SELF, &t2, 4) == FM_SUCCESS, "self-send in handler");
    } else {
      ++t_sf.from_handler;
    }
    ++t_sf.small;
    return FM_CONTINUE;
  }
  std::size_t bad = verify(buf.data(), len, src, 99);
  CHECK(bad == SIZE_MAX, "self stream differs at %zu", bad);
  ++t_sf.big;
  return FM_CONTINUE;
}

int run_self(unsigned me, unsigned, bool big) {
  t_sf = Self{};
  const std::uint32_t tag = 7;
  CHECK(FM_send(me, H_SELF, &tag, 4) == FM_SUCCESS, "self send");
  // (while a stream to oneself is open, a handler's send to oneself is refused: FM_EBUSY)
  wait_for([&] { return t_sf.small == 2 && t_sf.from_handler == 1; }, "self small messages");
  std::vector<std::uint8_t> body(big ? 8u << 20 : 2u << 20);
  fill(body.data(), body.size(), me, 99);
  FM_stream* s = FM_begin_message(me, body.size(), H_SELF);
  CHECK(s != nullptr, "self begin");
  if (s) {
    for (std::size_t off = 0; off < body.size(); off += 100000)
      CHECK(FM_send_piece(s, body.data() + off, std::min<std::size_t>(100000, body.size() - off)) ==
                FM_SUCCESS,
            "self piece");
    CHECK(FM_end_message(s) == FM_SUCCESS, "self end");
  }
  wait_for([&] { return t_sf.small == 2 && t_sf.big == 1 && t_sf.from_handler == 1; }, "self");
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// H. Bad input: clear errors, never a crash

struct Bad {
  bool ran = false;
  FM_stream* stale = nullptr;
};
thread_local Bad t_bad;

int h_bad(FM_stream* s, unsigned src) {
  std::uint8_t b[64];
  CHECK(FM_receive(b, s, 17) == FM_ELENGTH, "receive past the declared 16 bytes");
  CHECK(std::strstr(FM_last_error(), "16") != nullptr, "message names the length: %s",
        FM_last_error());
  CHECK(FM_receive(nullptr, s, 4) == FM_EINVAL, "NULL buffer");
  CHECK(FM_receive(b, s, 16) == 16, "receive within length");
  CHECK(FM_receive(b, s, 1) == FM_ELENGTH, "receive after everything was received");
  FM_stream* o = FM_begin_message(src, 8, H_SINK);
  CHECK(FM_receive(b, o, 1) == FM_ESTREAM, "FM_receive on an outgoing stream");
  if (o) CHECK(FM_end_message(o) == FM_SUCCESS, "end");
  CHECK(FM_finalize() == FM_EINHANDLER, "FM_finalize inside a handler");
  t_bad.stale = s;
  t_bad.ran = true;
  return FM_CONTINUE;
}

int run_bad_input(unsigned me, unsigned n, bool) {
  t_bad = Bad{};
  t_nr = NullRule{};
  std::uint8_t b[64] = {};
  CHECK(FM_send(n, H_SINK, b, 8) == FM_ENODEST, "destination out of range");
  CHECK(std::strstr(FM_last_error(), "destination") != nullptr, "names the destination: %s",
        FM_last_error());
  CHECK(FM_send(n + 1000, H_SINK, b, 8) == FM_ENODEST, "destination far out of range");
  CHECK(FM_send(0, 999, b, 8) == FM_EHANDLER, "unregistered handler");
  CHECK(std::strstr(FM_last_error(), "999") != nullptr, "names the handler: %s", FM_last_error());
  CHECK(FM_send(0, -5, b, 8) == FM_EHANDLER, "negative handler id");
  CHECK(FM_send(0, H_SINK, nullptr, 8) == FM_EINVAL, "NULL buffer with length");
  CHECK(FM_begin_message(0, 8, 5000) == nullptr && FM_last_status() == FM_EHANDLER,
        "begin: bad id");
  CHECK(FM_register_handler(5000, h_sink) == FM_EHANDLER, "register out of range");
  CHECK(FM_register_handler(H_SINK, h_bad) == FM_EHANDLER, "register over another handler");
  CHECK(FM_register_handler(0, nullptr) == FM_EINVAL, "register NULL");
  CHECK(FM_receive(b, nullptr, 1) == FM_ESTREAM, "FM_receive(NULL stream)");
  CHECK(FM_send_piece(nullptr, b, 1) == FM_ESTREAM, "FM_send_piece(NULL)");
  CHECK(FM_end_message(nullptr) == FM_ESTREAM, "FM_end_message(NULL)");
  const unsigned dest = (me + 1) % n;
  FM_stream* s = FM_begin_message(dest, 10, H_SINK);
  CHECK(s != nullptr, "begin");
  if (s) {
    CHECK(FM_begin_message(dest, 10, H_SINK) == nullptr && FM_last_status() == FM_EBUSY,
          "second open stream to one destination");
    CHECK(FM_send_piece(s, b, 11) == FM_ELENGTH, "piece beyond the declared length");
    CHECK(FM_send_piece(s, b, 6) == FM_SUCCESS, "piece");
    CHECK(FM_send_piece(s, b, 5) == FM_ELENGTH, "second piece beyond the declared length");
    CHECK(FM_receive(b, s, 1) == FM_ESTREAM, "FM_receive on an outgoing stream");
    CHECK(FM_end_message(s) == FM_SUCCESS, "end");
    CHECK(FM_send_piece(s, b, 1) == FM_ESTREAM, "piece after end");
    CHECK(FM_end_message(s) == FM_ESTREAM, "end twice");
  }
  CHECK(FM_send(dest, H_BAD, b, 16) == FM_SUCCESS, "send to the bad-input handler");
  wait_for([&] { return t_bad.ran && t_nr.sunk >= 1; }, "bad-input handler");
  CHECK(FM_receive(b, t_bad.stale, 1) == FM_ESTREAM, "FM_receive outside its handler");
  CHECK(FM_same_host(n) == FM_ENODEST, "FM_same_host out of range");
  CHECK(FM_same_host(me) == 1, "FM_same_host(self)");
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// I. Bytes a handler does not receive are discarded; the next message is intact

struct Part {
  std::uint32_t partial = 0, whole = 0;
};
thread_local Part t_pt;

int h_part(FM_stream* s, unsigned src) {
  std::uint8_t b[10];
  CHECK(FM_receive(b, s, 10) == 10, "partial receive");
  CHECK(verify(b, 10, src, t_pt.partial) == SIZE_MAX, "partial bytes");
  ++t_pt.partial;
  return FM_CONTINUE;  // the rest of the message is discarded
}

int h_whole(FM_stream* s, unsigned src) {
  std::vector<std::uint8_t> b(FM_stream_length(s));
  CHECK(FM_receive(b.data(), s, b.size()) == (long)b.size(), "whole receive");
  CHECK(verify(b.data(), b.size(), src, 1000 + t_pt.whole) == SIZE_MAX, "message after discard");
  ++t_pt.whole;
  return FM_CONTINUE;
}

int run_discard(unsigned me, unsigned n, bool) {
  const std::uint32_t M = 20;
  t_pt = Part{};
  fm_barrier();
  const unsigned dest = (me + 1) % n;
  std::vector<std::uint8_t> big(5 * P() + 3), small(300);
  for (std::uint32_t j = 0; j < M; ++j) {
    fill(big.data(), big.size(), me, j);
    CHECK(FM_send(dest, H_PART, big.data(), big.size()) == FM_SUCCESS, "big");
    fill(small.data(), small.size(), me, 1000 + j);
    CHECK(FM_send(dest, H_WHOLE, small.data(), small.size()) == FM_SUCCESS, "small");
  }
  wait_for([&] { return t_pt.partial == M && t_pt.whole == M; }, "discard");
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// I2. A sent buffer is the caller's again when FM_send returns: zero-copy sends return only once
// the receiver has read the buffer (over shm, as its board says; over tcp, by a credit packet)

struct Reuse {
  std::uint32_t got = 0;
};
thread_local Reuse t_ru;

// Reads the message in two halves, sleeping before each: a sender told too early that its buffer
// had been read would have refilled it with its next message by then.
int h_reuse(FM_stream* s, unsigned src) {
  std::vector<std::uint8_t> b(FM_stream_length(s));
  const std::size_t half = b.size() / 2;
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(FM_receive(b.data(), s, half) == (long)half, "first half");
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(FM_receive(b.data() + half, s, b.size() - half) == (long)(b.size() - half), "second half");
  const std::size_t bad = verify(b.data(), b.size(), src, t_ru.got);
  CHECK(bad == SIZE_MAX, "message %u from node %u differs at byte %zu (buffer reused too early?)",
        t_ru.got, src, bad);
  ++t_ru.got;
  return FM_CONTINUE;
}

int run_reuse(unsigned me, unsigned n, bool big) {
  const std::uint32_t M = 6;
  t_ru = Reuse{};
  fm_barrier();
  const unsigned dest = (me + 1) % n, from = (me + n - 1) % n;
  std::vector<std::uint8_t> buf(big ? std::size_t{1} << 20 : 128u << 10);
  for (std::uint32_t j = 0; j < M; ++j) {
    fill(buf.data(), buf.size(), me, j);  // over the previous message
    CHECK(FM_send(dest, H_REUSE, buf.data(), buf.size()) == FM_SUCCESS, "message %u", j);
  }
  fill(buf.data(), buf.size(), me, M);
  wait_for([&] { return t_ru.got == M; }, "messages from a reused buffer");
  FM_peer_stats st{};
  CHECK(FM_get_peer_stats(from, &st) == FM_SUCCESS, "FM_get_peer_stats");
  if (big && zcopy_from(from))  // the path under test was taken
    CHECK(st.zcopy_bytes_in >= M * buf.size(), "only %llu bytes from node %u were zero-copy",
          (unsigned long long)st.zcopy_bytes_in, from);
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// J. A suspended handler holds back only its own sender

struct Susp {
  bool started = false, finished = false, ack = false;
  std::uint32_t small = 0;
};
thread_local Susp t_su;

int h_susp(FM_stream* s, unsigned src) {
  const std::size_t len = FM_stream_length(s);
  std::vector<std::uint8_t> b(len);
  CHECK(FM_receive(b.data(), s, 100) == 100, "first bytes");
  t_su.started = true;
  long r = FM_receive(b.data() + 100, s, len - 100);  // suspends until node 1 completes
  CHECK(r == (long)(len - 100), "rest: %ld", r);
  CHECK(verify(b.data(), len, src, 5) == SIZE_MAX, "suspended stream content");
  t_su.finished = true;
  return FM_CONTINUE;
}

int h_small(FM_stream*, unsigned) {
  ++t_su.small;
  return FM_CONTINUE;
}

int h_ack(FM_stream*, unsigned) {
  t_su.ack = true;
  return FM_CONTINUE;
}

int run_suspend_other(unsigned me, unsigned n, bool) {
  t_su = Susp{};
  fm_barrier();
  if (me == 1) {
    std::vector<std::uint8_t> body(4 * P());
    fill(body.data(), body.size(), me, 5);
    FM_stream* s = FM_begin_message(0, body.size(), H_SUSP);
    CHECK(s != nullptr, "begin");
    if (!s) return t_fails;
    CHECK(FM_send_piece(s, body.data(), P() + 10) == FM_SUCCESS, "first part");  // packet leaves
    wait_for([&] { return t_su.ack; }, "ack from node 0");  // stream still open
    CHECK(FM_send_piece(s, body.data() + P() + 10, body.size() - P() - 10) == FM_SUCCESS, "rest");
    CHECK(FM_end_message(s) == FM_SUCCESS, "end");
  } else if (me == 0) {
    wait_for([&] { return t_su.started; }, "the stream's handler to start");
    CHECK(!t_su.finished, "handler finished before the rest was sent");
    CHECK(FM_send(0, H_SMALL, nullptr, 0) == FM_SUCCESS, "self message");
    wait_for([&] { return t_su.small >= n - 1; }, "other senders' messages");
    CHECK(!t_su.finished, "handler finished before the rest was sent");
    CHECK(FM_send(1, H_ACK, nullptr, 0) == FM_SUCCESS, "ack");
    wait_for([&] { return t_su.finished; }, "the suspended handler to finish");
  }
  if (me >= 2) CHECK(FM_send(0, H_SMALL, nullptr, 0) == FM_SUCCESS, "small to node 0");
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// K. Blocking wait: FM_extract_wait delivers a late message, times out with 0, and sleeps

thread_local std::uint32_t t_woke = 0;
int h_wake(FM_stream*, unsigned) {
  ++t_woke;
  return FM_CONTINUE;
}

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// The waiter is the last node: until it joins the closing barrier nobody else sends to it.
int run_wait(unsigned me, unsigned n, bool) {
  t_woke = 0;
  fm_barrier();
  const unsigned waiter = n - 1;
  if (me == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    CHECK(FM_send(waiter, H_WAKE, nullptr, 0) == FM_SUCCESS, "late send");
  } else if (me == waiter) {
    // nothing arrives for 300 ms: 0 after the time-out, having slept most of the time
    auto t0 = Clock::now();
    double c0 = cpu_seconds();
    long r = FM_extract_wait(SIZE_MAX, 300);
    double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    double cpu = cpu_seconds() - c0;
    CHECK(r == 0, "FM_extract_wait with nothing pending returned %ld", r);
    CHECK(wall >= 0.29, "returned after %.3f s, before its 300 ms time-out", wall);
    CHECK(cpu < 0.5 * wall, "spun instead of sleeping: %.3f s CPU in %.3f s", cpu, wall);
    // the late message (no payload: 0 bytes extracted) wakes the waiter: one call returns once
    // its handler ran, not at the call's time-out
    t0 = Clock::now();
    r = FM_extract_wait(SIZE_MAX, 20000);
    wall = std::chrono::duration<double>(Clock::now() - t0).count();
    CHECK(r == 0, "FM_extract_wait for a message without payload returned %ld", r);
    CHECK(t_woke == 1, "woken %u times", t_woke);
    CHECK(wall < 19.0, "slept to its 20 s time-out (%.3f s) after the handler ran", wall);
  }
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// K2. Traffic after idle gaps: every node sends one message per round to every other after a
// pause of up to 8 ms, so receivers find rings idle long enough to stop watching them (FM's shm
// clears the ring's bit, with membarrier) and senders find their bits cleared; half the rounds
// wait by spinning, half by FM_extract_wait (the sleep announcement).  Run with FM_SHM_SWEEP=0, a
// packet stranded by a slip of that handshake is never found: the wait times out.

constexpr unsigned kGapRounds = 40;
thread_local std::vector<std::uint32_t> t_gap_next;  // per source: the round expected next
thread_local unsigned t_gap_bad = 0;

int h_gap(FM_stream* s, unsigned src) {
  std::uint32_t round = 0;
  CHECK(FM_receive(&round, s, sizeof round) == sizeof round, "gap message");
  if (src >= t_gap_next.size() || round != t_gap_next[src]++) ++t_gap_bad;
  return FM_CONTINUE;
}

int run_gaps(unsigned me, unsigned n, bool) {
  t_gap_next.assign(n, 0);
  t_gap_bad = 0;
  fm_barrier();
  std::minstd_rand rng(1234 + me);
  for (std::uint32_t round = 0; round < kGapRounds; ++round) {
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 8000));
    for (unsigned d = 0; d < n; ++d)
      if (d != me)
        CHECK(FM_send(d, H_GAP, &round, sizeof round) == FM_SUCCESS, "gap round %u to %u", round,
              d);
    const auto all_in = [&] {
      for (unsigned q = 0; q < n; ++q)
        if (q != me && t_gap_next[q] <= round) return false;
      return true;
    };
    if (round % 2 == 0) {
      wait_for(all_in, "a round after a gap");
    } else {
      const auto deadline = Clock::now() + std::chrono::seconds(120);
      while (!all_in() && Clock::now() < deadline) {
        const long r = FM_extract_wait(SIZE_MAX, 1000);
        CHECK(r >= 0, "FM_extract_wait: %ld", r);
        if (r < 0) break;
      }
      CHECK(all_in(), "round %u: not every node's message arrived", round);
    }
  }
  CHECK(t_gap_bad == 0, "%u messages out of order", t_gap_bad);
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// L. One-sided operations: registered memory, put/get (1 B .. 64 MiB), non-blocking operations
// with many outstanding, fence ordering, quiet, atomics with exact totals, a compare-swap lock,
// and bad input refused without harm to the target.

thread_local std::vector<FM_region> t_regions;  // per node: the region it published
thread_local std::uint32_t t_regions_got = 0;

int h_region(FM_stream* s, unsigned src) {
  FM_region r{};
  CHECK(FM_receive(&r, s, sizeof r) == (long)sizeof r, "region descriptor from %u", src);
  CHECK(r.node == src, "region descriptor from %u names node %u", src, r.node);
  if (src < t_regions.size()) t_regions[src] = r;
  ++t_regions_got;
  return FM_CONTINUE;
}

// Registers buf on this node and learns every node's region (an all-to-all of descriptors).
bool exchange_regions(void* buf, std::size_t len, unsigned access) {
  const unsigned me = FM_nodeid(), n = FM_numnodes();
  t_regions.assign(n, FM_region{});
  t_regions_got = 0;
  FM_region mine{};
  int rc = FM_register_memory(buf, len, access, &mine);
  CHECK(rc == FM_SUCCESS, "FM_register_memory(%zu): %s", len, FM_strerror(rc));
  if (rc != FM_SUCCESS) return false;
  for (unsigned d = 0; d < n; ++d)
    CHECK(FM_send(d, H_REGION, &mine, sizeof mine) == FM_SUCCESS, "region to %u", d);
  const bool ok = wait_for([&] { return t_regions_got == n; }, "region descriptors");
  (void)me;
  return ok;
}

void release_region() {
  const unsigned me = FM_nodeid();
  CHECK(FM_deregister_memory(&t_regions[me]) == FM_SUCCESS, "FM_deregister_memory");
}

int run_rma(unsigned me, unsigned n, bool big) {
  const std::size_t region = big ? (64u << 20) : (1u << 20);
  std::vector<std::uint8_t> mem(region + 64, 0);  // target memory (+64: a guard)
  std::vector<std::uint8_t> src(region), back(region);
  if (!exchange_regions(mem.data(), region, FM_ACCESS_ALL)) return t_fails;
  const unsigned right = (me + 1) % n, left = (me + n - 1) % n;
  const FM_region& R = t_regions[right];

  // 1. put then get back, 1 B .. region, each size at its own spot of right's region
  std::uint32_t round = 0;
  for (std::size_t len = 1; len <= region; len *= 4, ++round) {
    fill(src.data(), len, me, round);
    const std::uint64_t off = (round * 4099u) % (region - len + 1);
    int rc = FM_put(&R, off, src.data(), len);
    CHECK(rc == FM_SUCCESS, "FM_put of %zu B to %u: %s", len, right, FM_strerror(rc));
    std::memset(back.data(), 0, len);
    rc = FM_get(&R, off, back.data(), len);
    CHECK(rc == FM_SUCCESS, "FM_get of %zu B from %u: %s", len, right, FM_strerror(rc));
    const std::size_t bad = verify(back.data(), len, me, round);
    CHECK(bad == SIZE_MAX, "%zu B put/get via %u: byte %zu differs", len, right, bad);
  }
  // the whole region, written by the left neighbour and checked here after a barrier
  fill(src.data(), region, me, 999);
  int rc = FM_put_nb(&R, 0, src.data(), region, nullptr);
  CHECK(rc == FM_SUCCESS, "FM_put_nb of the whole region: %s", FM_strerror(rc));
  CHECK(FM_quiet() == FM_SUCCESS, "FM_quiet after a whole-region put");
  fm_barrier();
  std::size_t bad = verify(mem.data(), region, left, 999);
  CHECK(bad == SIZE_MAX, "region written by %u: byte %zu differs", left, bad);
  for (std::size_t i = region; i < region + 64; ++i)
    CHECK(mem[i] == 0, "guard byte %zu past the region overwritten", i - region);
  fm_barrier();

  // 2. many outstanding non-blocking operations with handles: 2000 8-byte puts, then gets
  constexpr unsigned kOps = 2000;
  std::vector<FM_request*> reqs(kOps, nullptr);
  std::vector<std::uint64_t> vals(kOps), got(kOps, 0);
  for (unsigned i = 0; i < kOps; ++i) {
    vals[i] = (std::uint64_t{me} << 40) ^ (i * 0x9e3779b97f4a7c15ull);
    rc = FM_put_nb(&R, i * 8u, &vals[i], 8, &reqs[i]);
    CHECK(rc == FM_SUCCESS && reqs[i] != nullptr, "FM_put_nb %u: %s", i, FM_strerror(rc));
  }
  for (unsigned i = 0; i < kOps; ++i)
    if (reqs[i] != nullptr) CHECK(FM_wait(reqs[i]) == FM_SUCCESS, "FM_wait(put %u)", i);
  for (unsigned i = 0; i < kOps; ++i) {
    rc = FM_get_nb(&R, i * 8u, &got[i], 8, &reqs[i]);
    CHECK(rc == FM_SUCCESS, "FM_get_nb %u: %s", i, FM_strerror(rc));
  }
  unsigned done = 0;  // FM_test until every one is done
  std::vector<bool> fin(kOps, false);
  for (int spins = 0; done < kOps && spins < 10000000; ++spins)
    for (unsigned i = 0; i < kOps; ++i) {
      if (fin[i] || reqs[i] == nullptr) continue;
      int d = 0;
      rc = FM_test(reqs[i], &d);
      if (d) {
        CHECK(rc == FM_SUCCESS, "get %u: %s", i, FM_strerror(rc));
        fin[i] = true;
        ++done;
      }
    }
  CHECK(done == kOps, "%u of %u gets completed", done, kOps);
  unsigned wrong = 0;
  for (unsigned i = 0; i < kOps; ++i) wrong += got[i] != vals[i];
  CHECK(wrong == 0, "%u of %u values read back wrong", wrong, kOps);
  FM_peer_stats st{};
  CHECK(FM_get_peer_stats(right, &st) == FM_SUCCESS && st.rma_ops_out >= 2 * kOps,
        "statistics count %llu one-sided operations to node %u, issued at least %u",
        (unsigned long long)st.rma_ops_out, right, 2 * kOps);
  fm_barrier();

  // 3. fence: a large put, a fence, then a flag; the target sees the flag only after the data
  const std::size_t big_len = std::min<std::size_t>(region - 64, 4u << 20);
  fill(src.data(), big_len, me, 77);
  std::memset(mem.data(), 0, region);
  fm_barrier();
  const std::uint64_t flag = 1;
  CHECK(FM_put_nb(&R, 64, src.data(), big_len, nullptr) == FM_SUCCESS, "fenced put");
  CHECK(FM_fence(right) == FM_SUCCESS, "FM_fence");
  CHECK(FM_put_nb(&R, 0, &flag, 8, nullptr) == FM_SUCCESS, "flag put");
  auto* my_flag = reinterpret_cast<volatile std::uint64_t*>(mem.data());
  wait_for([&] { return *my_flag == 1; }, "the fenced flag");
  bad = verify(mem.data() + 64, big_len, left, 77);
  CHECK(bad == SIZE_MAX, "flag seen before the data: byte %zu of %zu differs", bad, big_len);
  CHECK(FM_quiet() == FM_SUCCESS, "FM_quiet");
  fm_barrier();

  // 4. strided: every 3rd 8-byte element
  std::vector<std::uint64_t> col(100), col_back(100, 0);
  for (unsigned i = 0; i < 100; ++i) col[i] = me * 1000u + i;
  CHECK(FM_put_strided(&R, 8, 24, col.data(), 8, 8, 100) == FM_SUCCESS, "FM_put_strided");
  CHECK(FM_get_strided(&R, 8, 24, col_back.data(), 8, 8, 100) == FM_SUCCESS, "FM_get_strided");
  CHECK(col == col_back, "strided put/get mismatch");
  fm_barrier();
  release_region();
  fm_barrier();
  return t_fails;
}

int run_atomics(unsigned me, unsigned n, bool big) {
  struct alignas(8) Counters {
    std::uint64_t c64, lock, shared, bits;
    std::uint32_t c32, pad;
  } mem{};
  if (!exchange_regions(&mem, sizeof mem, FM_ACCESS_ALL)) return t_fails;
  const FM_region& Z = t_regions[0];
  const unsigned iters = big ? 1000 : 300;

  // 1. fetch-add from every node on node 0's counters: exact totals, distinct fetched values
  std::vector<std::uint64_t> seen;
  const std::uint64_t one = 1;
  const std::uint32_t one32 = 1;
  for (unsigned i = 0; i < iters; ++i) {
    std::uint64_t old = 0;
    int rc = FM_atomic(&Z, offsetof(Counters, c64), FM_ATOMIC_ADD, FM_UINT64, &one, nullptr, &old);
    CHECK(rc == FM_SUCCESS, "fetch-add: %s", FM_strerror(rc));
    seen.push_back(old);
    rc = FM_atomic_nb(&Z, offsetof(Counters, c32), FM_ATOMIC_ADD, FM_INT32, &one32, nullptr,
                      nullptr, nullptr);
    CHECK(rc == FM_SUCCESS, "add (non-fetching, non-blocking): %s", FM_strerror(rc));
  }
  CHECK(FM_quiet() == FM_SUCCESS, "FM_quiet after atomics");
  for (std::size_t i = 1; i < seen.size(); ++i)
    CHECK(seen[i] > seen[i - 1], "fetch-add returned %llu after %llu", (unsigned long long)seen[i],
          (unsigned long long)seen[i - 1]);
  fm_barrier();
  if (me == 0) {
    CHECK(mem.c64 == std::uint64_t{iters} * n, "64-bit counter %llu, expected %llu",
          (unsigned long long)mem.c64, (unsigned long long)iters * n);
    CHECK(mem.c32 == iters * n, "32-bit counter %u, expected %u", mem.c32, iters * n);
  }
  fm_barrier();

  // 2. a compare-swap lock around a non-atomic read-modify-write (get, +1, put)
  const unsigned crit = big ? 100 : 50;
  for (unsigned i = 0; i < crit; ++i) {
    const std::uint64_t mine = me + 1, zero = 0;
    std::uint64_t old = 1;
    for (unsigned tries = 0; old != 0; ++tries) {
      CHECK(FM_atomic(&Z, offsetof(Counters, lock), FM_ATOMIC_CSWAP, FM_UINT64, &mine, &zero,
                      &old) == FM_SUCCESS,
            "cswap");
      if (tries > 50000000) {
        CHECK(false, "lock never acquired");
        break;
      }
    }
    std::uint64_t v = 0;
    CHECK(FM_get(&Z, offsetof(Counters, shared), &v, 8) == FM_SUCCESS, "get in critical section");
    ++v;
    CHECK(FM_put(&Z, offsetof(Counters, shared), &v, 8) == FM_SUCCESS, "put in critical section");
    std::uint64_t holder = 0;
    CHECK(FM_atomic(&Z, offsetof(Counters, lock), FM_ATOMIC_SWAP, FM_UINT64, &zero, nullptr,
                    &holder) == FM_SUCCESS,
          "unlock");
    CHECK(holder == mine, "lock held by %llu while %u released it", (unsigned long long)holder, me);
  }
  fm_barrier();
  if (me == 0)
    CHECK(mem.shared == std::uint64_t{crit} * n, "locked counter %llu, expected %llu",
          (unsigned long long)mem.shared, (unsigned long long)crit * n);
  fm_barrier();

  // 3. and/or/xor/read semantics: each node owns one bit of node 0's word
  const std::uint64_t bit = std::uint64_t{1} << (me % 64);
  CHECK(FM_atomic(&Z, offsetof(Counters, bits), FM_ATOMIC_OR, FM_UINT64, &bit, nullptr, nullptr) ==
            FM_SUCCESS,
        "or");
  fm_barrier();
  std::uint64_t all = 0;
  CHECK(FM_atomic(&Z, offsetof(Counters, bits), FM_ATOMIC_READ, FM_UINT64, nullptr, nullptr,
                  &all) == FM_SUCCESS,
        "read");
  const std::uint64_t want = n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
  CHECK(all == want, "bits %#llx after every node's OR, expected %#llx", (unsigned long long)all,
        (unsigned long long)want);
  fm_barrier();
  const std::uint64_t notbit = ~bit;
  CHECK(FM_atomic(&Z, offsetof(Counters, bits), FM_ATOMIC_AND, FM_UINT64, &notbit, nullptr,
                  nullptr) == FM_SUCCESS,
        "and");
  CHECK(FM_atomic(&Z, offsetof(Counters, bits), FM_ATOMIC_XOR, FM_UINT64, &bit, nullptr, nullptr) ==
            FM_SUCCESS,
        "xor");
  CHECK(FM_quiet() == FM_SUCCESS, "quiet");
  fm_barrier();
  if (me == 0)
    CHECK(mem.bits == want, "bits %#llx after AND+XOR, expected %#llx",
          (unsigned long long)mem.bits, (unsigned long long)want);
  fm_barrier();
  release_region();
  fm_barrier();
  return t_fails;
}

int run_rma_bad(unsigned me, unsigned n, bool) {
  std::vector<std::uint8_t> mem(4096 + 64, 0xAB);
  std::vector<std::uint8_t> ro(256, 0xCD);
  if (!exchange_regions(mem.data(), 4096, FM_ACCESS_ALL)) return t_fails;
  const unsigned right = (me + 1) % n;
  const FM_region R = t_regions[right];
  std::uint8_t buf[64] = {};
  // out of bounds: refused at the origin, naming the bytes
  int rc = FM_put(&R, 4090, buf, 16);
  CHECK(rc == FM_EACCESS, "out-of-bounds put: %s", FM_strerror(rc));
  CHECK(std::strstr(FM_last_error(), "outside") != nullptr, "message \"%s\"", FM_last_error());
  rc = FM_get(&R, UINT64_MAX - 2, buf, 8);
  CHECK(rc == FM_EACCESS, "get at offset 2^64-3: %s", FM_strerror(rc));
  // misaligned atomic
  const std::uint64_t one = 1;
  rc = FM_atomic(&R, 3, FM_ATOMIC_ADD, FM_UINT64, &one, nullptr, nullptr);
  CHECK(rc == FM_EINVAL, "misaligned atomic: %s", FM_strerror(rc));
  rc = FM_atomic(&R, 0, 99, FM_UINT64, &one, nullptr, nullptr);
  CHECK(rc == FM_EINVAL, "atomic op 99: %s", FM_strerror(rc));
  // modified descriptors (another key, a larger length): refused at the origin
  FM_region forged = R;
  forged.key ^= 0x5a5a0000000000ull;
  rc = FM_put(&forged, 0, buf, 8);
  CHECK(rc == FM_EACCESS, "put with a wrong key: %s", FM_strerror(rc));
  CHECK(std::strstr(FM_last_error(), "modified") != nullptr, "message \"%s\"", FM_last_error());
  forged = R;
  forged.length = 1u << 30;  // claims more than was registered
  rc = FM_put(&forged, 8192, buf, 64);
  CHECK(rc == FM_EACCESS, "put beyond the registered length: %s", FM_strerror(rc));
  rc = FM_get_nb(&forged, 8192, buf, 64, nullptr);
  CHECK(rc == FM_EACCESS, "handle-less get beyond the registered length: %s", FM_strerror(rc));
  // NULL arguments, bad node, bad handle
  CHECK(FM_put(nullptr, 0, buf, 8) == FM_EINVAL, "NULL region");
  CHECK(FM_get(&R, 0, nullptr, 8) == FM_EINVAL, "NULL destination");
  forged = R;
  forged.node = n + 5;
  CHECK(FM_put(&forged, 0, buf, 8) == FM_ENODEST, "node out of range");
  CHECK(FM_wait(reinterpret_cast<FM_request*>(buf)) == FM_EINVAL, "a bogus handle");
  CHECK(FM_register_memory(buf, 8, 0, &forged) == FM_EINVAL, "access 0");
  // read-only region: writes refused
  FM_region rro{};
  CHECK(FM_register_memory(ro.data(), ro.size(), FM_ACCESS_READ, &rro) == FM_SUCCESS, "read-only");
  CHECK(FM_put(&rro, 0, buf, 8) == FM_EACCESS, "put into a read-only region");
  CHECK(FM_get(&rro, 0, buf, 8) == FM_SUCCESS && buf[0] == 0xCD, "get from a read-only region");
  // registration cache: the same range again gives the same key; two deregistrations
  FM_region again{};
  CHECK(FM_register_memory(ro.data(), ro.size(), FM_ACCESS_READ, &again) == FM_SUCCESS &&
            again.key == rro.key,
        "cached registration key %#llx vs %#llx", (unsigned long long)again.key,
        (unsigned long long)rro.key);
  CHECK(FM_deregister_memory(&again) == FM_SUCCESS, "deregister 1");
  CHECK(FM_deregister_memory(&rro) == FM_SUCCESS, "deregister 2");
  CHECK(FM_deregister_memory(&rro) == FM_EINVAL, "deregister 3 refused");
  CHECK(FM_get(&rro, 0, buf, 8) == FM_EACCESS, "get from a deregistered region (self)");
  fm_barrier();
  // the target kept running and its memory is intact: only valid writes landed
  for (std::size_t i = 0; i < mem.size(); ++i)
    if (mem[i] != 0xAB) {
      CHECK(mem[i] == 0xAB, "target byte %zu changed to %#x by refused operations", i, mem[i]);
      break;
    }
  fm_barrier();
  const std::uint64_t v = 0x1122334455667788ull;
  CHECK(FM_put(&R, 8, &v, 8) == FM_SUCCESS, "a valid put after the bad ones");
  fm_barrier();
  std::uint64_t seen = 0;
  std::memcpy(&seen, mem.data() + 8, 8);
  CHECK(seen == v, "valid put landed: %#llx", (unsigned long long)seen);
  release_region();
  fm_barrier();
  // A deregistered region (a genuine but stale descriptor) is refused by the target: blocking, and
  // handle-less (reported by FM_flush).  With FM_RMA=native the provider would have to refuse it,
  // and libfabric 1.17's shm and tcp never complete such an access: not exercised there (FM's
  // shm and loopback refuse it).
  const char* mode = std::getenv("FM_RMA");
  if (mode != nullptr && std::strcmp(mode, "native") == 0 && right != me &&
      std::strcmp(FM_transport_name(right), "loopback") != 0 &&
      std::strcmp(FM_transport_name(right), "shm") != 0) {
    if (me == 0) std::fprintf(stderr, "note: stale-region cases skipped with FM_RMA=native\n");
  } else {
    rc = FM_put(&R, 0, buf, 8);
    CHECK(rc == FM_EACCESS, "put into a deregistered region: %s", FM_strerror(rc));
    rc = FM_put_nb(&R, 0, buf, 8, nullptr);
    if (right == me) {
      CHECK(rc == FM_EACCESS, "handle-less put into one's own deregistered region: %s",
            FM_strerror(rc));
    } else {
      CHECK(rc == FM_SUCCESS, "handle-less put issued: %s", FM_strerror(rc));
      rc = FM_flush(right);
      CHECK(rc == FM_EACCESS, "FM_flush after a refused put: %s", FM_strerror(rc));
      CHECK(FM_flush(right) == FM_SUCCESS, "the error is reported once");
    }
  }
  fm_barrier();
  return t_fails;
}

// M. Progress thread: node 0 computes (no FM calls) while every other node puts a flag into its
// memory, adds to its counter and reads back; all of it completes through node 0's progress
// thread.  Without the thread node 0 would never answer and the others would wait forever.
int run_progress(unsigned me, unsigned n, bool) {
  struct alignas(8) Mem {
    std::uint64_t counter;
    std::uint64_t flags[64];
  } mem{};
  if (!exchange_regions(&mem, sizeof mem, FM_ACCESS_ALL)) return t_fails;
  fm_barrier();
  int was = FM_progress_thread(1);
  CHECK(was == 0, "FM_progress_thread(1) returned %d", was);
  const FM_region& Z = t_regions[0];
  const unsigned others = n - 1 < 64 ? n - 1 : 63;
  if (me == 0) {
    // compute: only local loads, until every flag is set (bounded: a failure, not a hang)
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    unsigned seen = 0;
    while (seen < others && Clock::now() < deadline) {
      seen = 0;
      for (unsigned i = 1; i <= others; ++i)
        seen += __atomic_load_n(&mem.flags[i], __ATOMIC_ACQUIRE) == 1000 + i;
    }
    CHECK(seen == others, "%u of %u flags arrived while node 0 computed", seen, others);
  } else if (me <= others) {
    const std::uint64_t add = 5;
    for (int i = 0; i < 100; ++i)
      CHECK(FM_atomic(&Z, 0, FM_ATOMIC_ADD, FM_UINT64, &add, nullptr, nullptr) == FM_SUCCESS,
            "atomic add on a computing node");
    std::uint64_t v = 0;
    CHECK(FM_get(&Z, 0, &v, 8) == FM_SUCCESS && v >= 500, "get from a computing node: %llu",
          (unsigned long long)v);
    const std::uint64_t flag = 1000 + me;
    CHECK(FM_put(&Z, 8 + 8 * me, &flag, 8) == FM_SUCCESS, "flag put to a computing node");
  }
  fm_barrier();
  if (me == 0)
    CHECK(mem.counter == 500ull * others, "counter %llu, expected %llu",
          (unsigned long long)mem.counter, 500ull * others);
  was = FM_progress_thread(0);
  CHECK(was == 1, "FM_progress_thread(0) returned %d", was);
  fm_barrier();
  release_region();
  fm_barrier();
  return t_fails;
}

// M2. The progress thread's async-only mode (FM_progress_thread(2)), as GA-FM uses it under MPI-FM:
// node 0 computes while the others send it messages for a handler marked FM_handler_async, which
// the thread runs; then each sends a message for an unmarked handler followed by one for the
// marked handler: neither runs until node 0's own FM call (the unmarked one holds back its
// sender's later messages), and then in order, the unmarked one on node 0's own thread.
struct AsyncState {
  std::atomic<unsigned> phase1{0};
  std::atomic<unsigned> seq{0};
  std::atomic<unsigned> sync_seq[64];
  std::atomic<unsigned> async_seq[64];
  std::atomic<int> sync_on_main[64];
  std::atomic<unsigned> long_ok{0}, long_bad{0}, long_started{0}, long_on_main{0};
  std::thread::id main;
};
AsyncState g_async[kMaxTestNodes];
AsyncState& async_state() {
  return g_async[FM_nodeid() % kMaxTestNodes];
}

int h_async(FM_stream* s, unsigned src) {
  std::uint32_t phase = 0;
  CHECK(FM_receive(&phase, s, 4) == 4, "async message");
  AsyncState& a = async_state();
  if (phase == 1)
    ++a.phase1;
  else if (src < 64)
    a.async_seq[src] = ++a.seq;
  return FM_CONTINUE;
}

int h_sync(FM_stream* s, unsigned src) {
  std::uint32_t v = 0;
  CHECK(FM_receive(&v, s, 4) == 4, "sync message");
  AsyncState& a = async_state();
  if (src < 64) {
    a.sync_seq[src] = ++a.seq;
    a.sync_on_main[src] = std::this_thread::get_id() == a.main ? 1 : 0;
  }
  return FM_CONTINUE;
}

// A long marked message: its handler suspends in FM_receive on the progress thread between the
// sender's spaced pieces, while node 0's main thread extracts too.
constexpr std::size_t kAlongPiece = 4096, kAlongPieces = 48;
int h_along(FM_stream* s, unsigned src) {
  AsyncState& a = async_state();
  if (std::this_thread::get_id() == a.main) ++a.long_on_main;
  ++a.long_started;
  std::uint32_t buf[kAlongPiece / 4];
  bool ok = true;
  for (std::size_t k = 0; k < kAlongPieces; ++k) {
    if (FM_receive(buf, s, sizeof buf) != static_cast<long>(sizeof buf)) {
      ok = false;
      break;
    }
    for (std::size_t i = 0; i < kAlongPiece / 4; ++i)
      ok = ok && buf[i] == static_cast<std::uint32_t>(src * 1000003u + k * 1024 + i);
  }
  ++(ok ? a.long_ok : a.long_bad);
  return FM_CONTINUE;
}

int run_progress_async(unsigned me, unsigned n, bool) {
  AsyncState& a = async_state();
  a.phase1 = 0;
  a.seq = 0;
  for (unsigned i = 0; i < 64; ++i) a.sync_seq[i] = a.async_seq[i] = 0, a.sync_on_main[i] = -1;
  a.main = std::this_thread::get_id();
  CHECK(FM_handler_async(H_ASYNC, 1) == FM_SUCCESS, "FM_handler_async");
  CHECK(FM_handler_async(FM_MAX_HANDLERS + 5, 1) == FM_EHANDLER, "FM_handler_async out of range");
  CHECK(FM_progress_thread(3) == FM_EINVAL, "FM_progress_thread(3) refused");
  const unsigned others = n - 1 < 63 ? n - 1 : 63;
  if (me == 0) {
    const int was = FM_progress_thread(2);
    CHECK(was == 0, "FM_progress_thread(2) returned %d", was);
  }
  fm_barrier();
  if (me == 0) {
    // compute (no FM calls) until every marked message ran on the thread; bounded
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (a.phase1.load() < others && Clock::now() < deadline) {
    }
    CHECK(a.phase1.load() == others, "%u of %u async messages handled while node 0 computed",
          a.phase1.load(), others);
  } else if (me <= others) {
    const std::uint32_t one = 1;
    CHECK(FM_send(0, H_ASYNC, &one, 4) == FM_SUCCESS, "async message to node 0");
  }
  fm_barrier();
  if (me == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the thread's chance
    CHECK(a.seq.load() == 0, "%u messages handled before node 0's own FM call", a.seq.load());
  } else if (me <= others) {
    const std::uint32_t two = 2;
    CHECK(FM_send(0, H_SYNC, &two, 4) == FM_SUCCESS, "sync message to node 0");
    CHECK(FM_send(0, H_ASYNC, &two, 4) == FM_SUCCESS, "async message after it");
  }
  fm_barrier();  // node 0's extraction: everything sent before the barrier is handled
  if (me == 0) {
    for (unsigned i = 1; i <= others; ++i) {
      CHECK(a.sync_seq[i] != 0 && a.async_seq[i] > a.sync_seq[i],
            "from node %u: unmarked handler #%u, marked #%u (in order?)", i, a.sync_seq[i].load(),
            a.async_seq[i].load());
      CHECK(a.sync_on_main[i] == 1, "node %u's unmarked message ran on the progress thread", i);
    }
  }
  // A marked handler that the main thread started and left suspended in FM_receive must go on
  // on the progress thread while the main thread computes: FM_receive holds no lock while
  // suspended.  Node 1 sends an unmarked message (which only the main thread may run) and right
  // behind it the first pieces of a long marked one, then pauses; node 0's main thread runs both
  // in one FM_extract, the long one's handler suspends, and node 0 stops calling FM.  (The thread
  // is off while the main thread extracts: node 0 may handle the unmarked message in its barrier,
  // or before the long one arrives, and the thread could then start the long one.)
  CHECK(FM_handler_async(H_ALONG, 1) == FM_SUCCESS, "FM_handler_async(long)");
  a.long_ok = 0;
  a.long_bad = 0;
  a.long_started = 0;
  a.long_on_main = 0;
  if (me == 0) CHECK(FM_progress_thread(0) == 2, "FM_progress_thread(0) before the long message");
  fm_barrier();
  if (me == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // both messages arrive
    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (a.long_started.load() == 0 && Clock::now() < deadline)
      CHECK(FM_extract(SIZE_MAX) >= 0, "FM_extract until the long message starts");
    CHECK(FM_progress_thread(2) == 0, "FM_progress_thread(2) with a handler suspended");
    deadline = Clock::now() + std::chrono::seconds(20);
    while (a.long_ok.load() + a.long_bad.load() == 0 && Clock::now() < deadline) {
    }  // compute: the progress thread resumes the suspended handler
    CHECK(a.long_ok.load() == 1 && a.long_bad.load() == 0,
          "long marked message: %u intact, %u damaged, while node 0 computed", a.long_ok.load(),
          a.long_bad.load());
    CHECK(a.long_on_main.load() == 1, "the long message started on the progress thread");
  } else if (me == 1) {
    const std::uint32_t three = 3;
    CHECK(FM_send(0, H_SYNC, &three, 4) == FM_SUCCESS, "unmarked message ahead of the long one");
    FM_stream* st = FM_begin_message(0, kAlongPiece * kAlongPieces, H_ALONG);
    CHECK(st != nullptr, "FM_begin_message(long)");
    std::vector<std::uint32_t> piece(kAlongPiece / 4);
    for (std::size_t k = 0; st != nullptr && k < kAlongPieces; ++k) {
      for (std::size_t i = 0; i < piece.size(); ++i)
        piece[i] = static_cast<std::uint32_t>(me * 1000003u + k * 1024 + i);
      CHECK(FM_send_piece(st, piece.data(), kAlongPiece) == FM_SUCCESS, "piece %zu", k);
      if (k == 3) {
        (void)FM_extract(SIZE_MAX);  // push the first pieces out, then let node 0 start them
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
    }
    if (st != nullptr) CHECK(FM_end_message(st) == FM_SUCCESS, "FM_end_message(long)");
  }
  fm_barrier();
  if (me == 0) {
    const int was = FM_progress_thread(0);
    CHECK(was == 2, "FM_progress_thread(0) returned %d", was);
  }
  CHECK(FM_handler_async(H_ALONG, 0) == FM_SUCCESS, "FM_handler_async(long) off");
  CHECK(FM_handler_async(H_ASYNC, 0) == FM_SUCCESS, "FM_handler_async off");
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// N. The pending-send queue (FM_pending): every message goes through it, to every node (itself
// included), and every one is acknowledged from inside its handler through it too; each sender's
// messages and acknowledgements arrive complete and in order.

struct PendReq {
  FM_pending req;  // first: FM hands it back
  unsigned dest;
  int handler;
  std::uint32_t seq;
};
struct Pend {
  std::vector<std::unique_ptr<PendReq>> reqs;  // every request, stable addresses
  std::vector<std::uint32_t> next_in, acks;    // per node: next message expected, acks received
  std::uint32_t bad = 0;
};
thread_local Pend t_pe;

int pend_send(FM_pending* p) {
  auto* r = reinterpret_cast<PendReq*>(p);
  return FM_try_send(r->dest, r->handler, &r->seq, sizeof r->seq);  // FM_EAGAIN: retried later
}

PendReq* pend_new(unsigned dest, int handler, std::uint32_t seq) {
  t_pe.reqs.push_back(std::make_unique<PendReq>());
  PendReq* r = t_pe.reqs.back().get();
  r->req.func = pend_send;
  r->req.flags = 0;
  r->dest = dest;
  r->handler = handler;
  r->seq = seq;
  return r;
}

int h_pend(FM_stream* s, unsigned src) {
  std::uint32_t seq = 0;
  CHECK(FM_receive(&seq, s, 4) == 4, "pending message from %u", src);
  if (seq != t_pe.next_in[src]++) ++t_pe.bad;
  // acknowledged through the queue, from inside the handler
  CHECK(FM_pending_add(src, &pend_new(src, H_PEND_ACK, seq)->req) == FM_SUCCESS, "ack to %u", src);
  return FM_CONTINUE;
}

int h_pend_ack(FM_stream* s, unsigned src) {
  std::uint32_t seq = 0;
  CHECK(FM_receive(&seq, s, 4) == 4, "ack from %u", src);
  if (seq != t_pe.acks[src]++) ++t_pe.bad;
  return FM_CONTINUE;
}

int run_pending(unsigned, unsigned n, bool big) {
  const std::uint32_t K = big ? 2000 : 300;
  t_pe = Pend{};
  t_pe.reqs.reserve(2 * std::size_t{K} * n);
  t_pe.next_in.assign(n, 0);
  t_pe.acks.assign(n, 0);
  fm_barrier();
  for (unsigned d = 0; d < n; ++d)
    for (std::uint32_t k = 0; k < K; ++k)
      CHECK(FM_pending_add(d, &pend_new(d, H_PEND, k)->req) == FM_SUCCESS, "queue %u to %u", k, d);
  for (unsigned d = 0; d < n; ++d)  // nothing leaves before an extraction
    CHECK(FM_pending_count(d) == K, "%zu queued to %u, expected %u", FM_pending_count(d), d, K);
  CHECK(FM_pending_add(n, &pend_new(n, H_PEND, 0)->req) == FM_ENODEST, "bad destination");
  wait_for(
      [&] {
        for (unsigned d = 0; d < n; ++d)
          if (t_pe.next_in[d] < K || t_pe.acks[d] < K || FM_pending_count(d) != 0) return false;
        return true;
      },
      "pending messages and their acknowledgements");
  CHECK(t_pe.bad == 0, "%u messages or acknowledgements out of order", t_pe.bad);
  for (unsigned d = 0; d < n; ++d)
    CHECK(t_pe.next_in[d] == K && t_pe.acks[d] == K, "from %u: %u messages, %u acks", d,
          t_pe.next_in[d], t_pe.acks[d]);
  fm_barrier();
  return t_fails;
}

// ---------------------------------------------------------------------------------------------
// O. On-host segments: every node allocates one and publishes it; same-host peers store into
// each other's through FM_region_ptr (loads and stores), the others through FM_put; each node
// then finds every peer's mark in its own.  FM_region_ptr refuses plain registrations and
// modified descriptors; a freed segment stays readable where it was mapped; nothing appears in
// /dev/shm.

thread_local std::vector<FM_region> t_segs;
thread_local std::uint32_t t_segs_got = 0;

int h_seg(FM_stream* s, unsigned src) {
  FM_region r{};
  CHECK(FM_receive(&r, s, sizeof r) == (long)sizeof r, "segment descriptor from %u", src);
  if (src < t_segs.size()) t_segs[src] = r;
  ++t_segs_got;
  return FM_CONTINUE;
}

// Entries of FM's or its layers' in /dev/shm (libfabric's shm provider keeps its own there).
std::size_t dev_shm_entries() {
  std::size_t n = 0;
  if (DIR* d = opendir("/dev/shm")) {
    while (dirent* e = readdir(d)) n += std::strstr(e->d_name, "fm") != nullptr ? 1 : 0;
    closedir(d);
  }
  return n;
}

// FM_share_memory: memory the node already has (a static array standing for a program's global
// data, one page-aligned block per node) becomes a segment in place: its contents stay, same-host
// peers store into it through FM_region_ptr, others with FM_put; a fork() child gets a private
// copy; FM_free_segment leaves it mapped with its contents.  Bad arguments are refused.
constexpr std::size_t kShareBytes = 3 * 4096;
constexpr unsigned kShareNodes = 16;
alignas(4096) std::uint64_t g_share[kShareNodes][kShareBytes / 8];

int run_share_in_place(unsigned me, unsigned n) {
  if (n > kShareNodes) return t_fails;
  std::uint64_t* mine = g_share[me];
  const std::size_t words = kShareBytes / 8;
  // the middle page stays zero (FM does not copy zero pages: they must still read as zero)
  const auto want = [](std::size_t i) -> std::uint64_t {
    return i / 512 == 1 ? 0 : 0xabc0000000000000ull + i;
  };
  for (std::size_t i = 0; i < words; ++i) mine[i] = want(i);
  t_segs.assign(n, FM_region{});
  t_segs_got = 0;
  fm_barrier();
  FM_region r{};
  CHECK(FM_share_memory(reinterpret_cast<char*>(mine) + 8, 64, FM_ACCESS_ALL, &r) == FM_EINVAL,
        "FM_share_memory of an address that is not page-aligned is refused");
  CHECK(FM_share_memory(mine, 0, FM_ACCESS_ALL, &r) == FM_EINVAL, "FM_share_memory of 0 bytes");
  CHECK(FM_share_memory(mine, kShareBytes, FM_ACCESS_ALL, nullptr) == FM_EINVAL,
        "FM_share_memory without a region");
  int rc = FM_share_memory(mine, kShareBytes - 100, FM_ACCESS_ALL, &r);
  CHECK(rc == FM_SUCCESS, "FM_share_memory: %s", FM_last_error());
  if (rc != FM_SUCCESS) return t_fails;
  bool same = true;
  for (std::size_t i = 0; i < words; ++i) same = same && mine[i] == want(i);
  CHECK(same, "the contents survive FM_share_memory");
  CHECK(FM_region_ptr(&r) == mine, "FM_region_ptr of one's own shared range is its address");
  for (unsigned d = 0; d < n; ++d)
    CHECK(FM_send(d, H_SEG, &r, sizeof r) == FM_SUCCESS, "shared range to %u", d);
  wait_for([&] { return t_segs_got == n; }, "shared-range descriptors");
  for (unsigned d = 0; d < n; ++d) {
    const std::uint64_t mark = 0x5a0000000000ull + me;
    auto* p = static_cast<std::uint64_t*>(FM_region_ptr(&t_segs[d]));
    if (FM_same_host(d) == 1) {
      CHECK(p != nullptr, "FM_region_ptr of node %u's shared range: %s", d, FM_last_error());
    }
    if (p != nullptr) {
      __atomic_store_n(&p[me], mark, __ATOMIC_RELEASE);
    } else {
      CHECK(FM_put(&t_segs[d], me * 8, &mark, 8) == FM_SUCCESS, "FM_put to %u", d);
    }
  }
  fm_barrier();
  for (unsigned s = 0; s < n; ++s)
    CHECK(__atomic_load_n(&mine[s], __ATOMIC_ACQUIRE) == 0x5a0000000000ull + s,
          "node %u's mark in my shared range: %#llx", s, (unsigned long long)mine[s]);
  fm_barrier();
  if (me == 0) {  // a child of fork() writes its own copy
    const std::uint64_t before = mine[words - 1];
    const pid_t pid = fork();
    if (pid == 0) {
      mine[words - 1] = 0xc41d;
      _exit(mine[words - 1] == 0xc41d ? 0 : 1);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "fork child of a process with a shared range");
    CHECK(mine[words - 1] == before, "a fork child's store stays in the child (%#llx)",
          (unsigned long long)mine[words - 1]);
  }
  fm_barrier();
  CHECK(FM_free_segment(&r) == FM_SUCCESS, "FM_free_segment of a shared range");
  CHECK(mine[me] == 0x5a0000000000ull + me && mine[words - 1] == want(words - 1),
        "the memory stays, contents intact, after FM_free_segment");
  mine[0] = 1;  // and writable
  fm_barrier();
  return t_fails;
}

int run_segments(unsigned me, unsigned n, bool big) {
  const std::size_t len = big ? (8u << 20) : (64u << 10);
  const std::size_t shm_before = dev_shm_entries();
  t_segs.assign(n, FM_region{});
  t_segs_got = 0;
  fm_barrier();
  void* base = nullptr;
  FM_region mine{};
  int rc = FM_alloc_segment(len, FM_ACCESS_ALL, &base, &mine);
  CHECK(rc == FM_SUCCESS && base != nullptr, "FM_alloc_segment(%zu): %s", len, FM_strerror(rc));
  if (rc != FM_SUCCESS) return t_fails;
  auto* words = static_cast<std::uint64_t*>(base);
  CHECK(words[0] == 0 && words[len / 8 - 1] == 0, "a new segment is zeroed");
  CHECK(FM_region_ptr(&mine) == base, "FM_region_ptr of one's own segment");
  for (unsigned d = 0; d < n; ++d)
    CHECK(FM_send(d, H_SEG, &mine, sizeof mine) == FM_SUCCESS, "segment to %u", d);
  wait_for([&] { return t_segs_got == n; }, "segment descriptors");
  // mark every peer's segment at word [me] (and a word near its end)
  unsigned direct = 0;
  for (unsigned d = 0; d < n; ++d) {
    const std::uint64_t mark = 0x5e6000000000ull + me;
    auto* p = static_cast<std::uint64_t*>(FM_region_ptr(&t_segs[d]));
    if (FM_same_host(d) == 1) {
      CHECK(p != nullptr, "FM_region_ptr of same-host node %u's segment: %s", d, FM_last_error());
    } else {
      CHECK(p == nullptr && FM_last_status() == FM_EUNSUPPORTED,
            "FM_region_ptr of node %u on another host", d);
    }
    if (p != nullptr) {
      __atomic_store_n(&p[me], mark, __ATOMIC_RELEASE);
      p[len / 8 - 1 - me] = mark;
      ++direct;
    } else {
      CHECK(FM_put(&t_segs[d], me * 8, &mark, 8) == FM_SUCCESS, "FM_put to %u", d);
      CHECK(FM_put(&t_segs[d], len - 8 * (1 + me), &mark, 8) == FM_SUCCESS, "FM_put to %u", d);
    }
  }
  fm_barrier();
  for (unsigned s = 0; s < n; ++s) {
    const std::uint64_t want = 0x5e6000000000ull + s;
    CHECK(__atomic_load_n(&words[s], __ATOMIC_ACQUIRE) == want && words[len / 8 - 1 - s] == want,
          "node %u's mark in my segment: %#llx", s, (unsigned long long)words[s]);
  }
  // not a segment; a modified descriptor
  std::uint64_t plain[8] = {0};
  FM_region reg{};
  CHECK(FM_register_memory(plain, sizeof plain, FM_ACCESS_ALL, &reg) == FM_SUCCESS, "register");
  CHECK(FM_region_ptr(&reg) == plain, "one's own registration is directly addressable");
  if (n > 1) {
    FM_region forged = t_segs[(me + 1) % n];
    forged.length *= 2;
    CHECK(FM_region_ptr(&forged) == nullptr && FM_last_status() == FM_EACCESS,
          "a modified descriptor is refused");
  }
  CHECK(FM_deregister_memory(&reg) == FM_SUCCESS, "deregister");
  fm_barrier();
  // freed: a mapping made earlier still reads what was there
  const unsigned right = (me + 1) % n;
  auto* rp = static_cast<std::uint64_t*>(FM_region_ptr(&t_segs[right]));
  fm_barrier();
  CHECK(FM_free_segment(&mine) == FM_SUCCESS, "FM_free_segment");
  CHECK(FM_free_segment(&mine) == FM_EINVAL, "a second FM_free_segment is refused");
  fm_barrier();
  if (rp != nullptr && right != me)
    CHECK(rp[me] == 0x5e6000000000ull + me, "node %u's freed segment through my mapping", right);
  if (rp != nullptr && right != me)
    CHECK(FM_unmap_region(&t_segs[right]) == FM_SUCCESS, "FM_unmap_region");
  CHECK(dev_shm_entries() <= shm_before, "/dev/shm has %zu entries, %zu before", dev_shm_entries(),
        shm_before);
  (void)direct;
  fm_barrier();
  return run_share_in_place(me, n);
}

const std::vector<Scenario> k_scenarios = {
    {"send11", 1, run_send11},
    {"streams", 1, run_streams},
    {"flood", 1, run_flood},
    {"pacing", 2, run_pacing},
    {"handler_pingpong", 2, run_handler_pingpong},
    {"null_rule", 2, run_null_rule},
    {"slow_receiver", 2, run_slow_receiver},
    {"try_send", 2, run_try_send},
    {"self", 1, run_self},
    {"bad_input", 1, run_bad_input},
    {"discard", 1, run_discard},
    {"reuse", 2, run_reuse},
    {"suspend_other", 2, run_suspend_other},
    {"wait", 2, run_wait},
    {"gaps", 2, run_gaps},
    {"rma", 1, run_rma},
    {"atomics", 1, run_atomics},
    {"rma_bad", 1, run_rma_bad},
    {"progress", 2, run_progress},
    {"progress_async", 2, run_progress_async},
    {"pending", 1, run_pending},
    {"segments", 1, run_segments},
};

}  // namespace

const std::vector<Scenario>& scenarios() {
  return k_scenarios;
}

int run_scenario(const Scenario& sc, unsigned me, unsigned n, bool big) {
  t_me = me;
  t_fails = 0;
  return sc.run(me, n, big);
}

const Scenario* find_scenario(const std::string& name) {
  for (auto& s : k_scenarios)
    if (name == s.name) return &s;
  return nullptr;
}

void register_handlers() {
  static const struct {
    int id;
    FM_handler fn;
  } table[] = {
      {H_BAR, h_bar},       {H_REL, h_rel},     {H_S11, h_s11},           {H_S4, h_s4},
      {H_STREAM, h_stream}, {H_FLOOD, h_flood}, {H_PACE, h_pace},         {H_PING, h_ping},
      {H_TRIG, h_trig},     {H_SINK, h_sink},   {H_SLOW, h_slow},         {H_BAD, h_bad},
      {H_PART, h_part},     {H_WHOLE, h_whole}, {H_SUSP, h_susp},         {H_SMALL, h_small},
      {H_ACK, h_ack},       {H_SELF, h_self},   {H_WAKE, h_wake},         {H_REGION, h_region},
      {H_REUSE, h_reuse},   {H_PEND, h_pend},   {H_PEND_ACK, h_pend_ack}, {H_SEG, h_seg},
      {H_ASYNC, h_async},   {H_SYNC, h_sync},   {H_ALONG, h_along},       {H_GAP, h_gap}};
  for (auto& e : table) FM_register_handler(e.id, e.fn);  // same ids everywhere
}

void reset_barriers() {
  for (auto& b : g_bar) {
    b.round = 0;
    b.arrived[0] = b.arrived[1] = 0;
    b.released = 0;
  }
}

int fm_barrier() {
  t_me = FM_nodeid();
  const unsigned n = FM_numnodes();
  BarrierState& b = bar();
  const std::uint32_t r = b.round++;
  if (n == 1) return 0;
  if (FM_nodeid() == 0) {
    wait_for([&] { return b.arrived[r & 1] == n - 1; }, "barrier arrivals");
    b.arrived[r & 1] = 0;
    for (unsigned d = 1; d < n; ++d)
      CHECK(FM_send(d, H_REL, &r, 4) == FM_SUCCESS, "barrier release to %u", d);
  } else {
    CHECK(FM_send(0, H_BAR, &r, 4) == FM_SUCCESS, "barrier arrival");
    wait_for([&] { return b.released == r + 1; }, "barrier release");
  }
  return 0;
}

}  // namespace fmtest
