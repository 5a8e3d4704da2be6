/*
 * fm_init.c - the FM netmod's set-up and teardown.  FM joins the job through MPICH's own PMI
 * session (FM_initialize_with): MPICH already holds the launcher's PMI socket.
 */
#include "mpidimpl.h"
#include "fm_impl.h"
#include "mpidu_init_shm.h"

/*
=== BEGIN_MPI_T_CVAR_INFO_BLOCK ===

categories :
    - name : CH4_FM
      description : A category for CH4 FM netmod (MPI-FM) variables

cvars:
    - name        : MPIR_CVAR_CH4_FM_EAGER_LIMIT
      category    : CH4_FM
      type        : int
      default     : 65536
      class       : none
      verbosity   : MPI_T_VERBOSITY_USER_BASIC
      scope       : MPI_T_SCOPE_ALL_EQ
      description : >-
        Largest payload (bytes) of a point-to-point message sent eagerly to a peer reached over
        the network (tcp, udp, verbs): copied through FM's packets, into the receiver's
        unexpected-message buffer when no receive is posted yet. Larger payloads follow MPICH's
        RTS/CTS handshake and then go zero-copy (the receiver reads them from the sender's
        buffer) where the FM transport has RMA reads (shm, tcp). Capped at
        MPIR_CVAR_CH4_AM_PACK_BUFFER_SIZE minus the largest header, and at the largest message
        FM can accept for the peer without waiting (FM_try_max), so that MPI_Isend never waits
        for the receiver.

    - name        : MPIR_CVAR_CH4_FM_SHM_EAGER_LIMIT
      category    : CH4_FM
      type        : int
      default     : 32768
      class       : none
      verbosity   : MPI_T_VERBOSITY_USER_BASIC
      scope       : MPI_T_SCOPE_ALL_EQ
      description : >-
        The same for peers on this host that FM reaches through shared memory (its shm
        transport, or libfabric's with FM_PROVIDER=ofi-shm). An eager message must fit the
        receiver's ring whole (FM_SHM_RING, 64 KiB by default: eager payloads up to 65048
        bytes), which caps this limit.

    - name        : MPIR_CVAR_CH4_FM_COMPACT
      category    : CH4_FM
      type        : boolean
      default     : true
      class       : none
      verbosity   : MPI_T_VERBOSITY_USER_BASIC
      scope       : MPI_T_SCOPE_LOCAL
      description : >-
        Point-to-point sends of up to 1012 contiguous bytes (and at most the eager limit) go
        without a send request and with a 12-byte header instead of 64 bytes: an 8-byte message
        is one 64-byte cell of FM's shared-memory ring.  Matching is unchanged (MPICH's generic
        layer); false sends them like every other message, for comparison.  Ranks may differ.

=== END_MPI_T_CVAR_INFO_BLOCK ===
*/

static int boot_put(void *ctx, const char *key, const char *value)
{
    (void) ctx;
    return MPIR_pmi_kvs_put(key, value) != MPI_SUCCESS;
}

static int boot_barrier(void *ctx)
{
    (void) ctx;
    return MPIR_pmi_barrier() != MPI_SUCCESS;
}

static int boot_get(void *ctx, const char *key, char *value, size_t len)
{
    (void) ctx;
    return MPIR_pmi_kvs_get(-1, key, value, (int) len) != MPI_SUCCESS;
}

static void boot_abort(void *ctx, int code, const char *msg)
{
    (void) ctx;
    MPIR_pmi_abort(code, msg);
}

/* A job of one process exchanges nothing: FM's records stay in this table instead of going to
 * PMI.  (Started without mpiexec, MPICH 4.0.2's PMI would otherwise run "mpiexec -pmi_args" for
 * its singleton, which its own Hydra refuses, and the program hung.) */
#define MPIDI_FM_SELF_KEYS 16
static struct {
    char *key, *value;
} self_kvs[MPIDI_FM_SELF_KEYS];

static int self_put(void *ctx, const char *key, const char *value)
{
    (void) ctx;
    int i = 0;
    while (i < MPIDI_FM_SELF_KEYS && self_kvs[i].key != NULL && strcmp(self_kvs[i].key, key) != 0)
        i++;
    if (i == MPIDI_FM_SELF_KEYS)
        return 1;
    char *v = MPL_strdup(value);
    if (v == NULL)
        return 1;
    if (self_kvs[i].key == NULL && (self_kvs[i].key = MPL_strdup(key)) == NULL) {
        MPL_free(v);
        return 1;
    }
    MPL_free(self_kvs[i].value);
    self_kvs[i].value = v;
    return 0;
}

static int self_get(void *ctx, const char *key, char *value, size_t len)
{
    (void) ctx;
    for (int i = 0; i < MPIDI_FM_SELF_KEYS && self_kvs[i].key != NULL; i++)
        if (strcmp(self_kvs[i].key, key) == 0 && strlen(self_kvs[i].value) < len) {
            strcpy(value, self_kvs[i].value);
            return 0;
        }
    return 1;
}

static int self_sync(void *ctx)
{
    (void) ctx;
    return 0;
}

static void self_kvs_free(void)
{
    for (int i = 0; i < MPIDI_FM_SELF_KEYS; i++) {
        MPL_free(self_kvs[i].key);
        MPL_free(self_kvs[i].value);
        self_kvs[i].key = self_kvs[i].value = NULL;
    }
}

int MPIDI_FM_init_local(int *tag_bits)
{
    *tag_bits = MPIR_TAG_BITS_DEFAULT; /* MPIDIG carries the whole tag in its header */
    memset(&MPIDI_FM_global, 0, sizeof(MPIDI_FM_global));
    MPIDI_FM_global.finalized = 1; /* until init_world: progress and sends are no-ops / errors */
    MPIDI_FM_global.compact_max = -1;
    return MPI_SUCCESS;
}

int MPIDI_FM_init_world(void)
{
    int mpi_errno = MPI_SUCCESS;
    int rc = FM_register_layer_handler(FM_LAYER_MPI, 0, MPIDI_FM_handler);
    MPIR_ERR_CHKANDJUMP1(rc < 0, mpi_errno, MPI_ERR_OTHER, "**fm_init", "**fm_init %s",
                         FM_last_error());

    FM_bootstrap boot;
    memset(&boot, 0, sizeof(boot));
    boot.rank = (unsigned) MPIR_Process.rank;
    boot.size = (unsigned) MPIR_Process.size;
    boot.max_value_len = MPIR_Process.size == 1 ? 4096 : (size_t) MPIR_pmi_max_val_size();
    boot.put = boot_put;
    boot.fence = boot_barrier;
    boot.get = boot_get;
    boot.barrier = boot_barrier;
    boot.abort = boot_abort;
    if (MPIR_Process.size == 1) {
        boot.put = self_put;
        boot.fence = self_sync;
        boot.get = self_get;
        boot.barrier = self_sync;
    }
    rc = FM_initialize_with(&boot);
    self_kvs_free();
    MPIR_ERR_CHKANDJUMP1(rc != FM_SUCCESS, mpi_errno, MPI_ERR_OTHER, "**fm_init", "**fm_init %s",
                         FM_last_error());

    MPIDI_FM_global.nnodes = MPIR_Process.size;
    MPIDI_FM_global.peers = MPL_calloc(MPIR_Process.size, sizeof(MPIDI_FM_peer_t), MPL_MEM_OTHER);
    MPIR_ERR_CHKANDJUMP(MPIDI_FM_global.peers == NULL, mpi_errno, MPI_ERR_NO_MEM, "**nomem");
    for (int i = 0; i < MPIR_Process.size; i++)
        MPIDIU_get_av(0, i).netmod.fm.node = i;
    MPIDI_FM_global.oversubscribed = FM_oversubscribed() == 1;
    MPIDI_FM_global.finalized = 0;
    /* Eager limits per peer: the lane's (shared memory or network), within MPIDIG's
     * unexpected-message buffer and within what FM can take without waiting for the receiver (a
     * whole shm ring), so that an eager MPI_Isend is queued, never held, when the peer is busy. */
    MPI_Aint least = -1;
    MPIDI_FM_global.eager_limit = 0;
    for (int i = 0; i < MPIR_Process.size; i++) {
        const char *via = FM_transport_name((unsigned) i);
        int shm = via != NULL && (strcmp(via, "shm") == 0 || strcmp(via, "ofi-shm") == 0);
        MPI_Aint limit = shm ? MPIR_CVAR_CH4_FM_SHM_EAGER_LIMIT : MPIR_CVAR_CH4_FM_EAGER_LIMIT;
        limit = MPL_MIN(limit, MPIR_CVAR_CH4_AM_PACK_BUFFER_SIZE - MPIDI_FM_HDR_MAX);
        MPI_Aint promised = (MPI_Aint) MPL_MIN(FM_try_max((unsigned) i), (size_t) MPIR_AINT_MAX);
        limit =
            MPL_MIN(limit, promised - (MPI_Aint) (sizeof(MPIDI_FM_hdr_t) + sizeof(MPIDIG_hdr_t)));
        limit = MPL_MAX(0, limit);
        MPIDI_FM_global.peers[i].eager_limit = limit;
        MPIDI_FM_global.eager_limit = MPL_MAX(MPIDI_FM_global.eager_limit, limit);
        least = least < 0 ? limit : MPL_MIN(least, limit);
    }
    MPIDI_FM_global.compact_max =
        MPIR_CVAR_CH4_FM_COMPACT
            ? MPL_MIN(MPL_MAX(least, 0), (MPI_Aint) (MPIDI_FM_SHORT - sizeof(MPIDI_FM_compact_t)))
            : -1;

fn_exit:
    return mpi_errno;
fn_fail:
    goto fn_exit;
}

int MPIDI_FM_post_init(void)
{
    return MPI_SUCCESS;
}

int MPIDI_FM_mpi_finalize_hook(void)
{
    int mpi_errno = MPI_SUCCESS;
    /* (with MPI sessions the world, and FM, may never have been set up) */
    if (MPIDI_FM_global.finalized)
        return MPI_SUCCESS;
    /* messages MPIDIG could not send yet go first; then FM delivers what is in flight, says
     * goodbye to every peer and meets them at a PMI barrier */
    while (!MPIDI_FM_global.failed && MPIDI_FM_global.nqueued > 0 && mpi_errno == MPI_SUCCESS) {
        if (FM_extract(SIZE_MAX) == FM_EPEERFAILED) /* (it sends what is queued) */
            MPIDI_FM_global.failed = 1;
        mpi_errno = MPIDI_FM_global.send_errno;
    }
    int rc = FM_finalize();
    /* a dead process would hold MPICH's init-shm barrier in MPID_Finalize forever (patch 0005);
     * FM_peer_failed says, after FM_finalize, which peers had failed when it ended */
    for (unsigned n = 0; n < (unsigned) MPIDI_FM_global.nnodes && !MPIDI_FM_global.failed; n++)
        if (FM_peer_failed(n) == 1)
            MPIDI_FM_global.failed = 1;
    if (MPIDI_FM_global.failed)
        MPIDU_Init_shm_peer_failed = 1;
    if (mpi_errno == MPI_SUCCESS && rc != FM_SUCCESS && !MPIDI_FM_global.failed)
        mpi_errno = MPIR_Err_create_code(MPI_SUCCESS, MPIR_ERR_RECOVERABLE, __func__, __LINE__,
                                         MPI_ERR_OTHER, "**fm_finalize", "**fm_finalize %s",
                                         FM_last_error());
    MPIDI_FM_global.finalized = 1;
    MPIDI_FM_global.compact_max = -1;
    MPL_free(MPIDI_FM_global.peers);
    MPIDI_FM_global.peers = NULL;
    MPIDI_FM_global.nnodes = 0;
    FM_unregister_handler(MPIDI_FM_HANDLER);
    return mpi_errno;
}
