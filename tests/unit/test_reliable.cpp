// FM's reliability layer (transport/reliable.cpp) spoken to on the wire: a reliable endpoint
// (node 0) over the in-process loopback, and a raw endpoint (node 1) where the test writes and
// reads the protocol's headers itself.  The time-out is set far beyond the test's duration, so
// every retransmission seen is a selective-acknowledgement one and the outcome is deterministic.
#include <fm/fm.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "transport/factories.hpp"
#include "transport/reliable_wire.hpp"
#include "transport/stack.hpp"
#include "transport/transport.hpp"
#include "util/ring.hpp"

namespace {

namespace tr = fm::transport;

constexpr std::size_t kPayload = 256;
constexpr std::size_t kWire = kPayload + tr::kReliableHeader;

struct Wire {
  std::shared_ptr<tr::LoopbackFabric> fabric = tr::make_loopback_fabric(2);
  std::unique_ptr<tr::Transport> rel;  // node 0: FM's reliability over loopback
  std::unique_ptr<tr::Transport> raw;  // node 1: the test
  std::vector<std::byte> raw_bufs = std::vector<std::byte>(512 * kWire);
  std::vector<std::byte> rel_bufs = std::vector<std::byte>(512 * kPayload);

  // By default the time-outs are far beyond a test's duration; rto_us/peer_timeout_ms shorten them.
  explicit Wire(std::uint32_t rto_us = 2000000, std::uint32_t peer_timeout_ms = 60000) {
    tr::ReliableParams p;
    p.rank = 0;
    p.size = 2;
    p.window = 272;  // the reorder window of 128 credits
    p.initial_rto_us = p.min_rto_us = rto_us;
    p.max_rto_us = 2 * rto_us;
    p.peer_timeout_ms = peer_timeout_ms;
    rel = tr::open_reliable(tr::open_loopback(fabric, 0, kWire), p);
    raw = tr::open_loopback(fabric, 1, kWire);
    for (std::size_t i = 0; i < 512; ++i) {
      EXPECT_EQ(raw->post_recv(raw_bufs.data() + i * kWire, kWire, &raw_bufs[i * kWire]),
                FM_SUCCESS);
      EXPECT_EQ(rel->post_recv(rel_bufs.data() + i * kPayload, kPayload, &rel_bufs[i * kPayload]),
                FM_SUCCESS);
    }
  }

  // Sends node 0 a raw packet from node 1.
  void send_raw(const tr::RelHdr& h, std::uint8_t fill = 0) {
    std::byte pkt[sizeof(tr::RelHdr) + 8];
    std::memcpy(pkt, &h, sizeof h);
    std::memset(pkt + sizeof h, fill, 8);
    ASSERT_EQ(raw->inject(0, pkt, sizeof pkt), FM_SUCCESS);
  }
  static tr::RelHdr data(std::uint32_t seq, std::uint32_t ts) {
    return tr::RelHdr{tr::kRelMagic, tr::kRelData, 0, 1, seq, 0, 0, 0, 0, ts, 0};
  }

  // Polls node 0 (its time-outs and delayed acknowledgements run in poll); returns what it
  // handed up (payload bytes of each received packet, in order).
  std::vector<std::uint8_t> poll_rel() {
    std::vector<std::uint8_t> got;
    tr::Completion c[64];
    const int n = rel->poll(c, 64);
    EXPECT_GE(n, 0);
    for (int i = 0; i < n; ++i)
      if (c[i].kind == tr::Completion::recv)
        got.push_back(static_cast<std::uint8_t>(*static_cast<std::byte*>(c[i].ctx)));
      else if (c[i].kind == tr::Completion::peer_stalled)
        stalled.push_back(c[i].len);
      else if (c[i].kind == tr::Completion::error)  // a send the layer gave up on by itself
        failed.push_back(c[i].len);
    return got;
  }
  std::vector<std::size_t> stalled, failed;  // stalled peers, failed sends seen by poll_rel()
  // What node 1 received from node 0, reposting the buffers.
  std::vector<tr::RelHdr> poll_raw() {
    std::vector<tr::RelHdr> got;
    tr::Completion c[64];
    int n;
    while ((n = raw->poll(c, 64)) > 0)
      for (int i = 0; i < n; ++i) {
        if (c[i].kind != tr::Completion::recv) continue;
        tr::RelHdr h;
        std::memcpy(&h, c[i].ctx, sizeof h);
        got.push_back(h);
        EXPECT_EQ(raw->post_recv(c[i].ctx, kWire, c[i].ctx), FM_SUCCESS);
      }
    return got;
  }
};

// The receiver's side: with packets 5 and 40..49 present and 0 missing, node 0's immediate
// acknowledgements (a gap, a duplicate) report, in turn, the first 32-packet word after the hole
// and the second, and echo the sending time of the oldest packet not acknowledged yet.  Filling the
// hole delivers in order and moves the cumulative acknowledgement.
TEST(ReliableWire, SelectiveAcksCoverTheWholeWindowAndEchoTimes) {
  Wire w;
  std::map<std::uint16_t, std::uint32_t> words;  // sack_word -> union of its bitmaps
  std::vector<tr::RelHdr> acks;
  auto feed = [&](std::uint32_t seq, std::uint32_t ts) {
    w.send_raw(Wire::data(seq, ts), static_cast<std::uint8_t>(seq));
    EXPECT_TRUE(w.poll_rel().empty()) << "nothing may be handed up before packet 0";
    for (const auto& h : w.poll_raw()) {
      EXPECT_EQ(h.magic, tr::kRelMagic);
      EXPECT_EQ(h.type, tr::kRelAck);
      acks.push_back(h);
    }
  };
  feed(5, 1000);
  ASSERT_EQ(acks.size(), 1u) << "a gap is acknowledged at once";
  EXPECT_EQ(acks[0].ack, 0u);
  EXPECT_EQ(acks[0].sack_word, 0u);
  EXPECT_EQ(acks[0].sack, 1u << 4);  // ack + 1 + 4 = 5
  EXPECT_NE(acks[0].flags & tr::kHasEcho, 0) << "the acknowledgement echoes a time";
  EXPECT_EQ(acks[0].echo, 1000u);
  for (std::uint32_t seq = 40; seq < 50; ++seq) feed(seq, 2000 + seq);
  feed(49, 3000);  // a duplicate: acknowledged at once, the next word in turn
  ASSERT_EQ(acks.size(), 12u);
  for (const auto& h : acks) {
    EXPECT_EQ(h.ack, 0u);
    words[h.sack_word] |= h.sack;
  }
  EXPECT_EQ(acks[1].echo, 2040u) << "the oldest packet since the last acknowledgement";
  EXPECT_EQ(words.size(), 2u) << "packets 40..49 lie in the second word after the hole";
  EXPECT_EQ(words[0], 1u << 4);
  EXPECT_EQ(words[1], 0x3ffu << 7);  // ack + 1 + 32 + 7 = 40 ... 49
  // Packet 0 fills the hole: it is handed up, and the acknowledgement moves to 1.
  w.send_raw(Wire::data(0, 3000), 0xa0);
  EXPECT_EQ(w.poll_rel(), std::vector<std::uint8_t>{0xa0});
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // past the acknowledgement delay
  (void)w.poll_rel();
  bool moved = false;
  for (const auto& h : w.poll_raw()) {
    EXPECT_EQ(h.ack, 1u);
    moved = true;
  }
  EXPECT_TRUE(moved) << "no acknowledgement of packet 0";
}

// The sender's side: node 0 sends 100 packets; node 1 acknowledges none cumulatively but
// selectively all of 1..96 except 10 and 50, in three 32-packet words.  After the fast
// retransmission delay (a quarter of the time-out floor, the RTT estimate being shorter) node 0
// sends exactly the holes below the highest acknowledged packet again (0, 10, 50), not 97..99
// (not known lost) and nothing twice.  A cumulative acknowledgement of all then empties its window.
TEST(ReliableWire, RetransmitsExactlyTheHolesOfEveryWord) {
  Wire w;
  for (std::uint32_t i = 0; i < 100; ++i) {
    std::byte payload[8];
    std::memset(payload, static_cast<int>(i), sizeof payload);
    iovec iov{payload, sizeof payload};
    ASSERT_EQ(w.rel->send(1, &iov, 1, nullptr), FM_SUCCESS) << "packet " << i;
  }
  (void)w.poll_rel();
  std::vector<tr::RelHdr> first = w.poll_raw();
  ASSERT_EQ(first.size(), 100u);
  for (std::uint32_t i = 0; i < 100; ++i) {
    EXPECT_EQ(first[i].type, tr::kRelData);
    EXPECT_EQ(first[i].seq, i);
  }
  std::uint32_t word[3] = {~0u, ~0u, ~0u};  // seqs 1..32, 33..64, 65..96
  word[0] &= ~(1u << (10 - 1));
  word[1] &= ~(1u << (50 - 33));
  for (std::uint16_t k = 0; k < 3; ++k) {
    tr::RelHdr a{tr::kRelMagic, tr::kRelAck, tr::kHasEcho, 1, 0, 0, word[k], k, 0, 0, first[0].ts};
    w.send_raw(a);
  }
  (void)w.poll_rel();
  EXPECT_TRUE(w.poll_raw().empty()) << "retransmitted before the fast-retransmission delay";
  EXPECT_FALSE(w.rel->quiescent());
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // > 2 s / 4
  (void)w.poll_rel();
  std::vector<std::uint32_t> again;
  for (const auto& h : w.poll_raw()) again.push_back(h.seq);
  EXPECT_EQ(again, (std::vector<std::uint32_t>{0, 10, 50}));
  EXPECT_EQ(w.rel->retransmissions(1), 3u);
  tr::RelHdr all{tr::kRelMagic, tr::kRelAck, 0, 1, 0, 100, 0, 0, 0, 0, 0};
  w.send_raw(all);
  (void)w.poll_rel();
  EXPECT_TRUE(w.rel->quiescent()) << "all 100 acknowledged";
}

// A peer that acknowledges nothing for the peer time-out is reported stalled once per stall, never
// failed by the layer itself: node 0 keeps retransmitting (a same-host peer starved of CPU must
// not lose anything) until its owner gives up on it.  Progress ends a stall; the next one is
// reported again.  After give_up() node 0 sends nothing more to the peer, refuses new sends and
// is quiescent.
TEST(ReliableWire, StalledPeerIsReportedOnceAndRetransmittedToUntilGivenUp) {
  Wire w(20000, 200);  // time-out floor 20 ms, peer time-out 200 ms
  std::byte payload[8] = {};
  iovec iov{payload, sizeof payload};
  using Clock = std::chrono::steady_clock;
  Clock::time_point first_report{};
  auto run_for = [&](int ms) {  // polls node 0; returns how many data packets node 1 saw
    std::size_t data = 0;
    const auto end = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < end) {
      (void)w.poll_rel();
      if (!w.stalled.empty() && first_report == Clock::time_point{}) first_report = Clock::now();
      for (const auto& h : w.poll_raw()) data += h.type == tr::kRelData;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return data;
  };
  const auto sent = Clock::now();
  ASSERT_EQ(w.rel->send(1, &iov, 1, nullptr), FM_SUCCESS);
  EXPECT_GE(run_for(400), 2u) << "sent once, never retransmitted";
  ASSERT_EQ(w.stalled, std::vector<std::size_t>{1}) << "one report for the stall, naming node 1";
  EXPECT_GE(first_report - sent, std::chrono::milliseconds(200)) << "reported before the time-out";
  EXPECT_GE(run_for(300), 1u) << "no retransmission after the stall was reported";
  EXPECT_EQ(w.stalled.size(), 1u) << "the same stall reported twice";
  EXPECT_TRUE(w.failed.empty()) << "the layer failed the peer by itself";
  EXPECT_FALSE(w.rel->quiescent());
  tr::RelHdr ack{tr::kRelMagic, tr::kRelAck, 0, 1, 0, 1, 0, 0, 0, 0, 0};  // progress
  w.send_raw(ack);
  (void)w.poll_rel();
  EXPECT_TRUE(w.rel->quiescent());
  ASSERT_EQ(w.rel->send(1, &iov, 1, nullptr), FM_SUCCESS);  // a second stall
  (void)run_for(450);
  EXPECT_EQ(w.stalled.size(), 2u) << "a new stall after progress was not reported";
  w.rel->give_up(1);
  EXPECT_TRUE(w.rel->quiescent()) << "still waiting for a peer given up on";
  (void)w.poll_raw();
  EXPECT_EQ(run_for(150), 0u) << "retransmitted to a peer given up on";
  EXPECT_EQ(w.rel->send(1, &iov, 1, nullptr), FM_EPEERFAILED);
  EXPECT_TRUE(w.failed.empty());
}

// The fault decorator passes the state of the transport under it through: retransmissions,
// quiescence, and memory (plus its own buffers).
TEST(ReliableWire, FaultDecoratorForwardsTheLowerTransportsState) {
  Wire w(20000);  // time-out floor 20 ms
  const std::size_t lower_memory = w.rel->memory();
  w.rel = tr::open_fault(std::move(w.rel), tr::FaultParams{});
  EXPECT_GT(w.rel->memory(), lower_memory);
  std::byte payload[8] = {};
  iovec iov{payload, sizeof payload};
  ASSERT_EQ(w.rel->send(1, &iov, 1, nullptr), FM_SUCCESS);
  EXPECT_FALSE(w.rel->quiescent()) << "unacknowledged packet not seen through the decorator";
  for (int i = 0; i < 500 && w.rel->retransmissions(1) == 0; ++i) {
    (void)w.poll_rel();
    (void)w.poll_raw();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(w.rel->retransmissions(1), 1u);
  EXPECT_EQ(w.rel->retransmissions(0), 0u);
  tr::RelHdr ack{tr::kRelMagic, tr::kRelAck, 0, 1, 0, 1, 0, 0, 0, 0, 0};
  w.send_raw(ack);
  (void)w.poll_rel();
  EXPECT_TRUE(w.rel->quiescent()) << "acknowledged, yet not quiescent through the decorator";
}

// The FIFO under the reliability layer's queues: order kept across wrap-around and growth.
TEST(Ring, FifoAcrossWrapAndGrowth) {
  fm::Ring<int> r(4);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {  // fill level rises to 100, wrapping all along
    for (int i = 0; i < 3; ++i) r.push_back(next_in++);
    for (int i = 0; i < 1; ++i) {
      ASSERT_FALSE(r.empty());
      EXPECT_EQ(r.front(), next_out++);
      r.pop_front();
    }
  }
  EXPECT_EQ(r.size(), 100u);
  while (!r.empty()) {
    EXPECT_EQ(r.front(), next_out++);
    r.pop_front();
  }
  EXPECT_EQ(next_out, next_in);
}

}  // namespace
