// rma.hpp - the one-sided engine: registered memory, put/get, atomics, fence/flush/quiet, over
// FM's own messages to internal handlers (emulated, the default) or the transports' RMA
// (FM_RMA=native).  It uses the core through CoreOps only.  See rma.cpp for the protocol.
#pragma once

#include <fm/fm.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/core_ops.hpp"

namespace fm::core {

struct RmaReq {
  std::uint64_t id;  // origin's operation id
  std::uint64_t key;
  std::uint64_t offset;
  std::uint64_t len;
  std::uint32_t op, type;  // atomics; puts and gets: flags (kRmaSilent, kRmaFlush)
  std::uint64_t operand, compare;
};
struct RmaReply {
  std::uint64_t id;
  std::int32_t status;
  std::uint32_t pad;
  std::uint64_t value;  // atomics: the old value
};

// An operation in flight at its origin (FM_request is one of these).
struct RmaOp {
  OpCtx op;  // first: native transfers complete through it
  class RmaEngine* engine = nullptr;
  std::uint32_t gen = 0;  // bumped on reuse: stale replies and handles are recognised
  enum State : std::uint8_t { kFree, kPending, kDone } state = kFree;
  bool detached = false;  // no handle: freed on completion, failures go to the peer's error
  int status = FM_SUCCESS;
  unsigned node = 0;
  void* dst = nullptr;  // get: where the data goes
  std::size_t len = 0;
  void* result = nullptr;  // fetching atomic
  std::uint32_t type = 0;
  std::uint32_t next_free = 0;
  std::uint32_t parts = 0;  // native RMA: transfers still in flight
};

// FM_region.opaque and .flags, as this engine fills them.
inline constexpr int kKeySlots = 3;                  // opaque[0..2]: a lane kind's RMA key
inline constexpr int kSegmentSlot = 3;               // opaque[3]: fd | nonce << 32; [4]: bytes
inline constexpr std::uint32_t kKeyValid = 1u;       // << kind
inline constexpr std::uint32_t kVirtAddr = 1u << 4;  // << kind: that key addresses by address
inline constexpr std::uint32_t kSegmentFlag = 1u << 8;

// A descriptor's check word (over every field but itself).
std::uint32_t region_check(const FM_region& r) noexcept;

class RmaEngine {
 public:
  explicit RmaEngine(CoreOps core);
  RmaEngine(const RmaEngine&) = delete;
  RmaEngine& operator=(const RmaEngine&) = delete;
  ~RmaEngine();
  void setup() { peers_.assign(core_.size(), PeerRma{}); }  // after the core's set-up

  int register_memory(void* buf, std::size_t len, unsigned access, FM_region* out);
  int deregister_memory(const FM_region* r);
  // Marks a registration as an on-host segment (segment.cpp): fd and nonce in its descriptor.
  int mark_segment(FM_region* r, int fd, std::uint32_t nonce, std::size_t bytes);

  // kind: 0 put, 1 get, 2 atomic
  int start(int kind, const FM_region* r, std::uint64_t offset, void* local, std::size_t len,
            int op, int type, const void* operand, const void* compare, FM_request** req,
            const char* what);
  bool owns(const RmaOp* op) const noexcept {
    return !ops_.empty() && op >= ops_.data() && op < ops_.data() + ops_.size();
  }
  int wait(RmaOp* op);
  int test(RmaOp* op, int* done);
  int flush(unsigned node, const char* what);
  int quiet();
  int fence(unsigned node);

  // From the core (Events): a peer failed, or finalized; one-sided answers awaited from p.
  void peer_failed(unsigned p);
  void peer_bye(unsigned p);
  bool awaiting(unsigned p) const noexcept { return p < peers_.size() && peers_[p].pending != 0; }
  // FM_finalize: our operations complete before our BYE.
  void complete_all();

  // per-peer counters (FM_get_peer_stats)
  struct Counters {
    std::uint64_t ops_out = 0, bytes_out = 0, ops_in = 0, bytes_in = 0;
  };
  const Counters& counters(unsigned p) const noexcept { return peers_[p].counters; }

  // internal handlers (target and origin side)
  int on_request(FM_stream* s, unsigned sender, int kind);
  int on_reply(FM_stream* s, unsigned sender, bool with_data);

 private:
  struct PeerRma {
    std::uint32_t pending = 0;      // operations issued to it awaiting their answer
    std::uint32_t silent_puts = 0;  // unanswered puts issued to it since the last flush
    int silent_error = FM_SUCCESS;  // (target) first failure of its silent puts since its flush
    bool native = false;            // native RMA was used to it: a fence must wait
    int error = FM_SUCCESS;         // first failure of a handle-less operation, for FM_flush
    Counters counters;
  };
  struct Registration {
    std::uintptr_t base = 0;
    std::size_t len = 0;
    unsigned access = 0;
    std::uint32_t refs = 0;  // 0: free slot
    std::uint32_t gen = 1;
    transport::Transport::Region native[kKeySlots];  // per lane kind, for native RMA
    std::uint32_t flags = 0;                         // FM_region.flags
    std::uint64_t segment[2] = {0, 0};               // FM_region.opaque[3..4]
  };
  struct Reply;  // an answer queued on the pending-send queue

  RmaOp* new_op(unsigned node);
  void complete(RmaOp* op, int status);
  void free_op(RmaOp* op);
  int check_access(const RmaReq& rq, unsigned need, std::size_t align, std::byte** where);
  int send_put(unsigned node, const RmaReq& rq, const void* data, std::size_t len);
  void reply(unsigned dest, const RmaReply& r, const void* data, std::size_t len);
  int send_reply(unsigned dest, const RmaReply& r, const void* data, std::size_t len);
  int poll(unsigned node, const char* what);
  int native(RmaOp* op, int kind, const FM_region* r, std::uint64_t offset, void* local,
             std::size_t len, const char* what);
  void on_native_done(RmaOp* op, bool ok);
  int lane_kind(unsigned node) const noexcept;
  // Emulated operations are answered by packets: their waits may sleep until one arrives.
  Wait wait_for(const char* what) const noexcept {
    return Wait{
        .what = what, .drain = true, .yield = true, .block = core_.config().rma == "emulated"};
  }

  CoreOps core_;
  std::vector<PeerRma> peers_;
  std::vector<RmaOp> ops_;     // fixed pool: kMaxOps
  std::uint32_t op_free_ = 0;  // index + 1 of the first free one, 0: none
  std::vector<Registration> regs_;
  std::vector<std::unique_ptr<Reply>> replies_;  // queued-answer records, all of them
  std::vector<Reply*> free_replies_;             // those not on the queue
};

}  // namespace fm::core
