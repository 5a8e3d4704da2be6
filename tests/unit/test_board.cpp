// Boards (fm/src/core/board.hpp): the shared-memory words through which a same-host receiver
// tells zero-copy senders what it has consumed.  Two boards of one process stand for two ranks.
#include "core/board.hpp"

#include <fm/fm.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "util/error.hpp"

namespace {

using fm::core::Board;

std::unique_ptr<Board> make(unsigned rank, unsigned size) {
  int rc = -1;
  auto b = Board::create(rank, size, &rc);
  EXPECT_EQ(rc, FM_SUCCESS) << fm::last_error();
  return b;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Board, PostsReachTheSendersLineOnly) {
  auto r0 = make(0, 3), r2 = make(2, 3);
  ASSERT_TRUE(r0 && r2);
  EXPECT_NE(r0->name(), r2->name());
  // rank 2 sends to rank 0: it watches its line (2) of rank 0's board
  const Board::Word* w = r2->attach(r0->name(), 0, 2);
  ASSERT_NE(w, nullptr) << fm::last_error();
  EXPECT_EQ(Board::peek(w), 0u);
  r0->post(2, 7);
  EXPECT_EQ(Board::peek(w), 7u);
  r0->post(1, 99);  // another sender's line
  EXPECT_EQ(Board::peek(w), 7u);
  r0->post(2, 1ull << 40);  // counts beyond 32 bits
  EXPECT_EQ(Board::peek(w), 1ull << 40);
}

TEST(Board, UnpublishedAfterMappingAndMappingsStayValid) {
  auto r0 = make(0, 2), r1 = make(1, 2);
  ASSERT_TRUE(r0 && r1);
  const Board::Word* w = r1->attach(r0->name(), 0, 1);
  ASSERT_NE(w, nullptr);
  r0->unpublish();
  r0->post(1, 5);
  EXPECT_EQ(Board::peek(w), 5u);
  EXPECT_EQ(r1->attach(r0->name(), 0, 1), nullptr);  // a late reader is refused
  EXPECT_TRUE(has(fm::last_error(), "cannot be opened")) << fm::last_error();
}

TEST(Board, NoNameInDevShm) {
  const std::string before = std::to_string(getpid()) + ":";
  auto b = make(0, 2);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->name().rfind(before, 0), 0u) << b->name();  // PID:FD:NONCE
  const std::string fd =
      b->name().substr(before.size(), b->name().find(':', before.size()) - before.size());
  char target[256] = {};
  ASSERT_GT(readlink(("/proc/self/fd/" + fd).c_str(), target, sizeof target - 1), 0);
  EXPECT_TRUE(has(target, "/memfd:fm-board")) << target;  // anonymous: nothing to clean up
}

TEST(Board, WrongBoardsRefusedByName) {
  auto r0 = make(0, 2), r1 = make(1, 2), small = make(0, 1);
  ASSERT_TRUE(r0 && r1 && small);
  EXPECT_EQ(r1->attach(r0->name(), 1, 1), nullptr);  // rank 0's board claimed as rank 1's
  EXPECT_TRUE(has(fm::last_error(), "is not node 1's board")) << fm::last_error();
  EXPECT_EQ(r1->attach(small->name(), 0, 1), nullptr);  // a job of one: no line for rank 1
  EXPECT_TRUE(has(fm::last_error(), "node 0's board")) << fm::last_error();
  // the right descriptor with another nonce (a reused pid or descriptor)
  std::string stale = r0->name();
  stale.back() = stale.back() == '0' ? '1' : '0';
  EXPECT_EQ(r1->attach(stale, 0, 1), nullptr);
  EXPECT_TRUE(has(fm::last_error(), "is not node 0's board")) << fm::last_error();
  EXPECT_EQ(r1->attach("-", 0, 1), nullptr);
  EXPECT_TRUE(has(fm::last_error(), "node 0 published no board")) << fm::last_error();
  EXPECT_EQ(r1->attach("1:2:3 ", 0, 1), nullptr);  // trailing garbage
  EXPECT_TRUE(has(fm::last_error(), "published no board")) << fm::last_error();
}

}  // namespace
