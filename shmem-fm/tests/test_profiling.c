/* test_profiling.c - the OpenSHMEM 1.5 profiling interface: a tool intercepts shmem_putmem and
 * shmem_team_create_ctx by defining them, and does the work through pshmem_putmem and
 * pshmem_team_create_ctx (pshmem.h).  Checks:
 *  - every call the program makes reaches the tool, and the data still arrive;
 *  - a call the library makes to itself (shmem_ctx_create uses team_create_ctx) does not;
 *  - pshmem_ names of other families (pshmem_int_p, pshmem_long_sum_reduce, the deprecated
 *    p_my_pe) work when called directly; shmem_pcontrol and pshmem_pcontrol accept levels 0-2. */
#include "shtest.h"

#include <pshmem.h>

static int putmem_calls, create_ctx_calls;

void shmem_putmem(void* dest, const void* source, size_t nelems, int pe) {
  putmem_calls++;
  pshmem_putmem(dest, source, nelems, pe);
}

int shmem_team_create_ctx(shmem_team_t team, long options, shmem_ctx_t* ctx) {
  create_ctx_calls++;
  return pshmem_team_create_ctx(team, options, ctx);
}

#define N 10
static long box[N];
static int ibox;
static long src[1], dst[1];

int main(void) {
  shmem_init();
  shmem_pcontrol(0);
  shmem_pcontrol(2, "tool-specific", 1);
  pshmem_pcontrol(1);
  int me, npes, left, right;
  shtest_ring(&me, &npes, &left, &right);
  CHECK_EQ(p_my_pe(), me, "p_my_pe");
  CHECK_EQ(pshmem_n_pes(), npes, "pshmem_n_pes");
  for (int i = 0; i < N; i++) {
    long v = 1000L * me + i;
    shmem_putmem(&box[i], &v, sizeof v, right);
  }
  CHECK_EQ(putmem_calls, N, "calls of shmem_putmem seen by the tool");
  pshmem_int_p(&ibox, me + 1, right);
  shmem_barrier_all();
  for (int i = 0; i < N; i++) CHECK_EQ(box[i], 1000L * left + i, "box[%d] from PE %d", i, left);
  CHECK_EQ(ibox, left + 1, "pshmem_int_p from PE %d", left);
  CHECK_EQ(putmem_calls, N, "the library's own puts (barrier) are not seen by the tool");
  shmem_barrier_all(); /* everybody checked box[] before it is written again */

  shmem_ctx_t ctx;
  CHECK_EQ(shmem_ctx_create(0, &ctx), 0, "shmem_ctx_create");
  CHECK_EQ(create_ctx_calls, 0, "the library's own call of team_create_ctx is not intercepted");
  shmem_ctx_destroy(ctx);
  CHECK_EQ(shmem_team_create_ctx(SHMEM_TEAM_WORLD, 0, &ctx), 0, "shmem_team_create_ctx");
  CHECK_EQ(create_ctx_calls, 1, "the program's call of team_create_ctx is intercepted");
  shmem_ctx_long_p(ctx, &box[0], -7, right);
  shmem_ctx_quiet(ctx);
  shmem_ctx_destroy(ctx);

  *src = me + 1;
  CHECK_EQ(pshmem_long_sum_reduce(SHMEM_TEAM_WORLD, dst, src, 1), 0, "pshmem_long_sum_reduce");
  CHECK_EQ(*dst, (long)npes * (npes + 1) / 2, "pshmem_long_sum_reduce result");
  CHECK_EQ(box[0], -7L, "put through a context created by the interposed call");
  shtest_pass("profiling");
  shmem_finalize();
  return 0;
}
