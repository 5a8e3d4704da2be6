// The fault-injecting transport decorator, and what FM's core does over a transport that loses,
// duplicates or reorders packets: it never hands a handler a message out of order, twice, or
// after a gap; it declares the sender failed, naming it.  (Recovering is the job of the
// reliability layer for datagram transports; this is the core's last line of defence.)
#include <fm/fm.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../common/scenarios.hpp"
#include "core/context.hpp"
#include "transport/transport.hpp"

namespace {

using fm::core::Context;

// With every rate 0 the decorator is transparent: the flood scenario passes through it.
TEST(Fault, TransparentAtZeroRates) {
  const fmtest::Scenario* sc = fmtest::find_scenario("flood");
  ASSERT_NE(sc, nullptr);
  fmtest::register_handlers();
  fmtest::reset_barriers();
  fm::Config cfg;
  cfg.credits = 16;
  fm::transport::FaultParams fp;  // all zero
  int rc = 0;
  auto job = Context::create_loopback_job(3, cfg, &rc, nullptr, &fp, -1);
  ASSERT_EQ(job.size(), 3u) << FM_last_error();
  EXPECT_NE(std::string(job[0]->transport_name(1)).find("fault(loopback)"), std::string::npos);
  std::vector<int> fails(3, -1), frc(3, -1);
  std::vector<std::thread> threads;
  for (unsigned r = 0; r < 3; ++r)
    threads.emplace_back([&, r] {
      fm::core::ScopedCurrent cur(job[r].get());
      fails[r] = fmtest::run_scenario(*sc, r, 3, false);
      frc[r] = job[r]->finalize();
    });
  for (auto& t : threads) t.join();
  for (unsigned r = 0; r < 3; ++r) {
    EXPECT_EQ(fails[r], 0) << "node " << r;
    EXPECT_EQ(frc[r], FM_SUCCESS) << "node " << r;
  }
}

// Node 0 sends numbered messages through a faulty transport; node 1 must see an in-order,
// gap-free, duplicate-free prefix and then FM_EPEERFAILED naming node 0.
thread_local std::uint32_t t_next = 0, t_bad = 0;
int h_numbered(FM_stream* s, unsigned) {
  std::uint32_t v = ~0u;
  if (FM_receive(&v, s, 4) != 4 || v != t_next) ++t_bad;
  t_next = v + 1;
  return FM_CONTINUE;
}

struct FaultCase {
  const char* name;
  fm::transport::FaultParams p;
};

class FaultDetected : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultDetected, NeverDeliversOutOfOrderAndNamesTheSender) {
  constexpr int kH = 900;
  ASSERT_EQ(FM_register_handler(kH, h_numbered), kH);
  fm::Config cfg;  // default window (64): node 0 sends within it and never waits
  constexpr std::uint32_t kMsgs = 48;
  int rc = 0;
  const fm::transport::FaultParams fp = GetParam().p;
  auto job = Context::create_loopback_job(2, cfg, &rc, nullptr, &fp, 0);
  ASSERT_EQ(job.size(), 2u) << FM_last_error();
  int send_fail = 0;
  long status = 0;
  std::uint32_t got = 0, bad = 0;
  std::string why;
  std::thread sender([&] {
    fm::core::ScopedCurrent cur(job[0].get());
    for (std::uint32_t i = 0; i < kMsgs; ++i)
      if (FM_send(1, kH, &i, 4) != FM_SUCCESS) ++send_fail;
    // keep the held (reordered) packets moving for a while
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < end) (void)job[0]->extract(SIZE_MAX);
  });
  std::thread receiver([&] {
    fm::core::ScopedCurrent cur(job[1].get());
    t_next = 0;
    t_bad = 0;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (status >= 0 && t_next < kMsgs && std::chrono::steady_clock::now() < end)
      status = FM_extract(SIZE_MAX);
    got = t_next;
    bad = t_bad;
    why = FM_last_error();
  });
  sender.join();
  receiver.join();
  EXPECT_EQ(send_fail, 0);
  EXPECT_EQ(bad, 0u) << "a handler saw a message out of order, twice or after a gap";
  EXPECT_LT(got, kMsgs) << "every message arrived: the seed disturbed nothing before the last";
  EXPECT_EQ(status, FM_EPEERFAILED) << why;
  EXPECT_NE(why.find("node 0"), std::string::npos) << why;
  EXPECT_EQ(FM_unregister_handler(kH), FM_SUCCESS);
}

fm::transport::FaultParams make(double drop, double dup, double reorder) {
  fm::transport::FaultParams p;
  p.drop = drop;
  p.dup = dup;
  p.reorder = reorder;
  p.seed = 7;
  return p;
}

INSTANTIATE_TEST_SUITE_P(Fault, FaultDetected,
                         ::testing::Values(FaultCase{"drop", make(0.1, 0, 0)},
                                           FaultCase{"dup", make(0, 0.1, 0)},
                                           FaultCase{"reorder", make(0, 0, 0.1)}),
                         [](const ::testing::TestParamInfo<FaultCase>& i) {
                           return std::string(i.param.name);
                         });

// FM's reliability layer over a faulty transport: the scenarios pass (exactly once, in order,
// byte-exact) while packets are dropped, duplicated and reordered; retransmissions are counted.
struct RelCase {
  const char* name;
  fm::transport::FaultParams p;
  const char* scenario;
  unsigned nodes;
  std::uint32_t credits = 16;  // 256: the reorder window spans 17 selective-acknowledgement words
  bool shm = false;            // over FM's shm transport (its rings, zero-copy by CMA) instead
};

class Reliable : public ::testing::TestWithParam<RelCase> {};

TEST_P(Reliable, ScenarioPassesOverFaults) {
  const RelCase& c = GetParam();
  const fmtest::Scenario* sc = fmtest::find_scenario(c.scenario);
  ASSERT_NE(sc, nullptr);
  fmtest::register_handlers();
  fmtest::reset_barriers();
  fm::Config cfg;
  cfg.credits = c.credits;
  int rc = 0;
  auto job = Context::create_loopback_job(c.nodes, cfg, &rc, nullptr, &c.p, -1, true, c.shm);
  ASSERT_EQ(job.size(), c.nodes) << FM_last_error();
  std::vector<int> fails(c.nodes, -1), frc(c.nodes, -1);
  std::vector<std::uint64_t> resent(c.nodes, 0);
  std::vector<std::thread> threads;
  for (unsigned r = 0; r < c.nodes; ++r)
    threads.emplace_back([&, r] {
      fm::core::ScopedCurrent cur(job[r].get());
      fails[r] = fmtest::run_scenario(*sc, r, c.nodes, false);
      for (unsigned d = 0; d < c.nodes; ++d) {
        FM_peer_stats st{};
        if (FM_get_peer_stats(d, &st) == FM_SUCCESS) resent[r] += st.retransmissions;
      }
      frc[r] = job[r]->finalize();
    });
  for (auto& t : threads) t.join();
  std::uint64_t total = 0;
  for (unsigned r = 0; r < c.nodes; ++r) {
    EXPECT_EQ(fails[r], 0) << "node " << r;
    EXPECT_EQ(frc[r], FM_SUCCESS) << "node " << r;
    total += resent[r];
  }
  std::printf("[ %s ] %s on %u nodes: %llu retransmissions\n", c.name, c.scenario, c.nodes,
              static_cast<unsigned long long>(total));
  if (c.p.drop > 0) {
    EXPECT_GT(total, 0u) << "packets were dropped but none was sent again";
  }
}

fm::transport::FaultParams faults(double drop, double dup, double reorder, std::uint64_t seed) {
  fm::transport::FaultParams p = make(drop, dup, reorder);
  p.seed = seed;
  return p;
}

fm::transport::FaultParams prefixed(fm::transport::FaultParams p, std::size_t prefix) {
  p.prefix = prefix;
  return p;
}

INSTANTIATE_TEST_SUITE_P(
    Fault, Reliable,
    ::testing::Values(RelCase{"drop1", faults(0.01, 0, 0, 1), "flood", 4},
                      RelCase{"drop5", faults(0.05, 0, 0, 2), "flood", 4},
                      RelCase{"drop20", faults(0.20, 0, 0, 3), "send11", 2},
                      RelCase{"drop20_flood", faults(0.20, 0, 0, 7), "flood", 2},
                      // a provider with FI_MSG_PREFIX (verbs UD reserves 40 bytes for the GRH)
                      RelCase{"drop5_prefix40", prefixed(faults(0.05, 0, 0, 8), 40), "flood", 2},
                      RelCase{"drop5_streams", faults(0.05, 0, 0, 4), "streams", 2},
                      RelCase{"dup5_reorder5", faults(0, 0.05, 0.05, 5), "flood", 4},
                      RelCase{"mixed", faults(0.05, 0.02, 0.05, 6), "send11", 4},
                      // wide windows: holes far beyond the first 32 packets after the oldest
                      RelCase{"drop5_wide", faults(0.05, 0, 0, 9), "flood", 2, 256},
                      RelCase{"mixed_wide", faults(0.05, 0.02, 0.05, 10), "streams", 4, 256},
                      // over FM's shm transport: its packets are the reliability header smaller
                      RelCase{"shm_drop5", faults(0.05, 0, 0, 11), "flood", 4, 16, true},
                      RelCase{"shm_mixed", faults(0.05, 0.02, 0.05, 12), "streams", 2, 16, true}),
    [](const ::testing::TestParamInfo<RelCase>& i) { return std::string(i.param.name); });

}  // namespace
