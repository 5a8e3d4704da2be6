// send.hpp - the send side: streams (FM_begin_message, FM_send_piece, FM_end_message), FM 1.1
// sends with their inject fast path, credit waits, gathered sends straight from the caller's
// buffer, zero-copy pieces read by the receiver, and the pending-send queue (FM_pending).
#pragma once

#include <cstddef>

#include "core/liveness.hpp"
#include "core/recv.hpp"
#include "core/state.hpp"

namespace fm::core {

class Sender {
 public:
  Sender(State& s, Liveness& live, Receiver& rx) : s_(s), live_(live), rx_(rx) {}
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // no_wait: reserve the whole message's credits now or fail with FM_EAGAIN, as inside handlers.
  FM_stream* begin_message(unsigned dest, std::size_t length, int handler, bool no_wait = false);
  int send_piece(FM_stream* s, const void* buf, std::size_t n);
  int end_message(FM_stream* s);
  int send(unsigned dest, int handler, const void* buf, std::size_t n, bool no_wait = false);

  // Pending sends (FM_pending_add).  drain() calls the heads' functions, in order per destination;
  // outside handlers only, never re-entered.
  int pending_add(unsigned dest, FM_pending* req);
  std::size_t pending_count(unsigned dest) const noexcept;
  bool any_pending() const noexcept { return pending_total_ != 0; }
  std::size_t pending_total() const noexcept { return pending_total_; }
  // A failed peer's requests stay until drained: their functions see the failure (their sends
  // fail with FM_EPEERFAILED) and report it.
  void drain(bool async_only = false);

  std::size_t max_message() const noexcept { return SIZE_MAX / 2; }
  // FM_try_max: the largest length begin_message(dest, length, h, true) can promise once dest
  // has caught up (every credit back, its ring drained).
  std::size_t try_max(unsigned dest) const noexcept;

 private:
  Buf* get_tx_buf(unsigned dest);  // may progress; nullptr when a peer failed meanwhile
  int wait_credit(unsigned p);     // outside handlers: extracts until a credit is available
  // A packet of stream o to another node: its credit is one reserved at the stream's begin
  // (inside handlers, FM_try_*), else one to wait for (stream_credit), taken once the packet's
  // buffer is in hand (take_credit).
  int stream_credit(OutStream* o) { return o->reserved > 0 ? FM_SUCCESS : wait_credit(o->peer); }
  void take_credit(OutStream* o) noexcept;
  int flush(OutStream* s, bool last);
  Buf* acquire(OutStream* o, int* rc);
  OutStream* out_stream(FM_stream* s, const char* op);
  int check_dest(unsigned dest, int handler, const char* op);
  int transmit(unsigned dest, Buf* b, const void* ext = nullptr, std::size_t ext_len = 0);
  int send_direct(OutStream* o, const std::byte* src, std::size_t len, bool last);
  int wait_gathered(unsigned dest);
  int send_zcopy(OutStream* o, const std::byte* src, std::size_t n);
  void fill_data_header(OutStream* o, Buf* b, std::uint8_t flags);

  State& s_;
  Liveness& live_;
  Receiver& rx_;
  std::size_t pending_total_ = 0;
  bool draining_ = false;
};

}  // namespace fm::core
