// transport.hpp - the thin transport interface below FM's core.
//
// A transport moves whole packets between peers named by their global rank.  It knows nothing of
// handlers, streams, credits or ordering guarantees beyond what Caps says; those live in the core.
// All data-path calls return FM status codes and never throw; FM_EAGAIN means "poll() and retry".
// Concrete transports are `final` and private to this layer: the core sees only this header and
// stack.hpp, which opens them.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace fm::transport {

// Positive capability flags only: the libfabric transport normalises provider quirks inside.
struct Caps {
  std::string name;             // "shm", "tcp;ofi_rxm", "verbs;ofi_rxm", "loopback"
  std::size_t max_msg = 0;      // largest single send, bytes
  std::size_t inject_size = 0;  // sends up to this size may use inject()
  std::uint32_t rx_depth = 0;   // receives that may be posted at once
  std::uint32_t tx_depth = 0;   // sends that may be outstanding at once
  bool ordered = false;         // send-after-send order between a pair of endpoints
  bool reliable = false;        // no loss or duplication
  bool wait_fd = false;         // wait_fd() returns a pollable descriptor
  bool rma_read = false;        // expose() and read() work
  bool rma_write = false;       // ... and write()
  std::size_t max_rma = 0;      // largest single RMA transfer
  // Largest send whose receive completes in send order with the others (ofi_rxm: its eager limit;
  // larger messages are segmented or read by rendezvous, and complete after later small ones).
  std::size_t ordered_msg = SIZE_MAX;
  // Finds a failed peer only through packets it does not acknowledge (FM's own reliability):
  // the core sends a peer it waits for a control packet now and then, so that there is one.
  bool probe = false;
  // Carries packets over the kernel's TCP connections (libfabric's tcp): unacknowledged() tells
  // which peers' hosts stopped acknowledging.  The core probes an off-host peer it waits for
  // with a control packet now and then, so that its connection has data in flight to be
  // acknowledged (by the peer's kernel, whatever its process is doing).
  bool host_acks = false;
  // Bytes the provider reserves at the start of every send and receive buffer (FI_MSG_PREFIX,
  // e.g. the 40-byte GRH of InfiniBand UD); counted in max_msg.  Only datagram transports.
  std::size_t prefix = 0;
  // The core's doorbell check after a send needs no fence of its own (FM's shm): the send ended
  // with a sequentially consistent fence, or every process of the host that sleeps issues
  // membarrier(2)'s global barrier first (Idle::arm).
  bool fenced = false;
  // A sender that found no room for a packet (FM_EAGAIN from send/inject) may sleep: after
  // want_space(peer) and the sleeper's barrier (Idle::arm), the receiver calls the on_space()
  // callback for it once it has made room (FM's shm: a full ring).
  bool space_wake = false;
  bool local = false;     // reaches only processes of this host
  bool datagram = false;  // built on datagrams (FM's reliability layer provides the rest)
};

struct Completion {
  // read: any RMA (read or write) done; peer_stalled: len is a peer that acknowledged nothing
  // for the peer time-out, reported once per stall.  The transport keeps retransmitting to it:
  // the owner decides whether it failed (a process of this host known alive is only starved of
  // CPU) and says so with give_up().  No transport declares a peer failed by itself.
  enum Kind : std::uint8_t { recv, send, read, error, peer_stalled };
  Kind kind;
  int status;       // FM_SUCCESS, or the error (kind == error)
  void* ctx;        // context given to post_recv() or send()
  std::size_t len;  // bytes received (recv)
};

class Transport {
 public:
  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  const Caps& caps() const noexcept { return caps_; }

  // --- set-up (may allocate, may be slow) ---
  // The local endpoint address, opaque bytes to be published through the bootstrap.
  virtual std::vector<std::byte> address() const = 0;
  // Makes peers reachable: addrs[r] is rank r's address, or empty when r is not on this transport.
  virtual int insert_peers(std::span<const std::vector<std::byte>> addrs) = 0;

  // --- data path: no allocation, no locks, no system calls beyond the provider's own ---
  // Posts a receive buffer; its completion carries ctx.  FM_EAGAIN: poll and retry.
  virtual int post_recv(void* buf, std::size_t len, void* ctx) = 0;
  // Sends the gathered iov to peer; a send completion carries ctx once the buffers may be reused.
  virtual int send(unsigned peer, const iovec* iov, std::size_t iovcnt, void* ctx) = 0;
  // Sends len <= caps().inject_size bytes; the buffer may be reused on return; no completion.
  virtual int inject(unsigned peer, const void* buf, std::size_t len) = 0;
  // Reaps up to max completions; returns their number (0 if none), or < 0.
  virtual int poll(Completion* out, int max) = 0;

  // --- RMA (optional: caps().rma_read; otherwise FM_EUNSUPPORTED) ---
  // A memory region peers may read: addr and key go to them in a message.
  struct Region {
    void* handle = nullptr;
    std::uint64_t addr = 0;
    std::uint64_t key = 0;
  };
  // Exposes [buf, buf + len) to reads (and with writable, writes) by peers (registration; may
  // allocate: not a hot path).
  virtual int expose(const void* buf, std::size_t len, Region* out, bool writable = false);
  virtual void unexpose(Region* r);
  // Reads len bytes at (raddr, key) of peer into buf; a Completion::read carries ctx.
  virtual int read(unsigned peer, void* buf, std::size_t len, std::uint64_t raddr,
                   std::uint64_t key, void* ctx);
  // Writes len bytes of buf to (raddr, key) of peer; its Completion::read (ctx) means the data is
  // in the peer's memory (delivery complete).
  virtual int write(unsigned peer, const void* buf, std::size_t len, std::uint64_t raddr,
                    std::uint64_t key, void* ctx);

  // Transports with their own reliability: true when every packet sent has been acknowledged
  // (or its peer given up on).
  virtual bool quiescent() const { return true; }
  // Closing handshake of such transports, once quiescent(): begin_close() tells every peer that
  // we owe it nothing more; peers_closed() is true once every live peer has said the same, so
  // none of them still needs our acknowledgements (and a short grace period has passed for
  // those whose copy of our last word was lost).  Until then the owner keeps polling.
  virtual void begin_close() {}
  virtual bool peers_closed() { return true; }
  // Wire-up is over: every peer has inserted us (transports that publish something for peers to
  // attach may withdraw it now).
  virtual void connected() {}
  // Same-host peer `peer`'s process (pid) has exited, killed or not: drop what it left behind
  // that would outlive it (libfabric shm's named region).  Called once, from the core.
  virtual void peer_exited(unsigned peer, int pid) {
    (void)peer;
    (void)pid;
  }
  // The owner declared `peer` failed (for whatever reason): stop retransmitting to it and stop
  // waiting for it to acknowledge or close.  Called once, from the core.
  virtual void give_up(unsigned peer) { (void)peer; }
  // Appends to `out` those of `peers` whose host has acknowledged none of the data in flight to
  // it for `timeout_ms` (Caps::host_acks).  Kernels acknowledge for their processes, stopped or
  // starved of CPU ones too: this finds a host that became unreachable, never a slow process.
  virtual void unacknowledged(std::span<const unsigned> peers, std::uint32_t timeout_ms,
                              std::vector<unsigned>& out) {
    (void)peers;
    (void)timeout_ms;
    (void)out;
  }
  // Bytes of memory the transport holds for its own buffers and per-peer state (not the
  // provider's), for tests and statistics.
  virtual std::size_t memory() const { return 0; }
  // Packets sent to peer again (transports with their own reliability), else 0.
  virtual std::uint64_t retransmissions(unsigned peer) const {
    (void)peer;
    return 0;
  }

  // Bytes of our reads from peer that peer copied for us (FM_SHM_SPLIT), else 0.
  virtual std::uint64_t shared_copy_bytes(unsigned peer) const {
    (void)peer;
    return 0;
  }

  // Whether peer can take `packets` packets of `bytes` in all (headers included) now, without
  // a send returning FM_EAGAIN for want of room (FM_try_begin_message promises the whole message).
  // True when the transport cannot tell, or could never take that much at once (then no promise
  // is possible and sends wait for room as they go): only FM's shm rings answer.
  virtual bool room_for(unsigned peer, std::size_t packets, std::size_t bytes) noexcept {
    (void)peer;
    (void)packets;
    (void)bytes;
    return true;
  }

  // Whether an empty receive space at peer could take `packets` packets of `bytes` in all at once
  // (room_for's bound once the peer has drained everything): FM_try_max.  True when the transport
  // has no such bound.
  virtual bool could_hold(unsigned peer, std::size_t packets, std::size_t bytes) const noexcept {
    (void)peer;
    (void)packets;
    (void)bytes;
    return true;
  }

  // --- blocking support ---
  // Caps::space_wake: a sender about to sleep until peer has room for its packet says so here
  // (before its barrier); the receiving side then calls fn(ctx, us) from its poll() once it has
  // made room.  Not a hot path: only a sender that will sleep calls it.
  virtual void want_space(unsigned peer) noexcept { (void)peer; }
  // Where the receiving side reports that a sender that asked for room has some (set once).
  void on_space(void (*fn)(void* ctx, unsigned sender), void* ctx) noexcept {
    space_fn_ = fn;
    space_ctx_ = ctx;
  }
  // A descriptor that becomes readable when completions may be pending, or -1.
  virtual int wait_fd() = 0;
  // True when it is safe to sleep on wait_fd() now (nothing pending; fi_trywait).
  virtual bool try_wait() = 0;

 protected:
  Transport() = default;
  Caps caps_;
  void (*space_fn_)(void*, unsigned) = nullptr;
  void* space_ctx_ = nullptr;
};

// What FM_PROVIDER names (the table is in stack.cpp).  "auto" picks the local provider for
// same-host peers and the default network provider for the others.
struct ProviderSpec {
  enum class Impl : std::uint8_t { ofi, shm, loopback };
  const char* name;    // FM_PROVIDER value: "shm", "tcp", "verbs", "udp", "verbs-ud", "loopback"
  const char* fabric;  // libfabric provider ("shm", "tcp;ofi_rxm", ...), nullptr for FM's own
  bool datagram;       // FI_EP_DGRAM: FM's reliability layer goes on top
  bool local;          // reaches only processes of this host
  bool probe;          // fm_info -p opens it
  Impl impl;           // libfabric, FM's shared-memory transport (shm.cpp), in-process loopback
};

struct OpenParams {
  const ProviderSpec* spec = nullptr;
  std::string iface;  // network interface name for tcp/verbs, or empty
  unsigned rank = 0;
  unsigned size = 1;
  std::size_t packet_size = 16384;  // open_stack: 0 = automatic (FM_PACKET_SIZE=auto)
  // ofi_rxm: the eager limit to give it (FI_OFI_RXM_EAGER_LIMIT) unless the user set it or rxm's
  // buffer size; 0: leave it.
  std::size_t rxm_eager = 0;
  std::uint32_t rx_depth = 256;  // receives the core intends to post
  std::uint32_t tx_depth = 256;  // sends the core may have outstanding
  // Give the completion queue a wait object (FI_WAIT_FD) so that idle callers can sleep on it.
  // Not free: tcp;ofi_rxm's progress then goes through an epoll set, ~0.5 us per message.
  bool wait_fd = true;
  // FM's shm transport: bytes of each sender's ring (FM_SHM_RING), cross-memory attach
  // (FM_SHM_CMA: 0 off, 1 on, -1 auto).
  std::size_t shm_ring = 65536;
  int shm_cma = -1;
  // FM_SHM_MEMBARRIER: receivers carry the send path's fence with membarrier(2) (1) or every
  // send fences (0).
  int shm_membarrier = 1;
  std::size_t shm_sweep = 4096;         // FM_SHM_SWEEP
  std::size_t shm_split = 1024 * 1024;  // FM_SHM_SPLIT (0: off)
};

// Fault injection (tests): a decorator over any transport that drops, duplicates, reorders
// (holds a packet up to 200 us so that later ones overtake it) and delays packets.  Each rate is a
// probability per packet; the generator is seeded, so a run is repeatable for a given order of
// sends.  RMA passes through undisturbed.
struct FaultParams {
  double drop = 0, dup = 0, reorder = 0;
  double delay_rate = 0;  // share of packets delayed by delay_us
  std::uint32_t delay_us = 0;
  std::uint64_t seed = 1;
  // Pretend to be a provider with FI_MSG_PREFIX of this many bytes (tests the layers above):
  // strips them from sends, and receives behind as many bytes of garbage.
  std::size_t prefix = 0;
};

// FM's reliability over an unreliable transport (datagrams): sequence numbers, cumulative and
// selective acknowledgements (piggybacked, or after ack_delay_us), retransmission on an adaptive
// time-out (RTT estimated from echoed timestamps, backoff), duplicate suppression and a reorder
// window of `window` packets per peer.  A peer that acknowledges nothing for peer_timeout_ms is
// reported with a Completion::peer_stalled (once per stall) and given up on only when the owner
// says so (give_up()).  See reliable.cpp.
inline constexpr std::size_t kReliableHeader = 36;  // bytes it adds to every packet
struct ReliableParams {
  unsigned rank = 0, size = 1;
  std::uint32_t window = 64;
  std::uint32_t ack_delay_us = 50;
  // (FM_RTO_MIN_US) A floor of 2 ms: below it, ranks sharing cores (busy-polling, descheduled for a
  // time slice) caused up to 10x as many retransmissions, all spurious, and ran 3x slower (netns
  // rma test).
  std::uint32_t initial_rto_us = 5000, min_rto_us = 2000, max_rto_us = 200000;
  std::uint32_t peer_timeout_ms = 10000;
};

}  // namespace fm::transport
