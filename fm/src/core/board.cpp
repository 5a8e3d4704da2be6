// board.cpp - see board.hpp.
#include "core/board.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/error.hpp"

namespace fm::core {

namespace {

constexpr std::uint64_t kMagic = 0x31445242'4d46ull;  // "FMBRD1"

struct Header {
  std::uint64_t magic;
  std::uint64_t size;   // nodes of the job
  std::uint64_t owner;  // rank that writes it
};

std::size_t page_round(std::size_t len) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (len + page - 1) / page * page;
}

}  // namespace

std::unique_ptr<Board> Board::create(unsigned rank, unsigned size, int* rc) {
  std::unique_ptr<Board> b(new Board());
  b->len_ = page_round(kLine * (1 + static_cast<std::size_t>(size)));
  static std::atomic<unsigned> serial{0};
  char name[64];
  std::snprintf(name, sizeof name, "/fm-board.%d.%u", static_cast<int>(getpid()),
                serial.fetch_add(1));
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0 && errno == EEXIST) {  // left by a process with our pid killed during its set-up
    shm_unlink(name);
    fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  }
  if (fd < 0) {
    *rc = fail(FM_ENOMEM, "shm_open(%s) failed: %s", name, std::strerror(errno));
    return nullptr;
  }
  b->name_ = name;
  b->linked_ = true;
  if (ftruncate(fd, static_cast<off_t>(b->len_)) != 0) {
    *rc = fail(FM_ENOMEM, "ftruncate of board %s to %zu bytes failed: %s", b->name_.c_str(),
               b->len_, std::strerror(errno));
    close(fd);
    return nullptr;  // the destructor unlinks it
  }
  void* p = mmap(nullptr, b->len_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    *rc = fail(FM_ENOMEM, "mmap of board %s failed: %s", b->name_.c_str(), std::strerror(errno));
    return nullptr;
  }
  b->base_ = p;  // zero-filled: nothing consumed yet
  const Header h{kMagic, size, rank};
  std::memcpy(p, &h, sizeof h);
  *rc = FM_SUCCESS;
  return b;
}

Board::~Board() {
  for (const Mapping& m : peers_) munmap(m.base, m.len);
  if (base_ != nullptr) munmap(base_, len_);
  unlink();
}

const Board::Word* Board::attach(const std::string& name, unsigned peer, unsigned me) {
  if (name.empty() || name[0] != '/') {
    fail(FM_ELAUNCH, "node %u published no board", peer);
    return nullptr;
  }
  const int fd = shm_open(name.c_str(), O_RDONLY, 0);
  if (fd < 0) {
    fail(FM_ELAUNCH, "node %u's board %s: shm_open failed: %s", peer, name.c_str(),
         std::strerror(errno));
    return nullptr;
  }
  struct stat st {};
  void* p = MAP_FAILED;
  if (fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) >= kLine * (2 + std::size_t{me}))
    p = mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    fail(FM_ELAUNCH, "node %u's board %s cannot be mapped (%lld bytes)", peer, name.c_str(),
         static_cast<long long>(st.st_size));
    return nullptr;
  }
  Header h;
  std::memcpy(&h, p, sizeof h);
  if (h.magic != kMagic || h.owner != peer || h.size <= me) {
    munmap(p, static_cast<std::size_t>(st.st_size));
    fail(FM_ELAUNCH, "%s is not node %u's board (another job's, or another FM version's)",
         name.c_str(), peer);
    return nullptr;
  }
  peers_.push_back(Mapping{p, static_cast<std::size_t>(st.st_size)});
  return reinterpret_cast<const Word*>(static_cast<const std::byte*>(p) + kLine * (1 + me));
}

void Board::unlink() noexcept {
  if (linked_) shm_unlink(name_.c_str());
  linked_ = false;
}

}  // namespace fm::core
