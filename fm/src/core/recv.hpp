// recv.hpp - the receive side: reaping completions, per-sender queues, running handlers (on the
// caller's stack for single-packet messages, on fibers for longer ones), FM_receive (zero-copy
// reads included), returning credits; and wait_until, the one loop every wait of the core runs.
#pragma once

#include <sched.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/liveness.hpp"
#include "core/state.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"

namespace fm::core {

// How a wait runs (Receiver::wait_until): what it waits for (named when it gives up); timed: also
// give up after FM_PEER_TIMEOUT_MS (for what completes locally: a send buffer, the transport
// taking a packet); handlers: run handlers meanwhile (not inside a handler's own FM_receive, nor
// while waiting for a local send buffer); drain: send pending requests and queued answers
// meanwhile (the one-sided engine's waits); yield: sched_yield on an oversubscribed machine (every
// wait by default: what ends it is another process's doing, a peer's or the kernel's, and a
// zero-copy read over tcp that busy-polled waited a time slice for its target per round trip);
// block: what ends it arrives as a packet, so after spinning (idle.hpp) it may sleep until one
// does (when the host is contended, FM_IDLE); room: with block, what ends it is room for a packet
// in node p's transport (Caps::space_wake), which the receiver announces: asked for before the
// sleep (Transport::want_space), rung by it (Transport::on_space -> Idle::notify).
struct Wait {
  const char* what;
  bool timed = false;
  bool handlers = true;
  bool drain = false;
  bool yield = true;
  bool block = false;
  bool room = false;
  std::uint64_t* sleeps = nullptr;  // counts the wait's sleeps (statistics)
};

// Set on the progress thread while it runs in its async-only mode (FM_progress_thread(2)): every
// dispatch on this thread, inside waits too, runs async-safe handlers only.
extern thread_local constinit bool t_async_only FM_TLS_FAST;

class Receiver {
 public:
  Receiver(State& s, Liveness& live) : s_(s), live_(live) {}
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  void setup();  // after State::setup

  // Reaps completions on every lane: arrivals queued, control packets consumed, send buffers
  // freed, callbacks run.  < 0 on a transport failure.
  int progress();
  // Runs handlers for queued packets within the budget (bytes, counted in whole packets); returns
  // the bytes extracted.  async_only (the progress thread in mode 2): only messages for handlers
  // marked async; a sender whose next message is for another stays ready for the program.
  long dispatch(std::size_t budget, bool async_only = false);
  bool anything_ready() const noexcept { return ready_count_ != 0; }
  // FM_receive.
  long receive(void* buf, FM_stream* s, std::size_t n);
  // Credits owed to p go back now (force) or once half a window is owed or p asked.
  void return_credits(unsigned p, bool force);
  // A packet this node sent itself, queued for its handler.
  void deliver_self(Buf* b) { on_data(s_.rank, b); }

  // The one wait: until done() holds.  Ends early with p's error when node p (< size) fails,
  // with FM_ETIMEDOUT when timed and FM_PEER_TIMEOUT_MS passes (unless p is a live process of
  // this host: Liveness::exact; then a warning), or with a transport failure.
  // Meanwhile: progress, handlers and Events::idle (w.handlers), liveness checks, sched_yield
  // on an oversubscribed machine (w.yield).  done() may act (the transmit wait sends in it): once
  // it returns true it is not called again.
  template <typename Done>
  int wait_until(unsigned p, const Wait& w, Done&& done) {
    std::uint64_t start = 0;
    Phase ph;
    WaitingFor mark(p < s_.size ? &s_.peers[p].link.waits : nullptr);  // for Liveness::check
    while (!done()) {
      if (p < s_.size && s_.peers[p].link.failed) return live_.peer_error(p, w.what);
      const int rc = progress();
      if (rc < 0) return rc;
      if (w.handlers) dispatch(SIZE_MAX);
      if (w.drain) s_.events->idle();
      if ((++turns_ & 63) == 0 || g_peer_event) {  // (turns_ persists: FM_test loops count too)
        live_.check();
        if (w.timed && start != UINT64_MAX) {
          const std::uint64_t now = now_ns();
          if (start == 0) start = now;
          if (now - start > s_.cfg.peer_timeout_ms * 1000000ull) {
            if (!live_.exact(p))
              return fail(FM_ETIMEDOUT, "%s: nothing for %u ms (node %u)", w.what,
                          s_.cfg.peer_timeout_ms, p);
            live_.warn_stalled(p, w.what);  // alive: its death would be seen at once
            start = UINT64_MAX;
          }
        }
      }
      if (w.block) {  // two-phase: spin for the bound, then sleep (idle.hpp)
        const std::uint64_t now = now_ns();
        if (ph.idle == nullptr) {
          ph.idle = s_.idle.get();
          ph.idle->enter_wait();
          ph.since = now;
          ph.contended = ph.idle->blocks();
        } else if (now - ph.since >= (ph.contended ? ph.idle->yield_ns() : ph.idle->spin_ns()) &&
                   ph.idle->blocks()) {
          if (w.room) s_.lane_of(p).tp->want_space(p);  // before arm()'s barrier
          ph.idle->arm();
          std::uint64_t slept = 0;
          bool ended = false;  // done() may act (a send): once true, it is not asked again
          if (progress() >= 0 && !anything_ready() && !(ended = done())) {
            slept = sleep_lanes(UINT64_MAX);
            if (w.sleeps != nullptr) ++*w.sleeps;
          }
          ph.idle->disarm(slept);
          if (ended) break;
          ph.since = now_ns();
          continue;
        } else if (ph.contended) {
          sched_yield();  // spin-yield: a runnable process on this CPU may be whom we wait for
          continue;
        }
      }
      if (w.yield && s_.oversubscribed) sched_yield();  // whom we wait for may need this CPU
    }
    return FM_SUCCESS;
  }

  // Phase 2 of a wait, once armed and nothing is ready: sleeps on the doorbell and the lanes'
  // wait objects for at most max_ns (shorter when a lane cannot wake us: 1 ms naps, so that
  // datagram lanes' timers and fd-less lanes still progress; the liveness interval otherwise).
  // Returns the time slept, 0 when a lane had completions pending.
  std::uint64_t sleep_lanes(std::uint64_t max_ns);
  // Whether every lane can wake a sleep (a wait object, or the doorbell for same-host peers).
  bool lanes_wake() const noexcept;
  // The lanes' wait objects (at most max) for a sleep, after their try_wait; false when a lane
  // has completions pending (no sleep then).
  bool wait_fds(pollfd* fds, nfds_t max, nfds_t* n);

  // The running extraction's budget (a suspended handler's FM_receive checks it).
  std::size_t extracted() const noexcept { return extracted_; }
  // Handlers started or resumed so far (a wait ends when one ran, even for a message without
  // payload, which extracts 0 bytes).
  std::uint64_t handler_runs() const noexcept { return handler_runs_; }

 private:
  void on_arrival(Buf* b);
  void on_data(unsigned p, Buf* b);
  void on_send_done(Buf* b);
  void repost(Buf* b);
  void mark_ready(unsigned p) noexcept;
  void run_peer(unsigned p);
  bool async_runnable(unsigned p) const noexcept;
  void start_message(unsigned p);
  void finish_message(unsigned p);
  static void fiber_main(void* arg);
  void resume_fiber(unsigned p);
  void run_handler(FM_handler fn, unsigned p);
  void release_rx(Buf* b);
  int rma_read(unsigned p, Buf* b, std::byte* dst, std::size_t k);
  // Counts a packet popped for a handler against the budget: all of it, or for a zero-copy
  // descriptor its first packet's worth (the rest as FM_receive reads it).
  void charge(Peer& q, Buf* b) noexcept {
    b->charged =
        b->rndv ? std::min<std::uint32_t>(b->len, static_cast<std::uint32_t>(s_.max_rx_payload))
                : b->len;
    extracted_ += b->charged;
    q.stats.bytes_in += b->len;
  }

  State& s_;
  Liveness& live_;
  bool credit_pending_ = false;  // some peer's credit packet could not be sent yet
  std::uint32_t turns_ = 0;      // rounds of every wait: liveness is checked every 64th
  struct Phase {  // a blocking wait's phase: spinning since `since`; the wait ends computing
    Idle* idle = nullptr;
    std::uint64_t since = 0;
    bool contended = false;  // waits sleep on this host now: spinning yields the CPU
    ~Phase() {
      if (idle != nullptr) idle->leave_wait();
    }
  };

  struct WaitingFor {  // counts a wait in PeerLink::waits while it lasts
    std::uint32_t* n;
    explicit WaitingFor(std::uint32_t* c) noexcept : n(c) {
      if (n != nullptr) ++*n;
    }
    ~WaitingFor() {
      if (n != nullptr) --*n;
    }
    WaitingFor(const WaitingFor&) = delete;
    WaitingFor& operator=(const WaitingFor&) = delete;
  };

  // zero-copy reads in flight (a callback context the transport completes)
  struct Reads {
    OpCtx op;
    std::uint32_t outstanding = 0;
    bool failed = false;
  } reads_;

  // dispatch
  std::vector<unsigned> ready_;  // ring of ready peers
  std::size_t ready_head_ = 0, ready_count_ = 0;
  std::size_t budget_ = 0;
  std::size_t extracted_ = 0;
  std::uint64_t handler_runs_ = 0;
  bool quit_ = false;
  std::vector<std::unique_ptr<Fiber>> fibers_;  // free fibers

 public:
  std::uint64_t dropped = 0;  // messages for unregistered handlers
  bool quit() const noexcept { return quit_; }
};

}  // namespace fm::core
