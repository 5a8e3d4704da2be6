/*
 * fm_send.h - the FM netmod's point-to-point sends.  MPIDIG (MPICH's generic layer) does the
 * matching and the large-message handshake; a small contiguous eager send skips MPIDIG's send
 * side: no send request (MPICH's pre-completed one is returned, as the ofi netmod does for its
 * injected sends) and a 12-byte compact header instead of MPIDI_FM_hdr_t + MPIDIG's 48 bytes
 * (fm_impl.h).  The receiving handler hands it to MPIDIG's receive side like any other send.
 */
#ifndef FM_SEND_H_INCLUDED
#define FM_SEND_H_INCLUDED

#include "fm_am.h"

/* Sends a compact message and sets *request if the payload is contiguous, at most
 * MPIDI_FM_global.compact_max bytes and the peer can take it now; returns 1 then, else 0 (the
 * caller goes through MPIDIG: queued, failed and all other sends). */
MPL_STATIC_INLINE_PREFIX int MPIDI_FM_try_compact(const void *buf, MPI_Aint count,
                                                  MPI_Datatype datatype, int tag, MPIR_Comm *comm,
                                                  int context_offset, MPIDI_av_entry_t *addr,
                                                  MPIR_Request **request)
{
    /* (MPICH configured with --enable-extended-context-bits would need a wider field) */
    MPL_COMPILE_TIME_ASSERT(sizeof(MPIR_Context_id_t) == sizeof(uint16_t));
    size_t data_sz;
    const void *contig;
    if (!MPIDI_FM_contig(buf, count, datatype, &data_sz, &contig) ||
        (MPI_Aint) data_sz > MPIDI_FM_global.compact_max || *request != NULL)
        return 0;
    int node = addr->netmod.fm.node;
    int sent = 0;
    MPID_THREAD_CS_ENTER(VCI, MPIDI_VCI(0).lock);
    if (MPIDI_FM_short_ok(node)) {
        union {
            MPIDI_FM_compact_t h;
            char bytes[MPIDI_FM_SHORT];
        } msg;
        msg.h.marker = MPIDI_FM_COMPACT;
        msg.h.context_id = (uint16_t) (comm->context_id + context_offset);
        msg.h.src_rank = comm->rank;
        msg.h.tag = tag;
        if (data_sz > 0)
            MPIR_Memcpy(msg.bytes + sizeof(msg.h), contig, data_sz);
        sent = MPIDI_FM_short_send(node, msg.bytes, sizeof(msg.h) + data_sz);
    }
    MPID_THREAD_CS_EXIT(VCI, MPIDI_VCI(0).lock);
    if (!sent)
        return 0;
    *request = MPIR_Request_create_complete(MPIR_REQUEST_KIND__SEND);
    return 1;
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_mpi_isend(const void *buf, MPI_Aint count,
                                                MPI_Datatype datatype, int rank, int tag,
                                                MPIR_Comm *comm, int context_offset,
                                                MPIDI_av_entry_t *addr, MPIR_Request **request)
{
    if (MPIDI_FM_try_compact(buf, count, datatype, tag, comm, context_offset, addr, request))
        return MPI_SUCCESS;
    MPIDI_FM_send_node = addr->netmod.fm.node; /* for MPIDI_NM_am_check_eager */
    int mpi_errno = MPIDIG_mpi_isend(buf, count, datatype, rank, tag, comm, context_offset, addr, 0,
                                     0, request);
    MPIDI_FM_send_node = -1;
    return mpi_errno;
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_mpi_issend(const void *buf, MPI_Aint count,
                                                 MPI_Datatype datatype, int rank, int tag,
                                                 MPIR_Comm *comm, int context_offset,
                                                 MPIDI_av_entry_t *addr, MPIR_Request **request)
{
    /* the receiver acknowledges the match to the send request: MPIDIG's */
    MPIDI_FM_send_node = addr->netmod.fm.node;
    int mpi_errno = MPIDIG_mpi_issend(buf, count, datatype, rank, tag, comm, context_offset, addr,
                                      0, 0, request);
    MPIDI_FM_send_node = -1;
    return mpi_errno;
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_isend_coll(const void *buf, MPI_Aint count,
                                                 MPI_Datatype datatype, int rank, int tag,
                                                 MPIR_Comm *comm, int context_offset,
                                                 MPIDI_av_entry_t *addr, MPIR_Request **request,
                                                 MPIR_Errflag_t *errflag)
{
    /* a collective's message that carries an error (a failed peer) keeps MPIDIG's header */
    if (*errflag == MPIR_ERR_NONE &&
        MPIDI_FM_try_compact(buf, count, datatype, tag, comm, context_offset, addr, request))
        return MPI_SUCCESS;
    MPIDI_FM_send_node = addr->netmod.fm.node;
    int mpi_errno = MPIDIG_isend_coll(buf, count, datatype, rank, tag, comm, context_offset, addr,
                                      0, 0, request, errflag);
    MPIDI_FM_send_node = -1;
    return mpi_errno;
}

MPL_STATIC_INLINE_PREFIX int MPIDI_NM_mpi_cancel_send(MPIR_Request *sreq)
{
    return MPIDIG_mpi_cancel_send(sreq);
}

#endif /* FM_SEND_H_INCLUDED */
