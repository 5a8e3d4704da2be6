/* test_locks.c - distributed locks of OpenSHMEM 1.5.
 *
 *  - shmem_set_lock / shmem_clear_lock on a global (static) symmetric long: every PE increments a
 *    counter on PE 0 NITER times with a NON-atomic shmem_long_g + shmem_long_p inside the lock,
 *    relying on shmem_clear_lock to complete the put before the lock passes on (no explicit
 *    quiet); the final value must be n * NITER;
 *  - shmem_test_lock on a lock in the symmetric heap (shmem_calloc): 0 means acquired, the PE then
 *    holds it; the same increment scheme with a heap counter on the last PE;
 *  - mutual exclusion is also checked directly: inside the critical section a PE marks an owner
 *    word on PE 0 with an atomic swap, which must find it free. */
#include "shtest.h"

#define NITER 200
#define NTEST 50

static long lock1 = 0;   /* global lock */
static long counter = 0; /* global counter on PE 0 */
static long owner = -1;  /* on PE 0: PE inside the critical section, -1 if none */

int main(void) {
  shmem_init();
  shtest_require_pes(2);
  const int me = shmem_my_pe(), npes = shmem_n_pes(), last = npes - 1;

  long* lock2 = (long*)shmem_calloc(1, sizeof(long));
  long* counter2 = (long*)shmem_calloc(1, sizeof(long));
  CHECK(lock2 != NULL && counter2 != NULL, "shmem_calloc");
  shmem_barrier_all();

  /* set_lock / clear_lock: NITER non-atomic increments per PE */
  for (int i = 0; i < NITER; i++) {
    shmem_set_lock(&lock1);
    long prev = shmem_long_atomic_swap(&owner, me, 0);
    CHECK_EQ(prev, -1L, "set_lock: critical section already occupied (iteration %d)", i);
    long v = shmem_long_g(&counter, 0);
    shmem_long_p(&counter, v + 1, 0);
    prev = shmem_long_atomic_swap(&owner, -1, 0);
    CHECK_EQ(prev, (long)me, "set_lock: owner word changed inside my critical section");
    shmem_clear_lock(&lock1);
  }
  shmem_barrier_all();
  if (me == 0)
    CHECK_EQ(counter, (long)npes * NITER, "counter after set_lock/clear_lock increments");
  shmem_barrier_all();

  /* test_lock: returns 0 when the lock was acquired */
  int acquired = 0, attempts = 0;
  double t0 = shtest_now();
  while (acquired < NTEST) {
    int r = shmem_test_lock(lock2);
    attempts++;
    CHECK(r == 0 || r == 1, "test_lock returns 0 or 1 (got %d)", r);
    if (r != 0) {
      CHECK(shtest_now() - t0 < SHTEST_POLL_LIMIT, "test_lock never acquired the lock");
      continue;
    }
    long prev = shmem_long_atomic_swap(&owner, me, 0);
    CHECK_EQ(prev, -1L, "test_lock: critical section already occupied");
    long v = shmem_long_g(counter2, last);
    shmem_long_p(counter2, v + 1, last);
    prev = shmem_long_atomic_swap(&owner, -1, 0);
    CHECK_EQ(prev, (long)me, "test_lock: owner word changed inside my critical section");
    shmem_clear_lock(lock2);
    acquired++;
  }
  shmem_barrier_all();
  if (me == last)
    CHECK_EQ(*counter2, (long)npes * NTEST, "counter after test_lock/clear_lock increments");

  /* a held lock is reported busy to the others */
  shmem_barrier_all();
  if (me == 0) shmem_set_lock(&lock1);
  shmem_barrier_all();
  if (me != 0) {
    int r = shmem_test_lock(&lock1);
    CHECK_EQ(r, 1, "test_lock on a lock held by PE 0");
  }
  shmem_barrier_all();
  if (me == 0) shmem_clear_lock(&lock1);
  shmem_barrier_all();
  /* and free again: every PE takes it once more with test_lock */
  while (shmem_test_lock(&lock1) != 0) {
    CHECK(shtest_now() - t0 < 2 * SHTEST_POLL_LIMIT, "test_lock never acquired the freed lock");
  }
  shmem_clear_lock(&lock1);

  shmem_barrier_all();
  (void)attempts;
  shmem_free(counter2);
  shmem_free(lock2);
  shtest_pass("test_locks");
  shmem_finalize();
  return 0;
}
