// board.hpp - acknowledgement words in shared memory, between processes of one host.
//
// A zero-copy sender must learn when its receiver has read the buffer.  Over a network that is a
// credit packet the receiver sends at once; between processes of one host it is a word in shared
// memory.  Every process owns a board with one cache line per node of the job, where it stores
// how many packets from that node it has consumed; its same-host senders map the board read-only
// and watch their own line.  This spares the receiver a send (~0.5 us through libfabric's shm
// queues) and the sender a completion per zero-copy message: what MPICH's and Open MPI's
// shared-memory transports do with their completion flags.
//
// A board is an anonymous memory file (memfd), never a name in /dev/shm: peers open it through
// /proc/PID/fd/FD (the access rule of /proc, same user), so nothing is left behind however a job
// ends, even when a process is killed during FM_initialize.
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

  // Creates this process's board, a line for each of `size` nodes.  nullptr and a status (with
  // FM_last_error()) when shared memory is unavailable.
  static std::unique_ptr<Board> create(unsigned rank, unsigned size, int* rc);
  ~Board();
  Board(const Board&) = delete;
  Board& operator=(const Board&) = delete;

  // What peers need to attach it (printable, no spaces or commas): "PID:FD:NONCE".
  const std::string& name() const noexcept { return name_; }
  // Maps the board named `name` of node `peer` (read-only) and returns its line for node `me`,
  // or nullptr (with FM_last_error()) when it cannot be mapped or is not that node's board.
  const Word* attach(const std::string& name, unsigned peer, unsigned me);
  // Closes the descriptor peers open it through, once they all have: later attaches fail; the
  // mappings stay valid.
  void unpublish() noexcept;

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
  int fd_ = -1;
  void* base_ = nullptr;
  std::size_t len_ = 0;
  struct Mapping {
    void* base;
    std::size_t len;
  };
  std::vector<Mapping> peers_;  // boards of others, mapped read-only
};

}  // namespace fm::core
