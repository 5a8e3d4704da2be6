// Opening a lane's transport (transport/stack.cpp) over libfabric's tcp;ofi_rxm: the automatic
// packet size (FM_PACKET_SIZE=auto) is 64 KiB while the credit windows of every network peer fit
// the receive-buffer budget (FM_RX_MEMORY) at that size, then 32 KiB, then 16 KiB, and the window
// the lane grants still fits the budget.  Only the local endpoint is opened: no peer is needed.
#include <fm/fm.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "transport/stack.hpp"

namespace {

namespace tr = fm::transport;

// Whether the user set rxm's limit: read before any test of this process ran (an earlier test
// that opened tcp may have given it FM's value since, which this test removes again).
const bool g_user_rxm_limit = [] {
  for (const char* var : {"FI_OFI_RXM_EAGER_LIMIT", "FI_OFI_RXM_BUFFER_SIZE"})
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return true;
  return false;
}();

tr::Stack open_tcp(unsigned peers, std::size_t packet_size = 0) {
  tr::StackParams sp;
  sp.open.spec = tr::find_provider("tcp");
  sp.open.rank = 0;
  sp.open.size = peers + 1;
  sp.open.packet_size = packet_size;
  sp.open.wait_fd = false;
  sp.peers = peers;
  tr::Stack st;
  const int rc = tr::open_stack(sp, &st);
  if (rc != FM_SUCCESS) ADD_FAILURE() << peers << " peers: " << FM_last_error();
  return st;
}

TEST(Stack, TcpPacketsFitTheReceiveMemory) {
  if (g_user_rxm_limit)
    GTEST_SKIP() << "FI_OFI_RXM_EAGER_LIMIT or FI_OFI_RXM_BUFFER_SIZE is set: rxm's limit, not "
                    "FM's choice, decides";
  ::unsetenv("FI_OFI_RXM_EAGER_LIMIT");  // FM's own, from an earlier test of this process
  ASSERT_NE(tr::find_provider("tcp"), nullptr);
  {
    tr::Stack probe;
    tr::StackParams sp;
    sp.open.spec = tr::find_provider("tcp");
    sp.open.wait_fd = false;
    if (tr::open_stack(sp, &probe) == FM_ENOPROVIDER)
      GTEST_SKIP() << "libfabric's tcp provider is not available: " << FM_last_error();
  }
  // The default budget, 64 MiB, holds 64 credits + 8 control buffers of 64 KiB for 14 peers,
  // of 32 KiB for 28; more peers get 16 KiB packets.
  const struct {
    unsigned peers;
    std::size_t packet;
  } cases[] = {{1, 65536}, {14, 65536}, {15, 32768}, {28, 32768}, {29, 16384}, {60, 16384}};
  for (const auto& c : cases) {
    tr::Stack st = open_tcp(c.peers);
    ASSERT_TRUE(st.tp) << c.peers << " peers";
    EXPECT_EQ(st.packet, c.packet) << c.peers << " peers";
    EXPECT_GE(st.window, 2u) << c.peers << " peers";
    EXPECT_LE(std::size_t{c.peers} * (st.window + 8) * st.packet, std::size_t{64} << 20)
        << c.peers << " peers: window " << st.window << " of " << st.packet << " B packets";
    if (c.peers <= 28) {
      EXPECT_EQ(st.window, 64u) << c.peers << " peers keep the whole window";
    }
  }
  // FI_OFI_RXM_EAGER_LIMIT was given to rxm by FM, at least 64 KiB
  const char* limit = std::getenv("FI_OFI_RXM_EAGER_LIMIT");
  ASSERT_NE(limit, nullptr);
  EXPECT_STREQ(limit, "65536");
  // a packet size the user chose is kept, whatever the peers
  tr::Stack fixed = open_tcp(60, 8192);
  ASSERT_TRUE(fixed.tp);
  EXPECT_EQ(fixed.packet, 8192u);
  ::unsetenv("FI_OFI_RXM_EAGER_LIMIT");  // as it was, for the tests after this one
}

}  // namespace
