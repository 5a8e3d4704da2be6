// context.hpp - one FM node: the core's parts put together (state, liveness, receive side, send
// side, one-sided engine, on-host segments), finalize, the progress thread and statistics.
//
// The C API drives a process-wide default Context; unit tests create several over the loopback
// transport in one process.  Single-threaded (FM's thread-safety level is "funneled": one thread
// calls FM at a time), except with the progress thread, when every API call takes api_lock().
#pragma once

#include <fm/fm.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/core_ops.hpp"
#include "core/liveness.hpp"
#include "core/recv.hpp"
#include "core/rma.hpp"
#include "core/segment.hpp"
#include "core/send.hpp"
#include "core/state.hpp"

namespace fm::core {

// An FM_ATOMIC_* operation on a local word, as a target applies a peer's (FM_atomic_local).
std::uint64_t apply_local(void* p, int op, int type, std::uint64_t operand,
                          std::uint64_t compare) noexcept;

class Context final : private Events {
 public:
  // Takes the wiring; posts receive buffers.  Returns nullptr with the status in *rc on failure.
  static std::unique_ptr<Context> create(Wiring&& w, int* rc);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  unsigned rank() const noexcept { return st_.rank; }
  unsigned size() const noexcept { return st_.size; }
  std::size_t payload() const noexcept { return st_.max_rx_payload; }  // FM_packet_payload
  const Peer& peer(unsigned i) const noexcept { return st_.peers[i]; }
  const Config& config() const noexcept { return st_.cfg; }
  const char* transport_name(unsigned node) const noexcept;
  std::uint64_t retransmissions(unsigned node) const noexcept;
  // Bytes of our reads from node that node copied for us (shm's split copies).
  std::uint64_t shared_copy_bytes(unsigned node) const noexcept;
  bool in_handler() const noexcept { return st_.in_handler(); }
  bool oversubscribed() const noexcept { return st_.oversubscribed; }
  bool closed() const noexcept { return st_.closed; }
  // Wire-up is over (every node has attached to every other): lanes may withdraw what they
  // published for attaching.
  void connected() {
    for (Lane& l : st_.lanes) l.tp->connected();
  }
  std::uint64_t dropped() const noexcept { return rx_.dropped; }
  std::size_t max_message() const noexcept { return tx_.max_message(); }
  std::size_t try_max(unsigned node) const noexcept { return tx_.try_max(node); }

  // the parts
  Sender& tx() noexcept { return tx_; }
  Receiver& rx() noexcept { return rx_; }
  RmaEngine& rma() noexcept { return rma_; }
  Segments& segments() noexcept { return seg_; }

  // FM API (the rest goes to the parts directly)
  long extract(std::size_t maxbytes);
  long extract_wait(std::size_t maxbytes, int timeout_ms);
  int wait_until(int (*done)(void*), void* arg, int timeout_ms);  // FM_wait_until
  Idle& idler() noexcept { return *st_.idle; }
  long receive(void* buf, FM_stream* s, std::size_t n);
  // Quiesces (drains sends, exchanges BYE with every live node, launcher barrier) and closes.
  int finalize();
  // Ends the job through the launcher (PMI abort) when there is one; returns only without one.
  void abort(int code, const char* msg);

  // Progress thread (FM_PROGRESS_THREAD=1): extracts while the program computes.  With it, every
  // API call takes the Context's lock (api_lock()); without it, api_lock() is a no-op.
  // mode 1: every handler; mode 2: async-safe handlers only (FM_progress_thread).
  void start_progress_thread(int mode = 1);
  void stop_progress_thread();
  int progress_mode() const noexcept { return threaded_ ? progress_mode_ : 0; }
  std::unique_lock<std::recursive_mutex> api_lock() {
    return threaded_ ? std::unique_lock<std::recursive_mutex>(api_mu_)
                     : std::unique_lock<std::recursive_mutex>();
  }
  // The end of an API call, under the lock, with a progress thread: a parked thread is woken
  // when the call left messages ready (their lanes' descriptors then say nothing).
  void leave_api() noexcept {
    if (st_.idle->parked() && (rx_.anything_ready() || tx_.any_pending())) st_.idle->kick();
  }
  // How often the progress thread parked (FM_STATS, tests).
  std::uint64_t progress_parks() const noexcept { return parks_.load(std::memory_order_relaxed); }
  bool threaded() const noexcept { return threaded_; }

  // n Contexts in this process joined by the loopback transport (unit tests).  With fault, node
  // fault_node's transport (every node's when fault_node is -1) is wrapped in the fault-injecting
  // decorator; with reliable, every transport then in FM's reliability layer.  With shm, the
  // nodes are joined by FM's shared-memory transport instead (segments, rings and cross-memory
  // attach within this one process), as same-host processes are.
  static std::vector<std::unique_ptr<Context>> create_loopback_job(
      unsigned n, const Config& cfg, int* rc, transport::LoopbackFabric** fabric = nullptr,
      const transport::FaultParams* fault = nullptr, int fault_node = -1, bool reliable = false,
      bool shm = false);
  // The reliability layer's parameters for a datagram lane: the peer time-out and the time-out
  // floor (FM_RTO_MIN_US, or auto_min_rto_us when it is 0).
  static transport::ReliableParams reliable_params(const Config& cfg, unsigned rank, unsigned size,
                                                   std::uint32_t auto_min_rto_us);

 private:
  // The transport of node's lane, or nullptr.
  const transport::Transport* transport_of(unsigned node) const noexcept;
  Context();
  int setup(Wiring&& w);
  void print_stats(bool any_failed);
  void progress_thread_main();
  // The progress thread, idle for a while, holding lk: lets go of the lock and sleeps until a
  // lane, the doorbell or a kick wakes it, then takes the lock again.  Whether it slept.
  bool park(std::unique_lock<std::recursive_mutex>& lk);
  // One sleep of a wait's phase 2 (idle.hpp), unless something ends the wait already.
  void nap(std::uint64_t deadline, int (*done)(void*), void* arg);
  static std::uint64_t deadline_after(int timeout_ms) noexcept;

  // Events
  void peer_failed(unsigned p) override { rma_.peer_failed(p); }
  void peer_bye(unsigned p) override { rma_.peer_bye(p); }
  void idle() override {
    if (tx_.any_pending()) tx_.drain();
  }
  bool awaiting(unsigned p) override { return rma_.awaiting(p); }

  State st_;
  Liveness live_{st_};
  Receiver rx_{st_, live_};
  Sender tx_{st_, live_, rx_};
  RmaEngine rma_{CoreOps(st_, live_, rx_, tx_)};
  Segments seg_{CoreOps(st_, live_, rx_, tx_), rma_};
  std::uint32_t extract_calls_ = 0;

  // progress thread
  std::recursive_mutex api_mu_;
  bool threaded_ = false;
  int progress_mode_ = 1;
  std::atomic<bool> stop_progress_{false};
  std::thread progress_thread_;
  std::atomic<std::uint64_t> parks_{0};
};

}  // namespace fm::core
