/*
 * fm_impl.h - the FM netmod's internal state and helpers.
 *
 * Wire format of one MPI active message = one FM message to the handler MPIDI_FM_HANDLER:
 *     MPIDI_FM_hdr_t | MPIDIG header (am_hdr_sz bytes) | payload (data_sz bytes)
 * The receiving FM handler reads the two headers, lets MPIDIG's callback find the destination
 * (the matched user buffer, or an unexpected-message buffer) and FM_receive's the payload straight
 * into it; large payloads sent outside handlers take FM's zero-copy (RMA read) path.
 *
 * A small contiguous point-to-point send (fm_send.h) goes in the compact form instead:
 *     MPIDI_FM_compact_t (12 bytes) | payload (the rest of the FM message, <= 1012 bytes)
 * with no send request (MPI gets MPICH's pre-completed one), and the handler rebuilds MPIDIG's
 * header from it, so matching stays MPIDIG's.  An 8-byte MPI_Send is one 64-byte cell of FM's
 * shared-memory ring instead of two.
 */
#ifndef FM_IMPL_H_INCLUDED
#define FM_IMPL_H_INCLUDED

#include <mpidimpl.h>
#include "mpidch4r.h"
#include "ch4_impl.h"
#include <fm/fm.h>

/* The FM handler MPI-FM owns: FM_LAYER_MPI's first (the same id on every process). */
#define MPIDI_FM_HANDLER (FM_USER_HANDLERS + FM_LAYER_MPI * FM_LAYER_HANDLERS)
/* Largest MPIDIG header; bigger RMA datatype descriptions go in the payload (MPIDIG decides). */
#define MPIDI_FM_HDR_MAX 2048
/* The unexpected-message buffers of MPIDIG (MPICH asserts am_eager_buf_limit() is at most their
 * size).  Which payloads go eagerly is the destination's MPIDI_FM_peer_t.eager_limit
 * (MPIR_CVAR_CH4_FM_EAGER_LIMIT over the network, MPIR_CVAR_CH4_FM_SHM_EAGER_LIMIT to peers on FM's
 * shared-memory lanes, within what FM_try_max promises); larger ones follow MPIDIG's RTS/CTS
 * handshake, and then find a matched buffer and take FM's zero-copy path. */
#define MPIDI_FM_EAGER_BUF MPIR_CVAR_CH4_AM_PACK_BUFFER_SIZE
/* Eager payloads go in pieces below FM's zero-copy size, so that an eager MPI_Isend never waits
 * for the receiver to read its buffer. */
#define MPIDI_FM_EAGER_PIECE 16384
/* Messages up to this size are gathered into one stack buffer and sent with one FM_send. */
#define MPIDI_FM_SHORT 1024

typedef struct {
    uint16_t handler_id;
    uint16_t am_hdr_sz;
    uint32_t reserved;
    uint64_t data_sz;
} MPIDI_FM_hdr_t;

/* MPIDI_FM_compact_t.marker: where MPIDI_FM_hdr_t has its MPIDIG handler id (always smaller). */
#define MPIDI_FM_COMPACT 0xffff
/* A compact point-to-point message: MPIDIG_SEND, eager, no SYNC, no error bits; the payload size
 * is the FM message's length minus this header. */
typedef struct {
    uint16_t marker;     /* MPIDI_FM_COMPACT */
    uint16_t context_id; /* the sender's comm->context_id + context_offset */
    int32_t src_rank;    /* the sender's comm->rank */
    int32_t tag;
} MPIDI_FM_compact_t;

/* A message that could not be sent when MPIDIG issued it (inside an FM handler without credits,
 * or behind earlier queued messages to the same peer): queued on FM's pending-send queue, which
 * sends it later, in FIFO order per peer, from FM_extract (MPIDI_FM_pending_send). */
typedef struct MPIDI_FM_sendq {
    FM_pending req; /* first: FM hands it back */
    int node;
    MPIR_Request *sreq; /* NULL: header-only message without a request */
    const void *data;
    MPI_Aint count;
    MPI_Datatype datatype; /* a reference is held while queued */
    MPIDI_FM_hdr_t hdr;
    char am_hdr[]; /* copy of the MPIDIG header */
} MPIDI_FM_sendq_t;

typedef struct {
    int queued;           /* messages to it on FM's pending-send queue */
    int busy;             /* a send to this peer is in progress outside handlers */
    MPI_Aint eager_limit; /* largest payload sent to it eagerly (fm_init.c) */
} MPIDI_FM_peer_t;

typedef struct {
    MPIDI_FM_peer_t *peers;
    int nnodes;
    int nqueued;          /* messages waiting on FM's pending-send queue */
    int send_errno;       /* the first failure of a queued send, for the next progress call */
    int failed;           /* a peer failed: every progress call reports it from then on */
    int finalized;        /* FM not joined (before init_world) or left (finalize hook) */
    int oversubscribed;   /* more of the job's ranks on this machine than CPUs */
    unsigned idle_polls;  /* progress calls in a row that found nothing */
    MPI_Aint eager_limit; /* the largest of the peers' (MPIDI_NM_am_eager_limit) */
    MPI_Aint compact_max; /* largest payload sent compact; -1 when off (MPIR_CVAR_CH4_FM_COMPACT,
                           * or FM not joined) */
    char failed_msg[256];
} MPIDI_FM_global_t;

extern MPIDI_FM_global_t MPIDI_FM_global;

/* The destination of the send this thread is handing to MPIDIG (fm_send.h), for
 * MPIDI_NM_am_check_eager: MPICH 4.0.2 asks it without the destination in direct-netmod builds.
 * -1 outside such a call. */
extern MPL_TLS int MPIDI_FM_send_node;

/* Whether a payload of data_sz bytes goes to node eagerly. */
MPL_STATIC_INLINE_PREFIX int MPIDI_FM_eager(int node, MPI_Aint data_sz)
{
    return data_sz <= (node >= 0 && MPIDI_FM_global.peers != NULL
                           ? MPIDI_FM_global.peers[node].eager_limit
                           : MPIDI_FM_global.eager_limit);
}

MPL_STATIC_INLINE_PREFIX int MPIDI_FM_node(MPIR_Comm *comm, int rank)
{
    return MPIDIU_comm_rank_to_av(comm, rank)->netmod.fm.node;
}

/* The size of count x datatype in *data_sz; returns whether it is contiguous, and then its first
 * byte in *ptr. */
MPL_STATIC_INLINE_PREFIX int MPIDI_FM_contig(const void *buf, MPI_Aint count, MPI_Datatype datatype,
                                             size_t *data_sz, const void **ptr)
{
    int dt_contig;
    size_t sz;
    MPI_Aint dt_true_lb;
    MPIR_Datatype *dt_ptr;
    MPIDI_Datatype_get_info(count, datatype, dt_contig, sz, dt_ptr, dt_true_lb);
    (void) dt_ptr;
    *data_sz = sz;
    *ptr = dt_contig ? MPIR_get_contig_ptr(buf, dt_true_lb) : NULL;
    return dt_contig;
}

/* fm_am.c */
long MPIDI_FM_idle(void);
int MPIDI_FM_send(int node, int handler_id, const void *am_hdr, MPI_Aint am_hdr_sz,
                  const void *data, MPI_Aint count, MPI_Datatype datatype, MPIR_Request *sreq);
int MPIDI_FM_progress_slow(int need_extract, long extracted);
int MPIDI_FM_handler(FM_stream *stream, unsigned sender);

#endif /* FM_IMPL_H_INCLUDED */
