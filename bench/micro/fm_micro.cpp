// fm_micro - per-call costs with Google Benchmark (not asserted; see BENCHMARKS.md).
//
//   fm_micro [--benchmark_format=json --benchmark_out=FILE ...]
//       the building blocks alone: one ring enqueue/dequeue (shm transport), one fiber switch
//   mpiexec.hydra -n 2 -genv FM_PROVIDER shm fm_micro [...]
//       and FM's calls between two processes, measured on rank 0 while rank 1 extracts:
//       FM_send_4 (an inject), an empty FM_extract, begin/send_piece/end of 8 bytes, and an 8-byte
//       round trip (FM_send_4 answered from inside the handler)
//
// The building blocks use FM's internals (bench/micro may look inside, like the tests); the FM
// benchmarks use the public API only.
#include <benchmark/benchmark.h>
#include <fm/fm.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/fiber.hpp"
#include "transport/shm_ring.hpp"

namespace {

using fm::transport::shm::kCell;
using fm::transport::shm::RingReader;
using fm::transport::shm::RingWriter;

// --- building blocks ---------------------------------------------------------------------------

void BM_RingEnqueueDequeue(benchmark::State& st) {
  constexpr std::uint32_t kCells = 1024;
  const auto len = static_cast<std::size_t>(st.range(0));
  std::vector<std::uint64_t> mem(kCells * kCell / 8);
  alignas(64) std::atomic<std::uint64_t> head{0};
  auto* cells = reinterpret_cast<std::byte*>(mem.data());
  RingWriter w(cells, kCells, &head);
  RingReader r(cells, kCells, &head);
  std::vector<std::byte> in(len, std::byte{1}), out(len);
  for (auto _ : st) {
    if (!w.push(in.data(), len)) st.SkipWithError("ring full");
    const long got = r.peek();
    if (got < 0) {
      st.SkipWithError("nothing in the ring");
      break;
    }
    r.copy(out.data(), static_cast<std::size_t>(got));
    r.pop(static_cast<std::size_t>(got));
    r.publish();
    benchmark::DoNotOptimize(out.data());
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * len));
}
BENCHMARK(BM_RingEnqueueDequeue)->Arg(8)->Arg(56)->Arg(1024)->Arg(16376);

struct FiberLoop {
  fm::core::Fiber* f;
  bool stop = false;
};
void fiber_body(void* arg) {
  auto* l = static_cast<FiberLoop*>(arg);
  while (!l->stop) l->f->yield();
}

// One resume and the fiber's yield back: two switches.
void BM_FiberSwitch(benchmark::State& st) {
  fm::core::Fiber f(64 * 1024);
  FiberLoop loop{&f};
  f.start(fiber_body, &loop);
  for (auto _ : st) f.resume();
  loop.stop = true;
  f.resume();
  st.counters["switch_ns"] =
      benchmark::Counter(static_cast<double>(st.iterations()) * 2,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FiberSwitch);

// --- FM between two processes ------------------------------------------------------------------

enum { H_SINK = 1, H_PING = 2, H_PONG = 3, H_STOP = 4 };
volatile int g_pongs = 0;
volatile bool g_stop = false;

int h_sink(FM_stream*, unsigned) {
  return FM_CONTINUE;
}
int h_ping(FM_stream*, unsigned from) {
  FM_send_4(from, H_PONG, 0, 0, 0, 0);
  return FM_CONTINUE;
}
int h_pong(FM_stream*, unsigned) {
  g_pongs = g_pongs + 1;
  return FM_CONTINUE;
}
int h_stop(FM_stream*, unsigned) {
  g_stop = true;
  return FM_CONTINUE;
}

void BM_FM_send_4(benchmark::State& st) {
  for (auto _ : st)
    if (FM_send_4(1, H_SINK, 1, 2, 3, 4) != FM_SUCCESS) st.SkipWithError("FM_send_4 failed");
}

void BM_FM_extract_empty(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(FM_extract(SIZE_MAX));
}

void BM_FM_stream_8B(benchmark::State& st) {
  const std::uint64_t v = 42;
  for (auto _ : st) {
    FM_stream* s = FM_begin_message(1, sizeof v, H_SINK);
    if (s == nullptr || FM_send_piece(s, &v, sizeof v) != FM_SUCCESS ||
        FM_end_message(s) != FM_SUCCESS)
      st.SkipWithError("stream failed");
  }
}

void BM_FM_round_trip_8B(benchmark::State& st) {
  for (auto _ : st) {
    const int want = g_pongs + 1;
    FM_send_4(1, H_PING, 0, 0, 0, 0);
    while (g_pongs < want) FM_extract(SIZE_MAX);
  }
  st.counters["one_way"] =
      benchmark::Counter(static_cast<double>(st.iterations()) * 2,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const bool launched = std::getenv("PMI_RANK") != nullptr || std::getenv("PMI_FD") != nullptr;
  if (!launched) {  // the building blocks only
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  }
  int rc = FM_initialize();
  if (rc != FM_SUCCESS) {
    std::fprintf(stderr, "fm_micro: FM_initialize: %s\n", FM_strerror(rc));
    return 1;
  }
  if (FM_numnodes() != 2) {
    std::fprintf(stderr, "fm_micro: run it with 2 ranks (has %u)\n", FM_numnodes());
    FM_finalize();
    return 1;
  }
  FM_register_handler(H_SINK, h_sink);
  FM_register_handler(H_PING, h_ping);
  FM_register_handler(H_PONG, h_pong);
  FM_register_handler(H_STOP, h_stop);
  if (FM_nodeid() == 1) {
    while (!g_stop) FM_extract(SIZE_MAX);
  } else {
    char name[128];
    std::snprintf(name, sizeof name, "%s", FM_transport_name(1));
    benchmark::AddCustomContext("fm_transport", name);
    benchmark::RegisterBenchmark("BM_FM_send_4", BM_FM_send_4);
    benchmark::RegisterBenchmark("BM_FM_extract_empty", BM_FM_extract_empty);
    benchmark::RegisterBenchmark("BM_FM_stream_8B", BM_FM_stream_8B);
    benchmark::RegisterBenchmark("BM_FM_round_trip_8B", BM_FM_round_trip_8B);
    benchmark::RunSpecifiedBenchmarks();
    FM_send_4(1, H_STOP, 0, 0, 0, 0);
  }
  benchmark::Shutdown();
  return FM_finalize() == FM_SUCCESS ? 0 : 1;
}
