// What FM offers the layers above it: tunables set by a program (FM_config_set / FM_config_get,
// the environment winning), the layers' reserved handler ranges, and the reliability layer's
// memory per idle peer (windows allocated on first contact).
#include <fm/fm.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "transport/factories.hpp"
#include "transport/stack.hpp"
#include "util/config.hpp"

namespace {

std::string get(const char* name) {
  char v[128] = {0};
  EXPECT_EQ(FM_config_get(name, v, sizeof v), FM_SUCCESS) << FM_last_error();
  return v;
}

// A program's value is used unless the environment names the tunable; unknown names and bad
// values are refused naming the tunable; a value is read back as text.
TEST(Config, SetGetEnvironmentWins) {
  ::unsetenv("FM_CREDITS");
  ::unsetenv("FM_PROVIDER");
  EXPECT_EQ(get("FM_CREDITS"), "0");
  ASSERT_EQ(FM_config_set("FM_CREDITS", "32"), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(get("FM_CREDITS"), "32");
  ::setenv("FM_CREDITS", "16", 1);
  EXPECT_EQ(get("FM_CREDITS"), "16") << "the environment overrides the program";
  ::unsetenv("FM_CREDITS");
  EXPECT_EQ(get("FM_CREDITS"), "32");
  // sizes FM picks per transport take "auto" (their default) besides numbers; 0 keeps its meaning
  ::unsetenv("FM_ZCOPY_NET");
  ::unsetenv("FM_PACKET_SIZE");
  EXPECT_EQ(get("FM_ZCOPY_NET"), "auto");
  EXPECT_EQ(get("FM_PACKET_SIZE"), "auto");
  ASSERT_EQ(FM_config_set("FM_ZCOPY_NET", "0"), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(get("FM_ZCOPY_NET"), "0") << "0: never zero-copy, not automatic";
  ASSERT_EQ(FM_config_set("FM_ZCOPY_NET", "auto"), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(get("FM_ZCOPY_NET"), "auto");
  ASSERT_EQ(FM_config_set("FM_ZCOPY_NET", "64K"), FM_SUCCESS);
  EXPECT_EQ(get("FM_ZCOPY_NET"), "65536");
  EXPECT_EQ(FM_config_set("FM_PACKET_SIZE", "0"), FM_EINVAL);
  EXPECT_NE(std::strstr(FM_last_error(), "or auto"), nullptr) << FM_last_error();
  ASSERT_EQ(FM_config_set("FM_PACKET_SIZE", "32K"), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(get("FM_PACKET_SIZE"), "32768");
  EXPECT_EQ(FM_config_set("FM_CREDITS", "auto"), FM_EINVAL) << "only where the tunable says so";

  EXPECT_EQ(FM_config_set("FM_NO_SUCH_THING", "1"), FM_EINVAL);
  EXPECT_NE(std::strstr(FM_last_error(), "FM_NO_SUCH_THING"), nullptr) << FM_last_error();
  EXPECT_EQ(FM_config_set("FM_CREDITS", "lots"), FM_EINVAL);
  EXPECT_NE(std::strstr(FM_last_error(), "FM_CREDITS"), nullptr) << FM_last_error();
  EXPECT_EQ(FM_config_set("FM_CREDITS", "1"), FM_EINVAL) << "a rule across the range";
  EXPECT_EQ(FM_config_set("FM_PROVIDER", "carrier-pigeon"), FM_EINVAL);
  EXPECT_NE(std::strstr(FM_last_error(), "udp"), nullptr) << "names the choices";
  EXPECT_EQ(get("FM_CREDITS"), "32") << "a refused value changes nothing";
  char tiny[2];
  EXPECT_EQ(FM_config_get("FM_PROVIDER", tiny, sizeof tiny), FM_ELENGTH);

  // every tunable is described, and each can be read
  FM_tunable t{};
  unsigned count = 0;
  for (; FM_config_describe(count, &t) == FM_SUCCESS; ++count) {
    EXPECT_NE(t.help, nullptr);
    EXPECT_EQ(std::strncmp(t.name, "FM_", 3), 0) << t.name;
    char v[256];
    EXPECT_EQ(FM_config_get(t.name, v, sizeof v), FM_SUCCESS) << t.name;
  }
  EXPECT_EQ(count, fm::config_count());
  EXPECT_GE(count, 20u);

  // while FM runs: settings are refused, the values in effect are read
  ASSERT_EQ(FM_config_set("FM_PROVIDER", "loopback"), FM_SUCCESS);
  ASSERT_EQ(FM_initialize(), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(FM_config_set("FM_CREDITS", "8"), FM_EALREADY);
  EXPECT_EQ(get("FM_PROVIDER"), "loopback");
  EXPECT_EQ(get("FM_CREDITS"), "32");
  EXPECT_EQ(FM_finalize(), FM_SUCCESS);
  // back to the defaults for the other tests of this process
  for (const char* name : {"FM_CREDITS", "FM_ZCOPY_NET", "FM_PACKET_SIZE", "FM_PROVIDER"}) {
    fm::Config defaults;
    std::string v;
    ASSERT_EQ(defaults.get(name, &v), FM_SUCCESS);
    EXPECT_EQ(FM_config_set(name, v.c_str()), FM_SUCCESS);
  }
}

int h_layer(FM_stream*, unsigned) {
  return FM_CONTINUE;
}

// Ids above the application's are the layers', registered only through FM_register_layer_handler.
TEST(Handlers, LayerRangesAreReserved) {
  EXPECT_EQ(FM_register_handler(FM_USER_HANDLERS, h_layer), FM_EHANDLER);
  EXPECT_NE(std::strstr(FM_last_error(), "reserved for MPI-FM"), nullptr) << FM_last_error();
  EXPECT_EQ(FM_register_handler(FM_USER_HANDLERS + FM_LAYER_SHMEM * FM_LAYER_HANDLERS, h_layer),
            FM_EHANDLER);
  EXPECT_NE(std::strstr(FM_last_error(), "SHMEM-FM"), nullptr) << FM_last_error();
  const int id = FM_register_layer_handler(FM_LAYER_GA, 3, h_layer);
  EXPECT_EQ(id, FM_USER_HANDLERS + FM_LAYER_GA * FM_LAYER_HANDLERS + 3);
  EXPECT_EQ(FM_register_layer_handler(FM_LAYER_GA, 3, h_layer), id) << "the same again is fine";
  EXPECT_EQ(FM_register_layer_handler(FM_LAYER_GA, FM_LAYER_HANDLERS, h_layer), FM_EHANDLER);
  EXPECT_EQ(FM_register_layer_handler(42, 0, h_layer), FM_EINVAL);
  EXPECT_EQ(FM_register_layer_handler(FM_LAYER_MPI, 0, nullptr), FM_EINVAL);
  EXPECT_EQ(FM_unregister_handler(id), FM_SUCCESS);
  EXPECT_EQ(FM_register_handler(FM_ANY_ID, h_layer) < FM_USER_HANDLERS, true);
}

namespace tr = fm::transport;

// The reliability layer's memory: an idle peer costs a small record; a peer's send and reorder
// windows exist once it is sent to (1,000 ranks with 512-packet windows were about 400 MB).
TEST(Reliable, IdlePeersCostConstantMemory) {
  constexpr std::size_t kPacket = 1472;
  auto memory = [](unsigned size, bool contact) {
    auto fabric = tr::make_loopback_fabric(size);
    tr::ReliableParams p;
    p.rank = 0;
    p.size = size;
    p.window = 512;
    auto rel = tr::open_reliable(tr::open_loopback(fabric, 0, kPacket), p);
    auto peer = tr::open_loopback(fabric, 1, kPacket);  // keeps node 1's endpoint open
    if (contact) {
      const char msg[8] = "hello";
      EXPECT_EQ(rel->inject(1, msg, sizeof msg), FM_SUCCESS) << FM_last_error();
    }
    return rel->memory();
  };
  const std::size_t big = memory(1000, false), bigger = memory(2000, false);
  const double per_idle_peer = static_cast<double>(bigger - big) / 1000.0;
  EXPECT_LT(per_idle_peer, 512.0) << "bytes per idle peer";
  EXPECT_LT(big, std::size_t{8} << 20) << "a 1,000-rank endpoint with no contact";
  const std::size_t one = memory(1000, true) - big;  // one peer's windows, allocated on contact
  EXPECT_GE(one, 512 * 2 * (kPacket - tr::kReliableHeader)) << "a window for the peer sent to";
  EXPECT_LT(one, 512 * 4 * kPacket);
}

}  // namespace
