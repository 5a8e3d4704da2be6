/* test_initfini.c - the smallest OpenSHMEM program: init, barrier, PE number checks, finalize.
 * The harness launches it many times in a row; every run must finish cleanly. */
#include "shtest.h"

int main(void) {
  shmem_init();
  const int me = shmem_my_pe(), npes = shmem_n_pes();
  CHECK(npes >= 1, "shmem_n_pes() = %d", npes);
  CHECK(me >= 0 && me < npes, "shmem_my_pe() = %d of %d", me, npes);
  shmem_barrier_all();
  CHECK_EQ(shmem_team_my_pe(SHMEM_TEAM_WORLD), me, "team_my_pe(WORLD)");
  shtest_pass("test_initfini");
  shmem_finalize();
  return 0;
}
