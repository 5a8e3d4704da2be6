// wire.hpp - FM's packets and the buffers that carry them.
//
// Every packet starts with a PacketHeader.  A message is a run of DATA packets from one sender,
// the first flagged FIRST (it carries the handler id and the declared length), the last LAST.  A
// sender has at most one open stream per destination, so a message's packets are contiguous in
// that sender's packet sequence.  Control packets (credits, credit requests, BYE) carry no
// payload and no sequence number.  make_header() is the one place a header is built.
#pragma once

#include <fm/fm.h>

#include <cstddef>
#include <cstdint>

namespace fm::core {

enum PacketType : std::uint8_t { kData = 1, kCredit = 2, kCreditRequest = 3, kBye = 4 };
// kRndv: the payload is {addr, key, len} of the sender's memory, read by the receiver (zero-copy);
// kAck: return credits as soon as this packet is consumed (the sender is waiting for it).
// kAnswer: the credits this packet carries answer the receiver's credit request; until then the
// receiver sends no other request, so at most one is in flight per direction (control packets
// are bounded by the receive buffers reserved for them, kControlReserve).
enum PacketFlags : std::uint8_t { kFirst = 1, kLast = 2, kRndv = 4, kAck = 8, kAnswer = 16 };

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

// The one header builder.  seq and credits are the sender's per-peer counters at transmission.
inline PacketHeader make_header(unsigned src, PacketType type, std::uint8_t flags, int handler,
                                std::size_t len, std::uint64_t msg_len, std::uint32_t seq,
                                std::uint32_t credits) noexcept {
  return PacketHeader{static_cast<std::uint32_t>(src),
                      static_cast<std::uint16_t>(handler),
                      type,
                      flags,
                      static_cast<std::uint32_t>(len),
                      seq,
                      credits,
                      kWireMagic,
                      msg_len};
}

// A typed completion context, the first member of everything whose address a transport operation
// carries (as fi_context and uct_completion_t are): progress() tells a receive buffer, a send
// buffer and a callback apart by its kind, never by guessing from an address.
struct OpCtx {
  enum Kind : std::uint8_t { kRecvBuf, kSendBuf, kCallback } kind = kCallback;
  // kCallback: called with the operation's status (FM_SUCCESS or an error).
  void (*func)(OpCtx* self, int status) = nullptr;
};

// A packet buffer: receive buffers posted to a transport, send buffers, and self-send buffers.
struct Buf {
  enum Pool : std::uint8_t { kRx, kTx, kSelf };
  OpCtx op;  // first: transports carry &op (kRecvBuf / kSendBuf)
  Buf* next;
  Pool pool;
  std::uint8_t lane;      // lane index (kRx)
  std::uint8_t gather;    // a send whose payload is the caller's buffer (kTx)
  std::uint8_t rndv;      // len bytes to be read from the sender's memory (kRx)
  std::uint32_t dest;     // destination (kTx)
  std::uint32_t len;      // bytes of payload received / filled
  std::uint32_t off;      // payload bytes consumed by the handler
  std::uint32_t charged;  // rndv: bytes counted against FM_extract budgets so far
  std::uint32_t pad;
  PacketHeader* hdr() noexcept { return reinterpret_cast<PacketHeader*>(this + 1); }
  std::byte* payload() noexcept { return reinterpret_cast<std::byte*>(hdr() + 1); }
  static Buf* of(OpCtx* c) noexcept { return reinterpret_cast<Buf*>(c); }
};
static_assert(sizeof(Buf) % 8 == 0);
static_assert(offsetof(Buf, op) == 0);

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

// A free list of buffers.
struct BufStack {
  Buf* top = nullptr;
  bool empty() const noexcept { return top == nullptr; }
  void push(Buf* b) noexcept {
    b->next = top;
    top = b;
  }
  Buf* pop() noexcept {
    Buf* b = top;
    if (b) top = b->next;
    return b;
  }
};

}  // namespace fm::core
