// shm_ring.hpp - the single-producer/single-consumer packet ring of FM's shared-memory transport
// (transport/shm.cpp), header-only so that its unit tests (ASan, TSan) and micro-benchmarks
// compile it alone.
//
// A ring is `cells` 64-byte cells (a power of two) in memory both processes map.  A packet of L
// bytes takes ceil((8 + L) / 64) consecutive cells; its first 8 bytes are {stamp, len} and the
// payload follows contiguously (wrapping at the end of the ring: two memcpys, no pad cells).
//
//  * stamp = (absolute index of the packet's first cell mod (2^32 - 1)) + 1, never 0 for a packet
//    that is there.  The writer stores payload and len, then the stamp (release); the reader
//    accepts the cell at its head when its stamp is stamp(head) (acquire).  So the common case, a
//    small packet in a ping-pong, moves one cache line: no separate tail word to fetch.
//  * A cell that was the middle of an earlier packet holds payload where a stamp would be: the
//    reader zeroes those words as it consumes a packet (before publishing the head), so every
//    cell's first word is either a real stamp or 0, and a stamp from an earlier lap (index - k*C)
//    never equals stamp(head): every cell is rewritten on every lap, and C (a power of two) is no
//    multiple of 2^32 - 1.
//  * The reader publishes its head (cells consumed) in a word the writer reads only when its
//    cached view of the free space is short.
//
// Nothing here allocates, locks or calls the system.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fm::transport::shm {

inline constexpr std::size_t kCell = 64;
inline constexpr std::size_t kCellHeader = 8;  // stamp + len

// Cells a packet of len bytes takes.
constexpr std::uint64_t cells_for(std::size_t len) noexcept {
  return (kCellHeader + len + kCell - 1) / kCell;
}

namespace detail {
constexpr std::uint32_t stamp_of(std::uint64_t index) noexcept {
  return static_cast<std::uint32_t>(index % 0xffffffffull) + 1;
}
inline std::atomic_ref<std::uint32_t> stamp_at(std::byte* cell) noexcept {
  return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(cell));
}
}  // namespace detail

// The producer's side.  `cells` points at the ring (64-byte aligned, ncells a power of two);
// `head` at the consumer's published head.
class RingWriter {
 public:
  RingWriter() = default;
  RingWriter(std::byte* cells, std::uint32_t ncells,
             const std::atomic<std::uint64_t>* head) noexcept
      : cells_(cells), mask_(ncells - 1), head_(head) {}

  // Largest packet a ring of ncells can take (a quarter of it, so a full-size packet always finds
  // room after a few smaller ones are consumed).
  static constexpr std::size_t max_packet(std::uint32_t ncells) noexcept {
    return std::size_t{ncells} * kCell / 4 - kCellHeader;
  }

  // Appends the gathered packet (total bytes); false when the ring has no room for it now.
  bool push(const iovec* iov, std::size_t iovcnt, std::size_t total) noexcept {
    const std::uint64_t need = cells_for(total);
    const std::uint64_t cap = std::uint64_t{mask_} + 1;
    if (need > cap - (tail_ - head_cache_)) {
      head_cache_ = head_->load(std::memory_order_acquire);
      if (need > cap - (tail_ - head_cache_)) return false;
    }
    const std::size_t ring_bytes = cap * kCell;
    std::byte* first = cells_ + (tail_ & mask_) * kCell;
    const auto len32 = static_cast<std::uint32_t>(total);
    std::memcpy(first + 4, &len32, 4);  // len (the stamp's release publishes it)
    std::size_t pos = (tail_ & mask_) * kCell + kCellHeader;
    for (std::size_t i = 0; i < iovcnt; ++i) {
      const auto* src = static_cast<const std::byte*>(iov[i].iov_base);
      std::size_t n = iov[i].iov_len;
      if (n == 0) continue;  // (its base may be null)
      if (pos + n > ring_bytes) {
        const std::size_t part = ring_bytes - pos;
        std::memcpy(cells_ + pos, src, part);
        src += part;
        n -= part;
        pos = 0;
      }
      std::memcpy(cells_ + pos, src, n);
      pos += n;
      if (pos == ring_bytes) pos = 0;
    }
    detail::stamp_at(first).store(detail::stamp_of(tail_), std::memory_order_release);
    tail_ += need;
    return true;
  }
  bool push(const void* buf, std::size_t len) noexcept {
    const iovec iov{const_cast<void*>(buf), len};
    return push(&iov, 1, len);
  }

  // Whether `need` more cells fit now (the published head is read again only when the one last
  // seen says no).  The ring's size in cells: capacity().
  bool room(std::uint64_t need) noexcept {
    const std::uint64_t cap = capacity();
    if (need <= cap - (tail_ - head_cache_)) return true;
    head_cache_ = head_->load(std::memory_order_acquire);
    return need <= cap - (tail_ - head_cache_);
  }
  std::uint64_t capacity() const noexcept { return std::uint64_t{mask_} + 1; }

  // Cells written so far, and the head last seen (tests).
  std::uint64_t tail() const noexcept { return tail_; }
  // True when the consumer has taken everything written (reads the published head).
  bool drained() noexcept {
    head_cache_ = head_->load(std::memory_order_acquire);
    return head_cache_ == tail_;
  }

 private:
  std::byte* cells_ = nullptr;
  std::uint32_t mask_ = 0;
  const std::atomic<std::uint64_t>* head_ = nullptr;
  std::uint64_t tail_ = 0;        // private: cells written
  std::uint64_t head_cache_ = 0;  // the consumer's head as last read
};

// The consumer's side.
class RingReader {
 public:
  RingReader() = default;
  RingReader(std::byte* cells, std::uint32_t ncells, std::atomic<std::uint64_t>* head) noexcept
      : cells_(cells), mask_(ncells - 1), head_pub_(head) {}

  // The length of the packet at the head, or -1 when there is none.
  long peek() const noexcept {
    std::byte* c = cells_ + (head_ & mask_) * kCell;
    if (detail::stamp_at(c).load(std::memory_order_acquire) != detail::stamp_of(head_)) return -1;
    std::uint32_t len;
    std::memcpy(&len, c + 4, 4);
    return static_cast<long>(len);
  }
  // Copies the head packet's len bytes (len from peek()) to dst.
  void copy(void* dst, std::size_t len) const noexcept {
    const std::size_t ring_bytes = (std::size_t{mask_} + 1) * kCell;
    const std::size_t pos = (head_ & mask_) * kCell + kCellHeader;
    auto* d = static_cast<std::byte*>(dst);
    if (len == 0) return;
    if (pos + len > ring_bytes) {
      const std::size_t part = ring_bytes - pos;
      std::memcpy(d, cells_ + pos, part);
      std::memcpy(d + part, cells_, len - part);
    } else {
      std::memcpy(d, cells_ + pos, len);
    }
  }
  // Consumes the head packet (len bytes): its middle cells' stamp words are cleared (see above).
  // The head becomes visible to the writer at publish().
  void pop(std::size_t len) noexcept {
    const std::uint64_t need = cells_for(len);
    for (std::uint64_t i = 1; i < need; ++i)
      detail::stamp_at(cells_ + ((head_ + i) & mask_) * kCell).store(0, std::memory_order_relaxed);
    head_ += need;
  }
  void publish() noexcept { head_pub_->store(head_, std::memory_order_release); }
  std::uint64_t head() const noexcept { return head_; }

 private:
  std::byte* cells_ = nullptr;
  std::uint32_t mask_ = 0;
  std::atomic<std::uint64_t>* head_pub_ = nullptr;
  std::uint64_t head_ = 0;  // private: cells consumed
};

}  // namespace fm::transport::shm
