/*
 * fm.h - Fast Messages (FM) C API.
 *
 * Active messages with reliable, ordered, exactly-once delivery per sender, streamed messages whose
 * handler starts on the first piece and pulls the rest with FM_receive, receiver-paced extraction
 * and per-sender credit flow control.  See docs/fm.md for the full contract.
 *
 * Every call returns a status: FM_SUCCESS (0) or a negative FM_E* code; FM_strerror() names the
 * code and FM_last_error() gives the detailed message (naming the argument or peer) of the calling
 * thread's most recent failure.
 */
#ifndef FM_FM_H
#define FM_FM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FM_VERSION_MAJOR 2
#define FM_VERSION_MINOR 2

/* Status codes.  FM_EAGAIN is the only "retry" status: call FM_extract (outside a handler) or
 * return from the handler, and try again. */
enum {
  FM_SUCCESS = 0,
  FM_EAGAIN = -1,        /* resources temporarily unavailable (credits inside a handler) */
  FM_EINVAL = -2,        /* invalid argument */
  FM_ENODEST = -3,       /* destination node out of range */
  FM_EHANDLER = -4,      /* handler id out of range or not registered */
  FM_ELENGTH = -5,       /* beyond the message's declared length */
  FM_ESTREAM = -6,       /* stream not valid here (wrong kind, closed, outside its handler) */
  FM_ENOTINIT = -7,      /* FM not initialized, or already finalized */
  FM_EPEERFAILED = -8,   /* a peer died or became unreachable */
  FM_ENOPROVIDER = -9,   /* the requested libfabric provider is not available */
  FM_ELAUNCH = -10,      /* launcher (PMI) problem */
  FM_ENOMEM = -11,       /* out of memory */
  FM_EBUSY = -12,        /* a stream to this destination is already open */
  FM_EINHANDLER = -13,   /* call not allowed inside a handler */
  FM_ETRANSPORT = -14,   /* transport (libfabric) error */
  FM_EUNSUPPORTED = -15, /* operation not supported by this transport */
  FM_ETIMEDOUT = -16,    /* a bounded wait expired */
  FM_EALREADY = -17,     /* already initialized */
  FM_EACCESS = -18 /* remote memory access refused: unknown key, out of bounds, not permitted */
};

/* Handler return values. */
#define FM_CONTINUE 0
#define FM_QUIT 1 /* stop the current FM_extract after this handler returns */

#define FM_ANY_ID (-1)
#define FM_MAX_HANDLERS 1024

typedef struct FM_stream FM_stream;
typedef int (*FM_handler)(FM_stream* stream, unsigned sender); /* FM_CONTINUE or FM_QUIT */

/* --- set-up ------------------------------------------------------------------------------------
 */
int FM_initialize(void);
/* A launcher interface lent by the program, for programs that already hold the launcher's PMI
 * session (an MPI library: FM must not open a second session on the same PMI socket).  Callbacks
 * return 0 on success.  fence makes every process's puts visible to every get (collective);
 * keys are short printable words, values printable without spaces, at most max_value_len bytes.
 * FM_finalize calls barrier but leaves finalizing the launcher session to the lender; abort may
 * be NULL (FM then just exits). */
typedef struct FM_bootstrap {
  unsigned rank, size;
  size_t max_value_len;
  void* ctx;
  int (*put)(void* ctx, const char* key, const char* value);
  int (*fence)(void* ctx);
  int (*get)(void* ctx, const char* key, char* value, size_t len);
  int (*barrier)(void* ctx);
  void (*abort)(void* ctx, int code, const char* msg);
} FM_bootstrap;
int FM_initialize_with(const FM_bootstrap* boot);
int FM_finalize(void);
unsigned FM_nodeid(void);
unsigned FM_numnodes(void);
/* 1 if node shares this host, 0 if not, < 0 on error. */
int FM_same_host(unsigned node);
/* Name of the transport that carries traffic to node ("shm", "tcp;ofi_rxm", "loopback", "self"). */
const char* FM_transport_name(unsigned node);

/* --- handlers ----------------------------------------------------------------------------------
 */
int FM_register_handler(int id /* or FM_ANY_ID */, FM_handler fn); /* id, or < 0 */
int FM_unregister_handler(int id);

/* --- sending (FM 2.x streams) ------------------------------------------------------------------
 */
/* length is an upper bound on the bytes that will be sent.  Returns NULL on failure (see
 * FM_last_status()).  Inside a handler, returns NULL with FM_EAGAIN when the whole message cannot
 * be guaranteed now: do not spin on it there. */
FM_stream* FM_begin_message(unsigned dest, size_t length, int handler);
/* Never waits for credits, inside or outside handlers: reserves the credits of the whole message
 * now, or returns NULL with FM_EAGAIN (extract, or return from the handler, and retry) or
 * FM_ELENGTH (the message exceeds the receiver's whole credit window: use FM_begin_message).  For
 * callers that must not block, e.g. an MPI library's non-blocking sends, which queue instead. */
FM_stream* FM_try_begin_message(unsigned dest, size_t length, int handler);
int FM_send_piece(FM_stream* s, const void* buf, size_t n);
int FM_end_message(FM_stream* s);

/* --- sending (FM 1.1) --------------------------------------------------------------------------
 */
int FM_send(unsigned dest, int handler, const void* buf, size_t n);
int FM_send_4(unsigned dest, int handler, uint32_t i0, uint32_t i1, uint32_t i2, uint32_t i3);
/* FM_send on FM_try_begin_message's terms: FM_EAGAIN / FM_ELENGTH instead of waiting. */
int FM_try_send(unsigned dest, int handler, const void* buf, size_t n);

/* --- receiving ---------------------------------------------------------------------------------
 */
/* Runs handlers for arrived messages.  maxbytes is a soft budget counted in whole packets
 * (SIZE_MAX = all pending).  Returns the bytes extracted, or < 0 (e.g. FM_EPEERFAILED once per
 * newly failed peer). */
long FM_extract(size_t maxbytes);
/* Like FM_extract, but when nothing is pending spins briefly and then sleeps on the transport's
 * wait object until something arrives or timeout_ms passes (-1: no limit).  Returns the bytes
 * extracted (0 on time-out), or < 0. */
long FM_extract_wait(size_t maxbytes, int timeout_ms);
/* Inside a handler: places the next n bytes of the message in buf.  Returns the bytes placed (less
 * than n only when the message ended), or < 0.  Suspends the handler while bytes are in flight. */
long FM_receive(void* buf, FM_stream* s, size_t n);

/* Declared length of a stream's message (an upper bound on its bytes), or 0 for an invalid stream.
 */
size_t FM_stream_length(FM_stream* s);

/* --- queries -----------------------------------------------------------------------------------
 */
/* Largest payload of a packet this node receives (per transport: shm packets are larger than
 * tcp ones); a message longer than its packet spans several, and its handler may suspend. */
size_t FM_packet_payload(void);
size_t FM_max_message(void);       /* largest declared length accepted by FM_begin_message */
int FM_in_handler(void);           /* 1 inside a handler */
int FM_peer_failed(unsigned node); /* 1 if node has been declared failed */
/* 1 when this machine runs more of the job's ranks than this process may use CPUs: a busy wait
 * should then yield the CPU (FM's own waits for one-sided operations do). */
int FM_oversubscribed(void);
/* Ends the whole job: prints msg (naming this node) and asks the launcher to kill every process
 * (PMI abort); exits with code.  Without a launcher it just exits.  Never returns. */
void FM_abort(int code, const char* msg) __attribute__((noreturn));

/* --- one-sided operations: registered memory, RMA, atomics -----------------------------------
 * Memory a node registers can be read, written and updated atomically by peers that hold its
 * FM_region descriptor (plain data: send it to them in a message).  Puts and gets use the
 * transport's native RMA where it has it (libfabric shm, tcp, verbs), else FM's own messages;
 * atomics always use FM's messages (atomic with respect to each other at the target).  Emulated
 * operations complete when the target extracts (any FM call, or the progress thread).  Not
 * allowed inside handlers (FM_EINHANDLER).  See FM(3) for ordering and completion. */
enum { FM_ACCESS_READ = 1, FM_ACCESS_WRITE = 2, FM_ACCESS_ATOMIC = 4, FM_ACCESS_ALL = 7 };
typedef struct FM_region {
  uint64_t base;    /* address of the region in its owner's memory */
  uint64_t length;  /* bytes */
  uint64_t key;     /* owner's key for it */
  uint32_t node;    /* owner */
  uint32_t access;  /* FM_ACCESS_* granted */
  uint64_t tkey[2]; /* transport keys (shm, network) for native RMA; opaque */
  uint32_t tflags;  /* which tkeys are valid, and how they address; opaque */
  uint32_t check;   /* over the fields above: a modified descriptor is refused (FM_EACCESS) */
} FM_region;
/* Registers [buf, buf+len) for access by peers.  Registering the same range with the same access
 * again returns the same key (a reference count: deregister as often as registered). */
int FM_register_memory(void* buf, size_t len, unsigned access, FM_region* out);
int FM_deregister_memory(const FM_region* region);

/* A non-blocking operation's handle: FM_wait or FM_test (until done) releases it.  Passing NULL
 * for it makes the operation complete silently; FM_flush/FM_quiet then report its failure. */
typedef struct FM_request FM_request;
/* Writes len bytes from src to offset of the region on its node.  src must stay unchanged until
 * the operation completes (FM_wait/FM_test, or FM_flush/FM_quiet without a handle). */
int FM_put_nb(const FM_region* dst, uint64_t offset, const void* src, size_t len, FM_request** req);
/* Reads len bytes at offset of the region into dst; dst is valid when the request completes. */
int FM_get_nb(const FM_region* src, uint64_t offset, void* dst, size_t len, FM_request** req);
/* Blocking forms: on return the data is at the target (put, remotely complete) or in dst (get). */
int FM_put(const FM_region* dst, uint64_t offset, const void* src, size_t len);
int FM_get(const FM_region* src, uint64_t offset, void* dst, size_t len);
/* Strided helpers (blocking): count blocks of elem_size bytes, strides in bytes. */
int FM_put_strided(const FM_region* dst, uint64_t offset, ptrdiff_t dst_stride, const void* src,
                   ptrdiff_t src_stride, size_t elem_size, size_t count);
int FM_get_strided(const FM_region* src, uint64_t offset, ptrdiff_t src_stride, void* dst,
                   ptrdiff_t dst_stride, size_t elem_size, size_t count);
int FM_wait(FM_request* req);            /* waits; returns the operation's status; releases */
int FM_test(FM_request* req, int* done); /* *done = 1: status returned, req released */
int FM_fence(unsigned node);             /* later operations to node are applied after earlier ones
                                          * (waits for earlier ones where native RMA could reorder them) */
int FM_flush(unsigned node);             /* every operation issued to node is complete (remotely) */
int FM_quiet(void);                      /* FM_flush of every node */

enum {                  /* atomic operations: the value at the target becomes ... */
       FM_ATOMIC_ADD,   /* old + operand */
       FM_ATOMIC_AND,   /* old & operand */
       FM_ATOMIC_OR,    /* old | operand */
       FM_ATOMIC_XOR,   /* old ^ operand */
       FM_ATOMIC_SWAP,  /* operand */
       FM_ATOMIC_CSWAP, /* operand if old == *compare */
       FM_ATOMIC_READ   /* old (fetch only) */
};
enum { FM_INT32, FM_UINT32, FM_INT64, FM_UINT64 };
/* Applies op to the aligned integer of the given type at offset of the region; with result
 * non-NULL the old value is stored there (fetching form).  compare: FM_ATOMIC_CSWAP only. */
int FM_atomic_nb(const FM_region* dst, uint64_t offset, int op, int type, const void* operand,
                 const void* compare, void* result, FM_request** req);
int FM_atomic(const FM_region* dst, uint64_t offset, int op, int type, const void* operand,
              const void* compare, void* result);
/* Applies op to the aligned word of the given type at addr in this process's memory, exactly as
 * a target applies a peer's FM atomic (so the two are atomic with respect to each other, e.g. on
 * memory shared with other processes of the host), and returns the old value (zero-extended).
 * No checks, no FM state: usable before FM_initialize. */
uint64_t FM_atomic_local(void* addr, int op, int type, uint64_t operand, uint64_t compare);

/* --- progress -----------------------------------------------------------------------------------
 * A background thread that extracts while the program computes, so that handlers run and peers'
 * one-sided operations on this node complete without FM calls here.  Off by default (also
 * FM_PROGRESS_THREAD=1).  While it runs, handlers may run on it (one at a time with the program's
 * FM calls: the program must synchronise the data its handlers share with other code), and every
 * FM call takes a lock: the thread-safety level is "serialized" instead of "funneled".
 * Returns the previous state (0/1), or < 0.  Not inside a handler. */
int FM_progress_thread(int on);

/* --- statistics ---------------------------------------------------------------------------------
 */
typedef struct FM_peer_stats {
  uint64_t msgs_in, bytes_in;   /* messages started from node, payload bytes extracted from it */
  uint64_t msgs_out, bytes_out; /* messages begun to node, payload bytes sent to it */
  uint64_t credit_stalls;       /* sends to node that had to wait for credits */
  uint64_t zcopy_bytes_in;      /* bytes pulled from node's memory by RMA read (zero-copy) */
  uint64_t rma_ops_out;         /* puts, gets and atomics issued to node */
  uint64_t rma_bytes_out;       /* their payload bytes */
  uint64_t rma_ops_in;          /* ... served for node */
  uint64_t rma_bytes_in;
  uint64_t retransmissions; /* packets sent to node again (0 on reliable transports) */
  uint64_t handler_ns;      /* time in handlers of node's messages (with FM_STATS set) */
} FM_peer_stats;
int FM_get_peer_stats(unsigned node, FM_peer_stats* out);

/* --- errors ------------------------------------------------------------------------------------
 */
const char* FM_strerror(int status); /* FM_SUCCESS is 0, errors are negative */
int FM_last_status(void);            /* status of this thread's most recent failed call */
const char* FM_last_error(void);     /* its detailed message, "" if none */

#ifdef __cplusplus
}
#endif
#endif /* FM_FM_H */
