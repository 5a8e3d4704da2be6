// fm_perf.cpp - FM's perftest: ping-pong latency and bandwidth, and streaming bandwidth, between
// two FM nodes.  Launch with Hydra:
//
//   mpiexec.hydra -n 2 -genv FM_PROVIDER shm ./fm_perf -t latency|bw|stream|put|get|atomic ...
//
// Node 0 drives the test and prints; node 1 serves until node 0 says it is done.  latency and bw
// run the same ping-pong (as fi_pingpong does): node 0 sends, node 1's handler replies from inside
// itself, node 0 extracts until the pong arrives; every round trip is timed.  stream: node 0 sends
// windows of W messages, node 1 acknowledges each window.  Messages larger than one packet go as
// one stream (FM_begin_message, one FM_send_piece, FM_end_message) and are received with one
// FM_receive into a buffer allocated before the timed loops.
#include <fm/fm.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "perf_report.h"  // the benchmarks' common output format
#if __has_include("fm_perf_commit.h")
#include "fm_perf_commit.h"  // FM_PERF_COMMIT, written at build time by commit.cmake
#endif
#ifndef FM_PERF_COMMIT
#define FM_PERF_COMMIT "unknown"
#endif

namespace {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC

enum Handler : int {
  kPing = 1,
  kPong = 2,
  kData = 3,
  kAck = 4,
  kSync = 5,
  kSyncReply = 6,
  kDone = 7,
  kRegion = 8
};
enum class Test { kLatency, kBw, kStream, kPut, kGet, kAtomic };

constexpr std::size_t kMaxAllSize = std::size_t{4} << 20;  // -S all ends at 4 MiB
constexpr std::size_t kMaxSize = std::size_t{1} << 30;
constexpr long kSmallIters = 10000;                // iterations up to 4 KiB
constexpr std::size_t kSmall = 4096;               // ... this size
constexpr double kByteBudget = 134217728.0;        // above it: iterations = 2^27 / size ...
constexpr long kMinIters = 20, kMaxIters = 10000;  // ... clamped to this range
// Automatic warm-up also lasts at least this long: it absorbs the launcher forwarding our output
// (on 2 cores it preempts a rank) and the transport's start-up.
constexpr auto kWarmTime = std::chrono::milliseconds(20);

struct Options {
  Test test = Test::kLatency;
  bool all_sizes = true;
  std::size_t size = 0;
  long iters = 0;    // 0: automatic per size
  long warmup = -1;  // -1: automatic
  unsigned window = 64;
  double scale = 1.0;  // multiplies automatic iteration counts
  bool csv = false;
  bool reply_main = false;  // node 1 replies from its main loop, not from inside the handler
};

// Everything the handlers touch.  FM is single-threaded here: handlers run inside FM_extract on
// this thread, so plain variables are enough.
struct State {
  std::byte* sbuf = nullptr;  // what we send
  std::byte* rbuf = nullptr;  // where FM_receive places what arrives
  std::size_t payload = 0;
  // node 0
  unsigned long pongs = 0, acks = 0, sync_replies = 0;
  std::uint32_t peer_deferred = 0;
  // node 1
  unsigned long data_msgs = 0;
  bool reply_pending = false;
  std::size_t reply_len = 0;
  std::uint32_t deferred = 0;  // replies that could not be sent from inside the handler
  bool sync_requested = false;
  bool done = false;
  bool reply_main = false;
  // one-sided tests: the peer's registered receive buffer
  FM_region peer_region{};
  bool have_region = false;
};
State g;

// "node N" in messages; before FM_initialize has succeeded, the launcher's rank.
const char* node_label() {
  static char label[32];
  if (FM_numnodes() > 0) {
    std::snprintf(label, sizeof label, "node %u", FM_nodeid());
  } else {
    const char* rank = std::getenv("PMI_RANK");
    std::snprintf(label, sizeof label, "rank %s", rank != nullptr ? rank : "?");
  }
  return label;
}

[[noreturn]] void die(int rc, const char* what) {
  std::fprintf(stderr, "fm_perf[%s]: %s failed: %s (%s)\n", node_label(), what, FM_strerror(rc),
               FM_last_error());
  FM_abort(1, what);  // the whole job, through the launcher: mpiexec exits 1 with the message
}

long check(long rc, const char* what) {
  if (rc < 0) die(static_cast<int>(rc), what);
  return rc;
}

// Sends n bytes of the send buffer: one FM_send when they fit a packet, else one stream with a
// single piece.  Returns an FM status (FM_EAGAIN / FM_ELENGTH inside a handler: not now).
int send_msg(unsigned dest, int handler, std::size_t n) {
  if (n <= g.payload) return FM_send(dest, handler, g.sbuf, n);
  FM_stream* s = FM_begin_message(dest, n, handler);
  if (s == nullptr) return FM_last_status();
  const int rc = FM_send_piece(s, g.sbuf, n);
  const int rc2 = FM_end_message(s);
  return rc != FM_SUCCESS ? rc : rc2;
}

// Places the whole message in the receive buffer; returns its length.
std::size_t receive_all(FM_stream* s, const char* what) {
  const std::size_t n = FM_stream_length(s);
  const long got = check(FM_receive(g.rbuf, s, n), what);
  if (static_cast<std::size_t>(got) != n) {
    std::fprintf(stderr, "fm_perf[%s]: %s: %ld of %zu bytes arrived\n", node_label(), what, got, n);
    std::exit(1);
  }
  return n;
}

int on_ping(FM_stream* s, unsigned sender) {
  const std::size_t n = receive_all(s, "FM_receive (ping)");
  if (g.reply_main) {  // --reply main: the main loop sends it (zero-copy applies there)
    g.reply_pending = true;
    g.reply_len = n;
    return FM_CONTINUE;
  }
  const int rc = send_msg(sender, kPong, n);  // the reply, from inside the handler
  if (rc == FM_EAGAIN || rc == FM_ELENGTH) {  // cannot be guaranteed here: main loop sends it
    g.reply_pending = true;
    g.reply_len = n;
    ++g.deferred;
  } else {
    check(rc, "pong from the handler");
  }
  return FM_CONTINUE;
}

int on_pong(FM_stream* s, unsigned) {
  receive_all(s, "FM_receive (pong)");
  ++g.pongs;
  return FM_CONTINUE;
}

int on_data(FM_stream* s, unsigned) {
  receive_all(s, "FM_receive (data)");
  ++g.data_msgs;
  return FM_CONTINUE;
}

int on_ack(FM_stream*, unsigned) {
  ++g.acks;
  return FM_CONTINUE;
}

int on_sync(FM_stream*, unsigned) {
  g.sync_requested = true;
  return FM_CONTINUE;
}

int on_sync_reply(FM_stream* s, unsigned) {
  std::uint32_t v[4];
  if (check(FM_receive(v, s, sizeof v), "FM_receive (sync reply)") != sizeof v) {
    std::fprintf(stderr, "fm_perf[node 0]: short sync reply\n");
    std::exit(1);
  }
  g.peer_deferred = v[0];
  ++g.sync_replies;
  return FM_CONTINUE;
}

int on_region(FM_stream* s, unsigned) {
  check(FM_receive(&g.peer_region, s, sizeof g.peer_region), "FM_receive (region)");
  g.have_region = true;
  return FM_CONTINUE;
}

int on_done(FM_stream*, unsigned) {
  g.done = true;
  return FM_CONTINUE;
}

// --- node 1 --------------------------------------------------------------------------------------

void serve(const Options& o) {
  unsigned long next_ack = o.window;
  while (!g.done) {
    check(FM_extract(SIZE_MAX), "FM_extract");
    if (g.reply_pending) {
      g.reply_pending = false;
      check(send_msg(0, kPong, g.reply_len), "pong after the handler");
    }
    for (; g.data_msgs >= next_ack; next_ack += o.window)
      check(FM_send(0, kAck, nullptr, 0), "FM_send (ack)");
    if (g.sync_requested) {  // end of a size: report and reset
      g.sync_requested = false;
      check(FM_send_4(0, kSyncReply, g.deferred, 0, 0, 0), "FM_send_4 (sync reply)");
      g.deferred = 0;
      g.data_msgs = 0;
      next_ack = o.window;
    }
  }
}

// --- node 0 --------------------------------------------------------------------------------------

struct Row {
  std::size_t bytes = 0;
  long iters = 0;
  double p50 = NAN, p99 = NAN, mean = NAN;  // one-way microseconds (ping-pong only)
  double mbps = 0, mmsgs = 0;
  long warm = 0;               // warm-up iterations run
  long replies = 0;            // pongs node 1 sent, warm-up included
  std::uint32_t deferred = 0;  // ... of which after its handler returned
};

void wait_until(const unsigned long& counter, unsigned long want, const char* what) {
  while (counter < want) check(FM_extract(SIZE_MAX), what);
}

double us_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

// Nearest-rank percentile of the first n samples, sorted.
double percentile(const std::vector<double>& sorted, std::size_t n, double p) {
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  return sorted[std::clamp<std::size_t>(rank, 1, n) - 1];
}

// Warm-up: at least `warm` iterations, and with `timed`, at least kWarmTime.
void pingpong(Row* r, long warm, bool timed, std::vector<double>* rtt) {
  const std::size_t n = r->bytes;
  const auto warm_end = Clock::now() + kWarmTime;
  for (r->warm = 0; r->warm < warm || (timed && Clock::now() < warm_end); ++r->warm) {
    const unsigned long want = g.pongs + 1;  // a send may run handlers (it extracts while
    check(send_msg(1, kPing, n), "ping");    // it waits), the pong's among them
    wait_until(g.pongs, want, "FM_extract (pong)");
  }
  const auto t0 = Clock::now();
  auto prev = t0;
  for (long i = 0; i < r->iters; ++i) {
    const unsigned long want = g.pongs + 1;  // a send may run handlers (it extracts while
    check(send_msg(1, kPing, n), "ping");    // it waits), the pong's among them
    wait_until(g.pongs, want, "FM_extract (pong)");
    const auto t = Clock::now();
    (*rtt)[static_cast<std::size_t>(i)] = us_between(prev, t);
    prev = t;
  }
  const double total_us = us_between(t0, prev);
  std::sort(rtt->begin(), rtt->begin() + r->iters);
  const auto n_samples = static_cast<std::size_t>(r->iters);
  r->p50 = percentile(*rtt, n_samples, 50) / 2;
  r->p99 = percentile(*rtt, n_samples, 99) / 2;
  r->mean = total_us / static_cast<double>(r->iters) / 2;
  r->mbps = static_cast<double>(n) / r->mean;  // bytes per microsecond = MB/s
  r->mmsgs = 1.0 / r->mean;                    // messages (either direction) per microsecond
}

// One-sided: latency of blocking operations (each a full round trip: not halved), and bandwidth
// of windows of non-blocking ones closed by FM_flush.  Node 1 only extracts (serves them).
void one_sided(Test t, Row* r, long warm, bool timed, unsigned window, std::vector<double>* lat) {
  const std::size_t n = t == Test::kAtomic ? 8 : r->bytes;
  const FM_region* R = &g.peer_region;
  const std::uint64_t one = 1;
  std::uint64_t old = 0;
  auto op = [&](FM_request** req) {
    switch (t) {
      case Test::kPut:
        return req ? FM_put_nb(R, 0, g.sbuf, n, req) : FM_put(R, 0, g.sbuf, n);
      case Test::kGet:
        return req ? FM_get_nb(R, 0, g.rbuf, n, req) : FM_get(R, 0, g.rbuf, n);
      default:
        return req ? FM_atomic_nb(R, 0, FM_ATOMIC_ADD, FM_UINT64, &one, nullptr, nullptr, req)
                   : FM_atomic(R, 0, FM_ATOMIC_ADD, FM_UINT64, &one, nullptr, &old);
    }
  };
  const auto warm_end = Clock::now() + kWarmTime;
  for (r->warm = 0; r->warm < warm || (timed && Clock::now() < warm_end); ++r->warm)
    check(op(nullptr), "one-sided warm-up");
  auto prev = Clock::now();
  const auto t0 = prev;
  for (long i = 0; i < r->iters; ++i) {
    check(op(nullptr), "blocking one-sided operation");
    const auto now = Clock::now();
    (*lat)[static_cast<std::size_t>(i)] = us_between(prev, now);
    prev = now;
  }
  r->mean = us_between(t0, prev) / static_cast<double>(r->iters);
  std::sort(lat->begin(), lat->begin() + r->iters);
  r->p50 = percentile(*lat, static_cast<std::size_t>(r->iters), 50);
  r->p99 = percentile(*lat, static_cast<std::size_t>(r->iters), 99);
  // bandwidth: windows of non-blocking operations (no handles), each closed by FM_flush
  const auto b0 = Clock::now();
  for (long i = 0; i < r->iters; ++i) {
    int rc;
    if (t == Test::kPut)
      rc = FM_put_nb(R, 0, g.sbuf, n, nullptr);
    else if (t == Test::kGet)
      rc = FM_get_nb(R, 0, g.rbuf, n, nullptr);
    else
      rc = FM_atomic_nb(R, 0, FM_ATOMIC_ADD, FM_UINT64, &one, nullptr, nullptr, nullptr);
    check(rc, "non-blocking one-sided operation");
    if ((i + 1) % window == 0 || i + 1 == r->iters) check(FM_flush(1), "FM_flush");
  }
  const double total = us_between(b0, Clock::now());
  r->mbps = static_cast<double>(n) * static_cast<double>(r->iters) / total;
  r->mmsgs = static_cast<double>(r->iters) / total;
}

void stream(Row* r, long warm, bool timed, unsigned window) {
  const std::size_t n = r->bytes;
  auto windows = [&](long msgs) {
    const unsigned long acks0 = g.acks;  // acks may arrive while a send waits (it extracts)
    for (long i = 0; i < msgs; ++i) {
      check(send_msg(1, kData, n), "stream send");
      if ((i + 1) % window == 0)
        wait_until(g.acks, acks0 + static_cast<unsigned long>(i + 1) / window, "FM_extract (ack)");
    }
  };
  const auto warm_end = Clock::now() + kWarmTime;
  for (r->warm = 0; r->warm < warm || (timed && Clock::now() < warm_end); r->warm += window)
    windows(window);
  const auto t0 = Clock::now();
  windows(r->iters);
  const double total_us = us_between(t0, Clock::now());
  r->mbps = static_cast<double>(n) * static_cast<double>(r->iters) / total_us;
  r->mmsgs = static_cast<double>(r->iters) / total_us;
}

long auto_iters(std::size_t size, double scale) {
  long it = size <= kSmall ? kSmallIters
                           : std::clamp(static_cast<long>(kByteBudget / static_cast<double>(size)),
                                        kMinIters, kMaxIters);
  return std::max(1L, std::lround(static_cast<double>(it) * scale));
}

long auto_warmup(long iters) {
  return std::clamp(iters / 10, 2L, 1000L);
}

long round_up(long v, long m) {
  return (v + m - 1) / m * m;
}

std::vector<std::size_t> sizes_of(const Options& o) {
  if (!o.all_sizes) return {o.size};
  std::vector<std::size_t> v;
  for (std::size_t s = o.test == Test::kLatency ? 1 : 8; s <= kMaxAllSize; s *= 2) v.push_back(s);
  return v;
}

const char* test_name(Test t) {
  switch (t) {
    case Test::kLatency:
      return "latency";
    case Test::kBw:
      return "bw";
    case Test::kStream:
      return "stream";
    case Test::kPut:
      return "put";
    case Test::kGet:
      return "get";
    default:
      return "atomic";
  }
}

void print_header(const Options& o, const std::vector<std::size_t>& sizes) {
  char version[128];
  std::snprintf(version, sizeof version, "FM %d.%d, commit %s", FM_VERSION_MAJOR, FM_VERSION_MINOR,
                FM_PERF_COMMIT);
  perf_preamble("fm_perf", version);
  const char* env = std::getenv("FM_PROVIDER");
  perf_param("provider: %s (FM_PROVIDER=%s), packet payload: %zu B, nodes: %u",
             FM_transport_name(1), env != nullptr ? env : "unset", FM_packet_payload(),
             FM_numnodes());
  if (o.all_sizes)
    perf_param("sizes: all (powers of 2, %zu..%zu B)", sizes.front(), sizes.back());
  else
    perf_param("sizes: %zu B", o.size);
  char iters[160], warm[120];
  if (o.iters > 0)
    std::snprintf(iters, sizeof iters, "%ld", o.iters);
  else
    std::snprintf(iters, sizeof iters, "auto (%ld up to %zu B, else 2^27/size in [%ld, %ld]) x %g",
                  kSmallIters, kSmall, kMinIters, kMaxIters, o.scale);
  if (o.warmup >= 0)
    std::snprintf(warm, sizeof warm, "%ld", o.warmup);
  else
    std::snprintf(warm, sizeof warm, "auto (iterations/10 in [2, 1000], and at least %lld ms)",
                  static_cast<long long>(kWarmTime.count()));
  perf_param("iterations: %s, warm-up: %s", iters, warm);
  perf_param("window: %u (stream only), timer: CLOCK_MONOTONIC, format: %s", o.window,
             o.csv ? "csv" : "text");
  perf_units();
  perf_param(
      "bw = bytes / mean one-way time (ping-pong) or bytes / elapsed (stream); msg_rate = "
      "messages / time");
  char what[320];
  switch (o.test) {
    case Test::kLatency:
    case Test::kBw:
      std::snprintf(what, sizeof what, "ping-pong: node 1 replies %s",
                    o.reply_main ? "from its main loop after the handler (--reply main)"
                                 : "from inside its handler");
      break;
    case Test::kStream:
      std::snprintf(what, sizeof what,
                    "windows of %u messages, one ack per window; iterations are messages, "
                    "rounded up to whole windows",
                    o.window);
      break;
    default:
      std::snprintf(what, sizeof what,
                    "one-sided, node 1 only extracts; latency = time of one blocking operation, "
                    "a full round trip, NOT halved; bw = windows of %u non-blocking operations, "
                    "each closed by FM_flush%s",
                    o.window,
                    o.test == Test::kAtomic ? "; atomic = 64-bit fetch-add, size ignored" : "");
      break;
  }
  perf_test(o.csv, test_name(o.test), what);
}

void print_row(const Options& o, const Row& r) {
  perf_row(o.csv, r.bytes, r.iters, r.p50, r.p99, r.mean, r.mbps, r.mmsgs);
  if (r.deferred > 0)
    std::printf(
        "# note: %zu B: %u of %ld replies (warm-up included) were sent after the "
        "handler returned: an in-handler reply needs the whole message's credits at once\n",
        r.bytes, r.deferred, r.replies);
  std::fflush(stdout);
}

void drive(const Options& o) {
  const auto sizes = sizes_of(o);
  long max_iters = 0;
  for (auto s : sizes)
    max_iters = std::max(max_iters, o.iters > 0 ? o.iters : auto_iters(s, o.scale));
  std::vector<double> rtt(static_cast<std::size_t>(max_iters));  // allocated before timing
  print_header(o, sizes);
  for (auto s : sizes) {
    Row r;
    r.bytes = s;
    r.iters = o.iters > 0 ? o.iters : auto_iters(s, o.scale);
    long warm = o.warmup >= 0 ? o.warmup : auto_warmup(r.iters);
    const bool timed = o.warmup < 0;
    if (o.test == Test::kStream) {
      r.iters = round_up(r.iters, o.window);
      stream(&r, warm, timed, o.window);
    } else if (o.test == Test::kPut || o.test == Test::kGet || o.test == Test::kAtomic) {
      one_sided(o.test, &r, warm, timed, o.window, &rtt);
    } else {
      pingpong(&r, warm, timed, &rtt);
      r.replies = r.warm + r.iters;
    }
    const unsigned long want = g.sync_replies + 1;
    check(FM_send_4(1, kSync, 0, 0, 0, 0), "FM_send_4 (sync)");
    wait_until(g.sync_replies, want, "FM_extract (sync reply)");
    r.deferred = g.peer_deferred;
    print_row(o, r);
  }
  check(FM_send(1, kDone, nullptr, 0), "FM_send (done)");
}

// --- options -------------------------------------------------------------------------------------

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: mpiexec.hydra -n 2 -genv FM_PROVIDER shm|tcp fm_perf [options]\n"
      "  -t latency|bw|stream  test (default latency); latency and bw are the same ping-pong\n"
      "  --reply main|handler  latency/bw: node 1 replies from its main loop, or from inside\n"
      "                        the handler (default)\n"
      "  -t put|get|atomic     one-sided: blocking-operation latency (a round trip, not halved)\n"
      "                        and bandwidth of -W non-blocking operations per FM_flush\n"
      "  -S size|all           message size in bytes (suffix k/m: KiB/MiB), or all: powers of 2\n"
      "                        from 1 B (latency) or 8 B (bw, stream) to 4 MiB (default all)\n"
      "  -I iterations         per size (default: 10000 up to 4 KiB, 2^27/size in [20, 10000])\n"
      "  -w warmup             warm-up iterations per size (default iterations/10 in [2, 1000]\n"
      "                        and at least 20 ms; stream: whole windows)\n"
      "  -W window             stream: messages per acknowledgement (default 64)\n"
      "  --scale F             multiply the default iteration counts by F (e.g. 0.1)\n"
      "  --csv                 comma-separated rows (header lines start with #)\n"
      "  -h, --help            this text\n");
}

bool parse_count(const char* s, long* out) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0) return false;
  *out = v;
  return true;
}

bool parse_size(const char* s, std::size_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || s[0] == '-') return false;
  if (*end == 'k' || *end == 'K')
    v <<= 10, ++end;
  else if (*end == 'm' || *end == 'M')
    v <<= 20, ++end;
  if (*end != '\0' || v == 0 || v > kMaxSize) return false;
  *out = static_cast<std::size_t>(v);
  return true;
}

// Returns 0 to run, 1 after --help, 2 on a bad option (message in *err).
int parse(int argc, char** argv, Options* o, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") return 1;
    if (a == "--csv") {
      o->csv = true;
      continue;
    }
    if (a == "--reply") {
      if (i + 1 >= argc ||
          (std::strcmp(argv[i + 1], "main") && std::strcmp(argv[i + 1], "handler"))) {
        *err = "--reply needs main or handler";
        return 2;
      }
      o->reply_main = std::strcmp(argv[++i], "main") == 0;
      continue;
    }
    if (i + 1 >= argc) {
      *err = "option " + a + " needs a value (or is unknown)";
      return 2;
    }
    const char* v = argv[++i];
    long n = 0;
    bool ok = true;
    if (a == "-t") {
      const std::string t = v;
      if (t == "put")
        o->test = Test::kPut;
      else if (t == "get")
        o->test = Test::kGet;
      else if (t == "atomic")
        o->test = Test::kAtomic;
      else if (t == "latency")
        o->test = Test::kLatency;
      else if (t == "bw")
        o->test = Test::kBw;
      else if (t == "stream")
        o->test = Test::kStream;
      else
        ok = false;
    } else if (a == "-S") {
      o->all_sizes = std::string(v) == "all";
      ok = o->all_sizes || parse_size(v, &o->size);
    } else if (a == "-I") {
      ok = parse_count(v, &n) && n > 0;
      o->iters = n;
    } else if (a == "-w") {
      ok = parse_count(v, &n);
      o->warmup = n;
    } else if (a == "-W") {
      ok = parse_count(v, &n) && n > 0 && n <= 1000000;
      o->window = static_cast<unsigned>(n);
    } else if (a == "--scale") {
      char* end = nullptr;
      o->scale = std::strtod(v, &end);
      ok = end != v && *end == '\0' && o->scale > 0 && o->scale <= 1000;
    } else {
      *err = "unknown option " + a;
      return 2;
    }
    if (!ok) {
      *err = "bad value for " + a + ": \"" + v + "\"";
      return 2;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string err;
  const int prc = parse(argc, argv, &o, &err);
  if (prc != 0) {  // before FM_initialize: only the launcher's rank 0 (or a lone process) speaks
    const char* rank = std::getenv("PMI_RANK");
    if (rank == nullptr || std::strcmp(rank, "0") == 0) {
      if (prc == 2) std::fprintf(stderr, "fm_perf: %s\n", err.c_str());
      usage(prc == 1 ? stdout : stderr);
    }
    return prc == 1 ? 0 : 2;
  }

  const struct {
    int id;
    FM_handler fn;
  } handlers[] = {{kPing, on_ping}, {kPong, on_pong},    {kData, on_data},
                  {kAck, on_ack},   {kSync, on_sync},    {kSyncReply, on_sync_reply},
                  {kDone, on_done}, {kRegion, on_region}};
  for (const auto& h : handlers) check(FM_register_handler(h.id, h.fn), "FM_register_handler");
  check(FM_initialize(), "FM_initialize");
  const unsigned me = FM_nodeid();
  if (FM_numnodes() != 2) {
    if (me == 0)
      std::fprintf(stderr, "fm_perf: needs 2 processes, has %u (mpiexec.hydra -n 2 ...)\n",
                   FM_numnodes());
    check(FM_finalize(), "FM_finalize");
    return 2;
  }
  g.payload = FM_packet_payload();
  g.reply_main = o.reply_main;
  const std::size_t max = o.all_sizes ? kMaxAllSize : o.size;
  g.sbuf = static_cast<std::byte*>(std::aligned_alloc(4096, (max + 4095) / 4096 * 4096));
  g.rbuf = static_cast<std::byte*>(std::aligned_alloc(4096, (max + 4095) / 4096 * 4096));
  if (g.sbuf == nullptr || g.rbuf == nullptr) {
    std::fprintf(stderr, "fm_perf[node %u]: cannot allocate 2 x %zu bytes\n", me, max);
    return 1;
  }
  std::memset(g.sbuf, 'a' + static_cast<int>(me), max);  // touch every page before timing
  std::memset(g.rbuf, 0, max);

  // one-sided tests: each node registers its receive buffer and tells the other
  FM_region mine{};
  check(FM_register_memory(g.rbuf, std::max<std::size_t>(max, 8), FM_ACCESS_ALL, &mine),
        "FM_register_memory");
  check(FM_send(1 - me, kRegion, &mine, sizeof mine), "FM_send (region)");
  while (!g.have_region) check(FM_extract(SIZE_MAX), "FM_extract (region)");

  if (me == 0)
    drive(o);
  else
    serve(o);

  check(FM_deregister_memory(&mine), "FM_deregister_memory");
  check(FM_finalize(), "FM_finalize");
  std::free(g.sbuf);
  std::free(g.rbuf);
  return 0;
}
