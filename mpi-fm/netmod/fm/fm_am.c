/*
 * fm_am.c - the FM netmod's general send path, per-peer send queues, the FM handler that delivers
 * MPI active messages, and the slow half of progress.
 */
#include "mpidimpl.h"
#include "fm_impl.h"

MPIDI_FM_global_t MPIDI_FM_global;
MPL_TLS int MPIDI_FM_send_node = -1;

/* ---- sending -------------------------------------------------------------------------------- */

static int send_error(int rc, int node)
{
    if (rc == FM_EPEERFAILED)
        return MPIR_Err_create_code(MPI_SUCCESS, MPIR_ERR_RECOVERABLE, __func__, __LINE__,
                                    MPIX_ERR_PROC_FAILED, "**fm_peerfailed", "**fm_peerfailed %s",
                                    FM_last_error());
    return MPIR_Err_create_code(MPI_SUCCESS, MPIR_ERR_RECOVERABLE, __func__, __LINE__,
                                MPI_ERR_OTHER, "**fm_send", "**fm_send %d %s", node,
                                FM_last_error());
}

/* Sends one message now, without waiting for credits: FM_EAGAIN means "queue it and retry after
 * extracting".  A message beyond the receiver's whole credit window (FM_ELENGTH: rendezvous data,
 * mostly, which the receiver is waiting for) is sent with FM_begin_message outside handlers; inside
 * a handler it is queued too. */
static int send_now(int node, const MPIDI_FM_hdr_t *hdr, const void *am_hdr, const void *data,
                    MPI_Aint count, MPI_Datatype datatype)
{
    size_t data_sz;
    const void *contig;
    int dt_contig = MPIDI_FM_contig(data, count, datatype, &data_sz, &contig);
    MPIR_Assert(data_sz == hdr->data_sz);

    MPIDI_FM_peer_t *peer = &MPIDI_FM_global.peers[node];
    int rc = FM_SUCCESS;
    char *pack = NULL;
    peer->busy = 1;
    size_t total = sizeof(*hdr) + hdr->am_hdr_sz + data_sz;
    FM_stream *s = FM_try_begin_message((unsigned) node, total, MPIDI_FM_HANDLER);
    if (s == NULL && FM_last_status() == FM_ELENGTH && !FM_in_handler())
        s = FM_begin_message((unsigned) node, total, MPIDI_FM_HANDLER);
    if (s == NULL) {
        rc = FM_last_status();
        goto done;
    }
    if ((rc = FM_send_piece(s, hdr, sizeof(*hdr))) != FM_SUCCESS)
        goto done;
    if (hdr->am_hdr_sz > 0 && (rc = FM_send_piece(s, am_hdr, hdr->am_hdr_sz)) != FM_SUCCESS)
        goto done;
    if (data_sz > 0 && dt_contig) {
        const char *p = (const char *) contig;
        if (!MPIDI_FM_eager(node, (MPI_Aint) data_sz)) {
            /* after MPIDIG's handshake the receiver waits for it: FM's zero-copy path */
            rc = FM_send_piece(s, p, data_sz);
        } else {
            for (size_t off = 0; off < data_sz && rc == FM_SUCCESS; off += MPIDI_FM_EAGER_PIECE)
                rc = FM_send_piece(s, p + off, MPL_MIN(MPIDI_FM_EAGER_PIECE, data_sz - off));
        }
    } else if (data_sz > 0) {
        size_t chunk = MPL_MIN(data_sz, (size_t) MPIDI_FM_EAGER_PIECE);
        pack = MPL_malloc(chunk, MPL_MEM_BUFFER);
        if (pack == NULL) {
            rc = FM_ENOMEM;
            goto done;
        }
        for (size_t off = 0; off < data_sz && rc == FM_SUCCESS;) {
            MPI_Aint packed = 0;
            int mpi_errno = MPIR_Typerep_pack(data, count, datatype, off, pack,
                                              MPL_MIN(chunk, data_sz - off), &packed);
            if (mpi_errno != MPI_SUCCESS || packed <= 0) {
                rc = FM_EINVAL;
                break;
            }
            rc = FM_send_piece(s, pack, packed);
            off += packed;
        }
    }
done:
    if (s != NULL) {
        int rc2 = FM_end_message(s);
        if (rc == FM_SUCCESS)
            rc = rc2;
    }
    MPL_free(pack);
    peer->busy = 0;
    return rc;
}

/* FM calls this, outside handlers, when the queued message e is at the head of its peer's queue:
 * FM_EAGAIN keeps it there for a later extraction; otherwise it is done (sent, or failed: the
 * request completes with the error, which the next progress call reports as well). */
static int pending_send(FM_pending *req)
{
    MPIDI_FM_sendq_t *e = (MPIDI_FM_sendq_t *) req;
    MPIDI_FM_peer_t *peer = &MPIDI_FM_global.peers[e->node];
    if (peer->busy)
        return FM_EAGAIN;
    int rc = send_now(e->node, &e->hdr, e->am_hdr, e->data, e->count, e->datatype);
    if (rc == FM_EAGAIN)
        return FM_EAGAIN;
    peer->queued--;
    MPIDI_FM_global.nqueued--;
    MPIR_Datatype_release_if_not_builtin(e->datatype);
    if (rc != FM_SUCCESS) {
        int err = send_error(rc, e->node);
        if (MPIDI_FM_global.send_errno == MPI_SUCCESS)
            MPIDI_FM_global.send_errno = err;
        if (e->sreq != NULL) {
            e->sreq->status.MPI_ERROR = err;
            MPIDIG_global.origin_cbs[e->hdr.handler_id](e->sreq);
        }
    } else if (e->sreq != NULL) {
        int err = MPIDIG_global.origin_cbs[e->hdr.handler_id](e->sreq);
        if (err != MPI_SUCCESS && MPIDI_FM_global.send_errno == MPI_SUCCESS)
            MPIDI_FM_global.send_errno = err;
    }
    MPL_free(e);
    return rc;
}

static int enqueue(int node, const MPIDI_FM_hdr_t *hdr, const void *am_hdr, const void *data,
                   MPI_Aint count, MPI_Datatype datatype, MPIR_Request *sreq)
{
    MPIDI_FM_sendq_t *e = MPL_malloc(sizeof(*e) + hdr->am_hdr_sz, MPL_MEM_BUFFER);
    if (e == NULL)
        return MPIR_Err_create_code(MPI_SUCCESS, MPIR_ERR_RECOVERABLE, __func__, __LINE__,
                                    MPI_ERR_NO_MEM, "**nomem", NULL);
    e->req.func = pending_send;
    e->req.flags = 0; /* MPICH is not thread-safe here: the program's own FM calls only */
    e->node = node;
    e->sreq = sreq;
    e->data = data;
    e->count = count;
    e->datatype = datatype;
    e->hdr = *hdr;
    if (hdr->am_hdr_sz > 0)
        MPIR_Memcpy(e->am_hdr, am_hdr, hdr->am_hdr_sz);
    int rc = FM_pending_add((unsigned) node, &e->req);
    if (rc != FM_SUCCESS) {
        MPL_free(e);
        return send_error(rc, node);
    }
    MPIR_Datatype_add_ref_if_not_builtin(datatype);
    MPIDI_FM_global.peers[node].queued++;
    MPIDI_FM_global.nqueued++;
    return MPI_SUCCESS;
}

int MPIDI_FM_send(int node, int handler_id, const void *am_hdr, MPI_Aint am_hdr_sz,
                  const void *data, MPI_Aint count, MPI_Datatype datatype, MPIR_Request *sreq)
{
    if (MPIDI_FM_global.finalized)
        return MPIR_Err_create_code(
            MPI_SUCCESS, MPIR_ERR_RECOVERABLE, __func__, __LINE__, MPI_ERR_OTHER, "**fm_send",
            "**fm_send %d %s", node,
            "the FM netmod is not active (MPI finalized, or its world not set up)");
    MPIR_Assert(am_hdr_sz <= MPIDI_FM_HDR_MAX);
    MPI_Aint data_sz;
    MPIR_Datatype_get_size_macro(datatype, data_sz);
    data_sz *= count;
    MPIDI_FM_hdr_t hdr = {(uint16_t) handler_id, (uint16_t) am_hdr_sz, 0, (uint64_t) data_sz};

    MPIDI_FM_peer_t *peer = &MPIDI_FM_global.peers[node];
    /* rendezvous data (and large RMA payloads) from inside a handler, typically MPIDIG's CTS
     * callback, would be copied through packets there: from the progress loop it goes zero-copy */
    if (peer->queued || peer->busy || (!MPIDI_FM_eager(node, data_sz) && FM_in_handler()))
        return enqueue(node, &hdr, am_hdr, data, count, datatype, sreq);
    int rc = send_now(node, &hdr, am_hdr, data, count, datatype);
    if (rc == FM_EAGAIN || ((rc == FM_ELENGTH || rc == FM_EBUSY) && FM_in_handler()))
        return enqueue(node, &hdr, am_hdr, data, count, datatype, sreq);
    if (rc != FM_SUCCESS)
        return send_error(rc, node);
    return sreq != NULL ? MPIDIG_global.origin_cbs[handler_id](sreq) : MPI_SUCCESS;
}

/* ---- receiving ------------------------------------------------------------------------------ */

static void recv_failed(MPIR_Request *rreq, long rc, unsigned sender)
{
    if (rc == FM_EPEERFAILED)
        rreq->status.MPI_ERROR = MPIR_Err_create_code(
            MPI_SUCCESS, MPIR_ERR_RECOVERABLE, __func__, __LINE__, MPIX_ERR_PROC_FAILED,
            "**fm_recv", "**fm_recv %d %s", (int) sender, FM_last_error());
    else
        rreq->status.MPI_ERROR = MPIR_Err_create_code(
            MPI_SUCCESS, MPIR_ERR_RECOVERABLE, __func__, __LINE__, MPI_ERR_OTHER, "**fm_recv",
            "**fm_recv %d %s", (int) sender, FM_last_error());
}

/* Places the payload where MPIDIG wants it: straight into contiguous buffers or iovecs (the
 * matched user buffer, for instance), through a bounce buffer and MPIDIG's unpack otherwise. */
static void receive_payload(FM_stream *s, unsigned sender, MPIR_Request *rreq, MPI_Aint data_sz)
{
    MPIDIG_rreq_async_t *p = &(MPIDIG_REQUEST(rreq, req->recv_async));
    if (p->recv_type == MPIDIG_RECV_DATATYPE && rreq->status.MPI_ERROR == MPI_SUCCESS) {
        /* a contiguous buffer, or one of large enough segments, is received into directly */
        MPI_Aint num_iov = MPIDIG_get_recv_iov_count(rreq);
        if (num_iov == 1 || data_sz / num_iov >= MPIR_CVAR_CH4_IOV_DENSITY_MIN) {
            int is_contig, is_gpu;
            void *ptr;
            MPI_Aint len;
            MPIDIG_get_recv_data(&is_contig, &is_gpu, &ptr, &len, rreq);
        }
    }
    MPIDIG_recv_setup(rreq);
    if (rreq->status.MPI_ERROR != MPI_SUCCESS) {
        /* truncation, say: the bytes are discarded when the handler returns */
        MPIR_STATUS_SET_COUNT(rreq->status, 0);
    } else if (p->recv_type == MPIDIG_RECV_DATATYPE) {
        MPI_Aint chunk = MPL_MIN(data_sz, (MPI_Aint) MPIDI_FM_EAGER_BUF);
        char *bounce = MPL_malloc(chunk, MPL_MEM_BUFFER);
        MPIR_Assert(bounce != NULL);
        for (MPI_Aint left = data_sz; left > 0;) {
            long n = FM_receive(bounce, s, MPL_MIN(chunk, left));
            if (n <= 0) {
                recv_failed(rreq, n < 0 ? n : FM_ELENGTH, sender);
                break;
            }
            left -= n;
            if (MPIDIG_recv_copy_seg(bounce, n, rreq))
                break;
        }
        MPL_free(bounce);
    } else {
        /* MPIDIG_RECV_CONTIG (iov_ptr = &iov_one after setup) or MPIDIG_RECV_IOV */
        MPI_Aint left = data_sz;
        for (int i = 0; i < p->iov_num && left > 0; i++) {
            MPI_Aint n = MPL_MIN(left, (MPI_Aint) p->iov_ptr[i].iov_len);
            long got = FM_receive(p->iov_ptr[i].iov_base, s, n);
            if (got != n) {
                recv_failed(rreq, got < 0 ? got : FM_ELENGTH, sender);
                break;
            }
            left -= n;
        }
        p->offset += data_sz - left;
    }
    p->in_data_sz = 0;
}

static void malformed(unsigned sender, long n, unsigned handler_id)
{
    MPL_internal_error_printf("MPI-FM: rank %d: malformed message from rank %u "
                              "(%ld header bytes, handler %u) dropped\n",
                              MPIR_Process.rank, sender, n, handler_id);
}

int MPIDI_FM_handler(FM_stream *s, unsigned sender)
{
    uint32_t attr = 0;
    MPIDIG_AM_ATTR_SET_VCIS(attr, 0, 0);
    /* A short message (what MPIDI_FM_try_short sent: the whole message is in its first packet) is
     * received in one piece and handed to MPIDIG synchronously, which copies the payload into the
     * matched buffer itself, as the ofi netmod does for its short messages.  So is a compact one
     * (fm_send.h), whose first two bytes are MPIDI_FM_COMPACT. */
    size_t len = FM_stream_length(s);
    if (len <= MPIDI_FM_SHORT && len >= sizeof(MPIDI_FM_compact_t)) {
        union {
            MPIDI_FM_hdr_t h;
            MPIDI_FM_compact_t c;
            char bytes[MPIDI_FM_SHORT];
            uint64_t align;
        } buf;
        long n = FM_receive(buf.bytes, s, len);
        if (n == (long) len && buf.c.marker == MPIDI_FM_COMPACT) {
            /* fm_send.h's compact send: MPIDIG's eager header, rebuilt */
            MPIDIG_hdr_t hdr;
            hdr.src_rank = buf.c.src_rank;
            hdr.tag = buf.c.tag;
            hdr.context_id = buf.c.context_id;
            hdr.error_bits = MPIR_ERR_NONE;
            hdr.flags = MPIDIG_AM_SEND_FLAGS_NONE;
            hdr.sreq_ptr = NULL; /* read only for SYNC and RTS */
            hdr.data_sz = (MPI_Aint) (len - sizeof(MPIDI_FM_compact_t));
            hdr.rndv_hdr_sz = 0;
            MPIDIG_global.target_msg_cbs[MPIDIG_SEND](
                &hdr, hdr.data_sz ? buf.bytes + sizeof(MPIDI_FM_compact_t) : NULL, hdr.data_sz,
                attr, NULL);
            return FM_CONTINUE;
        }
        if (n != (long) len || len < sizeof(MPIDI_FM_hdr_t) ||
            buf.h.handler_id >= MPIDI_AM_HANDLERS_MAX ||
            MPIDIG_global.target_msg_cbs[buf.h.handler_id] == NULL ||
            sizeof(MPIDI_FM_hdr_t) + buf.h.am_hdr_sz + buf.h.data_sz != len) {
            malformed(sender, n, (unsigned) buf.h.handler_id);
            return FM_CONTINUE;
        }
        char *am_hdr = buf.bytes + sizeof(MPIDI_FM_hdr_t);
        MPIDIG_global.target_msg_cbs[buf.h.handler_id](
            am_hdr, buf.h.data_sz ? am_hdr + buf.h.am_hdr_sz : NULL, (MPI_Aint) buf.h.data_sz, attr,
            NULL);
        return FM_CONTINUE;
    }

    MPIDI_FM_hdr_t hdr = {0}; /* (malformed() prints its handler id) */
    union {
        char bytes[MPIDI_FM_HDR_MAX];
        uint64_t align;
    } am_hdr;
    long n = FM_receive(&hdr, s, sizeof(hdr));
    if (n != (long) sizeof(hdr) || hdr.am_hdr_sz > MPIDI_FM_HDR_MAX ||
        hdr.handler_id >= MPIDI_AM_HANDLERS_MAX ||
        MPIDIG_global.target_msg_cbs[hdr.handler_id] == NULL) {
        malformed(sender, n, (unsigned) hdr.handler_id);
        return FM_CONTINUE;
    }
    if (hdr.am_hdr_sz > 0 && FM_receive(am_hdr.bytes, s, hdr.am_hdr_sz) != hdr.am_hdr_sz)
        return FM_CONTINUE; /* the sender died mid-message: progress reports it */

    if (hdr.data_sz == 0) {
        MPIDIG_global.target_msg_cbs[hdr.handler_id](am_hdr.bytes, NULL, 0, attr, NULL);
        return FM_CONTINUE;
    }
    MPIR_Request *rreq = NULL;
    MPIDIG_global.target_msg_cbs[hdr.handler_id](am_hdr.bytes, NULL, (MPI_Aint) hdr.data_sz,
                                                 attr | MPIDIG_AM_ATTR__IS_ASYNC, &rreq);
    if (rreq == NULL)
        return FM_CONTINUE; /* nothing wants the payload */
    receive_payload(s, sender, rreq, (MPI_Aint) hdr.data_sz);
    MPIDIG_REQUEST(rreq, req->target_cmpl_cb)(rreq);
    return FM_CONTINUE;
}

/* ---- progress ------------------------------------------------------------------------------- */

/* Called on every 64th empty blocking progress call in a row.  MPICH waits by polling progress
 * (MPI_Wait, MPI_Waitall, a blocking send or receive, collectives: MPID_Progress_wait, which
 * patches/0002 makes pass blocking = 1): a run of empty calls is a wait (tests never come here:
 * MPIDI_NM_progress).  Once FM says waits should sleep on this host (FM_idle_blocks: more ranks
 * than CPUs here, FM_IDLE), the wait goes on in FM_extract_wait, which spins for FM's adaptive
 * bound and then sleeps until a packet arrives, for at most 1 ms so that MPICH's own progress
 * hooks (collectives, RMA) keep turning.  Returns what FM extracted (< 0: failure). */
long MPIDI_FM_idle(void)
{
    if (!FM_idle_blocks())
        return 0;
    const long n = FM_extract_wait(SIZE_MAX, 1);
    if (n != 0)
        MPIDI_FM_global.idle_polls = 0;
    return n;
}

int MPIDI_FM_progress_slow(int need_extract, long extracted)
{
    int mpi_errno = MPI_SUCCESS;
    if (MPIDI_FM_global.finalized)
        return MPI_SUCCESS;
    if (need_extract)
        extracted = FM_extract(SIZE_MAX);
    if (extracted < 0 && extracted != FM_EAGAIN) {
        if (extracted == FM_EPEERFAILED) {
            if (!MPIDI_FM_global.failed)
                MPL_snprintf(MPIDI_FM_global.failed_msg, sizeof(MPIDI_FM_global.failed_msg), "%s",
                             FM_last_error());
            MPIDI_FM_global.failed = 1;
        } else {
            return MPIR_Err_create_code(MPI_SUCCESS, MPIR_ERR_RECOVERABLE, __func__, __LINE__,
                                        MPI_ERR_OTHER, "**fm_progress", "**fm_progress %s",
                                        FM_last_error());
        }
    }
    /* (FM_extract sent what it could of the queued messages) */
    if (MPIDI_FM_global.send_errno != MPI_SUCCESS) {
        mpi_errno = MPIDI_FM_global.send_errno;
        MPIDI_FM_global.send_errno = MPI_SUCCESS;
    }
    if (MPIDI_FM_global.failed) {
        /* keep the sticky failure moving: sends to live peers still go, but every MPI call that
         * waits learns that a process of the job is gone */
        return MPIR_Err_create_code(mpi_errno, MPIR_ERR_RECOVERABLE, __func__, __LINE__,
                                    MPIX_ERR_PROC_FAILED, "**fm_peerfailed", "**fm_peerfailed %s",
                                    MPIDI_FM_global.failed_msg);
    }
    return mpi_errno;
}
