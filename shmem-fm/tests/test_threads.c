/* test_threads.c - SHMEM_THREAD_MULTIPLE: several threads of every PE call OpenSHMEM at once.
 *
 *  - shmem_init_thread(SHMEM_THREAD_MULTIPLE) provides MULTIPLE, shmem_query_thread says so;
 *  - NT threads per PE, each with its own SHMEM_CTX_PRIVATE context, all at once:
 *    atomics: every thread adds 1 to a counter on every PE NADD times (fetching and non-fetching
 *    forms alternately); each counter must end at npes * NT * NADD, and the values the fetching
 *    adds returned at one target must all differ;
 *    puts then a signal: every thread puts its block (values naming PE, thread and round) into
 *    its row on every other PE (non-blocking puts on its context), quiets its context, then adds
 *    1 to the target's per-thread arrival count; every thread waits (shmem_wait_until, all
 *    threads of a PE waiting at once) until its count says every other PE's thread of the same
 *    number has arrived, and checks what they put: a quiet by one thread completes that
 *    thread's puts whatever the other threads do;
 *    gets: every thread reads its row back from every other PE with blocking gets;
 *    contexts: created and destroyed again and again, concurrently;
 *    locks: every thread of every PE takes one global lock NLOCK times (shmem_set_lock, or a
 *    shmem_test_lock loop, alternately), marks an owner word on PE 0 with an atomic swap that
 *    must find it free, increments a counter on PE 0 with a non-atomic get and put, and clears
 *    the lock: the count must be exact (threads of one PE exclude each other too);
 *  - a wait that does not hold up the other threads: thread 0 of every PE waits on a local flag
 *    that the PE's last thread sets (shmem_long_atomic_set on itself) only after its own remote
 *    puts and gets have completed: if a waiting thread kept FM to itself, this would hang;
 *  - shmem_barrier_all by one thread while the others wait on a pthread barrier; several rounds.
 * Run with on-host direct access on and off and over tcp, so that both the direct paths and FM's
 * are used by several threads at once. */
#include "shtest.h"

#include <pthread.h>

#define NT 4     /* threads per PE */
#define NADD 100 /* atomic adds per thread and target */
#define BLOCK 64 /* longs a thread puts per target */
#define ROUNDS 3
#define NCTX 20  /* contexts created and destroyed per thread */
#define NLOCK 10 /* lock acquisitions per thread */

static int me, npes;
static long* counter; /* [1] on every PE: the atomic adds of every thread of every PE */
static long* fetched; /* [NT * NADD * npes] on every PE: what this PE's fetching adds returned */
static long* rows;    /* [npes][NT][BLOCK]: row (pe, t) is written by thread t of PE pe */
static long* arrived; /* [NT]: puts of thread t of other PEs complete here (rounds * (npes-1)) */
static long local_flag = 0; /* global: thread 0 waits on it, the last thread sets it */
static long lock = 0;       /* global lock; the counter and owner word it guards live on PE 0 */
static long locked_count = 0;
static long owner = -1;
static pthread_barrier_t tbar;

static long value(int pe, int t, int round, int i) {
  return ((long)pe * 1000003L + (long)t * 10007L + (long)round * 101L + i) % 2147483629L;
}

static void* thread_main(void* arg) {
  const int t = (int)(long)arg;
  shmem_ctx_t ctx;
  CHECK_EQ(shmem_ctx_create(SHMEM_CTX_PRIVATE, &ctx), 0, "thread %d: shmem_ctx_create", t);

  /* atomics on every PE's counter, every thread at once */
  for (int i = 0; i < NADD; i++) {
    for (int k = 0; k < npes; k++) {
      const int pe = (me + k) % npes;
      if (i % 2 == 0) {
        shmem_ctx_long_atomic_add(ctx, counter, 1, pe);
      } else {
        const long old = shmem_ctx_long_atomic_fetch_add(ctx, counter, 1, pe);
        CHECK(old >= 0 && old < (long)npes * NT * NADD, "thread %d: fetch_add returned %ld", t,
              old);
        /* record it on the target for the uniqueness check: slot (t, i, me) */
        shmem_ctx_long_p(ctx, &fetched[((size_t)t * NADD + (size_t)i) * (size_t)npes + (size_t)me],
                         old, pe);
      }
    }
  }
  shmem_ctx_quiet(ctx);

  for (int round = 0; round < ROUNDS; round++) {
    /* my block into my row on every other PE, then a signal to the matching thread there */
    long block[BLOCK];
    for (int i = 0; i < BLOCK; i++) block[i] = value(me, t, round, i);
    long* row = &rows[((size_t)me * NT + (size_t)t) * BLOCK];
    for (int k = 1; k < npes; k++)
      shmem_ctx_putmem_nbi(ctx, row, block, sizeof block, (me + k) % npes);
    shmem_ctx_quiet(ctx);
    for (int k = 1; k < npes; k++) shmem_ctx_long_atomic_add(ctx, &arrived[t], 1, (me + k) % npes);
    shmem_long_wait_until(&arrived[t], SHMEM_CMP_GE, (long)(round + 1) * (npes - 1));
    for (int pe = 0; pe < npes; pe++) {
      if (pe == me) continue;
      const long* r = &rows[((size_t)pe * NT + (size_t)t) * BLOCK];
      for (int i = 0; i < BLOCK; i++)
        CHECK_EQ(r[i], value(pe, t, round, i),
                 "round %d: element %d of the row thread %d of PE %d put here, after its quiet "
                 "and signal",
                 round, i, t, pe);
    }
    /* gets: my row back from every other PE (nobody writes it again before the barrier) */
    for (int k = 1; k < npes; k++) {
      long back[BLOCK];
      const int pe = (me + k) % npes;
      shmem_ctx_getmem(ctx, back, row, sizeof back, pe);
      for (int i = 0; i < BLOCK; i++)
        CHECK_EQ(back[i], value(me, t, round, i),
                 "round %d: thread %d: element %d got back from PE %d", round, t, i, pe);
    }
    /* a wait that must not hold up the others: thread 0 waits for the last thread */
    if (t == 0) {
      shmem_long_wait_until(&local_flag, SHMEM_CMP_EQ, round + 1);
    } else if (t == NT - 1) {
      shmem_ctx_quiet(ctx);
      shmem_long_atomic_set(&local_flag, round + 1, me);
    }
    pthread_barrier_wait(&tbar);
    if (t == 0) shmem_barrier_all(); /* every row read everywhere before the next round */
    pthread_barrier_wait(&tbar);
  }

  /* contexts made and destroyed concurrently */
  for (int i = 0; i < NCTX; i++) {
    shmem_ctx_t c2;
    CHECK_EQ(shmem_ctx_create(i % 2 ? SHMEM_CTX_SERIALIZED : SHMEM_CTX_PRIVATE, &c2), 0,
             "thread %d: shmem_ctx_create %d", t, i);
    shmem_ctx_long_atomic_inc(c2, counter, (me + i) % npes);
    shmem_ctx_destroy(c2); /* completes the increment */
  }
  shmem_ctx_destroy(ctx);

  /* one lock for every thread of every PE */
  const long id = (long)me * NT + t;
  for (int i = 0; i < NLOCK; i++) {
    if ((i + t) % 2 == 0) {
      shmem_set_lock(&lock);
    } else {
      while (shmem_test_lock(&lock)) {
      }
    }
    const long prev = shmem_long_atomic_swap(&owner, id, 0);
    CHECK_EQ(prev, -1L, "thread %d, acquisition %d: the lock's critical section was occupied", t,
             i);
    const long c = shmem_long_g(&locked_count, 0);
    shmem_long_p(&locked_count, c + 1, 0);
    CHECK_EQ(shmem_long_atomic_swap(&owner, -1L, 0), id,
             "thread %d: owner word changed inside my critical section", t);
    shmem_clear_lock(&lock);
  }
  return NULL;
}

int main(void) {
  int provided = -1;
  CHECK_EQ(shmem_init_thread(SHMEM_THREAD_MULTIPLE, &provided), 0, "shmem_init_thread");
  CHECK_EQ(provided, (int)SHMEM_THREAD_MULTIPLE, "thread level provided");
  int queried = -1;
  shmem_query_thread(&queried);
  CHECK_EQ(queried, (int)SHMEM_THREAD_MULTIPLE, "shmem_query_thread");
  shtest_require_pes(2);
  me = shmem_my_pe();
  npes = shmem_n_pes();

  counter = (long*)shmem_calloc(1, sizeof(long));
  fetched = (long*)shmem_calloc((size_t)NT * NADD * (size_t)npes, sizeof(long));
  rows = (long*)shmem_calloc((size_t)npes * NT * BLOCK, sizeof(long));
  arrived = (long*)shmem_calloc(NT, sizeof(long));
  CHECK(counter && fetched && rows && arrived, "shmem_calloc");
  for (size_t i = 0; i < (size_t)NT * NADD * (size_t)npes; i++) fetched[i] = -1;
  shmem_barrier_all();

  CHECK_EQ(pthread_barrier_init(&tbar, NULL, NT), 0, "pthread_barrier_init");
  pthread_t th[NT];
  for (long t = 0; t < NT; t++)
    CHECK_EQ(pthread_create(&th[t], NULL, thread_main, (void*)t), 0, "pthread_create %ld", t);
  for (int t = 0; t < NT; t++) CHECK_EQ(pthread_join(th[t], NULL), 0, "pthread_join %d", t);
  pthread_barrier_destroy(&tbar);
  shmem_barrier_all();

  /* every add of every thread of every PE arrived, and the contexts' increments */
  long want = (long)npes * NT * NADD;
  for (int pe = 0; pe < npes; pe++)
    for (int i = 0; i < NCTX; i++) want += (pe + i) % npes == me ? NT : 0;
  CHECK_EQ(*counter, want,
           "counter on PE %d after %d threads x %d PEs x %d adds and the contexts' increments", me,
           NT, npes, NADD);
  if (me == 0) CHECK_EQ(locked_count, (long)npes * NT * NLOCK, "increments made under the lock");
  /* the fetching adds (half of them) returned distinct values at this PE */
  const size_t nf = (size_t)NT * NADD * (size_t)npes;
  char* seen = (char*)calloc((size_t)npes * NT * NADD, 1);
  CHECK(seen != NULL, "calloc");
  size_t count = 0;
  for (size_t i = 0; i < nf; i++) {
    const long v = fetched[i];
    if (v < 0) continue;
    CHECK(v < (long)npes * NT * NADD, "fetched value %ld out of range", v);
    CHECK(!seen[v], "two fetching adds at PE %d returned the same value %ld", me, v);
    seen[v] = 1;
    ++count;
  }
  CHECK_EQ(count, (size_t)NT * (NADD / 2) * (size_t)npes, "fetching adds recorded at PE %d", me);
  free(seen);
  shtest_pass("threads");
  shmem_finalize();
  return 0;
}
