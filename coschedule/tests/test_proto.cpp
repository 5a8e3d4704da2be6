// fm-dcsd's pure checks (coschedule/proto.hpp): every field of a REGISTER and of a page's line
// 0 that a client could get wrong, /proc parsing, gang owners, and random buffers, which must
// never be accepted wrongly nor crash (also run under ASan+UBSan in CI).
#include "proto.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace {

using namespace fm::dcsd;

fm_dcs_msg good() {
  fm_dcs_msg m{};
  m.magic = FM_DCS_MSG_MAGIC;
  m.version = FM_DCS_VERSION;
  m.type = FM_DCS_REGISTER;
  m.pid = 100;
  m.tid = 101;
  m.rank = 3;
  m.size = 8;
  m.local_rank = 1;
  m.local_size = 4;
  m.job = 0x1234;
  std::strcpy(m.job_name, "app");
  return m;
}

const char* check(const fm_dcs_msg& m) {
  fm_dcs_msg out;
  return check_request(&m, sizeof m, false, &out);
}

TEST(Request, GoodOneIsAcceptedAndCopied) {
  const fm_dcs_msg m = good();
  fm_dcs_msg out{};
  EXPECT_EQ(check_request(&m, sizeof m, false, &out), nullptr);
  EXPECT_EQ(std::memcmp(&m, &out, sizeof m), 0);
}

TEST(Request, WrongSizeOrTruncated) {
  const fm_dcs_msg m = good();
  fm_dcs_msg out;
  EXPECT_NE(check_request(&m, sizeof m - 1, false, &out), nullptr);
  EXPECT_NE(check_request(&m, 0, false, &out), nullptr);
  EXPECT_NE(check_request(&m, sizeof m, true, &out), nullptr);
}

TEST(Request, EachFieldWrong) {
  struct Case {
    const char* what;
    void (*spoil)(fm_dcs_msg&);
  };
  const Case cases[] = {
      {"magic", [](fm_dcs_msg& m) { m.magic ^= 1; }},
      {"version", [](fm_dcs_msg& m) { m.version = 2; }},
      {"type 0", [](fm_dcs_msg& m) { m.type = 0; }},
      {"type ACK", [](fm_dcs_msg& m) { m.type = FM_DCS_ACK; }},
      {"pid 0", [](fm_dcs_msg& m) { m.pid = 0; }},
      {"pid -1", [](fm_dcs_msg& m) { m.pid = -1; }},
      {"tid 0", [](fm_dcs_msg& m) { m.tid = 0; }},
      {"rank = size", [](fm_dcs_msg& m) { m.rank = m.size; }},
      {"size 0",
       [](fm_dcs_msg& m) {
         m.size = 0;
         m.rank = 0;
       }},
      {"local_rank = local_size", [](fm_dcs_msg& m) { m.local_rank = m.local_size; }},
      {"local_size 0",
       [](fm_dcs_msg& m) {
         m.local_size = 0;
         m.local_rank = 0;
       }},
      {"local_size > max",
       [](fm_dcs_msg& m) {
         m.size = 5000;
         m.local_size = FM_DCS_MAX_LOCAL + 1;
       }},
      {"local_size > size", [](fm_dcs_msg& m) { m.local_size = 9; }},
      {"name unterminated", [](fm_dcs_msg& m) { std::memset(m.job_name, 'x', sizeof m.job_name); }},
  };
  for (const Case& c : cases) {
    fm_dcs_msg m = good();
    c.spoil(m);
    EXPECT_NE(check(m), nullptr) << c.what;
  }
}

TEST(Request, ByeAndStatusNeedOnlyTheHeader) {
  fm_dcs_msg m{};
  m.magic = FM_DCS_MSG_MAGIC;
  m.version = FM_DCS_VERSION;
  m.type = FM_DCS_STATUS;
  EXPECT_EQ(check(m), nullptr);
  m.type = FM_DCS_BYE;
  EXPECT_EQ(check(m), nullptr);
}

TEST(Request, LargestLocalJobIsAccepted) {
  fm_dcs_msg m = good();
  m.size = FM_DCS_MAX_LOCAL;
  m.local_size = FM_DCS_MAX_LOCAL;
  m.local_rank = FM_DCS_MAX_LOCAL - 1;
  m.rank = 0;
  EXPECT_EQ(check(m), nullptr);
}

TEST(PageFd, SizeAndSeals) {
  const int both = F_SEAL_SHRINK | F_SEAL_GROW;
  EXPECT_EQ(check_page_fd(FM_DCS_PAGE_BYTES, both), nullptr);
  EXPECT_EQ(check_page_fd(FM_DCS_PAGE_BYTES, both | F_SEAL_SEAL), nullptr);
  EXPECT_NE(check_page_fd(FM_DCS_PAGE_BYTES - 1, both), nullptr);
  EXPECT_NE(check_page_fd(FM_DCS_PAGE_BYTES * 2, both), nullptr);
  EXPECT_NE(check_page_fd(FM_DCS_PAGE_BYTES, 0), nullptr);
  EXPECT_NE(check_page_fd(FM_DCS_PAGE_BYTES, F_SEAL_GROW), nullptr);
  EXPECT_NE(check_page_fd(FM_DCS_PAGE_BYTES, F_SEAL_SHRINK), nullptr);
  EXPECT_NE(check_page_fd(FM_DCS_PAGE_BYTES, -1), nullptr);  // not a memfd
}

fm_dcs_page page_for(const fm_dcs_msg& m) {
  fm_dcs_page p{};
  p.magic = FM_DCS_PAGE_MAGIC;
  p.version = FM_DCS_VERSION;
  p.pid = m.pid;
  p.tid = m.tid;
  p.rank = m.rank;
  p.size = m.size;
  p.local_rank = m.local_rank;
  p.local_size = m.local_size;
  p.job = m.job;
  return p;
}

TEST(PageHead, EachFieldMustMatchTheMessage) {
  const fm_dcs_msg m = good();
  EXPECT_EQ(check_page_head(page_for(m), m), nullptr);
  void (*spoil[])(fm_dcs_page&) = {[](fm_dcs_page& p) { p.magic ^= 1; },
                                   [](fm_dcs_page& p) { p.version = 9; },
                                   [](fm_dcs_page& p) { ++p.pid; },
                                   [](fm_dcs_page& p) { ++p.tid; },
                                   [](fm_dcs_page& p) { ++p.rank; },
                                   [](fm_dcs_page& p) { ++p.size; },
                                   [](fm_dcs_page& p) { ++p.local_rank; },
                                   [](fm_dcs_page& p) { ++p.local_size; },
                                   [](fm_dcs_page& p) { p.job ^= 1ull << 63; }};
  int i = 0;
  for (auto f : spoil) {
    fm_dcs_page p = page_for(m);
    f(p);
    EXPECT_NE(check_page_head(p, m), nullptr) << "field " << i++;
  }
}

TEST(Pending, GarbageCountsAsNothing) {
  EXPECT_EQ(pending_from(10, 3), 7u);
  EXPECT_EQ(pending_from(3, 3), 0u);
  EXPECT_EQ(pending_from(3, 10), 0u);  // taken ahead of sent
  EXPECT_EQ(pending_from(~0ull, 0), 0u);
  EXPECT_EQ(pending_from(kMaxPending, 0), kMaxPending);
  EXPECT_EQ(pending_from(kMaxPending + 1, 0), 0u);
}

TEST(ProcStat, StateAndStarttimeAfterTheLastParen) {
  char st = 0;
  std::uint64_t start = 0;
  const char* line =
      "1234 (a) b (c)) S 1 1234 1234 0 -1 4194304 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000 ...";
  ASSERT_TRUE(parse_task_stat(line, &st, &start));
  EXPECT_EQ(st, 'S');
  EXPECT_EQ(start, 987654u);
  EXPECT_FALSE(parse_task_stat("1234 (x) R 1 2 3", &st, &start));
  EXPECT_FALSE(parse_task_stat("no paren at all", &st, &start));
  EXPECT_FALSE(parse_task_stat("1 (x)", &st, &start));
  EXPECT_FALSE(parse_task_stat("", &st, &start));
}

TEST(ProcStat, Schedstat) {
  std::uint64_t run = 0, delay = 0;
  ASSERT_TRUE(parse_schedstat("123 456 7\n", &run, &delay));
  EXPECT_EQ(run, 123u);
  EXPECT_EQ(delay, 456u);
  EXPECT_FALSE(parse_schedstat("123", &run, &delay));
  EXPECT_FALSE(parse_schedstat("x y", &run, &delay));
}

TEST(Gang, OwnerIsTheLeastHashAndTheSameForTheSameJobs) {
  const std::vector<std::uint64_t> jobs{0x1111, 0x2222, 0x3333};
  const std::vector<std::uint32_t> uids{0, 0, 1000};
  EXPECT_EQ(gang_owner({}, {}, 5), -1);
  int counts[3] = {0, 0, 0};
  for (std::uint64_t k = 0; k < 3000; ++k) {
    const int o = gang_owner(jobs, uids, k);
    ASSERT_GE(o, 0);
    for (std::size_t i = 0; i < jobs.size(); ++i)
      EXPECT_LE(splitmix64(jobs[o] ^ k), splitmix64(jobs[i] ^ k));
    // the order jobs are listed in does not matter: another host may list them otherwise
    const std::vector<std::uint64_t> rev{jobs[2], jobs[1], jobs[0]};
    const std::vector<std::uint32_t> ruids{uids[2], uids[1], uids[0]};
    EXPECT_EQ(rev[gang_owner(rev, ruids, k)], jobs[o]);
    ++counts[o];
  }
  for (int c : counts) EXPECT_GT(c, 800);  // each job gets about a third of the slices
}

TEST(Budget, FairShareOfTheCpus) {
  EXPECT_EQ(fair_budget_ns(100, 2, 1), 200);
  EXPECT_EQ(fair_budget_ns(100, 2, 4), 50);
  EXPECT_EQ(fair_budget_ns(100, 2, 0), 200);
}

TEST(Names, SocketsStateFilesAndJobNames) {
  sockaddr_un sa;
  socklen_t len = 0;
  ASSERT_TRUE(make_sockaddr("@fm-dcsd", &sa, &len));
  EXPECT_EQ(sa.sun_path[0], '\0');
  EXPECT_EQ(std::memcmp(sa.sun_path + 1, "fm-dcsd", 7), 0);
  EXPECT_EQ(len, offsetof(sockaddr_un, sun_path) + 8);
  ASSERT_TRUE(make_sockaddr("/run/x.sock", &sa, &len));
  EXPECT_STREQ(sa.sun_path, "/run/x.sock");
  EXPECT_FALSE(make_sockaddr("", &sa, &len));
  EXPECT_FALSE(make_sockaddr("@", &sa, &len));
  EXPECT_FALSE(make_sockaddr(std::string(200, 'x'), &sa, &len));
  EXPECT_EQ(state_name("@fm-dcsd"), "fm-dcsd");
  EXPECT_EQ(state_name("/tmp/a b"), "_tmp_a_b");
  EXPECT_EQ(state_name("@.."), "_..");
  EXPECT_EQ(printable_name("a\nb\x7f", 32), "a?b?");
  EXPECT_EQ(printable_name("", 32), "?");
}

TEST(Reply, ReasonIsTerminatedAndCut) {
  const std::string long_reason(500, 'r');
  const fm_dcs_reply r = make_reply(FM_DCS_NAK, 1, 2, 3, -1, long_reason.c_str());
  EXPECT_EQ(r.magic, FM_DCS_MSG_MAGIC);
  EXPECT_EQ(r.type, FM_DCS_NAK);
  EXPECT_EQ(r.reason[sizeof r.reason - 1], '\0');
  EXPECT_EQ(std::strlen(r.reason), sizeof r.reason - 1);
}

// 10k random buffers: random sizes, random bytes, and the good message with random bytes
// changed; whatever is accepted must satisfy every rule the daemon relies on.
TEST(Fuzz, RandomBuffersAreNeverAcceptedWrongly) {
  std::mt19937_64 rng(12345);
  int accepted = 0;
  for (int i = 0; i < 10000; ++i) {
    std::vector<unsigned char> buf;
    const fm_dcs_msg g = good();
    if (i % 2 == 0) {
      buf.resize(rng() % (2 * sizeof(fm_dcs_msg)));
      for (auto& b : buf) b = static_cast<unsigned char>(rng());
    } else {
      buf.assign(reinterpret_cast<const unsigned char*>(&g),
                 reinterpret_cast<const unsigned char*>(&g) + sizeof g);
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f)
        buf[8 + rng() % (sizeof g - 8)] = static_cast<unsigned char>(rng());
    }
    fm_dcs_msg out;
    const char* why = check_request(buf.data(), buf.size(), rng() % 8 == 0, &out);
    if (why != nullptr) continue;
    ++accepted;
    ASSERT_EQ(buf.size(), sizeof(fm_dcs_msg));
    ASSERT_EQ(out.magic, FM_DCS_MSG_MAGIC);
    ASSERT_EQ(out.version, FM_DCS_VERSION);
    if (out.type == FM_DCS_REGISTER) {
      ASSERT_GT(out.pid, 0);
      ASSERT_GT(out.tid, 0);
      ASSERT_LT(out.rank, out.size);
      ASSERT_LT(out.local_rank, out.local_size);
      ASSERT_LE(out.local_size, static_cast<std::uint32_t>(FM_DCS_MAX_LOCAL));
      ASSERT_NE(std::memchr(out.job_name, 0, sizeof out.job_name), nullptr);
      (void)printable_name(out.job_name, sizeof out.job_name);
      (void)check_page_head(page_for(out), out);
    } else {
      ASSERT_TRUE(out.type == FM_DCS_BYE || out.type == FM_DCS_STATUS);
    }
  }
  EXPECT_GT(accepted, 0);  // the mutations do leave some good messages: the checks were reached
  std::mt19937_64 r2(7);
  for (int i = 0; i < 2000; ++i) {  // /proc lines too
    std::string s(r2() % 120, ' ');
    for (auto& c : s) c = "0123456789 ()RS x"[r2() % 17];
    char st;
    std::uint64_t a, b;
    (void)parse_task_stat(s, &st, &a);
    (void)parse_schedstat(s, &a, &b);
  }
}

}  // namespace
