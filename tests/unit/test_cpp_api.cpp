// The C++ API (fm/fm.hpp) over a real singleton: RAII session and streams, spans, statuses.
#include <gtest/gtest.h>
#include <fm/fm.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "util/config.hpp"

namespace {

std::vector<std::byte> g_got;
unsigned g_from = ~0u;

int on_message(FM_stream* s, unsigned sender) {
  fm::Incoming in(s);
  std::uint32_t tag = 0;
  if (in.receive(tag) != sizeof tag) return FM_CONTINUE;
  g_got.resize(FM_stream_length(s) - sizeof tag);
  if (in.receive(std::span<std::byte>(g_got)) != static_cast<long>(g_got.size())) g_got.clear();
  g_from = sender;
  return tag == 42 ? FM_QUIT : FM_CONTINUE;
}

TEST(CppApi, SessionStreamsAndStatuses) {
  const int id = fm::register_handler(on_message);
  ASSERT_GE(id, 0);
  {
    fm::Session session;
    EXPECT_EQ(session.nodes(), 1u);
    std::vector<std::byte> body(100000);
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::byte>(i * 7);
    {
      fm::Outgoing out(session.node(), sizeof(std::uint32_t) + body.size(), id);
      ASSERT_TRUE(out) << to_string(out.status());
      const std::uint32_t tag = 42;
      EXPECT_EQ(out.piece(tag), fm::Status::ok);
      EXPECT_EQ(out.piece(std::span<const std::byte>(body)), fm::Status::ok);
      EXPECT_EQ(out.piece(tag), fm::Status::length) << "beyond the declared length";
    }  // ended by the destructor
    long n = 0;
    while (g_from == ~0u && n >= 0) n = fm::extract();
    ASSERT_GE(n, 0);
    EXPECT_EQ(g_from, 0u);
    EXPECT_EQ(g_got, body);

    fm::Outgoing bad(7, 10, id);
    EXPECT_FALSE(bad);
    EXPECT_EQ(bad.status(), fm::Status::no_dest);
    EXPECT_EQ(fm::send(0, 999, {}), fm::Status::bad_handler);
    EXPECT_EQ(fm::send4(0, id, 1, 2, 3, 4), fm::Status::ok);
    EXPECT_GE(fm::extract(), 0);  // tag 1: the handler reads 16 bytes, keeps 12
    EXPECT_EQ(session.finalize(), fm::Status::ok);
  }
  EXPECT_EQ(FM_unregister_handler(id), FM_SUCCESS);
}

// One-sided operations through the C++ API, on oneself (a singleton): RAII registration, put/get
// with spans, typed atomics, and the descriptor refused once deregistered.
TEST(CppApi, RegistrationPutGetAtomics) {
  fm::Session session;
  std::vector<std::byte> mem(4096);
  FM_region stale{};
  {
    fm::Registration reg{std::span<std::byte>(mem)};
    ASSERT_TRUE(reg);
    const FM_region& r = reg.region();
    std::vector<std::byte> src(100, std::byte{0x5a}), back(100);
    EXPECT_EQ(fm::put(r, 8, std::span<const std::byte>(src)), fm::Status::ok);
    EXPECT_EQ(mem[8], std::byte{0x5a});
    EXPECT_EQ(mem[7], std::byte{0});
    EXPECT_EQ(fm::get(r, 8, std::span<std::byte>(back)), fm::Status::ok);
    EXPECT_EQ(back, src);
    EXPECT_EQ(fm::put(r, 4090, std::span<const std::byte>(src)), fm::Status::access);
    std::uint64_t old = 99;
    EXPECT_EQ(fm::atomic<std::uint64_t>(r, 1024, FM_ATOMIC_ADD, 5, &old), fm::Status::ok);
    EXPECT_EQ(old, 0u);
    EXPECT_EQ(fm::atomic<std::uint64_t>(r, 1024, FM_ATOMIC_CSWAP, 7, &old, 5), fm::Status::ok);
    EXPECT_EQ(old, 5u);
    std::int32_t old32 = 0;
    EXPECT_EQ(fm::atomic<std::int32_t>(r, 2048, FM_ATOMIC_ADD, -3, &old32), fm::Status::ok);
    EXPECT_EQ(fm::atomic<std::int32_t>(r, 2048, FM_ATOMIC_READ, 0, &old32), fm::Status::ok);
    EXPECT_EQ(old32, -3);
    EXPECT_EQ(fm::atomic<std::uint64_t>(r, 1025, FM_ATOMIC_ADD, 1), fm::Status::invalid)
        << "misaligned";
    EXPECT_EQ(fm::quiet(), fm::Status::ok);
    stale = r;
  }  // deregistered here
  char b[8];
  EXPECT_EQ(FM_get(&stale, 0, b, 8), FM_EACCESS);
  EXPECT_EQ(session.finalize(), fm::Status::ok);
}

// A session that cannot start throws, with the one-line reason.
TEST(CppApi, SessionThrowsWhenTheProviderIsMissing) {
  ::setenv("FM_PROVIDER", "verbs", 1);  // no RDMA device on these machines
  bool threw = false;
  try {
    fm::Session s;
  } catch (const fm::Error& e) {
    threw = true;
    EXPECT_EQ(e.status(), fm::Status::no_provider);
    EXPECT_NE(std::string(e.what()).find("verbs"), std::string::npos) << e.what();
  }
  ::unsetenv("FM_PROVIDER");
  if (!threw) GTEST_SKIP() << "verbs is available here";
  EXPECT_EQ(FM_numnodes(), 0u) << "a failed FM_initialize leaves FM uninitialized";
}

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// FM_WAIT: both ways of sleeping in FM_extract_wait (over a tcp endpoint, which has a wait
// object) time out with 0 after sleeping, not spinning; a bad value is refused by name.
TEST(Config, WaitModes) {
  ::setenv("FM_PROVIDER", "tcp", 1);
  for (const char* mode : {"fd", "poll"}) {
    ::setenv("FM_WAIT", mode, 1);
    ASSERT_EQ(FM_initialize(), FM_SUCCESS) << mode << ": " << FM_last_error();
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    EXPECT_EQ(FM_extract_wait(SIZE_MAX, 200), 0) << mode;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = thread_cpu_seconds() - c0;
    EXPECT_GE(wall, 0.19) << mode << ": returned before its time-out";
    EXPECT_LT(cpu, 0.5 * wall) << mode << ": spun instead of sleeping (" << cpu << " s CPU)";
    EXPECT_EQ(FM_finalize(), FM_SUCCESS) << mode;
  }
  ::setenv("FM_WAIT", "sometimes", 1);
  EXPECT_EQ(FM_initialize(), FM_EINVAL);
  EXPECT_NE(std::strstr(FM_last_error(), "FM_WAIT"), nullptr) << FM_last_error();
  EXPECT_EQ(FM_numnodes(), 0u);
  ::unsetenv("FM_WAIT");
  ::unsetenv("FM_PROVIDER");
}

// FM_CREDITS: 0 (the default) is automatic, 64 packets and 256 over datagram transports; an
// explicit value applies to every transport; 1 is refused by name.
TEST(Config, Credits) {
  fm::Config c;
  ::unsetenv("FM_CREDITS");
  ASSERT_EQ(c.apply_env(), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(c.window(false), 64u);
  EXPECT_EQ(c.window(true), 256u);
  ::setenv("FM_CREDITS", "32", 1);
  ASSERT_EQ(c.apply_env(), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(c.window(false), 32u);
  EXPECT_EQ(c.window(true), 32u);
  ::setenv("FM_CREDITS", "1", 1);
  EXPECT_EQ(c.apply_env(), FM_EINVAL);
  EXPECT_NE(std::strstr(FM_last_error(), "FM_CREDITS"), nullptr) << FM_last_error();
  ::unsetenv("FM_CREDITS");
}

}  // namespace
