// memfd.cpp - see memfd.hpp.
#include "util/memfd.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace fm::memfd {

int create_sealed(const char* name, std::size_t len, int* fd, void** base) {
  const int f = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (f < 0) return errno;
  // sealed at its size: no peer's mapping can be cut short under it
  if (ftruncate(f, static_cast<off_t>(len)) != 0 ||
      fcntl(f, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    const int e = errno;
    close(f);
    return e;
  }
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
  if (p == MAP_FAILED) {
    const int e = errno;
    close(f);
    return e;
  }
  *fd = f;
  *base = p;
  return 0;
}

int open_peer(int pid, int fd, int flags) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
  return open(path, flags | O_CLOEXEC);
}

int map_peer(int pid, int fd, int prot, std::size_t min_len, void** base, std::size_t* len) {
  const int f = open_peer(pid, fd, (prot & PROT_WRITE) != 0 ? O_RDWR : O_RDONLY);
  if (f < 0) return errno;
  struct stat st {};
  int e = 0;
  void* p = MAP_FAILED;
  if (fstat(f, &st) != 0)
    e = errno;
  else if (static_cast<std::size_t>(st.st_size) < min_len)
    e = EMSGSIZE;
  else if ((p = mmap(nullptr, static_cast<std::size_t>(st.st_size), prot, MAP_SHARED, f, 0)) ==
           MAP_FAILED)
    e = errno;
  close(f);
  if (e != 0) return e;
  *base = p;
  *len = static_cast<std::size_t>(st.st_size);
  return 0;
}

}  // namespace fm::memfd
