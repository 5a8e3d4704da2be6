// core_ops.hpp - what the one-sided engine may use of the core: a narrow facade over the
// messaging parts (send, stream, receive, wait, pending), the peers' liveness and lanes.  The
// engine never touches the core's state directly.
#pragma once

#include <cstddef>

#include "core/liveness.hpp"
#include "core/recv.hpp"
#include "core/send.hpp"
#include "core/state.hpp"

namespace fm::core {

class CoreOps {
 public:
  CoreOps(State& s, Liveness& live, Receiver& rx, Sender& tx)
      : s_(s), live_(live), rx_(rx), tx_(tx) {}

  unsigned rank() const noexcept { return s_.rank; }
  unsigned size() const noexcept { return s_.size; }
  bool closed() const noexcept { return s_.closed; }
  bool in_handler() const noexcept { return s_.in_handler(); }
  bool oversubscribed() const noexcept { return s_.oversubscribed; }
  const Config& config() const noexcept { return s_.cfg; }

  // peers
  bool failed(unsigned p) const noexcept { return s_.peers[p].link.failed; }
  bool same_host(unsigned p) const noexcept { return s_.peers[p].link.same_host; }
  int pid(unsigned p) const noexcept { return s_.peers[p].link.pid; }
  int peer_error(unsigned p, const char* op) const { return live_.peer_error(p, op); }
  // p's BYE arrived and every message it sent before is handled: it will answer nothing more.
  bool finished_sending(unsigned p) const noexcept {
    const PeerRx& r = s_.peers[p].rx;
    return r.bye && r.q.empty() && r.state == PeerRx::kIdle;
  }
  std::size_t payload(unsigned p) const noexcept { return s_.peers[p].tx.payload; }
  // Pieces of at least this many bytes to p go zero-copy when sent outside handlers (0: never).
  std::size_t zcopy(unsigned p) noexcept {
    const Lane& l = s_.lane_of(p);
    return p != s_.rank && l.caps().rma_read ? l.zcopy : 0;
  }
  bool stream_open(unsigned p) const noexcept { return s_.peers[p].tx.stream_open; }

  // messaging
  int send(unsigned dest, int handler, const void* buf, std::size_t n) {
    return tx_.send(dest, handler, buf, n);
  }
  FM_stream* begin(unsigned dest, std::size_t length, int handler) {
    return tx_.begin_message(dest, length, handler);
  }
  int piece(FM_stream* s, const void* buf, std::size_t n) { return tx_.send_piece(s, buf, n); }
  int end(FM_stream* s) { return tx_.end_message(s); }
  long receive(void* buf, FM_stream* s, std::size_t n) { return rx_.receive(buf, s, n); }
  int pending_add(unsigned dest, FM_pending* r) { return tx_.pending_add(dest, r); }
  std::size_t pending_count(unsigned dest) const noexcept { return tx_.pending_count(dest); }
  int progress() { return rx_.progress(); }
  template <typename Done>
  int wait_until(unsigned p, const Wait& w, Done&& done) {
    return rx_.wait_until(p, w, done);
  }

  // lanes, for native RMA
  std::size_t lanes() const noexcept { return s_.lanes.size(); }
  Lane& lane(std::size_t i) noexcept { return s_.lanes[i]; }
  const Lane& lane(std::size_t i) const noexcept { return s_.lanes[i]; }
  int lane_of(unsigned p) const noexcept { return s_.peers[p].link.lane; }

 private:
  State& s_;
  Liveness& live_;
  Receiver& rx_;
  Sender& tx_;
};

}  // namespace fm::core
