// state.hpp - the state every part of the core shares: the lanes (one per transport), the peers
// (split by the part that owns each piece), the packet pools, and the notices lower parts give
// the parts above them (Events).  The parts, each in its own files, in dependency order (a part
// uses only those before it):
//   handlers, state (this file)  <- liveness  <- receive side  <- send side  <- one-sided engine
//   <- Context (composition, finalize) and the C API; start-up wiring in wireup.cpp.
// See docs/internals.md.
#pragma once

#include <fm/fm.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bootstrap/bootstrap.hpp"
#include "core/board.hpp"
#include "core/fiber.hpp"
#include "core/idle.hpp"
#include "core/wire.hpp"
#include "transport/stack.hpp"
#include "util/config.hpp"

namespace fm::core {
class Context;
}

// The public opaque stream type: outgoing (FM_begin_message) or incoming (a handler's argument).
struct FM_stream {
  std::uint32_t magic;  // kOutMagic / kInMagic; 0 when closed
  unsigned peer;
  fm::core::Context* ctx;
};

namespace fm::core {

inline constexpr std::uint32_t kOutMagic = 0x6f757473;  // "outs"
inline constexpr std::uint32_t kInMagic = 0x696e7374;   // "inst"
inline constexpr std::uint32_t kControlReserve = 8;     // receive buffers per sender for control

struct InStream : FM_stream {
  std::uint64_t declared = 0;
  std::uint64_t received = 0;  // bytes placed by FM_receive
  Buf* cur = nullptr;          // packet being read
};

struct OutStream : FM_stream {
  int handler = 0;
  std::uint64_t declared = 0;
  std::uint64_t sent = 0;      // bytes given to FM_send_piece
  Buf* cur = nullptr;          // packet being filled
  bool first = true;           // next packet is the message's first
  bool last_sent = false;      // a gathered packet already ended the message
  std::uint32_t reserved = 0;  // credits reserved at begin (inside handlers, FM_try_*)
};

// A transport and what the core runs over it.
struct Lane {
  std::unique_ptr<transport::Transport> tp;
  std::size_t packet = 0;    // wire bytes of the packets it receives (header included)
  std::uint32_t window = 0;  // credits per sender we grant
  std::size_t zcopy = 0;     // zero-copy threshold, 0 = off
  std::uint8_t kind = 0;     // FM_region.opaque slot of its RMA keys: 0 on-host, 1 network
  const transport::Caps& caps() const noexcept { return tp->caps(); }
};

// A peer, split by owner.
struct PeerLink {  // identity and liveness (Liveness)
  int lane = -1;   // -1: self
  bool same_host = false;
  int pid = 0;
  std::string host;
  int pidfd = -1;
  bool failed = false;
  bool failure_reported = false;
  std::string failure;
  std::uint32_t waits = 0;  // waits in progress for something of it (Receiver::wait_until)
};

struct PeerTx {               // sending (Sender); credits arrive with the receive side's packets
  std::int64_t credits = 0;   // packets we may still send there
  std::uint32_t window = 0;   // its credit window for us
  std::uint32_t payload = 0;  // payload bytes per packet to it
  std::uint32_t gather_pending = 0;  // gathered sends to it not yet complete
  std::uint64_t returned = 0;        // credits it has returned, in all: packets it consumed
  std::uint64_t seq = 0;             // packets sent to it (the wire carries the low 32 bits)
  // Same-host peers: its board's line for us, where it posts how many of our packets it has
  // consumed (zero-copy senders watch it instead of asking for a credit packet); else nullptr.
  const Board::Word* acked = nullptr;
  bool stream_open = false;
  const InStream* stream_owner = nullptr;  // the handler that opened it (nullptr: main program)
  bool credit_requested = false;           // a credit request is in flight, unanswered (kAnswer)
  OutStream out;
  FM_pending* pend_head = nullptr;  // pending sends to it (FM_pending_add), in order
  FM_pending* pend_tail = nullptr;
  std::size_t pend_count = 0;
  void take_credits(std::uint32_t n) noexcept {  // returned in an arriving packet
    credits += n;
    returned += n;
  }
};

class Receiver;
struct PeerRx {  // receiving (Receiver)
  BufQueue q;    // arrived DATA packets not yet handled
  std::uint32_t seq = 0;
  std::uint32_t owed = 0;       // credits to return
  std::uint64_t consumed = 0;   // its packets consumed, in all (posted on our board)
  bool starving = false;        // it waits for credits (its request, or a kAck packet)
  bool asked = false;           // its credit request is not yet answered
  bool credit_pending = false;  // a credit packet could not be sent yet
  enum State : std::uint8_t { kIdle, kRunning, kSuspended, kDiscarding } state = kIdle;
  bool ready = false;        // in the ready ring
  bool budget_wait = false;  // suspended with data available (budget exhausted)
  bool bye = false;
  InStream in;
  Fiber* fiber = nullptr;
  int handler = -1;           // handler of the current message
  Receiver* owner = nullptr;  // for the fiber entry
  unsigned index = 0;
  // A packet to it carries the credits owed: answer_flag() (before) says whether they answer its
  // request; take_owed() (once the packet is sent) hands them over.
  std::uint8_t answer_flag() const noexcept { return asked && owed > 0 ? kAnswer : 0; }
  std::uint32_t take_owed() noexcept {
    const std::uint32_t n = owed;
    if (n > 0) asked = false;
    owed = 0;
    starving = false;
    return n;
  }
};

struct PeerStats {
  std::uint64_t msgs_in = 0, bytes_in = 0, msgs_out = 0, bytes_out = 0, credit_stalls = 0;
  // packets to it that found its transport full (an shm ring), and the sleeps they waited in
  std::uint64_t full = 0, full_sleeps = 0;
  std::uint64_t zcopy_bytes = 0;  // bytes we pulled from it by RMA read
  std::uint64_t handler_ns = 0;
};

struct Peer {
  PeerLink link;
  PeerTx tx;
  PeerRx rx;
  PeerStats stats;
};

// What lower parts tell the parts above them (the Context implements it).
class Events {
 public:
  virtual void peer_failed(unsigned p) = 0;  // its one-sided operations will not be answered
  virtual void peer_bye(unsigned p) = 0;     // it finalized; settle what it left unanswered
  virtual void idle() = 0;                   // inside a wait: pending sends and answers may go
  virtual bool awaiting(unsigned p) = 0;     // answers from p are awaited (one-sided operations)

 protected:
  ~Events() = default;
};

// How a Context is wired: built by wireup.cpp from the launcher, or by tests over loopback.
struct Wiring {
  Config cfg;
  unsigned rank = 0;
  unsigned size = 1;
  std::vector<Lane> lanes;
  std::vector<int> peer_lane;            // per node: lane index, -1 for self
  std::vector<std::uint32_t> windows;    // per node: its credit window for us
  std::vector<std::size_t> peer_packet;  // per node: packet size it receives from us
  std::vector<std::string> hosts;        // per node: host key
  std::vector<int> pids;                 // per node
  bool oversubscribed = false;   // more ranks on this machine than CPUs: waits yield the CPU
  std::unique_ptr<Board> board;  // ours, or null (no shared memory, tests)
  std::vector<const Board::Word*> acked;  // per node: its board's line for us, or null
  std::unique_ptr<Idle> idle;  // our status page and doorbell, peers' attached (null: none)
  std::unique_ptr<bootstrap::Bootstrap> boot;         // may be null (tests)
  std::shared_ptr<transport::LoopbackFabric> fabric;  // tests: kept alive with the lanes
};

struct State {
  Config cfg;
  unsigned rank = 0;
  unsigned size = 1;
  std::vector<Lane> lanes;
  std::vector<Peer> peers;
  std::unique_ptr<bootstrap::Bootstrap> boot;
  std::unique_ptr<Board> board;  // where we post what we consumed of same-host senders
  std::unique_ptr<Idle> idle;    // never null (without a page: waits nap instead)
  bool oversubscribed = false;
  Events* events = nullptr;
  Context* owner = nullptr;  // what handlers' FM calls act on (ScopedCurrent)
  std::shared_ptr<transport::LoopbackFabric> fabric;

  // packet pools: one slab, carved at set-up
  std::byte* slab = nullptr;
  std::size_t slab_size = 0;
  BufStack tx_free;
  std::uint32_t tx_outstanding = 0;
  BufStack self_free;
  std::size_t max_rx_payload = 0;  // largest payload of a packet this node receives
  std::vector<std::byte> scratch;  // inject staging for the FM_send fast path

  // where the program is
  int handler_depth = 0;
  InStream* current_in = nullptr;  // the running handler's stream
  bool finalizing = false;
  bool closed = false;

  bool in_handler() const noexcept { return handler_depth > 0; }
  Lane& lane_of(unsigned p) noexcept { return lanes[static_cast<std::size_t>(peers[p].link.lane)]; }
  void free_tx(Buf* b) noexcept {  // a send buffer whose packet left (or never did)
    if (b->pool == Buf::kTx) tx_free.push(b);
  }

  // Takes the wiring, carves the packet pools and posts the receives.
  int setup(Wiring&& w);
  ~State();
};

// The Context that C API calls made on this thread act on: the one running a handler, else the
// process default.  Inline, and the thread-local in the initial-exec model: every FM call starts
// here, and the general-dynamic model costs a __tls_get_addr call each time (a few of glibc's
// spare static TLS bytes hold it when libfm is dlopen'ed).
#define FM_TLS_FAST [[gnu::tls_model("initial-exec")]]
extern thread_local constinit Context* t_current FM_TLS_FAST;
extern Context* g_default;
inline Context* current() noexcept {
  return t_current != nullptr ? t_current : g_default;
}
void set_default(Context* c) noexcept;
Context* default_context() noexcept;
struct ScopedCurrent {
  explicit ScopedCurrent(Context* c) noexcept;
  ~ScopedCurrent();
  Context* saved;
};

}  // namespace fm::core
