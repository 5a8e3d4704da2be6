// The host topology FM reports (fm/fm_topology.h) against what the kernel says directly.
#include <fm/fm_status.h>
#include <fm/fm_topology.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

std::set<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  std::set<int> out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.insert(c);
  return out;
}

// /sys/devices/system/node/nodeN/cpulist for the nodes holding an allowed CPU
int nodes_with_allowed_cpus(const std::set<int>& cpus) {
  const std::filesystem::path dir("/sys/devices/system/node");
  if (!std::filesystem::exists(dir)) return 1;
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename();
    if (name.rfind("node", 0) != 0 || name.size() < 5 || !std::isdigit(name[4])) continue;
    std::ifstream f(e.path() / "cpulist");
    std::string list;
    std::getline(f, list);
    bool mine = false;
    std::size_t pos = 0;
    while (pos < list.size() && !mine) {  // "0-3,8-11"
      const std::size_t end = list.find(',', pos);
      const std::string part = list.substr(pos, end == std::string::npos ? end : end - pos);
      const std::size_t dash = part.find('-');
      const int lo = std::stoi(part.substr(0, dash));
      const int hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
      for (int c = lo; c <= hi && !mine; ++c) mine = cpus.count(c) != 0;
      pos = end == std::string::npos ? list.size() : end + 1;
    }
    n += mine ? 1 : 0;
  }
  return n;
}

TEST(Topology, MatchesTheKernel) {
  const std::set<int> cpus = allowed_cpus();
  FM_topology t;
  ASSERT_EQ(FM_topology_get(&t), FM_SUCCESS);
  EXPECT_EQ(t.pus, cpus.size());
  EXPECT_GE(t.cores, 1u);
  EXPECT_LE(t.cores, t.pus);
  EXPECT_GE(t.packages, 1u);
  EXPECT_EQ(static_cast<int>(t.numa_nodes), nodes_with_allowed_cpus(cpus));
  EXPECT_TRUE(cpus.count(t.cpu) != 0) << "running on cpu " << t.cpu;
  EXPECT_GE(t.numa_node, 0);
  EXPECT_EQ(FM_topology_node_of_cpu(t.cpu), t.numa_node);
  for (int c : cpus) EXPECT_GE(FM_topology_node_of_cpu(c), 0) << "cpu " << c;
  EXPECT_EQ(FM_topology_node_of_cpu(-1), -1);
  EXPECT_EQ(FM_topology_node_of_cpu(CPU_SETSIZE + 5), -1);
}

TEST(Topology, CoresAreDistinctAllowedCpus) {
  const std::set<int> cpus = allowed_cpus();
  FM_topology t;
  ASSERT_EQ(FM_topology_get(&t), FM_SUCCESS);
  const int n = FM_topology_core_cpus(nullptr, 0);
  ASSERT_EQ(n, static_cast<int>(t.cores));
  std::vector<int> first(static_cast<std::size_t>(n) + 2, -7);
  EXPECT_EQ(FM_topology_core_cpus(first.data(), static_cast<unsigned>(n)), n);
  std::set<int> seen;
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(cpus.count(first[static_cast<std::size_t>(i)]) != 0) << first[i];
    seen.insert(first[static_cast<std::size_t>(i)]);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(first[static_cast<std::size_t>(n)], -7);  // nothing written past max
  EXPECT_EQ(FM_topology_core_cpus(nullptr, 3), -1);
}

TEST(Topology, DescribeAndBadArguments) {
  EXPECT_EQ(FM_topology_get(nullptr), FM_EINVAL);
  const int need = FM_topology_describe(nullptr, 0);
  ASSERT_GT(need, 0);
  std::string text(static_cast<std::size_t>(need) + 1, 'x');
  EXPECT_EQ(FM_topology_describe(text.data(), text.size()), need);
  EXPECT_EQ(std::strlen(text.c_str()), static_cast<std::size_t>(need));
  EXPECT_NE(text.find("NUMA node"), std::string::npos) << text;
  EXPECT_NE(text.find(" PU"), std::string::npos) << text;
  char small[8];
  std::memset(small, 'x', sizeof small);
  EXPECT_EQ(FM_topology_describe(small, sizeof small), need);
  EXPECT_EQ(small[7], '\0');  // truncated, terminated
  EXPECT_EQ(std::strncmp(small, text.c_str(), 7), 0);
}

// Two busy threads confined to one CPU: one of them always waits for it.  FM_load_sample must
// call that contention (at least FM_LOAD_CONTENDED), from the kernel's CPU
// pressure where it has it, else from the load average (runnable tasks above the 1 CPU given).
TEST(Topology, LoadSampleSeesTasksWaitingForACpu) {
  EXPECT_EQ(FM_load_sample(nullptr, 1), 0);
  FM_load_probe p{};
  EXPECT_EQ(FM_load_sample(&p, 1), 0) << "the first sample has nothing to compare with";
  ASSERT_TRUE(p.source == 1 || p.source == 2) << p.source;
  const int cpu = *allowed_cpus().begin();
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int i = 0; i < 2; ++i)
    busy.emplace_back([&] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  int most = 0;
  for (int i = 0; i < 4; ++i) {  // the load average needs two samples in a row
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    const int v = FM_load_sample(&p, 1);
    EXPECT_GE(v, 0);
    EXPECT_LE(v, 1000);
    most = std::max(most, v);
  }
  stop = true;
  for (auto& t : busy) t.join();
  EXPECT_GE(most, FM_LOAD_CONTENDED)
      << "two busy threads on one CPU not seen as contention (source "
      << (p.source == 1 ? "/proc/pressure/cpu" : "/proc/loadavg") << ")";
}

}  // namespace
