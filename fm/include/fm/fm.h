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

#include <fm/fm_status.h> /* FM_SUCCESS and the FM_E* codes */

/* Handler return values. */
#define FM_CONTINUE 0
#define FM_QUIT 1 /* stop the current FM_extract after this handler returns */

#define FM_ANY_ID (-1)
/* Handler ids [0, FM_USER_HANDLERS) are the application's (FM_ANY_ID picks among them); the ids
 * up to FM_MAX_HANDLERS are reserved, FM_LAYER_HANDLERS for each layer built on FM, which
 * registers its handlers with FM_register_layer_handler(layer, index, fn). */
#define FM_USER_HANDLERS 1024
#define FM_LAYER_HANDLERS 16
#define FM_MAX_HANDLERS (FM_USER_HANDLERS + 4 * FM_LAYER_HANDLERS)
enum { FM_LAYER_MPI = 0, FM_LAYER_SHMEM = 1, FM_LAYER_GA = 2, FM_LAYER_TOOLS = 3 };

typedef struct FM_stream FM_stream;
typedef int (*FM_handler)(FM_stream* stream, unsigned sender); /* FM_CONTINUE or FM_QUIT */

/* --- configuration -----------------------------------------------------------------------------
 * Every tunable is named by its environment variable (FM_PROVIDER, FM_CREDITS, ...; `fm_info -c`
 * lists them with their types, defaults and meanings).  A program, or a layer built on FM, may
 * set one before FM_initialize; a variable set in the environment still wins, so the user has the
 * last word.  FM_config_get reads the value in effect, as text: after FM_initialize, the one FM
 * runs with.  Both return FM_EINVAL naming the tunable for an unknown name or a bad value. */
int FM_config_set(const char* name, const char* value);
int FM_config_get(const char* name, char* value, size_t len); /* FM_ELENGTH: len too small */
/* For tools (fm_info -c): the index-th tunable, from 0; FM_EINVAL past the last. */
typedef struct FM_tunable {
  const char* name; /* its environment variable */
  const char* type; /* size (K, M, G suffixes), uint, bool, choice, text */
  const char* def;  /* default */
  const char* help;
} FM_tunable;
int FM_config_describe(unsigned index, FM_tunable* out);
/* For tools (fm_info -p): opens the index-th transport FM can use (from 0; FM_ENODEST past the
 * last) on its own, as FM would, and describes it in info: "NAME PROVIDER inject=... max_msg=...
 * rx_depth=... tx_depth=... wait_fd=yes|no", or "NAME unavailable: why" with the failure's status
 * (FM_ENOPROVIDER when the provider is not there). */
int FM_probe_transport(unsigned index, char* info, size_t len);

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
/* 1 when FM is initialized in this process (and not finalized), else 0.  A layer that runs inside
 * another that already initialized FM (GA-FM's ARMCI inside MPI-FM) uses that instance: the FM of
 * a process is one; only its initializer finalizes it. */
int FM_initialized(void);
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
/* A layer's handler: returns its id (FM_USER_HANDLERS + layer * FM_LAYER_HANDLERS + index), the
 * same on every node, or < 0. */
int FM_register_layer_handler(int layer, int index, FM_handler fn);
int FM_unregister_handler(int id);

/* --- sending (FM 2.x streams) ------------------------------------------------------------------
 */
/* length is an upper bound on the bytes that will be sent.  Returns NULL on failure (see
 * FM_last_status()).  Inside a handler, returns NULL with FM_EAGAIN when the whole message cannot
 * be guaranteed now: do not spin on it there. */
FM_stream* FM_begin_message(unsigned dest, size_t length, int handler);
/* Never waits for credits, inside or outside handlers: reserves the credits of the whole message
 * now (and, over FM's shm transport, checks that the receiver's ring has room for all of it), or
 * returns NULL with FM_EAGAIN (extract, or return from the handler, and retry) or FM_ELENGTH (the
 * message exceeds the receiver's whole credit window: use FM_begin_message).  For callers that
 * must not block, e.g. an MPI library's non-blocking sends, which queue instead.  A message
 * larger than a whole ring (FM_SHM_RING) cannot be promised room and may wait for it as it goes. */
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
 * wait object until a handler has run or timeout_ms passes (-1: no limit).  Returns the bytes
 * extracted, or < 0; 0 on time-out, and also when only messages without payload were handled
 * (their handlers ran: a caller waits for what its handlers set, not for the count). */
long FM_extract_wait(size_t maxbytes, int timeout_ms);
/* Two-phase wait for a condition handlers (or same-host peers' direct stores) make true: runs
 * handlers until done(arg) != 0, spinning up to an adaptive bound (FM_SPIN_MIN_US..FM_SPIN_US),
 * then, when waits block on this host now (FM_idle_blocks), sleeping until a packet or a
 * same-host peer's FM_notify wakes it.  timeout_ms < 0: no limit.  Returns FM_SUCCESS,
 * FM_ETIMEDOUT, or an error (FM_EPEERFAILED naming the peer).  Not inside handlers. */
int FM_wait_until(int (*done)(void* arg), void* arg, int timeout_ms);
/* After a direct store into a same-host node's memory (FM_region_ptr) that it may be waiting
 * for: wakes it if it sleeps (otherwise one shared load).  No-op for other nodes. */
int FM_notify(unsigned node);
/* 1 when FM's waits sleep after spinning on this host now (FM_IDLE=block, or auto with more
 * ranks than CPUs here): a layer that polls by itself should then wait in FM_extract_wait or
 * FM_wait_until instead of spinning. */
int FM_idle_blocks(void);
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
size_t FM_max_message(void); /* largest declared length accepted by FM_begin_message */
/* Largest length FM_try_begin_message / FM_try_send to node can be promised without waiting,
 * once node has caught up (every credit returned and, over FM's shm transport, its ring for us
 * drained): the credit window's payload, or less where a whole ring holds less.  Longer messages
 * get FM_ELENGTH, or over shm may wait for ring room as they go.  For layers that choose a
 * protocol by size, e.g. MPI-FM's eager limit per peer.  0 on error (FM_last_status()). */
size_t FM_try_max(unsigned node);
int FM_in_handler(void); /* 1 inside a handler */
/* 1 if node has been declared failed; after FM_finalize (until FM_initialize again), whether it
 * had failed when FM_finalize ended (a layer above learns of a peer found dead at the end). */
int FM_peer_failed(unsigned node);
/* 1 when this machine runs more of the job's ranks than this process may use CPUs: a busy wait
 * should then yield the CPU (FM's own waits for one-sided operations do). */
int FM_oversubscribed(void);
/* Ends the whole job: prints msg (naming this node) and asks the launcher to kill every process
 * (PMI abort; Hydra's mpiexec then exits with code); exits with code.  Also after a failed
 * FM_initialize, through the launcher it had joined: the way to give up on the job, as a failed
 * MPI_Init does.  Without a launcher it just exits.  Never returns. */
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
  uint64_t base;      /* address of the region in its owner's memory */
  uint64_t length;    /* bytes */
  uint64_t key;       /* owner's key for it */
  uint32_t node;      /* owner */
  uint32_t access;    /* FM_ACCESS_* granted */
  uint64_t opaque[6]; /* FM's: transport keys, the on-host segment; never interpreted by callers */
  uint32_t flags;     /* FM's: which of them are valid */
  uint32_t check;     /* over the fields above: a modified descriptor is refused (FM_EACCESS) */
} FM_region;
/* Registers [buf, buf+len) for access by peers.  Registering the same range with the same access
 * again returns the same key (a reference count: deregister as often as registered). */
int FM_register_memory(void* buf, size_t len, unsigned access, FM_region* out);
int FM_deregister_memory(const FM_region* region);

/* On-host segments: memory FM allocates (zeroed, page-aligned, in an anonymous memory file) and
 * registers, which processes of the same host can also map and reach with loads, stores and
 * atomic instructions (SMARTMAP's idea).  Nothing is left behind in /dev/shm however a job ends.
 * FM_free_segment deregisters and unmaps it; peers that mapped it keep their mapping (the memory
 * lives until the last one is gone) until FM_unmap_region or FM_finalize. */
int FM_alloc_segment(size_t len, unsigned access, void** addr, FM_region* out);
/* Makes this process's own writable memory [addr, addr+len) (addr page-aligned; len rounded up to
 * whole pages) an on-host segment in place: its contents move into an anonymous memory file mapped
 * at the same address, registered as FM_alloc_segment's are, so that same-host peers map it with
 * FM_region_ptr (SHMEM-FM's global data).  No other thread may write the range during the call.
 * FM_free_segment deregisters such a segment and leaves the memory mapped where it is, contents
 * intact; a child made by fork() gets a private copy of the range (FM remaps it in the child). */
int FM_share_memory(void* addr, size_t len, unsigned access, FM_region* out);
int FM_free_segment(const FM_region* region);
/* A local address of the region's first byte when this process can load and store it directly:
 * its own region, or a segment of a peer on this host (mapped on first use, then cached); else
 * NULL with FM_last_status() FM_EUNSUPPORTED and FM_last_error() saying why (another host, not a
 * segment, mapping refused).  Like ucp_rkey_ptr and shmem_ptr. */
void* FM_region_ptr(const FM_region* region);
int FM_unmap_region(const FM_region* region); /* drops a peer segment's mapping made by _ptr */

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

/* --- pending sends ------------------------------------------------------------------------------
 * A layer that must not block (an MPI library's non-blocking sends, replies from handlers) queues
 * what it cannot send now, in order per destination, and FM sends it when it can: outside
 * handlers, at the end of FM_extract and inside FM's waits, FM calls the head request's func,
 * which sends its message (FM_try_begin_message and pieces, or FM_begin_message) and returns
 * FM_SUCCESS (done: FM forgets it), FM_EAGAIN (not yet: it stays at the head and is called again
 * after the next extraction) or an error (FM forgets it; func reports it to its layer).  A
 * destination with a stream open, or whose earlier request said FM_EAGAIN, is skipped until
 * later.  FM allocates nothing: the request is the caller's until func returns other than
 * FM_EAGAIN.  Messages the layer sends itself while requests to that destination are pending
 * would overtake them: check FM_pending_count first. */
typedef struct FM_pending FM_pending;
struct FM_pending {
  int (*func)(FM_pending* self); /* set by the caller */
  unsigned flags;                /* set by the caller: FM_PENDING_ASYNC, or 0 */
  FM_pending* next_;             /* FM's */
  unsigned dest_;                /* FM's */
};
/* func may run on the progress thread (FM_progress_thread(2)): it touches only data its layer
 * guards itself.  Without it, func runs on the program's own FM calls only. */
#define FM_PENDING_ASYNC 1u
int FM_pending_add(unsigned dest, FM_pending* req);
size_t FM_pending_count(unsigned dest);

/* --- progress -----------------------------------------------------------------------------------
 * A background thread that extracts while the program computes, so that handlers run and peers'
 * one-sided operations on this node complete without FM calls here.  Off by default (also
 * FM_PROGRESS_THREAD=1).  on = 1: every handler may run on it (one at a time with the program's
 * FM calls: the program must synchronise the data its handlers share with other code).  on = 2:
 * only handlers marked with FM_handler_async (and FM's own, the one-sided engine's) run on it, and
 * only pending sends marked FM_PENDING_ASYNC go out from it; a message for another handler waits
 * for the program's own FM calls, holding back later messages of its sender (FIFO), so that a
 * layer whose handlers are not thread-safe (an MPI library) shares the process with one that
 * needs passive progress (GA-FM).  While it runs every FM call takes a lock: the thread-safety
 * level is "serialized" instead of "funneled".  Returns the previous state (0, 1, 2), or < 0.
 * Not inside a handler. */
int FM_progress_thread(int on);
/* Marks (async = 1) or unmarks handler id as safe to run on the progress thread in mode 2. */
int FM_handler_async(int id, int async);

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
