// segment.hpp - on-host segments (FM_alloc_segment, FM_region_ptr): memory in an anonymous memory
// file (memfd, sealed at its size), registered with the one-sided engine, that processes of the
// same host map and reach with loads and stores.  A peer maps a segment through
// /proc/PID/fd/FD (the access rule of /proc: same user), checking the file's name, which carries
// the segment's nonce, and its size; the owner keeps the descriptor open while the segment lives.
// Nothing is ever named in /dev/shm, so nothing is left behind however a job ends.  SHMEM-FM's
// symmetric heap and GA-FM's ARMCI memory live in segments; share() turns memory the process
// already has (SHMEM-FM: the executable's global data) into a segment in place, and a fork()
// handler gives a child private copies of such ranges again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/rma.hpp"

namespace fm::core {

class Segments {
 public:
  Segments(CoreOps core, RmaEngine& rma) : core_(core), rma_(rma) {}
  ~Segments();
  Segments(const Segments&) = delete;
  Segments& operator=(const Segments&) = delete;

  int alloc(std::size_t len, unsigned access, void** addr, FM_region* out);
  // FM_share_memory: the range's contents move into a segment mapped over it (in place).
  int share(void* addr, std::size_t len, unsigned access, FM_region* out);
  int free(const FM_region* r);
  void* ptr(const FM_region* r);
  int unmap(const FM_region* r);

 private:
  struct Own {
    void* base;
    std::size_t bytes;  // mapped (page-rounded)
    int fd;
    std::uint64_t key;
    bool in_place;  // made by share(): stays mapped when freed (the caller's memory)
  };
  struct Mapped {
    unsigned node;
    std::uint64_t id;  // the descriptor's opaque[kSegmentSlot]: fd | nonce << 32
    void* base;
    std::size_t bytes;
  };
  CoreOps core_;
  RmaEngine& rma_;
  std::vector<Own> own_;
  std::vector<Mapped> mapped_;
};

}  // namespace fm::core
