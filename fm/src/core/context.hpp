// context.hpp - FM's core: handlers, streams, per-sender ordering, credits, extraction.
//
// One Context is one FM node.  The C API drives a process-wide default Context; unit tests create
// several Contexts over the loopback transport in one process.  Everything here is single-threaded
// (FM's thread-safety level is "funneled": one thread calls FM at a time).
//
// Wire format: every packet starts with a PacketHeader.  A message is a run of DATA packets from
// one sender, the first flagged FIRST (it carries the handler id and the declared length), the last
// LAST.  A sender has at most one open stream per destination, so a message's packets are
// contiguous in that sender's packet sequence.
#pragma once

#include <fm/fm.h>
#include <poll.h>
#include <signal.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bootstrap/bootstrap.hpp"
#include "core/board.hpp"
#include "core/fiber.hpp"
#include "transport/transport.hpp"
#include "util/config.hpp"

namespace fm::core {

class Context;

enum PacketType : std::uint8_t { kData = 1, kCredit = 2, kCreditRequest = 3, kBye = 4 };
// kRndv: the payload is {addr, key, len} of the sender's memory, read by the receiver (zero-copy);
// kAck: return credits as soon as this packet is consumed (the sender is waiting for it).
enum PacketFlags : std::uint8_t { kFirst = 1, kLast = 2, kRndv = 4, kAck = 8 };

struct PacketHeader {
  std::uint32_t src;      // sender's node id
  std::uint16_t handler;  // handler id (FIRST packets)
  std::uint8_t type;      // PacketType
  std::uint8_t flags;     // PacketFlags
  std::uint32_t len;      // payload bytes in this packet
  std::uint32_t seq;      // per (sender, receiver) DATA packet number
  std::uint32_t credits;  // credits returned to this packet's receiver
  std::uint32_t magic;    // kWireMagic: rejects stray traffic
  std::uint64_t msg_len;  // declared message length (FIRST packets)
};
static_assert(sizeof(PacketHeader) == 32);
inline constexpr std::uint32_t kWireMagic = 0x464d3232;        // "FM22"
inline constexpr std::size_t kMaxRndv = std::size_t{1} << 30;  // bytes per zero-copy descriptor

// A packet buffer: receive buffers posted to a transport, send buffers, and self-send buffers.
struct Buf {
  enum Pool : std::uint8_t { kRx, kTx, kSelf };
  Buf* next;
  Pool pool;
  std::uint8_t tp;        // transport index (kRx)
  std::uint8_t gather;    // a send whose payload is the caller's buffer (kTx)
  std::uint8_t rndv;      // len bytes to be read from the sender's memory (kRx)
  std::uint32_t dest;     // destination (kTx)
  std::uint32_t len;      // bytes of payload received / filled
  std::uint32_t off;      // payload bytes consumed by the handler
  std::uint32_t charged;  // rndv: bytes counted against FM_extract budgets so far
  std::uint32_t pad;
  PacketHeader* hdr() noexcept { return reinterpret_cast<PacketHeader*>(this + 1); }
  std::byte* payload() noexcept { return reinterpret_cast<std::byte*>(hdr() + 1); }
};
static_assert(sizeof(Buf) % 8 == 0);

struct BufQueue {
  Buf* head = nullptr;
  Buf* tail = nullptr;
  bool empty() const noexcept { return head == nullptr; }
  void push(Buf* b) noexcept {
    b->next = nullptr;
    if (tail)
      tail->next = b;
    else
      head = b;
    tail = b;
  }
  Buf* pop() noexcept {
    Buf* b = head;
    if (b) {
      head = b->next;
      if (!head) tail = nullptr;
    }
    return b;
  }
};

}  // namespace fm::core

// The public opaque stream type: outgoing (FM_begin_message) or incoming (a handler's argument).
struct FM_stream {
  std::uint32_t magic;  // kOutMagic / kInMagic; 0 when closed
  unsigned peer;
  fm::core::Context* ctx;
};

namespace fm::core {

inline constexpr std::uint32_t kOutMagic = 0x6f757473;  // "outs"
inline constexpr std::uint32_t kInMagic = 0x696e7374;   // "inst"

struct OutStream : FM_stream {
  int handler = 0;
  std::uint64_t declared = 0;
  std::uint64_t sent = 0;      // bytes given to FM_send_piece
  Buf* cur = nullptr;          // packet being filled
  bool first = true;           // next packet is the message's first
  bool last_sent = false;      // a gathered packet already ended the message
  std::uint32_t reserved = 0;  // credits reserved at begin (inside handlers, FM_try_*)
};

struct InStream : FM_stream {
  std::uint64_t declared = 0;
  std::uint64_t received = 0;  // bytes placed by FM_receive
  Buf* cur = nullptr;          // packet being read
};

// One-sided operations (rma.cpp).  Internal handler ids, after the application's.
enum InternalHandler : int {
  kHPut = FM_MAX_HANDLERS,  // RmaReq + data -> target memory; answered by kHReply
  kHGet,                    // RmaReq -> answered by kHGetReply (RmaReply + data)
  kHAtomic,                 // RmaReq -> answered by kHReply (with the old value)
  kHReply,                  // RmaReply
  kHGetReply,               // RmaReply + data
  kInternalHandlers = kHGetReply - FM_MAX_HANDLERS + 1
};
struct RmaReq {
  std::uint64_t id;  // origin's operation id
  std::uint64_t key;
  std::uint64_t offset;
  std::uint64_t len;
  std::uint32_t op, type;  // atomics; puts and gets: flags (kRmaSilent, kRmaFlush)
  std::uint64_t operand, compare;
};
// A put nobody waits for individually (FM_put_nb without a handle): not answered; its failure is
// kept by the target and reported by the next flush.
constexpr std::uint32_t kRmaSilent = 1;
// A flush (a get of nothing): answered, after every earlier operation of the origin (FIFO), with
// the first failure of its silent puts since the last flush.
constexpr std::uint32_t kRmaFlush = 2;
struct RmaReply {
  std::uint64_t id;
  std::int32_t status;
  std::uint32_t pad;
  std::uint64_t value;  // atomics: the old value
};
// An operation in flight at its origin (FM_request is one of these).
struct RmaOp {
  Context* ctx = nullptr;
  std::uint32_t gen = 0;  // bumped on reuse: stale replies and handles are recognised
  enum State : std::uint8_t { kFree, kPending, kDone } state = kFree;
  bool detached = false;  // no handle: freed on completion, failures go to the peer's rma_error
  int status = FM_SUCCESS;
  unsigned node = 0;
  void* dst = nullptr;  // get: where the data goes
  std::size_t len = 0;
  void* result = nullptr;  // fetching atomic
  std::uint32_t type = 0;
  std::uint32_t next_free = 0;
  std::uint32_t parts = 0;  // native RMA: transfers still in flight
};
// A registered region of this node.
struct Registration {
  std::uintptr_t base = 0;
  std::size_t len = 0;
  unsigned access = 0;
  std::uint32_t refs = 0;  // 0: free slot
  std::uint32_t gen = 1;
  transport::Transport::Region native[2];  // per transport kind (shm, network), for native RMA
  std::uint32_t tflags = 0;                // FM_region.tflags
};
// A reply a handler could not send at once (no credits): sent after the handler, in order.
struct Deferred {
  RmaReply reply;
  const void* data = nullptr;  // get: the target memory to send after the reply
  std::size_t len = 0;
  int handler = kHReply;
};

struct Peer {
  // --- send side ---
  int tp = -1;                       // transport index; -1 for self
  std::int64_t credits = 0;          // packets we may still send there
  std::uint32_t window = 0;          // its credit window for us
  std::uint32_t payload = 0;         // payload bytes per packet to it
  std::uint32_t gather_pending = 0;  // gathered sends to it not yet complete
  std::uint64_t returned = 0;        // credits it has returned, in all: packets it consumed
  std::uint64_t zcopy_bytes = 0;     // bytes we pulled from it by RMA read
  std::uint64_t tx_seq = 0;          // packets sent to it (the wire carries the low 32 bits)
  // Same-host peers: its board's line for us, where it posts how many of our packets it has
  // consumed (zero-copy senders watch it instead of asking for a credit packet); else nullptr.
  const Board::Word* acked = nullptr;
  bool stream_open = false;
  const InStream* stream_owner = nullptr;  // the handler that opened it (nullptr: main program)
  bool credit_requested = false;
  OutStream out;
  // --- receive side ---
  BufQueue q;  // arrived DATA packets not yet handled
  std::uint32_t rx_seq = 0;
  std::uint32_t owed = 0;       // credits to return
  std::uint64_t consumed = 0;   // its packets consumed, in all (posted on our board)
  bool starving = false;        // it asked for credits
  bool credit_pending = false;  // a credit packet could not be sent yet
  enum RxState : std::uint8_t { kIdle, kRunning, kSuspended, kDiscarding } rx = kIdle;
  bool ready = false;        // in the ready ring
  bool budget_wait = false;  // suspended with data available (budget exhausted)
  bool bye = false;
  InStream in;
  Fiber* fiber = nullptr;
  int handler = -1;          // handler of the current message
  Context* owner = nullptr;  // for the fiber entry
  unsigned index = 0;
  // --- identity and failure ---
  bool same_host = false;
  int pid = 0;
  std::string host;
  int pidfd = -1;
  bool failed = false;
  bool failure_reported = false;
  std::string failure;
  // --- one-sided operations ---
  std::uint32_t rma_pending = 0;   // operations issued to it awaiting their reply
  std::uint32_t silent_puts = 0;   // unanswered puts issued to it since the last flush
  int silent_error = FM_SUCCESS;   // (target) first failure of its silent puts since its flush
  bool native_rma = false;         // native RMA was used to it: a fence must wait
  int rma_error = FM_SUCCESS;      // first failure of a handle-less operation, for FM_flush
  std::vector<Deferred> deferred;  // replies to it not yet sent (FIFO)
  std::size_t deferred_head = 0;
  // --- counters ---
  std::uint64_t msgs_in = 0, bytes_in = 0, msgs_out = 0, bytes_out = 0, credit_stalls = 0;
  std::uint64_t rma_ops_out = 0, rma_bytes_out = 0, rma_ops_in = 0, rma_bytes_in = 0;
  std::uint64_t handler_ns = 0;
};

// How a Context is wired: built by api.cpp from the launcher, or by tests over loopback.
struct Wiring {
  Config cfg;
  unsigned rank = 0;
  unsigned size = 1;
  std::vector<std::unique_ptr<transport::Transport>> transports;
  std::vector<int> peer_tp;              // per node: transport index, -1 for self
  std::vector<std::uint32_t> windows;    // per node: its credit window for us
  std::vector<std::uint32_t> my_window;  // per transport: credits per sender we grant
  std::vector<std::size_t> tp_packet;    // per transport: packet size we receive
  std::vector<std::size_t> peer_packet;  // per node: packet size it receives from us
  std::vector<std::size_t> tp_zcopy;     // per transport: zero-copy threshold, 0 = off
  std::vector<std::string> hosts;        // per node: host key
  bool oversubscribed = false;   // more ranks on this machine than CPUs: waits yield the CPU
  std::vector<int> pids;         // per node
  std::unique_ptr<Board> board;  // ours, or null (no shared memory, tests)
  std::vector<const Board::Word*> acked;       // per node: its board's line for us, or null
  std::unique_ptr<bootstrap::Bootstrap> boot;  // may be null (tests)
};

// Process-wide handler table: handlers are named by id, the same on every node.
FM_handler handler_at(int id) noexcept;
// An FM_ATOMIC_* operation on a local word, as a target applies a peer's (FM_atomic_local).
std::uint64_t apply_local(void* p, int op, int type, std::uint64_t operand,
                          std::uint64_t compare) noexcept;
FM_handler internal_handler(int id) noexcept;  // rma.cpp
int register_handler(int id, FM_handler fn) noexcept;
int unregister_handler(int id) noexcept;

class Context {
 public:
  // Takes the wiring; posts receive buffers.  Returns nullptr with the status in *rc on failure.
  static std::unique_ptr<Context> create(Wiring&& w, int* rc);
  ~Context();

  unsigned rank() const noexcept { return rank_; }
  unsigned size() const noexcept { return size_; }
  // Largest payload of a packet this node receives (FM_packet_payload).
  std::size_t payload() const noexcept { return max_rx_payload_; }
  const Peer& peer(unsigned i) const noexcept { return peers_[i]; }
  const char* transport_name(unsigned node) const noexcept;
  std::uint64_t retransmissions(unsigned node) const noexcept {
    return node < size_ && peers_[node].tp >= 0
               ? tps_[static_cast<std::size_t>(peers_[node].tp)]->retransmissions(node)
               : 0;
  }
  bool in_handler() const noexcept { return handler_depth_ > 0; }

  // FM API.
  // no_wait: reserve the whole message's credits now or fail with FM_EAGAIN, as inside handlers.
  FM_stream* begin_message(unsigned dest, std::size_t length, int handler, bool no_wait = false);
  int send_piece(FM_stream* s, const void* buf, std::size_t n);
  int end_message(FM_stream* s);
  int send(unsigned dest, int handler, const void* buf, std::size_t n, bool no_wait = false);
  long extract(std::size_t maxbytes);
  long extract_wait(std::size_t maxbytes, int timeout_ms);
  long receive(void* buf, FM_stream* s, std::size_t n);
  // Quiesces (drains sends, exchanges BYE with every live node, launcher barrier) and closes.
  int finalize();
  // Ends the job through the launcher (PMI abort) when there is one; returns only without one.
  void abort(int code, const char* msg);

  // One-sided operations (rma.cpp).
  int register_memory(void* buf, std::size_t len, unsigned access, FM_region* out);
  int deregister_memory(const FM_region* r);
  int rma_start(int kind, const FM_region* r, std::uint64_t offset, void* local, std::size_t len,
                int op, int type, const void* operand, const void* compare, FM_request** req,
                const char* what);
  int rma_wait(RmaOp* op);
  int rma_test(RmaOp* op, int* done);
  int flush_node(unsigned node, const char* what);
  int quiet();
  int fence(unsigned node);
  // internal handlers (target and origin side)
  int on_rma_request(FM_stream* s, unsigned sender, int kind);  // 0 put, 1 get, 2 atomic
  int on_rma_reply(FM_stream* s, unsigned sender, bool with_data);
  bool owns(const RmaOp* op) const noexcept {
    return !ops_.empty() && op >= ops_.data() && op < ops_.data() + ops_.size();
  }

  // Progress thread (FM_PROGRESS_THREAD=1): extracts while the program computes.  With it, every
  // API call takes the Context's lock (api_lock()); without it, api_lock() is a no-op.
  void start_progress_thread();
  void stop_progress_thread();
  std::unique_lock<std::recursive_mutex> api_lock() {
    return threaded_ ? std::unique_lock<std::recursive_mutex>(api_mu_)
                     : std::unique_lock<std::recursive_mutex>();
  }
  bool threaded() const noexcept { return threaded_; }

  std::size_t max_message() const noexcept { return SIZE_MAX / 2; }
  std::uint64_t dropped() const noexcept { return dropped_; }

  // n Contexts in this process joined by the loopback transport (unit tests).
  // With fault, node fault_node's transport (every node's when fault_node is -1) is wrapped in
  // the fault-injecting decorator; with reliable, every transport then in FM's reliability layer.
  // The reliability layer's parameters for a datagram transport: a reorder window of twice the
  // credit window plus the control reserve, the peer time-out, and the time-out floor
  // (FM_RTO_MIN_US, or auto_min_rto_us when it is 0).
  static transport::ReliableParams reliable_params(const Config& cfg, std::uint32_t credits,
                                                   unsigned rank, unsigned size,
                                                   std::uint32_t auto_min_rto_us);
  static std::vector<std::unique_ptr<Context>> create_loopback_job(
      unsigned n, const Config& cfg, int* rc, transport::LoopbackFabric** fabric = nullptr,
      const transport::FaultParams* fault = nullptr, int fault_node = -1, bool reliable = false);

 private:
  Context() = default;
  int setup(Wiring&& w);

  // progress: reap transport completions; arrivals are queued, control packets consumed
  int progress();
  void on_arrival(Buf* b);
  void on_send_done(Buf* b);
  void on_send_done_inject(Buf* b);
  void on_data(unsigned p, Buf* b);
  void repost(Buf* b);
  // dispatch: run handlers for queued packets within the budget
  long dispatch(std::size_t budget);
  void run_peer(unsigned p);
  void start_message(unsigned p);
  void finish_message(unsigned p);
  static void fiber_main(void* arg);
  void resume_fiber(unsigned p);
  void run_handler(FM_handler fn, unsigned p);
  void mark_ready(unsigned p) noexcept;
  void settle_bye(unsigned p);
  int send_put(unsigned node, const RmaReq& rq, const void* data, std::size_t len);

 public:
  bool oversubscribed() const noexcept { return oversubscribed_; }

 private:
  // buffers and credits
  Buf* get_tx_buf(unsigned dest);  // may progress; nullptr when a peer failed meanwhile
  void release_rx(Buf* b);
  void return_credits(unsigned p, bool force);
  int send_control(unsigned p, PacketType type);
  int wait_credit(unsigned p);  // outside handlers: extracts until a credit is available
  int flush(OutStream* s, bool last);
  Buf* acquire(OutStream* o, int* rc);
  OutStream* out_stream(FM_stream* s, const char* op);
  int check_dest(unsigned dest, int handler, const char* op);
  int transmit(unsigned dest, Buf* b, const void* ext = nullptr, std::size_t ext_len = 0);
  int send_direct(OutStream* o, const std::byte* src, std::size_t len, bool last);
  int wait_gathered(unsigned dest);
  int send_zcopy(OutStream* o, const std::byte* src, std::size_t n);
  int wait_returned(unsigned dest, std::uint64_t target);
  int rma_read(unsigned p, Buf* b, std::byte* dst, std::size_t k);
  // Counts a packet popped for a handler against the budget: all of it, or for a zero-copy
  // descriptor its first packet's worth (the rest as FM_receive reads it).
  void charge(Peer& q, Buf* b) noexcept {
    b->charged = b->rndv
                     ? std::min<std::uint32_t>(b->len, static_cast<std::uint32_t>(max_rx_payload_))
                     : b->len;
    extracted_ += b->charged;
    q.bytes_in += b->len;
  }

  // one-sided operations
  RmaOp* new_op(unsigned node);
  void complete_op(RmaOp* op, int status);
  void free_op(RmaOp* op);
  int check_access(const RmaReq& rq, unsigned need, std::size_t align, std::byte** where);
  void reply(unsigned dest, const RmaReply& r, const void* data, std::size_t len);
  int send_reply(unsigned dest, const Deferred& d);
  void flush_deferred();
  int rma_poll(unsigned node, const char* what);  // one round of progress for a waiting origin
  int rma_native(RmaOp* op, int kind, const FM_region* r, std::uint64_t offset, void* local,
                 std::size_t len, const char* what);
  void on_native_done(RmaOp* op, bool ok);
  int tp_kind(int tp) const noexcept;  // 0: shm, 1: network (FM_region.tkey index)

  void print_stats(bool any_failed);

  // failures
  int check_liveness(bool force);
  void fail_peer(unsigned p, const char* why);
  int peer_error(unsigned p, const char* op);
  int report_failures();

  Config cfg_;
  unsigned rank_ = 0;
  unsigned size_ = 1;
  std::vector<std::size_t> tp_packet_;  // per transport: receive packet size
  std::vector<std::size_t> tp_zcopy_;   // per transport: zero-copy threshold, 0 = off
  std::vector<std::uint8_t> tp_kind_;   // per transport: 0 shm, 1 network (FM_region.tkey index)
  std::uint32_t reads_outstanding_ = 0;
  bool read_failed_ = false;
  std::size_t max_rx_payload_ = 0;
  std::vector<std::unique_ptr<transport::Transport>> tps_;
  std::unique_ptr<bootstrap::Bootstrap> boot_;
  std::unique_ptr<Board> board_;  // where we post what we consumed of same-host senders
  bool oversubscribed_ = false;
  std::vector<Peer> peers_;
  std::vector<std::uint32_t> my_window_;  // per transport: credits we grant each sender
  std::vector<std::byte> scratch_;        // inject staging for the FM_send fast path
  bool credit_pending_ = false;
  std::uint64_t dropped_ = 0;
  std::uint32_t extract_calls_ = 0;
  bool failures_unreported_ = false;
  std::shared_ptr<transport::LoopbackFabric> fabric_keepalive_;

  // pools
  std::byte* slab_ = nullptr;
  std::size_t slab_size_ = 0;
  Buf* tx_free_ = nullptr;
  std::uint32_t tx_outstanding_ = 0;
  Buf* self_free_ = nullptr;

  // dispatch state
  std::vector<unsigned> ready_;  // ring of ready peers
  std::size_t ready_head_ = 0, ready_count_ = 0;
  std::size_t budget_ = 0;
  std::size_t extracted_ = 0;
  bool quit_ = false;
  int handler_depth_ = 0;
  InStream* current_in_ = nullptr;
  unsigned running_peer_ = 0;
  std::vector<std::unique_ptr<Fiber>> fibers_;  // free fibers
  bool finalizing_ = false;
  bool closed_ = false;

  // one-sided operations
  std::vector<RmaOp> ops_;     // fixed pool: kMaxOps
  std::uint32_t op_free_ = 0;  // index + 1 of the first free one, 0: none
  std::vector<Registration> regs_;
  std::size_t deferred_count_ = 0;
  bool flushing_deferred_ = false;

  // progress thread
  std::recursive_mutex api_mu_;
  bool threaded_ = false;
  std::atomic<bool> stop_progress_{false};
  std::thread progress_thread_;
  void progress_thread_main();

  // liveness
  std::uint64_t last_liveness_ns_ = 0;
  std::uint32_t idle_polls_ = 0;
  std::vector<pollfd> pidfds_;
  std::vector<unsigned> pidfd_peer_;

  friend struct ScopedCurrent;
};

// Set asynchronously when the launcher signals a peer failure (SIGUSR1 from Hydra).
extern volatile sig_atomic_t g_peer_event;
// Installs FM's SIGUSR1 handler unless the application has one.
void install_failure_signal() noexcept;

// The Context that C API calls made on this thread act on: the one running a handler, else the
// process default.
Context* current() noexcept;
void set_default(Context* c) noexcept;
struct ScopedCurrent {
  explicit ScopedCurrent(Context* c) noexcept;
  ~ScopedCurrent();
  Context* saved;
};

}  // namespace fm::core
