// board.cpp - see board.hpp.
#include "core/board.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <random>

#include "util/error.hpp"

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
  b->fd_ = memfd_create("fm-board", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (b->fd_ < 0) {
    *rc = fail(FM_ENOMEM, "memfd_create of a board failed: %s", std::strerror(errno));
    return nullptr;
  }
  // sealed at its size: no peer's mapping can be cut short under it
  if (ftruncate(b->fd_, static_cast<off_t>(b->len_)) != 0 ||
      fcntl(b->fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    *rc = fail(FM_ENOMEM, "sizing a board to %zu bytes failed: %s", b->len_, std::strerror(errno));
    return nullptr;
  }
  void* p = mmap(nullptr, b->len_, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd_, 0);
  if (p == MAP_FAILED) {
    *rc = fail(FM_ENOMEM, "mmap of a board failed: %s", std::strerror(errno));
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
  const int f = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f < 0) {
    fail(FM_ELAUNCH, "node %u's board (%s) cannot be opened: %s", peer, path.c_str(),
         std::strerror(errno));
    return nullptr;
  }
  struct stat st {};
  void* p = MAP_FAILED;
  if (fstat(f, &st) == 0 && static_cast<std::size_t>(st.st_size) >= kLine * (2 + std::size_t{me}))
    p = mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, f, 0);
  close(f);
  if (p == MAP_FAILED) {
    fail(FM_ELAUNCH, "node %u's board (%s) cannot be mapped (%lld bytes)", peer, path.c_str(),
         static_cast<long long>(st.st_size));
    return nullptr;
  }
  Header h;
  std::memcpy(&h, p, sizeof h);
  if (h.magic != kMagic || h.owner != peer || h.size <= me || h.nonce != nonce) {
    munmap(p, static_cast<std::size_t>(st.st_size));
    fail(FM_ELAUNCH, "%s is not node %u's board (another job's, or another FM version's)",
         path.c_str(), peer);
    return nullptr;
  }
  peers_.push_back(Mapping{p, static_cast<std::size_t>(st.st_size)});
  return reinterpret_cast<const Word*>(static_cast<const std::byte*>(p) + kLine * (1 + me));
}

void Board::unpublish() noexcept {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace fm::core
