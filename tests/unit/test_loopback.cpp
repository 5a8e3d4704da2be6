// In-process tests: n FM nodes in one process over the loopback transport (and over FM's shm
// transport: segments, rings and cross-memory attach within the process), one thread per node,
// each running the same scenario code the multi-process tests run.
#include <fm/fm.h>
#include <fm/fm_topology.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../common/scenarios.hpp"
#include "core/context.hpp"
#include "transport/transport.hpp"

namespace {

using fm::core::Context;

struct Param {
  std::string scenario;
  unsigned nodes;
  bool shm = false;
};

class Scenario : public ::testing::TestWithParam<Param> {};

TEST_P(Scenario, RunsOnEveryNode) {
  const Param& p = GetParam();
  const fmtest::Scenario* sc = fmtest::find_scenario(p.scenario);
  ASSERT_NE(sc, nullptr);
  fmtest::register_handlers();
  fm::Config cfg;
  cfg.credits = 16;  // small windows: flow control is exercised constantly
  int rc = 0;
  fm::transport::LoopbackFabric* fabric = nullptr;
  fmtest::reset_barriers();
  auto job = Context::create_loopback_job(p.nodes, cfg, &rc, &fabric, nullptr, -1, false, p.shm);
  ASSERT_EQ(job.size(), p.nodes) << FM_last_error();
  std::vector<int> fails(p.nodes, -1);
  std::vector<std::thread> threads;
  for (unsigned r = 0; r < p.nodes; ++r)
    threads.emplace_back([&, r] {
      fm::core::ScopedCurrent cur(job[r].get());
      fails[r] = fmtest::run_scenario(*sc, r, p.nodes, false);
    });
  for (auto& t : threads) t.join();
  for (unsigned r = 0; r < p.nodes; ++r) EXPECT_EQ(fails[r], 0) << "node " << r;
  if (fabric != nullptr) {
    EXPECT_EQ(fm::transport::loopback_overruns(*fabric), 0u) << "a receiver was overrun";
    // What bounds a receiver's buffers: per sender, its credit window of data packets and at most
    // four control packets (one credit request, the credits answering it, two half-window credit
    // returns), within the eight receives reserved for control.  Unanswered requests piling up
    // (a sender asking again at every credit it got) once overran the reserve under ASan.
    for (unsigned r = 0; r < p.nodes; ++r)
      EXPECT_LE(fm::transport::loopback_most_in_use(*fabric, r), (p.nodes - 1) * (cfg.credits + 4))
          << "node " << r;
  }
  // finalize concurrently: BYE exchange needs every node progressing
  threads.clear();
  std::vector<int> frc(p.nodes, -1);
  for (unsigned r = 0; r < p.nodes; ++r)
    threads.emplace_back([&, r] {
      fm::core::ScopedCurrent cur(job[r].get());
      frc[r] = job[r]->finalize();
    });
  for (auto& t : threads) t.join();
  for (unsigned r = 0; r < p.nodes; ++r) EXPECT_EQ(frc[r], 0) << "finalize on node " << r;
}

std::vector<Param> params(bool shm) {
  std::vector<Param> out;
  for (const auto& s : fmtest::scenarios())
    for (unsigned n : {1u, 2u, 4u})
      if (n >= s.min_nodes && (!shm || n > 1)) out.push_back({s.name, n, shm});
  return out;
}

std::string name_of(const ::testing::TestParamInfo<Param>& i) {
  return i.param.scenario + "_" + std::to_string(i.param.nodes) + "nodes";
}

INSTANTIATE_TEST_SUITE_P(Loopback, Scenario, ::testing::ValuesIn(params(false)), name_of);
INSTANTIATE_TEST_SUITE_P(Shm, Scenario, ::testing::ValuesIn(params(true)), name_of);

// Use after finalize and before initialize: clear errors through the C API.
TEST(Api, NotInitialized) {
  char b[8] = {};
  EXPECT_EQ(FM_send(0, 10, b, 8), FM_ENOTINIT);
  EXPECT_NE(std::string(FM_last_error()).find("not initialized"), std::string::npos);
  EXPECT_EQ(FM_extract(SIZE_MAX), FM_ENOTINIT);
  EXPECT_EQ(FM_begin_message(0, 8, 10), nullptr);
  EXPECT_EQ(FM_finalize(), FM_ENOTINIT);
  EXPECT_EQ(FM_numnodes(), 0u);
}

TEST(Api, StrerrorNamesEveryStatus) {
  for (int s = 0; s >= FM_EACCESS; --s) EXPECT_STRNE(FM_strerror(s), "unknown FM status") << s;
  EXPECT_STREQ(FM_strerror(-1000), "unknown FM status");
}

TEST(Api, RegisterAnyIdAndUnregister) {
  auto h = [](FM_stream*, unsigned) { return FM_CONTINUE; };
  int id = FM_register_handler(FM_ANY_ID, h);
  ASSERT_GE(id, 0);
  EXPECT_EQ(FM_unregister_handler(id), FM_SUCCESS);
  EXPECT_EQ(FM_unregister_handler(id), FM_EHANDLER);
}

// A singleton started without a launcher, through the real C API initialization.
TEST(Api, SingletonInitializeFinalizeLoop) {
  fmtest::register_handlers();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(FM_initialize(), FM_SUCCESS) << FM_last_error();
    EXPECT_EQ(FM_initialize(), FM_EALREADY);
    EXPECT_EQ(FM_numnodes(), 1u);
    EXPECT_EQ(FM_nodeid(), 0u);
    EXPECT_STREQ(FM_transport_name(0), "self");
    EXPECT_EQ(fmtest::run_scenario(*fmtest::find_scenario("send11"), 0, 1, false), 0);
    EXPECT_EQ(FM_finalize(), FM_SUCCESS);
    char b[4] = {};
    EXPECT_EQ(FM_send(0, 10, b, 4), FM_ENOTINIT) << "use after FM_finalize";
    // after FM_finalize: how the session ended (nobody failed), out of range still refused
    EXPECT_EQ(FM_peer_failed(0), 0);
    EXPECT_EQ(FM_peer_failed(1), FM_ENODEST);
  }
}

// FM_SLICE_US: FM_initialize gives the calling thread the slice asked for (Linux 6.12's custom
// slice), a thread created afterwards inherits it, FM_finalize gives the old one back, 0 leaves
// it alone.  A kernel without custom slices reads 0: nothing to observe.
TEST(Api, SchedulerSliceSetAndGivenBack) {
  FM_sched_attr before{};
  ASSERT_EQ(FM_sched_get(0, &before), 0) << strerror(errno);
  if (before.runtime_ns == 0) GTEST_SKIP() << "this kernel has no custom slices (before 6.12)";
  ASSERT_TRUE(FM_sched_fair(before.policy));
  auto runtime = [] {
    FM_sched_attr a{};
    EXPECT_EQ(FM_sched_get(0, &a), 0) << strerror(errno);
    return a.runtime_ns;
  };
  fmtest::register_handlers();
  const std::uint64_t want = before.runtime_ns == 250000 ? 300000 : 250000;
  ::setenv("FM_SLICE_US", want == 250000 ? "250" : "300", 1);
  ASSERT_EQ(FM_initialize(), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(runtime(), want);
  std::uint64_t in_thread = 0;
  std::thread([&] { in_thread = runtime(); }).join();
  EXPECT_EQ(in_thread, want) << "a thread the program creates after FM_initialize";
  EXPECT_EQ(FM_finalize(), FM_SUCCESS);
  EXPECT_EQ(runtime(), before.runtime_ns);

  ::setenv("FM_SLICE_US", "0", 1);
  ASSERT_EQ(FM_initialize(), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(runtime(), before.runtime_ns) << "FM_SLICE_US=0 leaves the slice alone";
  EXPECT_EQ(FM_finalize(), FM_SUCCESS);

  ::setenv("FM_SLICE_US", "40", 1);  // below the kernel's floor: counts as 100
  ASSERT_EQ(FM_initialize(), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(runtime(), 100000u);
  EXPECT_EQ(FM_finalize(), FM_SUCCESS);
  EXPECT_EQ(runtime(), before.runtime_ns);

  ::setenv("FM_SLICE_US", "100001", 1);
  EXPECT_EQ(FM_initialize(), FM_EINVAL);
  EXPECT_NE(std::string(FM_last_error()).find("FM_SLICE_US"), std::string::npos) << FM_last_error();
  ::unsetenv("FM_SLICE_US");
}

}  // namespace
