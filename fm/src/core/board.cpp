// board.cpp - see board.hpp.
#include "core/board.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <random>

#include "util/error.hpp"
#include "util/memfd.hpp"

namespace fm::core {

namespace {

constexpr std::uint64_t kMagic = 0x32445242'4d46ull;  // "FMBRD2"

struct Header {
  std::uint64_t magic;
  std::uint64_t size;   // nodes of the job
  std::uint64_t owner;  // rank that writes it
  std::uint64_t nonce;  // also in its name: a reused pid or descriptor is not mistaken for it
};

}  // namespace

std::unique_ptr<Board> Board::create(unsigned rank, unsigned size, int* rc) {
  std::unique_ptr<Board> b(new Board());
  b->len_ = kLine * (1 + static_cast<std::size_t>(size));  // mmap rounds it to pages
  void* p = nullptr;
  if (const int e = memfd::create_sealed("fm-board", b->len_, &b->fd_, &p); e != 0) {
    *rc = fail(FM_ENOMEM, "a %zu-byte board: %s", b->len_, std::strerror(e));
    return nullptr;
  }
  b->base_ = p;  // zero-filled: nothing consumed yet
  std::random_device rd;
  const Header h{kMagic, size, rank, (std::uint64_t{rd()} << 32) | rd()};
  std::memcpy(p, &h, sizeof h);
  char name[64];
  std::snprintf(name, sizeof name, "%d:%d:%016" PRIx64, static_cast<int>(getpid()), b->fd_,
                h.nonce);
  b->name_ = name;
  *rc = FM_SUCCESS;
  return b;
}

Board::~Board() {
  for (const Mapping& m : peers_) munmap(m.base, m.len);
  if (base_ != nullptr) munmap(base_, len_);
  unpublish();
}

const Board::Word* Board::attach(const std::string& name, unsigned peer, unsigned me) {
  int pid = 0, fd = -1, used = 0;
  std::uint64_t nonce = 0;
  if (std::sscanf(name.c_str(), "%d:%d:%" SCNx64 "%n", &pid, &fd, &nonce, &used) != 3 ||
      static_cast<std::size_t>(used) != name.size()) {
    fail(FM_ELAUNCH, "node %u published no board (\"%s\")", peer, name.c_str());
    return nullptr;
  }
  const std::string path = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  void* p = nullptr;
  std::size_t len = 0;
  if (const int e = memfd::map_peer(pid, fd, PROT_READ, kLine * (2 + std::size_t{me}), &p, &len);
      e != 0) {
    fail(FM_ELAUNCH, "node %u's board (%s) cannot be opened or mapped: %s", peer, path.c_str(),
         std::strerror(e));
    return nullptr;
  }
  Header h;
  std::memcpy(&h, p, sizeof h);
  if (h.magic != kMagic || h.owner != peer || h.size <= me || h.nonce != nonce) {
    munmap(p, len);
    fail(FM_ELAUNCH, "%s is not node %u's board (another job's, or another FM version's)",
         path.c_str(), peer);
    return nullptr;
  }
  peers_.push_back(Mapping{p, len});
  return reinterpret_cast<const Word*>(static_cast<const std::byte*>(p) + kLine * (1 + me));
}

void Board::unpublish() noexcept {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace fm::core
