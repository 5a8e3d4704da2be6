/*
 * fm_am.h - the FM netmod's inline active-message functions, progress and process queries.
 * The small-message path: one FM_send of a stack buffer, no allocation, no lock, no system call.
 */
#ifndef FM_AM_H_INCLUDED
#define FM_AM_H_INCLUDED

#include <sched.h>
#include "fm_impl.h"

/* Whether a short message to the node may go now: FM joined, nothing queued to that peer (FIFO
 * order), not inside another send to it. */
MPL_STATIC_INLINE_PREFIX int MPIDI_FM_short_ok(int node)
{
    if (MPIDI_FM_global.finalized)
        return 0;
    const MPIDI_FM_peer_t *peer = &MPIDI_FM_global.peers[node];
    return !peer->queued && !peer->busy;
}

/* One FM_try_send of a whole short message (after MPIDI_FM_short_ok).  It never waits for
 * credits: without them the caller takes the general path, which queues the message. */
MPL_STATIC_INLINE_PREFIX int MPIDI_FM_short_send(int node, const void *msg, size_t len)
{
    MPIDI_FM_peer_t *peer = &MPIDI_FM_global.peers[node];
    peer->busy = 1;
    int rc = FM_try_send((unsigned) node, MPIDI_FM_HANDLER, msg, len);
    peer->busy = 0;
    return rc == FM_SUCCESS;
}

/* Header (+ contiguous payload) up to MPIDI_FM_SHORT bytes to a peer with nothing queued, outside
 * any other send to it: one FM_try_send.  Returns 1 if sent, 0 if the caller must take the general
 * path (FM_EAGAIN inside a handler, any error: MPIDI_FM_send reports it). */
MPL_STATIC_INLINE_PREFIX int MPIDI_FM_try_short(int node, int handler_id, const void *am_hdr,
                                                MPI_Aint am_hdr_sz, const void *data,
                                                MPI_Aint data_sz)
{
    if (!MPIDI_FM_short_ok(node))
        return 0;
    union {
        MPIDI_FM_hdr_t h;
        char bytes[MPIDI_FM_SHORT];
    } buf;
    buf.h.handler_id = (uint16_t) handler_id;
    buf.h.am_hdr_sz = (uint16_t) am_hdr_sz;
    buf.h.reserved = 0;
    buf.h.data_sz = (uint64_t) data_sz;
    MPIR_Memcpy(buf.bytes + sizeof(MPIDI_FM_hdr_t), am_hdr, am_hdr_sz);
    if (data_sz > 0)
        MPIR_Memcpy(buf.bytes + sizeof(MPIDI_FM_hdr_t) + am_hdr_sz, data, data_sz);
    return MPIDI_FM_short_send(node, buf.bytes, sizeof(MPIDI_FM_hdr_t) + am_hdr_sz + data_sz);
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_am_isend(int rank, MPIR_Comm *comm, int handler_id,
                                               const void *am_hdr, MPI_Aint am_hdr_sz,
                                               const void *data, MPI_Aint count,
                                               MPI_Datatype datatype, int src_vci, int dst_vci,
                                               MPIR_Request *sreq)
{
    int node = MPIDI_FM_node(comm, rank);
    size_t data_sz;
    const void *contig;
    if (MPIDI_FM_contig(data, count, datatype, &data_sz, &contig) &&
        sizeof(MPIDI_FM_hdr_t) + am_hdr_sz + data_sz <= MPIDI_FM_SHORT &&
        MPIDI_FM_try_short(node, handler_id, am_hdr, am_hdr_sz, contig, (MPI_Aint) data_sz)) {
        return MPIDIG_global.origin_cbs[handler_id](sreq);
    }
    return MPIDI_FM_send(node, handler_id, am_hdr, am_hdr_sz, data, count, datatype, sreq);
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_am_isend_reply(MPIR_Comm *comm, int src_rank, int handler_id,
                                                     const void *am_hdr, MPI_Aint am_hdr_sz,
                                                     const void *data, MPI_Aint count,
                                                     MPI_Datatype datatype, int src_vci,
                                                     int dst_vci, MPIR_Request *sreq)
{
    return MPIDI_NM_am_isend(src_rank, comm, handler_id, am_hdr, am_hdr_sz, data, count, datatype,
                             src_vci, dst_vci, sreq);
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_am_send_hdr(int rank, MPIR_Comm *comm, int handler_id,
                                                  const void *am_hdr, MPI_Aint am_hdr_sz,
                                                  int src_vci, int dst_vci)
{
    int node = MPIDI_FM_node(comm, rank);
    if (sizeof(MPIDI_FM_hdr_t) + am_hdr_sz <= MPIDI_FM_SHORT &&
        MPIDI_FM_try_short(node, handler_id, am_hdr, am_hdr_sz, NULL, 0))
        return MPI_SUCCESS;
    return MPIDI_FM_send(node, handler_id, am_hdr, am_hdr_sz, NULL, 0, MPI_BYTE, NULL);
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_am_send_hdr_reply(MPIR_Comm *comm, int src_rank,
                                                        int handler_id, const void *am_hdr,
                                                        MPI_Aint am_hdr_sz, int src_vci,
                                                        int dst_vci)
{
    return MPIDI_NM_am_send_hdr(src_rank, comm, handler_id, am_hdr, am_hdr_sz, src_vci, dst_vci);
}

MPL_STATIC_INLINE_PREFIX MPI_Aint MPIDI_NM_am_hdr_max_sz(void)
{
    return MPIDI_FM_HDR_MAX;
}

MPL_STATIC_INLINE_PREFIX MPI_Aint MPIDI_NM_am_eager_limit(void)
{
    return MPIDI_FM_global.eager_limit;
}

MPL_STATIC_INLINE_PREFIX MPI_Aint MPIDI_NM_am_eager_buf_limit(void)
{
    return MPIDI_FM_EAGER_BUF;
}

MPL_STATIC_INLINE_PREFIX bool MPIDI_NM_am_check_eager(MPI_Aint am_hdr_sz, MPI_Aint data_sz,
                                                      const void *data, MPI_Aint count,
                                                      MPI_Datatype datatype, MPIR_Request *sreq)
{
    return MPIDI_FM_eager(MPIDI_FM_send_node, data_sz);
}

MPL_STATIC_INLINE_PREFIX MPIDIG_recv_data_copy_cb MPIDI_NM_am_get_data_copy_cb(uint32_t attr)
{
    return NULL; /* no transport rendezvous: FM's zero-copy is below MPIDIG */
}

MPL_STATIC_INLINE_PREFIX void MPIDI_NM_am_request_init(MPIR_Request *req)
{
}

MPL_STATIC_INLINE_PREFIX void MPIDI_NM_am_request_finalize(MPIR_Request *req)
{
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_progress(int vci, int blocking)
{
    if (unlikely(MPIDI_FM_global.nqueued || MPIDI_FM_global.failed || MPIDI_FM_global.finalized))
        return MPIDI_FM_progress_slow(1, 0);
    long n = FM_extract(SIZE_MAX);
    if (n == 0) {
        /* Blocking: MPICH polls in a loop while it waits (MPID_Progress_wait; blocking is its
         * `wait`, patches/0002): every 64th empty call in a row looks whether to sleep in FM
         * (MPIDI_FM_idle); with more ranks than CPUs here, the others give the CPU to the rank we
         * are waiting for.  A test (MPI_Test, MPI_Iprobe) never sleeps: the program may compute
         * between two (HPCC's RandomAccess tests once per update, and a yield each time cost it
         * 40x); only a long run of them (a test loop that is a wait) yields now and then. */
        const unsigned polls = ++MPIDI_FM_global.idle_polls;
        if (blocking) {
            if (unlikely((polls & 63) == 0))
                n = MPIDI_FM_idle();
            else if (unlikely(MPIDI_FM_global.oversubscribed))
                sched_yield();
        } else if (unlikely(MPIDI_FM_global.oversubscribed && (polls & 255) == 0)) {
            sched_yield();
        }
    } else {
        MPIDI_FM_global.idle_polls = 0;
    }
    if (unlikely(n < 0 || MPIDI_FM_global.nqueued))
        return MPIDI_FM_progress_slow(0, n);
    return MPI_SUCCESS;
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_rank_is_local(int rank, MPIR_Comm *comm)
{
    return MPIDIU_rank_is_local(rank, comm);
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_comm_get_gpid(MPIR_Comm *comm_ptr, int idx,
                                                    uint64_t *gpid_ptr, bool is_remote)
{
    int avtid = 0, lpid = 0;
    if (comm_ptr->comm_kind == MPIR_COMM_KIND__INTRACOMM || is_remote)
        MPIDIU_comm_rank_to_pid(comm_ptr, idx, &lpid, &avtid);
    else
        MPIDIU_comm_rank_to_pid_local(comm_ptr, idx, &lpid, &avtid);
    *gpid_ptr = MPIDIU_GPID_CREATE(avtid, lpid);
    return MPI_SUCCESS;
}

#endif /* FM_AM_H_INCLUDED */
