/* test_p2p.c - point-to-point synchronization of OpenSHMEM 1.5.
 *
 * For every type of SHMEMFM_P2P_TYPES and each of the six SHMEM_CMP_* operators, every PE waits
 * on variables of its own symmetric heap that only its left neighbour changes (shmem_p, after a
 * short delay), through each routine:
 *   wait_until, test, wait_until_all / any / some, the three _vector forms, test_all / any /
 *   some and the three test _vector forms.
 * Initial values never satisfy the condition and final values do; the _vector forms compare each
 * element with its own value (shifted by 10 per element).  Status masks exclude elements: an
 * excluded element of an "all" set is never satisfied (a routine that ignores the mask hangs),
 * an excluded element of an "any"/"some" set is satisfied from the start (a routine that ignores
 * the mask returns its index).  Before the neighbour writes anything, every test form must report
 * "not satisfied"; empty sets (nelems 0, all excluded) return SIZE_MAX / 0 / 1 as specified.
 * Then: waits on variables changed by remote atomics, and the deprecated shmem_wait,
 * shmem_TYPENAME_wait and shmem_wait_until(long *, ...) on global variables. */
#include "shtest.h"

#define NV 48
#define DELAY_US 50

static int me, npes, right, left;

static const int cmp_op[6] = {SHMEM_CMP_EQ, SHMEM_CMP_NE, SHMEM_CMP_GT,
                              SHMEM_CMP_GE, SHMEM_CMP_LT, SHMEM_CMP_LE};
static const char* const cmp_name[6] = {"EQ", "NE", "GT", "GE", "LT", "LE"};
static const int v_init[6] = {3, 5, 3, 3, 7, 7}; /* never satisfies (cmp, 5) */
static const int v_cmp[6] = {5, 5, 5, 5, 5, 5};
static const int v_fin[6] = {5, 7, 6, 5, 4, 5}; /* satisfies (cmp, 5) */

/* Collects the indices returned by a *_some call; each must be in `allowed` (a bit set). */
static void collect_some(const size_t* idx, size_t k, size_t nelems, unsigned allowed,
                         unsigned* seen, const char* what, const char* type, const char* op) {
  CHECK(k <= nelems, "%s %s %s: returned count %zu > nelems %zu", type, what, op, k, nelems);
  for (size_t i = 0; i < k; i++) {
    CHECK(idx[i] < nelems && ((allowed >> idx[i]) & 1u),
          "%s %s %s: returned index %zu is not a satisfied, included element", type, what, op,
          idx[i]);
    *seen |= 1u << idx[i];
  }
}

#define P2P_TEST(T, N)                                                                           \
  static void p2p_##N(void) {                                                                    \
    T* iv = (T*)shmem_malloc(NV * sizeof(T));                                                    \
    CHECK(iv != NULL, "shmem_malloc for " #N);                                                   \
    static const int st_all[4] = {0, 1, 0, 0}, st_first[4] = {1, 0, 0, 0};                       \
    static const int st_some[6] = {0, 1, 0, 0, 0, 0}, st_second[4] = {0, 1, 0, 0};               \
    static const int st_none[4] = {1, 1, 1, 1};                                                  \
    size_t idx[8];                                                                               \
    for (int o = 0; o < 6; o++) {                                                                \
      const int cmp = cmp_op[o];                                                                 \
      const char* on = cmp_name[o];                                                              \
      const T I0 = (T)v_init[o], C = (T)v_cmp[o], F = (T)v_fin[o];                               \
      T cv[4], VI[4], VF[4];                                                                     \
      for (int j = 0; j < 4; j++) {                                                              \
        cv[j] = (T)(v_cmp[o] + 10 * j);                                                          \
        VI[j] = (T)(v_init[o] + 10 * j);                                                         \
        VF[j] = (T)(v_fin[o] + 10 * j);                                                          \
      }                                                                                          \
      for (int i = 0; i < NV; i++) iv[i] = I0;                                                   \
      iv[6] = F;  /* excluded, satisfied: any */                                                 \
      iv[11] = F; /* excluded, satisfied: some */                                                \
      for (int j = 0; j < 4; j++) iv[16 + j] = iv[20 + j] = iv[24 + j] = VI[j];                  \
      for (int j = 0; j < 3; j++) iv[35 + j] = iv[38 + j] = iv[41 + j] = VI[j];                  \
      iv[20] = VF[0]; /* excluded, satisfied: any_vector */                                      \
      iv[25] = VF[1]; /* excluded, satisfied: some_vector */                                     \
      iv[30] = F;     /* excluded, satisfied: test_any */                                        \
      iv[33] = F;     /* excluded, satisfied: test_some */                                       \
      iv[41] = VF[0]; /* excluded, satisfied: test_some_vector */                                \
                                                                                                 \
      /* nothing written yet: every test form reports "not satisfied" */                         \
      int r = shmem_##N##_test(&iv[1], cmp, C);                                                  \
      CHECK_EQ(r, 0, #N " test %s before the update", on);                                       \
      r = shmem_##N##_test_all(&iv[28], 2, NULL, cmp, C);                                        \
      CHECK_EQ(r, 0, #N " test_all %s before the update", on);                                   \
      size_t z = shmem_##N##_test_any(&iv[30], 2, st_first, cmp, C);                             \
      CHECK_EQ(z, SIZE_MAX, #N " test_any %s before the update (element 0 excluded)", on);       \
      z = shmem_##N##_test_some(&iv[32], 3, idx, st_second, cmp, C);                             \
      CHECK_EQ(z, (size_t)0, #N " test_some %s before the update (element 1 excluded)", on);     \
      r = shmem_##N##_test_all_vector(&iv[35], 3, st_second, cmp, cv);                           \
      CHECK_EQ(r, 0, #N " test_all_vector %s before the update", on);                            \
      z = shmem_##N##_test_any_vector(&iv[38], 3, NULL, cmp, cv);                                \
      CHECK_EQ(z, SIZE_MAX, #N " test_any_vector %s before the update", on);                     \
      z = shmem_##N##_test_some_vector(&iv[41], 3, idx, st_first, cmp, cv);                      \
      CHECK_EQ(z, (size_t)0, #N " test_some_vector %s before the update", on);                   \
      if (o == 0) {                                                                              \
        /* empty sets */                                                                         \
        shmem_##N##_wait_until_all(iv, 0, NULL, cmp, C);                                         \
        shmem_##N##_wait_until_all(&iv[2], 4, st_none, cmp, C);                                  \
        shmem_##N##_wait_until_all_vector(&iv[16], 4, st_none, cmp, cv);                         \
        z = shmem_##N##_wait_until_any(iv, 0, NULL, cmp, C);                                     \
        CHECK_EQ(z, SIZE_MAX, #N " wait_until_any with nelems 0");                               \
        z = shmem_##N##_wait_until_any(&iv[6], 4, st_none, cmp, C);                              \
        CHECK_EQ(z, SIZE_MAX, #N " wait_until_any with every element excluded");                 \
        z = shmem_##N##_wait_until_any_vector(&iv[20], 4, st_none, cmp, cv);                     \
        CHECK_EQ(z, SIZE_MAX, #N " wait_until_any_vector with every element excluded");          \
        z = shmem_##N##_wait_until_some(&iv[10], 4, idx, st_none, cmp, C);                       \
        CHECK_EQ(z, (size_t)0, #N " wait_until_some with every element excluded");               \
        z = shmem_##N##_wait_until_some_vector(&iv[24], 0, idx, NULL, cmp, cv);                  \
        CHECK_EQ(z, (size_t)0, #N " wait_until_some_vector with nelems 0");                      \
        r = shmem_##N##_test_all(iv, 0, NULL, cmp, C);                                           \
        CHECK_EQ(r, 1, #N " test_all with nelems 0");                                            \
        r = shmem_##N##_test_all_vector(&iv[35], 3, st_none, cmp, cv);                           \
        CHECK_EQ(r, 1, #N " test_all_vector with every element excluded");                       \
        z = shmem_##N##_test_any(iv, 0, NULL, cmp, C);                                           \
        CHECK_EQ(z, SIZE_MAX, #N " test_any with nelems 0");                                     \
        z = shmem_##N##_test_any_vector(&iv[20], 4, st_none, cmp, cv);                           \
        CHECK_EQ(z, SIZE_MAX, #N " test_any_vector with every element excluded");                \
        z = shmem_##N##_test_some(&iv[10], 4, idx, st_none, cmp, C);                             \
        CHECK_EQ(z, (size_t)0, #N " test_some with every element excluded");                     \
        z = shmem_##N##_test_some_vector(&iv[24], 0, idx, NULL, cmp, cv);                        \
        CHECK_EQ(z, (size_t)0, #N " test_some_vector with nelems 0");                            \
      }                                                                                          \
      shmem_barrier_all();                                                                       \
                                                                                                 \
      /* single variable */                                                                      \
      shtest_sleep_us(DELAY_US);                                                                 \
      shmem_##N##_p(&iv[0], F, right);                                                           \
      shmem_##N##_wait_until(&iv[0], cmp, C);                                                    \
      CHECK_EQ(iv[0], F, #N " wait_until %s", on);                                               \
      shtest_sleep_us(DELAY_US);                                                                 \
      shmem_##N##_p(&iv[1], F, right);                                                           \
      POLL(shmem_##N##_test(&iv[1], cmp, C) == 1, #N " test %s", on);                            \
      CHECK_EQ(iv[1], F, #N " test %s: value", on);                                              \
      /* all, with element 1 excluded and never satisfied */                                     \
      shtest_sleep_us(DELAY_US);                                                                 \
      shmem_##N##_p(&iv[2], F, right);                                                           \
      shmem_##N##_p(&iv[4], F, right);                                                           \
      shmem_##N##_p(&iv[5], F, right);                                                           \
      shmem_##N##_wait_until_all(&iv[2], 4, st_all, cmp, C);                                     \
      CHECK(iv[2] == F && iv[4] == F && iv[5] == F, #N " wait_until_all %s: values", on);        \
      /* any, element 0 excluded (satisfied from the start) */                                   \
      shtest_sleep_us(DELAY_US);                                                                 \
      shmem_##N##_p(&iv[8], F, right);                                                           \
      z = shmem_##N##_wait_until_any(&iv[6], 4, st_first, cmp, C);                               \
      CHECK_EQ(z, (size_t)2, #N " wait_until_any %s: index", on);                                \
      CHECK_EQ(iv[8], F, #N " wait_until_any %s: value", on);                                    \
      /* some, element 1 excluded (satisfied from the start); 2, 4, 5 are written */             \
      shtest_sleep_us(DELAY_US);                                                                 \
      shmem_##N##_p(&iv[12], F, right);                                                          \
      shmem_##N##_p(&iv[14], F, right);                                                          \
      shmem_##N##_p(&iv[15], F, right);                                                          \
      {                                                                                          \
        unsigned seen = 0;                                                                       \
        double t0 = shtest_now();                                                                \
        while (seen != 0x34u) {                                                                  \
          z = shmem_##N##_wait_until_some(&iv[10], 6, idx, st_some, cmp, C);                     \
          CHECK(z >= 1, #N " wait_until_some %s returned 0 for a non-empty set", on);            \
          collect_some(idx, z, 6, 0x34u, &seen, "wait_until_some", #N, on);                      \
          CHECK(shtest_now() - t0 < SHTEST_POLL_LIMIT, #N " wait_until_some %s: never all", on); \
        }                                                                                        \
      }                                                                                          \
      /* all_vector, no mask */                                                                  \
      shtest_sleep_us(DELAY_US);                                                                 \
      for (int j = 0; j < 4; j++) shmem_##N##_p(&iv[16 + j], VF[j], right);                      \
      shmem_##N##_wait_until_all_vector(&iv[16], 4, NULL, cmp, cv);                              \
      for (int j = 0; j < 4; j++)                                                                \
        CHECK_EQ(iv[16 + j], VF[j], #N " wait_until_all_vector %s: element %d", on, j);          \
      /* any_vector, element 0 excluded */                                                       \
      shtest_sleep_us(DELAY_US);                                                                 \
      shmem_##N##_p(&iv[23], VF[3], right);                                                      \
      z = shmem_##N##_wait_until_any_vector(&iv[20], 4, st_first, cmp, cv);                      \
      CHECK_EQ(z, (size_t)3, #N " wait_until_any_vector %s: index", on);                         \
      /* some_vector, element 1 excluded; 0 and 2 written */                                     \
      shtest_sleep_us(DELAY_US);                                                                 \
      shmem_##N##_p(&iv[24], VF[0], right);                                                      \
      shmem_##N##_p(&iv[26], VF[2], right);                                                      \
      {                                                                                          \
        unsigned seen = 0;                                                                       \
        double t0 = shtest_now();                                                                \
        while (seen != 0x5u) {                                                                   \
          z = shmem_##N##_wait_until_some_vector(&iv[24], 4, idx, st_second, cmp, cv);           \
          CHECK(z >= 1, #N " wait_until_some_vector %s returned 0", on);                         \
          collect_some(idx, z, 4, 0x5u, &seen, "wait_until_some_vector", #N, on);                \
          CHECK(shtest_now() - t0 < SHTEST_POLL_LIMIT, #N " wait_until_some_vector %s", on);     \
        }                                                                                        \
      }                                                                                          \
      /* test_all, no mask */                                                                    \
      shtest_sleep_us(DELAY_US);                                                                 \
      shmem_##N##_p(&iv[28], F, right);                                                          \
      shmem_##N##_p(&iv[29], F, right);                                                          \
      POLL(shmem_##N##_test_all(&iv[28], 2, NULL, cmp, C) == 1, #N " test_all %s", on);          \
      /* test_any, element 0 excluded */                                                         \
      shmem_##N##_p(&iv[31], F, right);                                                          \
      POLL((z = shmem_##N##_test_any(&iv[30], 2, st_first, cmp, C)) != SIZE_MAX,                 \
           #N " test_any %s", on);                                                               \
      CHECK_EQ(z, (size_t)1, #N " test_any %s: index", on);                                      \
      /* test_some, element 1 excluded; 0 and 2 written */                                       \
      shmem_##N##_p(&iv[32], F, right);                                                          \
      shmem_##N##_p(&iv[34], F, right);                                                          \
      {                                                                                          \
        unsigned seen = 0;                                                                       \
        double t0 = shtest_now();                                                                \
        while (seen != 0x5u) {                                                                   \
          z = shmem_##N##_test_some(&iv[32], 3, idx, st_second, cmp, C);                         \
          collect_some(idx, z, 3, 0x5u, &seen, "test_some", #N, on);                             \
          CHECK(shtest_now() - t0 < SHTEST_POLL_LIMIT, #N " test_some %s: never all", on);       \
        }                                                                                        \
      }                                                                                          \
      /* test_all_vector, element 1 excluded and never satisfied */                              \
      shmem_##N##_p(&iv[35], VF[0], right);                                                      \
      shmem_##N##_p(&iv[37], VF[2], right);                                                      \
      POLL(shmem_##N##_test_all_vector(&iv[35], 3, st_second, cmp, cv) == 1,                     \
           #N " test_all_vector %s", on);                                                        \
      /* test_any_vector, no mask */                                                             \
      shmem_##N##_p(&iv[39], VF[1], right);                                                      \
      POLL((z = shmem_##N##_test_any_vector(&iv[38], 3, NULL, cmp, cv)) != SIZE_MAX,             \
           #N " test_any_vector %s", on);                                                        \
      CHECK_EQ(z, (size_t)1, #N " test_any_vector %s: index", on);                               \
      /* test_some_vector, element 0 excluded; 1 and 2 written */                                \
      shmem_##N##_p(&iv[42], VF[1], right);                                                      \
      shmem_##N##_p(&iv[43], VF[2], right);                                                      \
      {                                                                                          \
        unsigned seen = 0;                                                                       \
        double t0 = shtest_now();                                                                \
        while (seen != 0x6u) {                                                                   \
          z = shmem_##N##_test_some_vector(&iv[41], 3, idx, st_first, cmp, cv);                  \
          collect_some(idx, z, 3, 0x6u, &seen, "test_some_vector", #N, on);                      \
          CHECK(shtest_now() - t0 < SHTEST_POLL_LIMIT, #N " test_some_vector %s", on);           \
        }                                                                                        \
      }                                                                                          \
      shmem_barrier_all();                                                                       \
      /* elements never written keep their initial values */                                     \
      CHECK_EQ(iv[3], I0, #N " %s: excluded element of the all set", on);                        \
      CHECK_EQ(iv[36], VI[1], #N " %s: excluded element of the test_all_vector set", on);        \
      CHECK_EQ(iv[47], I0, #N " %s: unused element", on);                                        \
      shmem_barrier_all();                                                                       \
    }                                                                                            \
    shmem_free(iv);                                                                              \
  }
SHMEMFM_P2P_TYPES(P2P_TEST)

/* ------------------------------------------------------------------------------------------------
 * variables changed by remote atomics */
static long amo_l;
static void amo_waits(void) {
  int* ic = (int*)shmem_calloc(1, sizeof(int));
  uint64_t* uc = (uint64_t*)shmem_calloc(1, sizeof(uint64_t));
  CHECK(ic != NULL && uc != NULL, "shmem_calloc");
  amo_l = 0;
  shmem_barrier_all();
  /* 5 increments of a global long; the owner waits for EQ 5 */
  for (int k = 0; k < 5; k++) {
    shtest_sleep_us(DELAY_US);
    shmem_long_atomic_inc(&amo_l, right);
  }
  shmem_long_wait_until(&amo_l, SHMEM_CMP_EQ, 5);
  CHECK_EQ(amo_l, 5L, "long wait_until EQ after 5 atomic_inc");
  /* fetch_add on an int: wait GE */
  shtest_sleep_us(DELAY_US);
  (void)shmem_int_atomic_fetch_add(ic, 1000, right);
  shmem_int_wait_until(ic, SHMEM_CMP_GE, 1000);
  CHECK_EQ(*ic, 1000, "int wait_until GE after atomic_fetch_add");
  /* atomic_set on a uint64_t, polled with test */
  shtest_sleep_us(DELAY_US);
  shmem_uint64_atomic_set(uc, (uint64_t)1 << 40, right);
  POLL(shmem_uint64_test(uc, SHMEM_CMP_GT, (uint64_t)1 << 39) == 1, "uint64 test after atomic_set");
  CHECK_EQ(*uc, (uint64_t)1 << 40, "uint64 value after atomic_set");
  /* all PEs add to PE 0: it waits for the total */
  shmem_barrier_all();
  *uc = 0;
  shmem_barrier_all();
  shmem_uint64_atomic_add(uc, (uint64_t)(me + 1), 0);
  if (me == 0) {
    const uint64_t total = (uint64_t)npes * (uint64_t)(npes + 1) / 2;
    shmem_uint64_wait_until(uc, SHMEM_CMP_EQ, total);
    CHECK_EQ(*uc, total, "uint64 wait_until EQ for the sum of all PEs' atomic_add");
  }
  shmem_barrier_all();
  shmem_free(uc);
  shmem_free(ic);
}

/* ------------------------------------------------------------------------------------------------
 * deprecated wait forms on global variables */
static short d_s;
static int d_i;
static long d_l[4];
static long long d_ll;
static void deprecated_waits(void) {
  d_s = 0;
  d_i = 0;
  d_ll = 0;
  for (int i = 0; i < 4; i++) d_l[i] = 0;
  shmem_barrier_all();
  shtest_sleep_us(DELAY_US);
  shmem_short_p(&d_s, 3, right);
  shmem_short_wait(&d_s, 0); /* waits while d_s == 0 */
  CHECK_EQ(d_s, (short)3, "shmem_short_wait");
  shtest_sleep_us(DELAY_US);
  shmem_int_p(&d_i, -4, right);
  shmem_int_wait(&d_i, 0);
  CHECK_EQ(d_i, -4, "shmem_int_wait");
  shtest_sleep_us(DELAY_US);
  shmem_long_p(&d_l[0], 5, right);
  shmem_long_wait(&d_l[0], 0);
  CHECK_EQ(d_l[0], 5L, "shmem_long_wait");
  shtest_sleep_us(DELAY_US);
  shmem_longlong_p(&d_ll, 1LL << 40, right);
  shmem_longlong_wait(&d_ll, 0);
  CHECK_EQ(d_ll, 1LL << 40, "shmem_longlong_wait");
  /* the untyped shmem_wait(long *, long) and shmem_wait_until(long *, int, long) functions (the
   * parentheses bypass the C11 generic macros of the same names) */
  shtest_sleep_us(DELAY_US);
  shmem_long_p(&d_l[1], 6, right);
  (shmem_wait)(&d_l[1], 0);
  CHECK_EQ(d_l[1], 6L, "shmem_wait(long *, long)");
  shtest_sleep_us(DELAY_US);
  shmem_long_atomic_add(&d_l[2], 12, right);
  (shmem_wait_until)(&d_l[2], SHMEM_CMP_GE, 10);
  CHECK_EQ(d_l[2], 12L, "shmem_wait_until(long *, int, long)");
  /* the C11 generic forms */
  shtest_sleep_us(DELAY_US);
  shmem_long_p(&d_l[3], 7, right);
  shmem_wait(&d_l[3], 0L);
  shmem_wait_until(&d_l[3], SHMEM_CMP_EQ, 7L);
  CHECK_EQ(d_l[3], 7L, "generic shmem_wait / shmem_wait_until on long");
  shmem_barrier_all();
}

#define CALL(T, N) p2p_##N();

int main(void) {
  shmem_init();
  shtest_require_pes(2);
  shtest_ring(&me, &npes, &left, &right);

  SHMEMFM_P2P_TYPES(CALL)
  amo_waits();
  deprecated_waits();

  shtest_pass("test_p2p");
  shmem_finalize();
  return 0;
}
