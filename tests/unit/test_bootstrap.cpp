// FM_initialize_with: FM joins a job through a launcher interface lent by the program (how MPI-FM
// lends FM MPICH's PMI session).  A one-process job whose key-value store is a map here.
#include <fm/fm.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>

namespace {

struct Kvs {
  std::map<std::string, std::string> pending, visible;
  int puts = 0, fences = 0, gets = 0, barriers = 0;
};

int kv_put(void* ctx, const char* key, const char* value) {
  auto* k = static_cast<Kvs*>(ctx);
  ++k->puts;
  k->pending[key] = value;
  return 0;
}
int kv_fence(void* ctx) {
  auto* k = static_cast<Kvs*>(ctx);
  ++k->fences;
  for (auto& kv : k->pending) k->visible[kv.first] = kv.second;
  k->pending.clear();
  return 0;
}
int kv_get(void* ctx, const char* key, char* value, size_t len) {
  auto* k = static_cast<Kvs*>(ctx);
  ++k->gets;
  auto it = k->visible.find(key);
  if (it == k->visible.end() || it->second.size() + 1 > len) return 1;
  std::memcpy(value, it->second.c_str(), it->second.size() + 1);
  return 0;
}
int kv_barrier(void* ctx) {
  ++static_cast<Kvs*>(ctx)->barriers;
  return 0;
}

FM_bootstrap lend(Kvs* k) {
  FM_bootstrap b{};
  b.rank = 0;
  b.size = 1;
  b.max_value_len = 1024;
  b.ctx = k;
  b.put = kv_put;
  b.fence = kv_fence;
  b.get = kv_get;
  b.barrier = kv_barrier;
  return b;
}

int g_got = 0;
int on_msg(FM_stream* s, unsigned) {
  int v = 0;
  if (FM_receive(&v, s, sizeof v) == sizeof v) g_got = v;
  return FM_CONTINUE;
}

}  // namespace

TEST(Bootstrap, InitializeWithALentKeyValueStore) {
  Kvs kvs;
  FM_bootstrap b = lend(&kvs);
  ASSERT_EQ(FM_initialize_with(&b), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(FM_numnodes(), 1u);
  EXPECT_EQ(FM_nodeid(), 0u);
  EXPECT_GT(kvs.puts, 0);  // FM published its host record through the lender...
  EXPECT_GT(kvs.fences, 0);
  EXPECT_GT(kvs.gets, 0);  // ...and read it back after the fence
  EXPECT_EQ(FM_initialize_with(&b), FM_EALREADY);
  ASSERT_EQ(FM_register_handler(7, on_msg), 7);
  int v = 42;
  ASSERT_EQ(FM_send(0, 7, &v, sizeof v), FM_SUCCESS);
  while (g_got != 42) ASSERT_GE(FM_extract(SIZE_MAX), 0);
  EXPECT_EQ(FM_finalize(), FM_SUCCESS);
  EXPECT_EQ(FM_unregister_handler(7), FM_SUCCESS);
}

TEST(Bootstrap, IncompleteOrInconsistentLenderIsRefused) {
  Kvs kvs;
  FM_bootstrap b = lend(&kvs);
  EXPECT_EQ(FM_initialize_with(nullptr), FM_EINVAL);
  b.get = nullptr;
  EXPECT_EQ(FM_initialize_with(&b), FM_EINVAL);
  EXPECT_NE(std::strstr(FM_last_error(), "put/fence/get/barrier"), nullptr) << FM_last_error();
  b = lend(&kvs);
  b.rank = 3;
  EXPECT_EQ(FM_initialize_with(&b), FM_EINVAL);
  EXPECT_NE(std::strstr(FM_last_error(), "rank 3"), nullptr) << FM_last_error();
  b = lend(&kvs);
  b.max_value_len = 8;
  EXPECT_EQ(FM_initialize_with(&b), FM_EINVAL);
}

TEST(Bootstrap, LenderFailureIsALaunchError) {
  Kvs kvs;
  FM_bootstrap b = lend(&kvs);
  b.fence = [](void*) { return 1; };  // puts never become visible
  EXPECT_EQ(FM_initialize_with(&b), FM_ELAUNCH);
  EXPECT_NE(std::strstr(FM_last_error(), "fence"), nullptr) << FM_last_error();
  // and FM is still usable afterwards
  b = lend(&kvs);
  ASSERT_EQ(FM_initialize_with(&b), FM_SUCCESS) << FM_last_error();
  EXPECT_EQ(FM_finalize(), FM_SUCCESS);
}
