// board.hpp - acknowledgement words in shared memory, between processes of one host.
//
// A zero-copy sender must learn when its receiver has read the buffer.  Over a network that is a
// credit packet the receiver sends at once; between processes of one host it is a word in shared
// memory.  Every process owns a segment (its board) with one cache line per node of the job, where
// it stores how many packets from that node it has consumed; its same-host senders map the segment
// read-only and watch their own line.  This spares the receiver a send (~0.5 us through libfabric's
// shm queues) and the sender a completion per zero-copy message: what MPICH's and Open MPI's
// shared-memory transports do with their completion flags.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fm::core {

class Board {
 public:
  using Word = std::atomic<std::uint64_t>;
  static_assert(Word::is_always_lock_free, "board words are shared between processes");

  // Creates this process's board, a line for each of `size` nodes, under a fresh name.
  // nullptr and a status (with FM_last_error()) when shared memory is unavailable.
  static std::unique_ptr<Board> create(unsigned rank, unsigned size, int* rc);
  ~Board();
  Board(const Board&) = delete;
  Board& operator=(const Board&) = delete;

  const std::string& name() const noexcept { return name_; }
  // Maps the board named `name` of node `peer` (read-only) and returns its line for node `me`,
  // or nullptr (with FM_last_error()) when it cannot be mapped or is not that node's board.
  const Word* attach(const std::string& name, unsigned peer, unsigned me);
  // Removes the name once every peer has mapped the board, so that nothing outlives the job
  // even if it is killed; the mappings stay valid.
  void unlink() noexcept;

  // Publishes that `consumed` packets from node `sender` have been consumed: everything read
  // from their buffers before this (a release store) is done.
  void post(unsigned sender, std::uint64_t consumed) noexcept {
    line(sender)->store(consumed, std::memory_order_release);
  }
  // Packets of ours a peer has consumed, as its board says (an acquire load).
  static std::uint64_t peek(const Word* w) noexcept { return w->load(std::memory_order_acquire); }

 private:
  Board() = default;
  Word* line(unsigned node) noexcept {
    return reinterpret_cast<Word*>(static_cast<std::byte*>(base_) + kLine * (1 + node));
  }
  static constexpr std::size_t kLine = 64;  // one cache line per node; line 0 is the header
  std::string name_;
  void* base_ = nullptr;
  std::size_t len_ = 0;
  bool linked_ = false;
  struct Mapping {
    void* base;
    std::size_t len;
  };
  std::vector<Mapping> peers_;  // boards of others, mapped read-only
};

}  // namespace fm::core
