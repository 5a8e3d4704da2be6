// The shm transport's SPSC packet ring (fm/src/transport/shm_ring.hpp): sizes and wrap-around at
// every offset, full rings, stale stamps, and a two-thread stress with sequence and content
// checks.  Built twice: into fm_unit_tests (ASan+UBSan in CI) and alone with ThreadSanitizer
// (fm_shm_ring_tsan).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "transport/shm_ring.hpp"

namespace {

using fm::transport::shm::cells_for;
using fm::transport::shm::kCell;
using fm::transport::shm::RingReader;
using fm::transport::shm::RingWriter;

struct TestRing {
  explicit TestRing(std::uint32_t ncells)
      : mem(std::size_t{ncells} * kCell / sizeof(std::uint64_t)),
        w(reinterpret_cast<std::byte*>(mem.data()), ncells, &head),
        r(reinterpret_cast<std::byte*>(mem.data()), ncells, &head) {}
  std::vector<std::uint64_t> mem;  // 8-byte aligned; zero: no stamps
  alignas(64) std::atomic<std::uint64_t> head{0};
  RingWriter w;
  RingReader r;
};

void fill(std::vector<std::byte>* v, std::uint32_t seed) {
  for (std::size_t i = 0; i < v->size(); ++i)
    (*v)[i] = static_cast<std::byte>((seed * 131 + i * 7) & 0xff);
}

TEST(ShmRing, CellsFor) {
  EXPECT_EQ(cells_for(0), 1u);
  EXPECT_EQ(cells_for(56), 1u);  // FM_send_4 and up to 24 payload bytes: one cache line
  EXPECT_EQ(cells_for(57), 2u);
  EXPECT_EQ(cells_for(120), 2u);
  EXPECT_EQ(cells_for(121), 3u);
  EXPECT_EQ(RingWriter::max_packet(1024), 16384u - 8);
}

// Every size from 1 to the largest, with the packets landing at every offset of the ring.
TEST(ShmRing, EverySizeAndWrap) {
  TestRing t(64);
  const std::size_t max = RingWriter::max_packet(64);
  std::vector<std::byte> in, out;
  for (std::size_t len = 0; len <= max; ++len) {
    in.resize(len);
    fill(&in, static_cast<std::uint32_t>(len));
    ASSERT_TRUE(t.w.push(in.data(), len)) << len;
    ASSERT_EQ(t.r.peek(), static_cast<long>(len));
    out.assign(len, std::byte{0});
    t.r.copy(out.data(), len);
    ASSERT_EQ(in, out) << "packet of " << len << " bytes at cell " << t.r.head() % 64;
    t.r.pop(len);
    t.r.publish();
    ASSERT_EQ(t.r.peek(), -1) << "nothing after " << len;
  }
}

// Gathered pushes whose pieces cross the end of the ring.
TEST(ShmRing, GatherAcrossTheEnd) {
  TestRing t(64);
  std::vector<std::byte> a(40), b(700), out(740);
  fill(&a, 1);
  fill(&b, 2);
  for (int k = 0; k < 200; ++k) {
    const iovec iov[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
    ASSERT_TRUE(t.w.push(iov, 2, 740));
    ASSERT_EQ(t.r.peek(), 740);
    t.r.copy(out.data(), 740);
    ASSERT_EQ(0, std::memcmp(out.data(), a.data(), 40));
    ASSERT_EQ(0, std::memcmp(out.data() + 40, b.data(), 700));
    t.r.pop(740);
    t.r.publish();
  }
}

// A full ring refuses; space comes back only once the reader publishes its head.
TEST(ShmRing, FullUntilPublished) {
  TestRing t(64);
  std::uint64_t v = 0;
  int pushed = 0;
  while (t.w.push(&v, sizeof v)) ++pushed, ++v;
  EXPECT_EQ(pushed, 64);  // one cell each
  ASSERT_EQ(t.r.peek(), 8);
  t.r.pop(8);
  EXPECT_FALSE(t.w.push(&v, sizeof v)) << "head not published yet";
  t.r.publish();
  EXPECT_TRUE(t.w.push(&v, sizeof v));
  // the order survives the wrap
  for (std::uint64_t want = 1; want <= 64; ++want) {
    ASSERT_EQ(t.r.peek(), 8);
    std::uint64_t got = 0;
    t.r.copy(&got, 8);
    ASSERT_EQ(got, want);
    t.r.pop(8);
  }
  EXPECT_EQ(t.r.peek(), -1);
}

// Payload words that look like the stamps a later lap expects are never taken for packets: the
// reader clears the first word of every middle cell it consumes.
TEST(ShmRing, PayloadNeverPassesForAStamp) {
  TestRing t(64);
  // 8 packets of 7 cells (448 bytes), payload words = every stamp value the next laps will want
  std::vector<std::uint32_t> words(440 / 4);
  for (int lap = 0; lap < 20; ++lap) {
    for (std::size_t i = 0; i < words.size(); ++i)
      words[i] = static_cast<std::uint32_t>(t.r.head() + 1 + i % 200);
    const std::size_t len = words.size() * 4;
    if (!t.w.push(words.data(), len)) {
      FAIL() << "ring full at lap " << lap;
    }
    ASSERT_EQ(t.r.peek(), static_cast<long>(len));
    t.r.pop(len);
    t.r.publish();
    ASSERT_EQ(t.r.peek(), -1) << "a phantom packet after lap " << lap;
    // one-cell packets walk the head over the old middle cells
    for (int k = 0; k < 5; ++k) {
      std::uint32_t x = 7;
      ASSERT_TRUE(t.w.push(&x, 4));
      ASSERT_EQ(t.r.peek(), 4);
      t.r.pop(4);
      t.r.publish();
      ASSERT_EQ(t.r.peek(), -1) << "a phantom packet at cell " << t.r.head() % 64;
    }
  }
}

// One producer thread, one consumer thread: every packet arrives once, in order, intact.
TEST(ShmRing, TwoThreadStress) {
#if defined(__SANITIZE_THREAD__)
  constexpr std::uint32_t kPackets = 200000;
#else
  constexpr std::uint32_t kPackets = 1000000;
#endif
  TestRing t(256);  // 16 KiB: packets of up to 4088 bytes, plenty of wrapping
  std::thread producer([&] {
    std::vector<std::byte> buf(RingWriter::max_packet(256));
    for (std::uint32_t i = 0; i < kPackets; ++i) {
      const std::size_t len = 4 + (i * 2654435761u >> 7) % (i % 64 == 0 ? buf.size() - 4 : 200);
      std::memcpy(buf.data(), &i, 4);
      for (std::size_t k = 4; k < len; ++k) buf[k] = static_cast<std::byte>((i + k) & 0xff);
      while (!t.w.push(buf.data(), len)) std::this_thread::yield();
    }
  });
  std::vector<std::byte> buf(RingWriter::max_packet(256));
  std::uint32_t bad = 0;
  for (std::uint32_t i = 0; i < kPackets;) {
    const long len = t.r.peek();
    if (len < 0) {  // as poll() does: the head is published before waiting
      t.r.publish();
      std::this_thread::yield();
      continue;
    }
    t.r.copy(buf.data(), static_cast<std::size_t>(len));
    std::uint32_t seq;
    std::memcpy(&seq, buf.data(), 4);
    const std::size_t want = 4 + (i * 2654435761u >> 7) % (i % 64 == 0 ? buf.size() - 4 : 200);
    if (seq != i || static_cast<std::size_t>(len) != want) ++bad;
    for (std::size_t k = 4; k < static_cast<std::size_t>(len); ++k)
      if (buf[k] != static_cast<std::byte>((i + k) & 0xff)) {
        ++bad;
        break;
      }
    t.r.pop(static_cast<std::size_t>(len));
    if (++i % 8 == 0) t.r.publish();  // batched
  }
  t.r.publish();
  producer.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(t.r.peek(), -1);
  EXPECT_TRUE(t.w.drained());
}

}  // namespace
