// Two-phase waits (core/idle): the status page's layout and seals, the doorbell (a node asleep in
// FM_extract_wait is woken by a peer's send, not by its time-out), FM_wait_until woken by
// FM_notify after a "direct store", the adaptive bound staying in its range, and the page's
// packet counts the daemon reads.
#include <fcntl.h>
#include <fm/fm.h>
#include <fm/fm_cosched.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "core/context.hpp"
#include "core/idle.hpp"

namespace {

using fm::core::Context;

std::atomic<int> g_got{0};
int h_count(FM_stream*, unsigned) {
  g_got.fetch_add(1);
  return FM_CONTINUE;
}

// shm: the nodes joined by FM's shm transport (its lanes are woken by the doorbell alone)
std::vector<std::unique_ptr<Context>> job(unsigned n, const char* idle, std::uint32_t spin_us,
                                          bool shm = false) {
  fm::Config cfg;
  cfg.idle = idle;
  cfg.spin_us = spin_us;
  cfg.spin_min_us = 0;
  int rc = 0;
  auto j = Context::create_loopback_job(n, cfg, &rc, nullptr, nullptr, -1, false, shm);
  EXPECT_EQ(j.size(), n) << FM_last_error();
  return j;
}

void finalize_all(std::vector<std::unique_ptr<Context>>& j) {
  std::vector<std::thread> t;
  for (auto& c : j)
    t.emplace_back([&c] {
      fm::core::ScopedCurrent cur(c.get());
      EXPECT_EQ(c->finalize(), FM_SUCCESS) << FM_last_error();
    });
  for (auto& x : t) x.join();
}

TEST(Idle, PageIsSealedAndDescribesTheNode) {
  auto j = job(2, "block", 0);
  ASSERT_EQ(j.size(), 2u);
  const fm_dcs_page* p = j[1]->idler().page();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->magic, FM_DCS_PAGE_MAGIC);
  EXPECT_EQ(p->rank, 1u);
  EXPECT_EQ(p->size, 2u);
  EXPECT_EQ(p->local_rank, 1u);
  EXPECT_EQ(p->local_size, 2u);
  EXPECT_EQ(p->pid, static_cast<int>(getpid()));
  // the name peers open it by: PID:PAGEFD:BELLFD:NONCE; the page's memfd is sealed at its size
  int pid = 0, pfd = -1, bfd = -1;
  ASSERT_EQ(std::sscanf(j[1]->idler().name().c_str(), "%d:%d:%d:", &pid, &pfd, &bfd), 3);
  const int seals = fcntl(pfd, F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW), F_SEAL_SHRINK | F_SEAL_GROW);
  finalize_all(j);
}

// Node 1 sleeps (bound 0: at once) in FM_extract_wait; node 0 sends after a pause each time.
// Node 1 must get every message, must have slept, and node 0 must have rung its doorbell (seen
// it asleep after a send).  (The loopback lane has no wait object: node 1's sleeps are naps.)
TEST(Idle, DoorbellWakesASleeper) {
  auto j = job(2, "block", 0);
  ASSERT_EQ(j.size(), 2u);
  g_got = 0;
  for (auto& c : j) {
    fm::core::ScopedCurrent cur(c.get());
    ASSERT_GE(FM_register_handler(7, h_count), 0);
  }
  constexpr int kMsgs = 20;
  std::thread rx([&] {
    fm::core::ScopedCurrent cur(j[1].get());
    while (g_got.load() < kMsgs) ASSERT_GE(j[1]->extract_wait(SIZE_MAX, 5000), 0);
  });
  {
    fm::core::ScopedCurrent cur(j[0].get());
    for (int i = 0; i < kMsgs; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      ASSERT_EQ(FM_send_4(1, 7, i, 0, 0, 0), FM_SUCCESS) << FM_last_error();
    }
  }
  rx.join();
  EXPECT_EQ(g_got.load(), kMsgs);
  EXPECT_GT(j[1]->idler().sleeps(), 0u) << "node 1 never slept";
  EXPECT_GT(j[0]->idler().rings(), 0u) << "node 0 never rang node 1's doorbell";
  const fm_dcs_page* p1 = j[1]->idler().page();
  const fm_dcs_page* p0 = j[0]->idler().page();
  // the counts the daemon reads: node 0 sent node 1 at least the messages, node 1 took them
  EXPECT_GE(p0->sent[1], static_cast<std::uint64_t>(kMsgs));
  EXPECT_GE(p1->taken[0], static_cast<std::uint64_t>(kMsgs));
  EXPECT_EQ(p1->state, static_cast<std::uint32_t>(FM_DCS_COMPUTING)) << "a finished wait computes";
  finalize_all(j);
}

// Whether f() holds within 20 s (checked every millisecond).
bool within_20s(const std::function<bool()>& f) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!f() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return f();
}

// Two nodes over FM's shm transport (its lanes are woken by the doorbell alone), h_count as
// handler 7 on both, g_got at 0, node 1's progress thread started (mode 1).
std::vector<std::unique_ptr<Context>> progress_job(const char* idle) {
  auto j = job(2, idle, 0, true);
  if (j.size() != 2) return j;
  g_got = 0;
  for (auto& c : j) {
    fm::core::ScopedCurrent cur(c.get());
    EXPECT_GE(FM_register_handler(7, h_count), 0);
  }
  j[1]->start_progress_thread(1);
  return j;
}

// The progress thread of a node that makes no FM calls parks (sleeps on the doorbell and the
// lanes instead of napping); a peer's message wakes it and its handler runs there; the node's
// own waits kick it when they end; stopping the thread wakes a parked one.  (In an in-process
// job FM_IDLE=auto means poll; under poll nobody rings: see ..NeverParksUnderPoll.)
TEST(Idle, ProgressThreadParksAndWakes) {
  auto j = progress_job("block");
  ASSERT_EQ(j.size(), 2u);
  Context& n1 = *j[1];
  ASSERT_TRUE(within_20s([&] { return n1.progress_parks() > 0; })) << "the thread never parked";
  constexpr int kMsgs = 5;
  for (int i = 1; i <= kMsgs; ++i) {
    const std::uint64_t parks = n1.progress_parks();
    {
      fm::core::ScopedCurrent cur(j[0].get());
      ASSERT_EQ(FM_send_4(1, 7, i, 0, 0, 0), FM_SUCCESS) << FM_last_error();
    }
    // node 1's program calls nothing: only its progress thread can run the handler
    ASSERT_TRUE(within_20s([&] { return g_got.load() == i; })) << "message " << i << " not handled";
    ASSERT_TRUE(within_20s([&] { return n1.progress_parks() > parks; })) << "it did not park again";
  }
  {
    // the program's calls take the lock beside the parked thread; a wait of the program that
    // ends (here by its time-out, asleep on the same doorbell) kicks the thread to arm again
    fm::core::ScopedCurrent cur(j[1].get());
    EXPECT_EQ(FM_extract(SIZE_MAX), 0) << FM_last_error();
    // parked, seen under the lock: it cannot stop being parked while we hold it
    std::unique_lock<std::recursive_mutex> lk;
    ASSERT_TRUE(within_20s([&] {
      lk = n1.api_lock();
      if (n1.idler().parked()) return true;
      lk.unlock();
      return false;
    })) << "the thread never parked";
    const std::uint64_t kicks = n1.idler().kicks();
    EXPECT_EQ(FM_extract_wait(SIZE_MAX, 20), 0) << FM_last_error();
    EXPECT_GT(n1.idler().kicks(), kicks) << "the program's wait did not kick the parked thread";
    lk.unlock();
    const std::uint64_t parks = n1.progress_parks();
    EXPECT_TRUE(within_20s([&] { return n1.progress_parks() > parks; })) << "it did not park again";
  }
  n1.stop_progress_thread();  // returns: a parked thread is woken
  EXPECT_FALSE(n1.threaded());
  EXPECT_EQ(g_got.load(), kMsgs);
  finalize_all(j);
}

// Under FM_IDLE=poll peers ring no doorbell: the progress thread keeps napping, and serves.
TEST(Idle, ProgressThreadNeverParksUnderPoll) {
  auto j = progress_job("poll");
  ASSERT_EQ(j.size(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // 60 times the idle time to park
  {
    fm::core::ScopedCurrent cur(j[0].get());
    ASSERT_EQ(FM_send_4(1, 7, 1, 0, 0, 0), FM_SUCCESS) << FM_last_error();
  }
  EXPECT_TRUE(within_20s([&] { return g_got.load() == 1; }))
      << "the progress thread did not run the handler";
  EXPECT_EQ(j[1]->progress_parks(), 0u);
  j[1]->stop_progress_thread();
  finalize_all(j);
}

// FM_wait_until on a flag another thread sets "directly", then FM_notify: it returns, with the
// flag set; with poll, FM_idle_blocks says no.
TEST(Idle, WaitUntilWokenByNotify) {
  auto j = job(2, "block", 0);
  ASSERT_EQ(j.size(), 2u);
  std::atomic<int> flag{0};
  std::thread w([&] {
    fm::core::ScopedCurrent cur(j[1].get());
    EXPECT_EQ(FM_idle_blocks(), 1);
    const int rc =
        FM_wait_until([](void* a) -> int { return static_cast<std::atomic<int>*>(a)->load() != 0; },
                      &flag, 10000);
    EXPECT_EQ(rc, FM_SUCCESS) << FM_last_error();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    fm::core::ScopedCurrent cur(j[0].get());
    flag.store(1);
    EXPECT_EQ(FM_notify(1), FM_SUCCESS);
    EXPECT_EQ(FM_notify(9), FM_ENODEST);
  }
  w.join();
  {
    fm::core::ScopedCurrent cur(j[1].get());
    EXPECT_EQ(FM_wait_until(nullptr, nullptr, 0), FM_EINVAL);
    int never = 0;
    EXPECT_EQ(FM_wait_until([](void* a) -> int { return *static_cast<int*>(a); }, &never, 30),
              FM_ETIMEDOUT);
  }
  finalize_all(j);
  auto p = job(2, "poll", 50);
  ASSERT_EQ(p.size(), 2u);
  {
    fm::core::ScopedCurrent cur(p[0].get());
    EXPECT_EQ(FM_idle_blocks(), 0);
  }
  finalize_all(p);
}

// The adaptive bound stays within [FM_SPIN_MIN_US, FM_SPIN_US] whatever the sleeps.
TEST(Idle, SpinBoundStaysInRange) {
  fm::Config cfg;
  cfg.idle = "block";
  cfg.spin_us = 40;
  cfg.spin_min_us = 10;
  fm::core::Idle idle;
  ASSERT_EQ(idle.create(cfg, 0, 2), FM_SUCCESS);
  for (int i = 0; i < 200; ++i) {
    idle.arm();
    idle.disarm(i % 3 == 0 ? 1000 : 50'000'000);  // short and very long sleeps
    EXPECT_GE(idle.spin_ns(), 10'000u);
    EXPECT_LE(idle.spin_ns(), 40'000u);
  }
  for (int i = 0; i < 50; ++i) {
    idle.arm();
    idle.disarm(1000);  // answers come just after sleeping: spin longer, up to the top
  }
  EXPECT_EQ(idle.spin_ns(), 40'000u);
}

}  // namespace
