// shm.cpp - FM's own transport between the processes of one host (FM_PROVIDER=shm; libfabric's
// shm provider stays as ofi-shm).
//
// Every process owns one segment, an anonymous memory file (util/memfd.hpp: sealed, opened by
// peers through /proc/PID/fd/FD, gone with its last mapping, never a name in /dev/shm):
//
//   line 0        header (magic, version, owner, size, cells per ring, pid, nonce, cma)
//   line 1        split-copy requests posted to the owner (a counter peers bump)
//   line 2        reserved
//   W lines       the active-sender bitmap: bit s set while sender s's ring may hold packets
//   3 lines/peer  head of sender s's ring (written by the owner); sender s's want-space word;
//                 peer s's split-copy request to the owner (struct Split)
//   table         the owner's exposed regions (4096 slots of {addr, len, tag})
//   rings         one SPSC ring per sender (shm_ring.hpp), page-aligned
//
// Sending is a copy into the receiver's ring for us (a packet of up to 56 bytes is one cache
// line), a release store of its stamp, and a load of our bit in its bitmap (set with one atomic
// OR when the receiver cleared it).  Receiving polls only the rings whose bits are set: a bit is
// cleared after its ring was found empty for a while (about a millisecond), then re-checked.  That
// pair is a Dekker handshake; the receiver's rare side carries its fence as membarrier(2)'s
// expedited global barrier (util/membarrier.hpp), so a send has no fence and its stores stream from
// the store buffer (FM_SHM_MEMBARRIER=off, or a rank that cannot register, puts a fence in every
// send instead).  poll() copies packets into the posted receives in order; a packet with no
// posted receive waits in its ring (back-pressure, never a loss).  The sender sees a full ring
// as FM_EAGAIN; one that will sleep until there is room sets its want-space word (want_space(),
// before its barrier in Idle::arm), and the receiver, having published a new head, finds the
// word set and calls the core's on_space callback, which rings the sender's doorbell: the same
// Dekker pair as the bitmap's, the other way round.  The word is read once per drain that freed
// cells (a line only the sender writes, and only before a sleep), so the data path pays one load.
// Only with membarrier (fast_): with fences the receiver would need one per drain, so there a
// sender behind a full ring polls (Caps::space_wake is false).
//
// Zero-copy pieces and RMA use cross-memory attach (process_vm_readv/writev): expose() publishes
// {addr, len, tag} in the table, peers check a key against it before they read, and unexpose()
// revokes it.  Whether CMA works is decided identically on every rank of the host (each publishes
// its own probe; the lane uses CMA only when all of them can), so senders and receivers agree on
// the zero-copy protocol; FM_SHM_CMA=off turns it off.
//
// Split copies (FM_SHM_SPLIT, 1 MiB): one core copies at most 14-17 GB/s here, two copying
// disjoint halves of a large region about 1.2x that at 1 MiB and 1.8-2x from 4 MiB (below 1 MiB
// the reader's cache wins; docs/internals.md has the figures).  A read of at least
// FM_SHM_SPLIT bytes is cut into chunks; the reader posts the request in its Split line in the
// owner's segment and bumps the owner's request counter; both then claim chunks by
// compare-and-swap on one word and copy them, the reader with process_vm_readv, the owner (only
// while it is in FM's progress with memory exposed, as a sender waiting for its zero-copy piece
// to be read is) with process_vm_writev.  A reader whose peer never looks takes every chunk
// itself; it waits only for the chunks the owner claimed, each one system call long.
//
// Data path: no allocation, no lock, no system call (CMA reads are one, by design).
#include <linux/mempolicy.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "transport/factories.hpp"
#include "transport/shm_ring.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/membarrier.hpp"
#include "util/memfd.hpp"
#include "util/topology.hpp"

namespace fm::transport {
namespace {

using shm::kCell;
using shm::RingReader;
using shm::RingWriter;

constexpr std::uint64_t kMagic = 0x31'4d48'534d'46ull;  // "FMSHM1"
constexpr std::uint32_t kVersion = 2;
constexpr std::size_t kLine = 64;
constexpr std::uint32_t kSlots = 4096;  // regions exposed at once
// Empty looks at a ring before its bit is cleared: with membarrier the clear costs a system call
// and an interrupt on the senders' CPUs (about a microsecond each), so only rings idle for about a
// millisecond; with fences a clear is cheap.
constexpr std::uint32_t kIdlePollsMembarrier = 1u << 16;
constexpr std::uint32_t kIdlePollsFence = 256;

struct Header {
  std::uint64_t magic;
  std::uint32_t version, owner, size, ncells;
  std::int32_t pid;
  std::uint32_t cma;
  std::uint64_t nonce;
};
static_assert(sizeof(Header) <= kLine);

struct Slot {  // an exposed region; tag 0: free
  std::atomic<std::uint64_t> tag, addr, len;
  std::uint64_t pad;
};
static_assert(sizeof(Slot) == 32 && std::atomic<std::uint64_t>::is_always_lock_free);

// A reader's split-copy request, in the owner's segment (one per reader).  claim: generation (24
// bits) | chunks (20) | next unclaimed chunk (20), advanced by compare-and-swap by either side;
// done: chunks the owner finished (+ kSplitFailed if one of its writes failed).  The reader writes
// the other fields before it publishes a new generation (release), and starts the next request
// only after the owner finished every chunk it claimed.
struct Split {
  std::atomic<std::uint64_t> claim, done, dst, src, len, key, chunk;
  std::uint64_t pad;
};
static_assert(sizeof(Split) == 64);
constexpr std::uint64_t kSplitMask = (1u << 20) - 1;
constexpr std::uint64_t kSplitFailed = std::uint64_t{1} << 63;
constexpr std::uint64_t kSplitChunkMin = 64 * 1024;

// What a process publishes: where its segment is and how to check it.
struct Address {
  std::uint64_t magic;
  std::int32_t pid, fd;
  std::uint64_t nonce;
  std::uint64_t base;  // the segment's address in its owner (the CMA cross-probe reads it)
  std::uint32_t ncells, cma;
  std::uint32_t mb, pad;  // registered for membarrier(2)'s expedited global barrier
};

// Offsets in a segment of n senders' rings of ncells cells.
struct Layout {
  std::size_t bitmap, ctl, table, rings, ring_bytes, total;
  Layout(unsigned n, std::uint32_t ncells) {
    const std::size_t words = (n + 63) / 64;
    bitmap = bitmap_of(0);
    ctl = bitmap + words * kLine;
    table = ctl + 3 * kLine * n;
    const std::size_t page = 4096;
    rings = (table + kSlots * sizeof(Slot) + page - 1) / page * page;
    ring_bytes = std::size_t{ncells} * kCell;
    total = rings + n * ring_bytes;
  }
  static constexpr std::size_t bitmap_of(unsigned w) { return (3 + std::size_t{w}) * kLine; }
};

template <class T>
T* at(std::byte* base, std::size_t off) {
  return reinterpret_cast<T*>(base + off);
}

// Whether this process can read its own memory through CMA (seccomp or a kernel without it say
// no), after letting same-user peers attach when Yama's ptrace_scope is 1 (as Open MPI does).
bool cma_probe(const char** why) {
  if (FILE* f = std::fopen("/proc/sys/kernel/yama/ptrace_scope", "r")) {
    int scope = 0;
    const bool got = std::fscanf(f, "%d", &scope) == 1;
    std::fclose(f);
    if (got && scope >= 2) {
      *why = "Yama ptrace_scope >= 2";
      return false;
    }
    if (got && scope == 1) prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  }
  std::uint64_t src = 0x5eed, dst = 0;
  iovec l{&dst, sizeof dst}, r{&src, sizeof src};
  if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != static_cast<ssize_t>(sizeof dst) ||
      dst != src) {
    *why = "process_vm_readv refused";
    return false;
  }
  return true;
}

class ShmTransport final : public Transport {
 public:
  ~ShmTransport() override {
    for (Peer& q : peers_)
      if (q.base != nullptr) munmap(q.base, q.len);
    if (base_ != nullptr) munmap(base_, len_);
    if (fd_ >= 0) close(fd_);
  }

  int open(const OpenParams& p) {
    rank_ = p.rank;
    size_ = p.size;
    ncells_ =
        static_cast<std::uint32_t>(std::bit_floor(std::max<std::size_t>(p.shm_ring, 4096) / kCell));
    const Layout lay(size_, ncells_);
    if (const int e =
            memfd::create_sealed("fm-shm", lay.total, &fd_, reinterpret_cast<void**>(&base_));
        e != 0)
      return fail(FM_ENOMEM, "shm: a %zu-byte segment for %u peers: %s", lay.total, size_,
                  std::strerror(e));
    len_ = lay.total;
    place_rings(lay);
    std::random_device rd;
    nonce_ = (std::uint64_t{rd()} << 32) | rd();
    const char* why = "FM_SHM_CMA=off";
    cma_ = p.shm_cma != 0 && cma_probe(&why);
    if (!cma_ && p.shm_cma == 1)
      return fail(FM_EUNSUPPORTED, "shm: FM_SHM_CMA=on, but cross-memory attach is unusable (%s)",
                  why);
    if (!cma_) FM_DEBUG("shm: no cross-memory attach (%s): large messages are copied", why);
    mb_ = p.shm_membarrier != 0 && membarrier::enable();
    if (!mb_ && p.shm_membarrier)
      FM_DEBUG("shm: membarrier(2) unavailable: every send pays a fence");
    const Header h{kMagic,         kVersion, rank_,
                   size_,          ncells_,  static_cast<std::int32_t>(getpid()),
                   cma_ ? 1u : 0u, nonce_};
    std::memcpy(base_, &h, sizeof h);
    words_ = (size_ + 63) / 64;
    rx_.resize(size_);
    idle_polls_.assign(size_, 0);
    idle_.assign(size_, 0);
    sweep_mask_ = p.shm_sweep == 0 ? 0 : std::bit_floor(std::max<std::size_t>(p.shm_sweep, 2)) - 1;
    for (unsigned s = 0; s < size_; ++s)
      rx_[s] = RingReader(base_ + lay.rings + s * lay.ring_bytes, ncells_, head_of(base_, lay, s));
    split_min_ = p.shm_split == 0 ? 0 : std::max<std::size_t>(p.shm_split, 2 * kSplitChunkMin);
    splits_ = split_of(base_, lay, 0);
    requests_ = requests_of(base_);
    shared_.assign(size_, 0);
    split_failed_.assign(size_, false);
    want_.resize(size_);
    for (unsigned s = 0; s < size_; ++s) want_[s] = want_of(base_, lay, s);
    table_ = at<Slot>(base_, lay.table);
    for (std::uint32_t i = kSlots; i > 0; --i) free_slots_.push_back(i - 1);
    peers_.resize(size_);
    posted_.resize(std::bit_ceil(std::max<std::uint32_t>(p.rx_depth, 2)));
    cq_.resize(std::bit_ceil(std::max<std::uint32_t>(p.tx_depth, 2) + 64));
    caps_.name = "shm";
    caps_.max_msg = std::min(p.packet_size, RingWriter::max_packet(ncells_)) / 8 * 8;
    caps_.inject_size = caps_.max_msg;
    caps_.rx_depth = static_cast<std::uint32_t>(posted_.size());
    caps_.tx_depth = static_cast<std::uint32_t>(cq_.size() - 64);
    caps_.ordered = caps_.reliable = caps_.local = caps_.fenced = true;
    caps_.max_rma = std::size_t{1} << 30;
    return FM_SUCCESS;
  }

  std::vector<std::byte> address() const override {
    const Address a{kMagic,
                    static_cast<std::int32_t>(getpid()),
                    fd_,
                    nonce_,
                    reinterpret_cast<std::uint64_t>(base_),
                    ncells_,
                    cma_ ? 1u : 0u,
                    mb_ ? 1u : 0u,
                    0};
    std::vector<std::byte> out(sizeof a);
    std::memcpy(out.data(), &a, sizeof a);
    return out;
  }

  int insert_peers(std::span<const std::vector<std::byte>> addrs) override {
    bool cma = cma_, mb = mb_;
    for (unsigned r = 0; r < addrs.size() && r < size_; ++r) {
      if (r == rank_ || addrs[r].empty()) continue;
      Address a;
      if (addrs[r].size() != sizeof a)
        return fail(FM_ETRANSPORT, "shm: node %u's address has %zu bytes, not %zu (another FM?)", r,
                    addrs[r].size(), sizeof a);
      std::memcpy(&a, addrs[r].data(), sizeof a);
      Peer& q = peers_[r];
      if (q.base != nullptr) munmap(q.base, q.len);
      q = Peer{};
      const Layout lay(size_, a.ncells);
      void* p = nullptr;
      if (const int e = memfd::map_peer(a.pid, a.fd, PROT_READ | PROT_WRITE, lay.total, &p, &q.len);
          e != 0)
        return fail(FM_ETRANSPORT, "shm: node %u's segment (/proc/%d/fd/%d) cannot be mapped: %s",
                    r, a.pid, a.fd, std::strerror(e));
      q.base = static_cast<std::byte*>(p);
      Header h;
      std::memcpy(&h, q.base, sizeof h);
      if (a.magic != kMagic || h.magic != kMagic || h.version != kVersion || h.owner != r ||
          h.size != size_ || h.nonce != a.nonce || h.ncells != a.ncells || a.ncells < 64 ||
          !std::has_single_bit(a.ncells))
        return fail(FM_ETRANSPORT,
                    "shm: /proc/%d/fd/%d is not node %u's shm segment (another job's, or another "
                    "FM version's)",
                    a.pid, a.fd, r);
      q.pid = a.pid;
      q.remote_base = a.base;
      q.tx = RingWriter(q.base + lay.rings + std::size_t{rank_} * lay.ring_bytes, a.ncells,
                        head_of(q.base, lay, rank_));
      q.max = RingWriter::max_packet(a.ncells);
      q.want = want_of(q.base, lay, rank_);
      q.split = split_of(q.base, lay, rank_);
      q.requests = requests_of(q.base);
      q.word = at<std::atomic<std::uint64_t>>(q.base, lay.bitmap + (rank_ / 64) * kLine);
      q.bit = std::uint64_t{1} << (rank_ % 64);
      q.table = at<Slot>(q.base, lay.table);
      cma = cma && a.cma != 0;
      mb = mb && a.mb != 0;
    }
    // Likewise the fence protocol: without a fence per send only when every rank can issue and
    // receive the receivers' membarrier (see announce()).
    fast_ = mb;
    idle_limit_ = fast_ ? kIdlePollsMembarrier : kIdlePollsFence;
    // Senders behind a full ring sleep only with membarrier: with fences the receiver would pay
    // one per drain to see their want-space words, so they poll as before.
    caps_.space_wake = fast_;
    // Every rank of the host computes the same answer from the same published probes.
    caps_.rma_read = caps_.rma_write = cma;
    if (!cma) return FM_SUCCESS;
    for (unsigned r = 0; r < size_; ++r) {
      Peer& q = peers_[r];
      if (q.base == nullptr) continue;
      std::uint64_t magic = 0;
      iovec l{&magic, sizeof magic}, rm{reinterpret_cast<void*>(q.remote_base), sizeof magic};
      if (process_vm_readv(q.pid, &l, 1, &rm, 1, 0) != static_cast<ssize_t>(sizeof magic) ||
          magic != kMagic)
        return fail(FM_ETRANSPORT,
                    "shm: cross-memory attach to node %u (pid %d) refused (%s); set FM_SHM_CMA=off "
                    "on every rank",
                    r, q.pid, std::strerror(errno));
    }
    return FM_SUCCESS;
  }

  void connected() override {
    if (fd_ >= 0) close(fd_);  // every peer has mapped it; the mappings keep it
    fd_ = -1;
  }

  int post_recv(void* buf, std::size_t len, void* ctx) override {
    if (post_tail_ - post_head_ == posted_.size()) return FM_EAGAIN;
    posted_[post_tail_++ & (posted_.size() - 1)] = Posted{buf, len, ctx};
    return FM_SUCCESS;
  }

  int inject(unsigned peer, const void* buf, std::size_t len) override {
    Peer* q = peer_of(peer, len);
    if (q == nullptr) return last_status();
    if (!q->tx.push(buf, len)) return FM_EAGAIN;
    announce(*q);
    return FM_SUCCESS;
  }

  int send(unsigned peer, const iovec* iov, std::size_t iovcnt, void* ctx) override {
    std::size_t total = 0;
    for (std::size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    Peer* q = peer_of(peer, total);
    if (q == nullptr) return last_status();
    if (cq_full()) return FM_EAGAIN;
    if (!q->tx.push(iov, iovcnt, total)) return FM_EAGAIN;
    announce(*q);
    complete(Completion{Completion::send, FM_SUCCESS, ctx, 0});
    return FM_SUCCESS;
  }

  // Each packet takes its bytes plus a cell header, rounded up to whole cells.
  bool room_for(unsigned peer, std::size_t packets, std::size_t bytes) noexcept override {
    if (peer >= size_ || peers_[peer].base == nullptr) return true;
    RingWriter& w = peers_[peer].tx;
    const std::uint64_t need = shm::cells_for(bytes + packets * shm::kCellHeader) + packets;
    return need > w.capacity() || w.room(need);
  }

  bool could_hold(unsigned peer, std::size_t packets, std::size_t bytes) const noexcept override {
    if (peer >= size_ || peers_[peer].base == nullptr) return true;
    return shm::cells_for(bytes + packets * shm::kCellHeader) + packets <=
           peers_[peer].tx.capacity();
  }

  int poll(Completion* out, int max) override {
    int n = 0;
    while (n < max && cq_head_ != cq_tail_) out[n++] = cq_[cq_head_++ & (cq_.size() - 1)];
    // Belt and braces: now and then (FM_SHM_SWEEP) every ring is looked at, whether its bit is set
    // or not, so that even a protocol slip could only delay a packet, never strand it.  (A sender
    // between its stamp and its bit is seen here too: that is no slip, so this only counts.)
    if (sweep_mask_ != 0 && (++polls_ & sweep_mask_) == 0) sweep();
    // the active rings, round-robin from the one after the last served
    const unsigned start = next_;
    for (unsigned k = 0; k <= words_ && n < max; ++k) {
      const unsigned w = (start / 64 + k) % words_;
      std::uint64_t bits = bitmap(w).load(std::memory_order_relaxed);
      if (k == 0) bits &= ~std::uint64_t{0} << (start % 64);
      if (k == words_) bits &= (std::uint64_t{1} << (start % 64)) - 1;
      while (bits != 0 && n < max) {
        const unsigned s = w * 64 + static_cast<unsigned>(std::countr_zero(bits));
        bits &= bits - 1;
        drain(s, out, &n, max);
      }
    }
    if (nidle_ != 0) clear_idle();
    // a reader asked us to copy part of a read of our memory (only while some is exposed)
    if (free_slots_.size() != kSlots && split_min_ != 0 &&
        requests_->load(std::memory_order_relaxed) != requests_seen_) [[unlikely]]
      help_readers();
    return n;
  }

  int expose(const void* buf, std::size_t len, Region* out, bool writable) override {
    if (!caps_.rma_read) return fail(FM_EUNSUPPORTED, "shm: no cross-memory attach here");
    if (free_slots_.empty())
      return fail(FM_ENOMEM, "shm: %u regions exposed at once (the most a segment holds)", kSlots);
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    if (++gen_ > 0x7fffffffu) gen_ = 1;
    const std::uint64_t tag = std::uint64_t{gen_} << 1 | (writable ? 1 : 0);
    Slot& e = table_[slot];
    e.addr.store(reinterpret_cast<std::uint64_t>(buf), std::memory_order_relaxed);
    e.len.store(len, std::memory_order_relaxed);
    e.tag.store(tag, std::memory_order_release);
    out->handle = reinterpret_cast<void*>(std::uintptr_t{slot} + 1);
    out->addr = reinterpret_cast<std::uint64_t>(buf);
    out->key = std::uint64_t{slot} << 32 | tag;
    return FM_SUCCESS;
  }

  void unexpose(Region* r) override {
    if (r->handle == nullptr) return;
    const auto slot = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(r->handle) - 1);
    table_[slot].tag.store(0, std::memory_order_release);
    free_slots_.push_back(slot);
    r->handle = nullptr;
  }

  int read(unsigned peer, void* buf, std::size_t len, std::uint64_t raddr, std::uint64_t key,
           void* ctx) override {
    return cma(peer, buf, len, raddr, key, ctx, false);
  }
  int write(unsigned peer, const void* buf, std::size_t len, std::uint64_t raddr, std::uint64_t key,
            void* ctx) override {
    return cma(peer, const_cast<void*>(buf), len, raddr, key, ctx, true);
  }

  std::uint64_t shared_copy_bytes(unsigned peer) const override {
    return peer < shared_.size() ? shared_[peer] : 0;
  }

  std::size_t memory() const override {
    std::size_t m = len_;
    for (const Peer& q : peers_) m += q.len;
    return m;
  }

  int wait_fd() override { return -1; }
  bool try_wait() override { return false; }

  // The caller's barrier follows (Idle::arm), then it looks at the ring once more (push()).
  void want_space(unsigned peer) noexcept override {
    if (peer >= size_ || peers_[peer].want == nullptr) return;
    std::atomic<std::uint32_t>& w = *peers_[peer].want;
    if (w.load(std::memory_order_relaxed) == 0) w.store(1, std::memory_order_relaxed);
  }

 private:
  struct Peer {
    std::byte* base = nullptr;  // its segment, mapped read-write
    std::size_t len = 0;
    int pid = 0;
    std::uint64_t remote_base = 0;
    RingWriter tx;  // our ring in its segment
    std::size_t max = 0;
    std::atomic<std::uint64_t>* word = nullptr;      // our word of its bitmap
    std::atomic<std::uint32_t>* want = nullptr;      // our want-space word in its segment
    Split* split = nullptr;                          // our split-copy request in its segment
    std::atomic<std::uint64_t>* requests = nullptr;  // its split-copy request counter
    std::uint64_t bit = 0;
    const Slot* table = nullptr;
  };
  struct Posted {
    void* buf;
    std::size_t len;
    void* ctx;
  };

  static std::atomic<std::uint64_t>* head_of(std::byte* base, const Layout& lay, unsigned s) {
    return at<std::atomic<std::uint64_t>>(base, lay.ctl + 3 * kLine * s);
  }
  static std::atomic<std::uint32_t>* want_of(std::byte* base, const Layout& lay, unsigned s) {
    return at<std::atomic<std::uint32_t>>(base, lay.ctl + 3 * kLine * s + kLine);
  }
  static Split* split_of(std::byte* base, const Layout& lay, unsigned s) {
    return at<Split>(base, lay.ctl + 3 * kLine * s + 2 * kLine);
  }
  static std::atomic<std::uint64_t>* requests_of(std::byte* base) {
    return at<std::atomic<std::uint64_t>>(base, kLine);
  }
  std::atomic<std::uint64_t>& bitmap(unsigned w) {
    return *at<std::atomic<std::uint64_t>>(base_, Layout::bitmap_of(w));
  }

  Peer* peer_of(unsigned peer, std::size_t len) {
    if (peer >= size_ || peers_[peer].base == nullptr) {
      fail(FM_ENODEST, "shm: node %u is not a peer of this transport", peer);
      return nullptr;
    }
    Peer& q = peers_[peer];
    if (len > q.max) {
      fail(FM_EINVAL, "shm: a %zu-byte packet for node %u exceeds its %zu-byte limit", len, peer,
           q.max);
      return nullptr;
    }
    return &q;
  }

  // After a packet is in q's ring: our bit in its bitmap set.  The receiver clears a bit only
  // after its ring was empty for a while, and then looks at the ring once more: Dekker between
  // our stamp-store-then-bit-load and its bit-clear-then-stamp-load.  With membarrier (fast_) its
  // side carries the whole fence (membarrier::global() runs one on our CPU in between), so ours
  // is only a compiler barrier; otherwise both sides fence.  Either way the doorbell check that
  // follows (Idle::ring) needs no fence of its own: the sleeper's arm() does the same.
  void announce(Peer& q) noexcept {
    if (fast_)
      std::atomic_signal_fence(std::memory_order_seq_cst);
    else
      std::atomic_thread_fence(std::memory_order_seq_cst);
    if ((q.word->load(std::memory_order_relaxed) & q.bit) == 0)
      q.word->fetch_or(q.bit, std::memory_order_seq_cst);
  }

  // On a host with more than one NUMA node: the rings' pages (faulted in by whichever process
  // touches them first, usually a sender) come from the node this process, their reader, runs on
  // (MPOL_PREFERRED on the shared memory file, so every process's faults follow it).  Where the
  // ranks are bound (mpiexec -bind-to core, FM_BIND), that is where the reader stays.
  void place_rings(const Layout& lay) {
    if (!topology::numa()) return;
    const int cpu = sched_getcpu();
    const int node = cpu >= 0 ? topology::host().node_of(cpu) : -1;
    if (node < 0 || node >= 1024) return;
    unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {};
    mask[node / (8 * sizeof(unsigned long))] |= 1ul << (node % (8 * sizeof(unsigned long)));
    if (syscall(SYS_mbind, base_ + lay.rings, len_ - lay.rings, MPOL_PREFERRED, mask, 1024ul, 0u) !=
        0)
      FM_DEBUG("shm: rings not placed on NUMA node %d: %s", node, std::strerror(errno));
    else
      FM_DEBUG("shm: rings on NUMA node %d (cpu %d)", node, cpu);
  }

  [[gnu::cold]] void sweep() noexcept {
    for (unsigned s = 0; s < size_; ++s) {
      std::atomic<std::uint64_t>& word = bitmap(s / 64);
      const std::uint64_t bit = std::uint64_t{1} << (s % 64);
      if (s == rank_ || (word.load(std::memory_order_relaxed) & bit) != 0 || rx_[s].peek() < 0)
        continue;
      word.fetch_or(bit, std::memory_order_relaxed);
      ++swept_;
    }
  }

  bool cq_full() const noexcept { return cq_tail_ - cq_head_ >= cq_.size(); }
  void complete(const Completion& c) noexcept { cq_[cq_tail_++ & (cq_.size() - 1)] = c; }

  // Moves sender s's packets into posted receives while both last.
  void drain(unsigned s, Completion* out, int* n, int max) {
    RingReader& r = rx_[s];
    int got = 0;
    long len = -1;
    bool empty = false;  // looked, and found nothing (not: had nowhere to put it)
    while (*n < max && post_head_ != post_tail_ && !(empty = (len = r.peek()) < 0)) {
      const Posted p = posted_[post_head_++ & (posted_.size() - 1)];
      const auto ulen = static_cast<std::size_t>(len);
      if (ulen <= p.len) {
        r.copy(p.buf, ulen);
        out[(*n)++] = Completion{Completion::recv, FM_SUCCESS, p.ctx, ulen};
      } else {  // a sender beyond our packet size: not FM's; the buffer comes back as an error
        out[(*n)++] = Completion{Completion::error, FM_ETRANSPORT, p.ctx, 0};
      }
      r.pop(ulen);
      ++got;
    }
    if (got > 0) {
      r.publish();
      // A sender asleep until there is room (want_space): the head store above before the load
      // of its word (Dekker; the sleeper's membarrier covers our side, so only with fast_).
      std::atomic_signal_fence(std::memory_order_seq_cst);
      if (fast_ && want_[s]->load(std::memory_order_relaxed) != 0) [[unlikely]]
        made_room(s);
      idle_polls_[s] = 0;
      next_ = s + 1 < size_ ? s + 1 : 0;
      return;
    }
    if (!empty || ++idle_polls_[s] < idle_limit_) return;
    idle_polls_[s] = 0;
    idle_[nidle_++] = s;
  }

  [[gnu::cold]] void made_room(unsigned s) noexcept {
    want_[s]->store(0, std::memory_order_relaxed);
    if (space_fn_ != nullptr) space_fn_(space_ctx_, s);
  }

  // Rings found empty idle_limit_ times in a row: their bits cleared, one barrier (announce()),
  // then each looked at again (a packet published before its sender loaded the bit is seen here;
  // one published after finds the bit clear and sets it).
  void clear_idle() noexcept {
    for (unsigned i = 0; i < nidle_; ++i)
      bitmap(idle_[i] / 64)
          .fetch_and(~(std::uint64_t{1} << (idle_[i] % 64)), std::memory_order_seq_cst);
    if (fast_)
      membarrier::global();
    else
      std::atomic_thread_fence(std::memory_order_seq_cst);
    for (unsigned i = 0; i < nidle_; ++i)
      if (rx_[idle_[i]].peek() >= 0)
        bitmap(idle_[i] / 64)
            .fetch_or(std::uint64_t{1} << (idle_[i] % 64), std::memory_order_relaxed);
    nidle_ = 0;
  }

  int cma(unsigned peer, void* buf, std::size_t len, std::uint64_t raddr, std::uint64_t key,
          void* ctx, bool writing) {
    if (!caps_.rma_read) return fail(FM_EUNSUPPORTED, "shm: no cross-memory attach here");
    if (peer >= size_ || peers_[peer].base == nullptr)
      return fail(FM_ENODEST, "shm: node %u is not a peer of this transport", peer);
    if (cq_full()) return FM_EAGAIN;
    Peer& q = peers_[peer];
    if (!exposed(q.table, key, raddr, len, writing)) {
      FM_DEBUG("shm: %s of %zu bytes at %#llx of node %u refused (key %#llx)",
               writing ? "write" : "read", len, static_cast<unsigned long long>(raddr), peer,
               static_cast<unsigned long long>(key));
      complete(Completion{Completion::error, FM_EACCESS, ctx, 0});
      return FM_SUCCESS;
    }
    const int e = !writing && split_min_ != 0 && len >= split_min_ && !split_failed_[peer]
                      ? split_read(q, peer, static_cast<std::byte*>(buf), len, raddr, key)
                      : copy(q.pid, buf, raddr, len, writing);
    if (e != 0) {
      FM_WARN("shm: %s of %zu bytes from node %u (pid %d) failed: %s%s",
              writing ? "process_vm_writev" : "process_vm_readv", len, peer, q.pid,
              std::strerror(e), e == EPERM ? " (set FM_SHM_CMA=off)" : "");
      complete(Completion{Completion::error, e == ESRCH ? FM_EPEERFAILED : FM_ETRANSPORT, ctx, 0});
      return FM_SUCCESS;
    }
    complete(Completion{Completion::read, FM_SUCCESS, ctx, len});
    return FM_SUCCESS;
  }

  // Whether [addr, addr + len) lies in the region `key` names in an exposure table (ours or a
  // peer's), still exposed, writable if asked.
  static bool exposed(const Slot* table, std::uint64_t key, std::uint64_t addr, std::size_t len,
                      bool writing) noexcept {
    const std::uint64_t slot = key >> 32, tag = key & 0xffffffffu;
    if (slot >= kSlots) return false;
    const Slot& e = table[slot];
    const std::uint64_t t0 = e.tag.load(std::memory_order_acquire);
    const std::uint64_t a = e.addr.load(std::memory_order_relaxed);
    const std::uint64_t l = e.len.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    return t0 != 0 && t0 == tag && e.tag.load(std::memory_order_relaxed) == t0 && addr >= a &&
           len <= l && addr - a <= l - len && (!writing || (t0 & 1) != 0);
  }

  // len bytes between our buf and pid's raddr, either way: 0 or an errno.
  static int copy(int pid, void* buf, std::uint64_t raddr, std::size_t len, bool writing) {
    std::size_t done = 0;
    while (done < len) {
      iovec l{static_cast<std::byte*>(buf) + done, len - done};
      iovec r{reinterpret_cast<void*>(raddr + done), len - done};
      const ssize_t got = writing ? process_vm_writev(pid, &l, 1, &r, 1, 0)
                                  : process_vm_readv(pid, &l, 1, &r, 1, 0);
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        return got < 0 ? errno : EFAULT;
      }
      done += static_cast<std::size_t>(got);
    }
    return 0;
  }

  // A read of len >= split_min_ bytes, in chunks shared with its owner (see the file comment):
  // 0 or an errno.
  int split_read(Peer& q, unsigned peer, std::byte* buf, std::size_t len, std::uint64_t raddr,
                 std::uint64_t key) {
    Split& sp = *q.split;
    // chunks of 64 KiB and more, at most 2^20 of them and about 32 per request: enough for the
    // two sides to even out, few enough that system calls stay a small part of the copy
    std::uint64_t chunk = std::max<std::uint64_t>(kSplitChunkMin, (len / 32 + 4095) / 4096 * 4096);
    while ((len + chunk - 1) / chunk > kSplitMask) chunk *= 2;
    const std::uint64_t n = (len + chunk - 1) / chunk;
    split_gen_ = (split_gen_ + 1) & 0xffffff;
    if (split_gen_ == 0) split_gen_ = 1;
    sp.done.store(0, std::memory_order_relaxed);
    sp.dst.store(reinterpret_cast<std::uint64_t>(buf), std::memory_order_relaxed);
    sp.src.store(raddr, std::memory_order_relaxed);
    sp.len.store(len, std::memory_order_relaxed);
    sp.key.store(key, std::memory_order_relaxed);
    sp.chunk.store(chunk, std::memory_order_relaxed);
    sp.claim.store(split_gen_ << 40 | n << 20, std::memory_order_release);
    q.requests->fetch_add(1, std::memory_order_release);
    int err = 0;
    std::uint64_t mine = 0, taken = 0;  // bytes and chunks we copied
    // Until the owner takes a chunk we take 1, 2, 4, ... at a time (one system call each): an
    // owner that never comes costs about log2(chunks) calls, not one per chunk.
    std::uint64_t grab = 1;
    for (std::uint64_t v = sp.claim.load(std::memory_order_acquire); (v & kSplitMask) < n;) {
      const std::uint64_t next = v & kSplitMask;
      const std::uint64_t k = next == taken ? std::min(grab, n - next) : 1;
      if (!sp.claim.compare_exchange_weak(v, v + k, std::memory_order_acq_rel,
                                          std::memory_order_acquire))
        continue;
      const std::uint64_t off = next * chunk;
      const std::size_t l = static_cast<std::size_t>(std::min<std::uint64_t>(k * chunk, len - off));
      if (err == 0) err = copy(q.pid, buf + off, raddr + off, l, false);
      mine += l;
      taken += k;
      grab *= 2;
      v = sp.claim.load(std::memory_order_acquire);
    }
    // the owner's chunks: each at most one system call still running
    const std::uint64_t theirs = n - taken;
    std::uint64_t d;
    for (unsigned spins = 1;
         ((d = sp.done.load(std::memory_order_acquire)) & ~kSplitFailed) < theirs; ++spins) {
      if (spins % 1024 == 0) {
        // gone (a zombie too: its memory is): the read fails with ESRCH.  A stopped owner holds
        // us until it continues, as a stopped peer holds any wait (it is never declared dead).
        std::uint64_t probe = 0;
        iovec l{&probe, sizeof probe}, r{reinterpret_cast<void*>(q.remote_base), sizeof probe};
        if (process_vm_readv(q.pid, &l, 1, &r, 1, 0) < 0 && errno == ESRCH) return ESRCH;
        sched_yield();  // it may share our CPU
      }
    }
    if (err != 0) return err;
    if (d & kSplitFailed) {  // once more, alone, if the region is still ours to read
      if (!split_failed_[peer]) {
        split_failed_[peer] = true;
        FM_WARN(
            "shm: node %u (pid %d) could not write its share of a %zu-byte read into our "
            "memory; reads from it are no longer split",
            peer, q.pid, len);
      }
      if (!exposed(q.table, key, raddr, len, false)) return EACCES;
      return copy(q.pid, buf, raddr, len, false);
    }
    shared_[peer] += len - mine;
    return 0;
  }

  // Chunks of the reads peers asked us to share (their Split lines in our segment).
  [[gnu::cold]] void help_readers() {
    requests_seen_ = requests_->load(std::memory_order_acquire);
    for (unsigned r = 0; r < size_; ++r) {
      if (r == rank_ || peers_[r].base == nullptr) continue;
      Split& sp = splits_[std::size_t{r} * 3];
      for (std::uint64_t v = sp.claim.load(std::memory_order_acquire);;) {
        const std::uint64_t n = v >> 20 & kSplitMask, next = v & kSplitMask;
        if (next >= n) break;
        if (!sp.claim.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel,
                                            std::memory_order_acquire))
          continue;
        // Ours: the reader keeps this request's fields until we count the chunk in done (the
        // acquire above saw its release of this generation, or a later claim in its sequence).
        const std::uint64_t dst = sp.dst.load(std::memory_order_relaxed);
        const std::uint64_t src = sp.src.load(std::memory_order_relaxed);
        const std::uint64_t len = sp.len.load(std::memory_order_relaxed);
        const std::uint64_t key = sp.key.load(std::memory_order_relaxed);
        const std::uint64_t chunk = sp.chunk.load(std::memory_order_relaxed);
        const std::uint64_t off = next * chunk;
        int e = EINVAL;  // a request that does not add up: the reader copies alone
        if (chunk != 0 && (len + chunk - 1) / chunk == n && off < len &&
            exposed(table_, key, src, len, false)) {
          const std::size_t l = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, len - off));
          e = copy(peers_[r].pid, reinterpret_cast<void*>(src + off), dst + off, l, true);
        }
        if (e != 0) sp.done.fetch_or(kSplitFailed, std::memory_order_relaxed);
        sp.done.fetch_add(1, std::memory_order_release);
        v = sp.claim.load(std::memory_order_acquire);
      }
    }
  }

  unsigned rank_ = 0, size_ = 0, words_ = 1, next_ = 0;
  std::uint64_t polls_ = 0, swept_ = 0, sweep_mask_ = 0;  // swept_: rings the sweep found active
  std::uint32_t ncells_ = 0;
  std::byte* base_ = nullptr;
  std::size_t len_ = 0;
  int fd_ = -1;
  std::uint64_t nonce_ = 0;
  bool cma_ = false;
  bool mb_ = false;             // this process registered for membarrier
  bool fast_ = false;           // ... and every rank of the host did: no fence per send
  std::vector<RingReader> rx_;  // per sender, in our segment
  std::vector<std::atomic<std::uint32_t>*> want_;  // per sender: its want-space word
  std::vector<std::uint32_t> idle_polls_;
  std::vector<unsigned> idle_;  // rings to clear at the end of this poll (size_ slots)
  unsigned nidle_ = 0;
  std::uint32_t idle_limit_ = kIdlePollsFence;
  std::vector<Peer> peers_;
  std::vector<Posted> posted_;
  std::uint64_t post_head_ = 0, post_tail_ = 0;
  std::vector<Completion> cq_;  // local completions: sends (complete at once), CMA
  std::uint64_t cq_head_ = 0, cq_tail_ = 0;
  Slot* table_ = nullptr;
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t gen_ = 0;
  std::size_t split_min_ = 0;  // FM_SHM_SPLIT, 0: off
  Split* splits_ = nullptr;    // readers' requests in our segment (stride 3 lines)
  std::atomic<std::uint64_t>* requests_ = nullptr;
  std::uint64_t requests_seen_ = 0, split_gen_ = 0;
  std::vector<std::uint64_t> shared_;  // per peer: bytes of our reads it copied for us
  std::vector<bool> split_failed_;     // per peer: its write into our memory failed once
};

}  // namespace

int open_shm(const OpenParams& params, std::unique_ptr<Transport>* out) {
  auto t = std::make_unique<ShmTransport>();
  const int rc = t->open(params);
  if (rc != FM_SUCCESS) return rc;
  *out = std::move(t);
  return FM_SUCCESS;
}

}  // namespace fm::transport
