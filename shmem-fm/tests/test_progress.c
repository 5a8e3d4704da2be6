/* test_progress.c - passive progress (SHMEM_FM_PROGRESS=1): PE 0 computes, making no OpenSHMEM
 * call and only reading its own memory, while every other PE adds to a counter in PE 0's
 * memory, fetches it, gets an array from PE 0 and finally puts a flag into PE 0's memory.  PE 0
 * sees every flag arrive, and the counter is exact, only if something other than PE 0's own
 * calls applies those operations: FM's progress thread.  Run with SHMEM_FM_DIRECT=0 (or across
 * hosts): on one host with direct access there is no FM operation to apply. */
#include "shtest.h"

static long counter;
static long flags[64];
static long src[8];

int main(void) {
  const char* v = getenv("SHMEM_FM_PROGRESS");
  if (v == NULL || strcmp(v, "1") != 0) {
    fprintf(stderr, "test_progress: needs SHMEM_FM_PROGRESS=1\n");
    return 77;
  }
  shmem_init();
  const int me = shmem_my_pe(), n = shmem_n_pes();
  shtest_require_pes(2);
  for (int i = 0; i < 8; ++i) src[i] = me * 100 + i;
  shmem_barrier_all();
  const int others = n - 1 < 63 ? n - 1 : 63;
  if (me == 0) {
    /* compute: local loads only, until every flag is set (bounded: a failure, not a hang) */
    int seen = 0;
    const double t0 = shtest_now();
    while (seen < others && shtest_now() - t0 < SHTEST_POLL_LIMIT) {
      seen = 0;
      for (int i = 1; i <= others; ++i)
        seen += __atomic_load_n(&flags[i], __ATOMIC_ACQUIRE) == 1000 + i;
    }
    CHECK_EQ(seen, others, "flags put into PE 0 while it computed");
  } else if (me <= others) {
    for (int i = 0; i < 100; ++i) shmem_long_atomic_add(&counter, 5, 0);
    const long c = shmem_long_atomic_fetch(&counter, 0);
    CHECK(c >= 500 && c <= 500L * others, "counter fetched from a computing PE: %ld", c);
    long got[8];
    shmem_long_get(got, src, 8, 0);
    for (int i = 0; i < 8; ++i) CHECK_EQ(got[i], (long)i, "element %d got from a computing PE", i);
    shmem_long_p(&flags[me], 1000 + me, 0);
    shmem_quiet();
  }
  shmem_barrier_all();
  if (me == 0) CHECK_EQ(counter, 500L * others, "counter after every PE's 100 adds of 5");
  shtest_pass("progress");
  shmem_finalize();
  return 0;
}
