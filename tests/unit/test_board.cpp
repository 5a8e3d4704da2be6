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

TEST(Board, UnlinkedOnceMappedAndMappingsStayValid) {
  auto r0 = make(0, 2), r1 = make(1, 2);
  ASSERT_TRUE(r0 && r1);
  const std::string path = "/dev/shm" + r0->name();
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
  const Board::Word* w = r1->attach(r0->name(), 0, 1);
  ASSERT_NE(w, nullptr);
  r0->unlink();
  EXPECT_NE(access(path.c_str(), F_OK), 0) << path << " left behind";
  r0->post(1, 5);
  EXPECT_EQ(Board::peek(w), 5u);
  EXPECT_EQ(r1->attach(r0->name(), 0, 1), nullptr);  // gone: a late reader is refused
}

TEST(Board, DestroyedBoardLeavesNothing) {
  std::string path;
  {
    auto b = make(0, 2);
    ASSERT_TRUE(b);
    path = "/dev/shm" + b->name();
    EXPECT_EQ(access(path.c_str(), F_OK), 0);
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

TEST(Board, WrongBoardsRefusedByName) {
  auto r0 = make(0, 2), r1 = make(1, 2), small = make(0, 1);
  ASSERT_TRUE(r0 && r1 && small);
  EXPECT_EQ(r1->attach(r0->name(), 1, 1), nullptr);  // rank 0's board claimed as rank 1's
  EXPECT_NE(std::string(fm::last_error()).find("is not node 1's board"), std::string::npos)
      << fm::last_error();
  EXPECT_EQ(r1->attach(small->name(), 0, 1), nullptr);  // a job of one: no line for rank 1
  EXPECT_NE(std::string(fm::last_error()).find(small->name()), std::string::npos)
      << fm::last_error();
  EXPECT_EQ(r1->attach("-", 0, 1), nullptr);
  EXPECT_NE(std::string(fm::last_error()).find("node 0 published no board"), std::string::npos);
  EXPECT_EQ(r1->attach("/fm-board.no-such", 0, 1), nullptr);
  EXPECT_NE(std::string(fm::last_error()).find("shm_open failed"), std::string::npos);
}

}  // namespace
