/* test_generic.c - the C11 type-generic interfaces of OpenSHMEM 1.5 (shmem-generic.h).
 *
 * Each generic name is called with several of the 14 base types, with and without a context as
 * first argument, and the values are checked.  Values are chosen so that a call dispatched to the
 * routine of a narrower or different type would corrupt them (long double with 2^-60 fractions,
 * unsigned long long above 2^32, negative shorts, chars ...).
 *   RMA: shmem_put / get / p / g (also on a const source) / iput / iget / put_nbi / get_nbi /
 *        put_signal / put_signal_nbi;
 *   AMO: shmem_atomic_fetch / set / swap / compare_swap / fetch_inc / inc / fetch_add / add,
 *        fetch_and / and / fetch_or / or / fetch_xor / xor and the _nbi forms;
 *   p2p: shmem_wait_until / test / wait_until_all / any / some / test_all / any / some and the
 *        _vector forms;
 *   collectives: shmem_broadcast / collect / fcollect / alltoall / alltoalls, shmem_and / or /
 *        xor / max / min / sum / prod _reduce; shmem_sync(team) and shmem_sync(PE_start,
 *        logPE_stride, PE_size, pSync). */
#include "shtest.h"

static int me, npes, right, left;
static shmem_ctx_t ctx = SHMEM_CTX_INVALID;
static long psync[SHMEM_BARRIER_SYNC_SIZE];

/* ------------------------------------------------------------------------------------------------
 * RMA */
static void rma(void) {
  int* ib = (int*)shmem_calloc(16, sizeof(int));
  double* db = (double*)shmem_calloc(16, sizeof(double));
  long double* lb = (long double*)shmem_calloc(16, sizeof(long double));
  char* cb = (char*)shmem_calloc(16, sizeof(char));
  unsigned long long* ub = (unsigned long long*)shmem_calloc(16, sizeof(unsigned long long));
  short* sb = (short*)shmem_calloc(16, sizeof(short));
  float* fb = (float*)shmem_calloc(16, sizeof(float));
  signed char* scb = (signed char*)shmem_calloc(16, 1);
  uint64_t* sig = (uint64_t*)shmem_calloc(2, sizeof(uint64_t));
  CHECK(ib && db && lb && cb && ub && sb && fb && scb && sig, "shmem_calloc");
  const long double tiny = 1.0L / (1ULL << 60);

  int is[16];
  double ds[16];
  long double ls[16];
  unsigned long long us[16];
  short ss[16];
  float fs[16];
  for (int i = 0; i < 16; i++) {
    is[i] = me * 1000 + i;
    ds[i] = me + i / 4.0;
    ls[i] = 1.0L + (me * 16 + i) * tiny;
    us[i] = (1ULL << 40) * (unsigned long long)(me + 1) + (unsigned long long)i;
    ss[i] = (short)(-(me * 100 + i));
    fs[i] = (float)me + 0.5f * (float)i;
  }
  shmem_put(ib, is, 16, right);
  shmem_put(ctx, db, ds, 16, right);
  shmem_put(lb, ls, 16, right);
  shmem_put_nbi(ctx, ub, us, 16, right);
  shmem_p(cb, (char)('a' + me), right);
  shmem_p(ctx, &cb[1], (char)('A' + me), right);
  shmem_p(scb, (signed char)(-1 - me), right);
  shmem_iput(sb, ss, 2, 1, 8, right);      /* sb[2k] = ss[k] */
  shmem_iput(ctx, fb, fs, 1, 2, 8, right); /* fb[k] = fs[2k] */
  shmem_ctx_quiet(ctx);
  shmem_barrier_all();
  for (int i = 0; i < 16; i++) {
    CHECK_EQ(ib[i], left * 1000 + i, "shmem_put(int *) element %d", i);
    CHECK_EQ(db[i], left + i / 4.0, "shmem_put(ctx, double *) element %d", i);
    CHECK_EQ(lb[i], 1.0L + (left * 16 + i) * tiny, "shmem_put(long double *) element %d", i);
    CHECK_EQ(ub[i], (1ULL << 40) * (unsigned long long)(left + 1) + (unsigned long long)i,
             "shmem_put_nbi(ctx, unsigned long long *) element %d", i);
  }
  for (int k = 0; k < 8; k++) {
    CHECK_EQ(sb[2 * k], (short)(-(left * 100 + k)), "shmem_iput(short *) element %d", 2 * k);
    CHECK_EQ(sb[2 * k + 1], (short)0, "shmem_iput(short *) gap %d", 2 * k + 1);
    CHECK_EQ(fb[k], (float)left + 0.5f * (float)(2 * k), "shmem_iput(ctx, float *) element %d", k);
  }
  CHECK_EQ(cb[0], (char)('a' + left), "shmem_p(char *)");
  CHECK_EQ(cb[1], (char)('A' + left), "shmem_p(ctx, char *)");
  CHECK_EQ(scb[0], (signed char)(-1 - left), "shmem_p(signed char *)");

  /* gets from the right neighbour (which holds my values) */
  int ig[16];
  long double lg[16];
  unsigned long long ug[16];
  short sg[16];
  float fg[16];
  shmem_get(ig, ib, 16, right);
  shmem_get(ctx, lg, lb, 16, right);
  shmem_get_nbi(ug, ub, 16, right);
  shmem_quiet();
  for (int i = 0; i < 16; i++) {
    CHECK_EQ(ig[i], me * 1000 + i, "shmem_get(int *) element %d", i);
    CHECK_EQ(lg[i], 1.0L + (me * 16 + i) * tiny, "shmem_get(ctx, long double *) element %d", i);
    CHECK_EQ(ug[i], (1ULL << 40) * (unsigned long long)(me + 1) + (unsigned long long)i,
             "shmem_get_nbi(unsigned long long *) element %d", i);
  }
  shmem_get_nbi(ctx, fg, fb, 8, right);
  shmem_iget(sg, sb, 1, 2, 8, right); /* sg[k] = sb[2k] */
  shmem_ctx_quiet(ctx);
  for (int k = 0; k < 8; k++) {
    CHECK_EQ(fg[k], (float)me + 0.5f * (float)(2 * k), "shmem_get_nbi(ctx, float *) element %d", k);
    CHECK_EQ(sg[k], (short)(-(me * 100 + k)), "shmem_iget(short *) element %d", k);
  }
  shmem_iget(ctx, &ig[0], ib, 3, 5, 3, right); /* ig[0,3,6] = ib[0,5,10] */
  CHECK(ig[0] == me * 1000 && ig[3] == me * 1000 + 5 && ig[6] == me * 1000 + 10,
        "shmem_iget(ctx, int *)");
  const unsigned long long* cu = ub;
  unsigned long long g1 = shmem_g(cu, right);
  CHECK_EQ(g1, (1ULL << 40) * (unsigned long long)(me + 1), "shmem_g(const unsigned long long *)");
  long double g2 = shmem_g(ctx, &lb[5], right);
  CHECK_EQ(g2, 1.0L + (me * 16 + 5) * tiny, "shmem_g(ctx, long double *)");
  char g3 = shmem_g(cb, right);
  CHECK_EQ(g3, (char)('a' + me), "shmem_g(char *)");
  shmem_barrier_all();

  /* put with signal */
  for (int i = 0; i < 16; i++) is[i] = -(me * 1000 + i);
  shmem_put_signal(ib, is, 16, &sig[0], 1, SHMEM_SIGNAL_ADD, right);
  shmem_put_signal_nbi(ctx, db, ds, 4, &sig[1], 7, SHMEM_SIGNAL_SET, right);
  shmem_ctx_quiet(ctx);
  uint64_t s = shmem_signal_wait_until(&sig[0], SHMEM_CMP_EQ, 1);
  CHECK_EQ(s, (uint64_t)1, "generic shmem_put_signal: signal");
  for (int i = 0; i < 16; i++)
    CHECK_EQ(ib[i], -(left * 1000 + i), "generic shmem_put_signal: element %d", i);
  s = shmem_signal_wait_until(&sig[1], SHMEM_CMP_EQ, 7);
  CHECK_EQ(s, (uint64_t)7, "generic shmem_put_signal_nbi(ctx): signal");
  shmem_barrier_all();

  shmem_free(sig);
  shmem_free(scb);
  shmem_free(fb);
  shmem_free(sb);
  shmem_free(ub);
  shmem_free(cb);
  shmem_free(lb);
  shmem_free(db);
  shmem_free(ib);
}

/* ------------------------------------------------------------------------------------------------
 * AMOs */
static void amo(void) {
  long* la = (long*)shmem_calloc(4, sizeof(long));
  double* da = (double*)shmem_calloc(2, sizeof(double));
  float* fa = (float*)shmem_calloc(2, sizeof(float));
  unsigned int* ua = (unsigned int*)shmem_calloc(4, sizeof(unsigned int));
  unsigned long long* qa = (unsigned long long*)shmem_calloc(4, sizeof(unsigned long long));
  int* ia = (int*)shmem_calloc(2, sizeof(int));
  CHECK(la && da && fa && ua && qa && ia, "shmem_calloc");
  qa[1] = ~0ULL;
  ua[1] = ~0u;
  shmem_barrier_all();

  /* extended: set / fetch / swap on double and float, plain and ctx */
  shmem_atomic_set(da, 0.25 + me, right);
  shmem_atomic_set(ctx, fa, 0.75f + (float)me, right);
  shmem_ctx_quiet(ctx);
  shmem_barrier_all();
  CHECK_EQ(*da, 0.25 + left, "shmem_atomic_set(double *)");
  CHECK_EQ(*fa, 0.75f + (float)left, "shmem_atomic_set(ctx, float *)");
  shmem_barrier_all(); /* every PE has checked its own words before the swaps below */
  double d = shmem_atomic_fetch(da, right);
  CHECK_EQ(d, 0.25 + me, "shmem_atomic_fetch(double *)");
  const float* cfa = fa;
  float f = shmem_atomic_fetch(ctx, cfa, right);
  CHECK_EQ(f, 0.75f + (float)me, "shmem_atomic_fetch(ctx, const float *)");
  d = shmem_atomic_swap(da, 8.5, right);
  CHECK_EQ(d, 0.25 + me, "shmem_atomic_swap(double *)");
  f = shmem_atomic_swap(ctx, fa, 9.5f, right);
  CHECK_EQ(f, 0.75f + (float)me, "shmem_atomic_swap(ctx, float *)");
  double dn = 0;
  shmem_atomic_fetch_nbi(&dn, da, right);
  shmem_quiet();
  CHECK_EQ(dn, 8.5, "shmem_atomic_fetch_nbi(double *)");
  float fn = 0;
  shmem_atomic_swap_nbi(ctx, &fn, fa, 10.5f, right);
  shmem_ctx_quiet(ctx);
  CHECK_EQ(fn, 9.5f, "shmem_atomic_swap_nbi(ctx, float *)");
  shmem_barrier_all();

  /* standard: a counter on PE 0 */
  long lf = shmem_atomic_fetch_inc(ctx, &la[0], 0);
  CHECK(lf >= 0 && lf < 9L * npes, "shmem_atomic_fetch_inc(ctx, long *) result %ld", lf);
  shmem_atomic_inc(&la[0], 0);
  lf = shmem_atomic_fetch_add(&la[0], 3L, 0);
  CHECK(lf >= 0 && lf < 9L * npes, "shmem_atomic_fetch_add(long *) result %ld", lf);
  shmem_atomic_add(ctx, &la[0], 1L, 0);
  long ln1 = -1, ln2 = -1;
  shmem_atomic_fetch_inc_nbi(&ln1, &la[0], 0);
  shmem_atomic_fetch_add_nbi(ctx, &ln2, &la[0], 2L, 0);
  shmem_quiet();
  shmem_ctx_quiet(ctx);
  CHECK(ln1 >= 0 && ln1 < 9L * npes, "shmem_atomic_fetch_inc_nbi(long *) result %ld", ln1);
  CHECK(ln2 >= 0 && ln2 < 9L * npes, "shmem_atomic_fetch_add_nbi(ctx, long *) result %ld", ln2);
  /* compare_swap: one winner */
  int io = shmem_atomic_compare_swap(&ia[0], 0, me + 1, 0);
  if (io == 0) shmem_atomic_inc(ctx, &ia[1], 0);
  long lo = -5;
  shmem_atomic_compare_swap_nbi(ctx, &lo, &la[1], 0L, (long)me + 1, 0);
  shmem_ctx_quiet(ctx);
  CHECK(lo >= 0 && lo <= npes, "shmem_atomic_compare_swap_nbi(ctx, long *) result %ld", lo);
  /* bitwise on unsigned int and unsigned long long */
  const unsigned int ub = 1u << (me % 32);
  const unsigned long long qb = 1ULL << (32 + me % 32);
  shmem_atomic_or(&ua[0], ub, 0);
  unsigned int uo = shmem_atomic_fetch_and(ctx, &ua[1], ~ub, 0);
  CHECK((uo & ub) == ub || npes > 32, "shmem_atomic_fetch_and(ctx, unsigned int *): own bit");
  shmem_atomic_xor(ctx, &ua[2], 0x5A5A5A5Au, 0);
  unsigned long long qo = shmem_atomic_fetch_or(&qa[0], qb, 0);
  CHECK((qo & qb) == 0 || npes > 32, "shmem_atomic_fetch_or(unsigned long long *): own bit");
  shmem_atomic_and(&qa[1], ~qb, 0);
  qo = shmem_atomic_fetch_xor(ctx, &qa[2], 0xF0F0F0F0F0F0F0F0ULL, 0);
  (void)qo;
  unsigned long long q1 = 0, q2 = 0, q3 = 0;
  shmem_atomic_fetch_or_nbi(&q1, &qa[3], qb, 0);
  shmem_atomic_fetch_and_nbi(ctx, &q2, &qa[3], ~0ULL, 0);
  shmem_atomic_fetch_xor_nbi(&q3, &qa[3], 0ULL, 0);
  shmem_quiet();
  shmem_ctx_quiet(ctx);
  shmem_barrier_all();
  if (me == 0) {
    CHECK_EQ(la[0], 9L * npes, "generic AMOs on the counter of PE 0");
    CHECK_EQ(ia[1], 1, "shmem_atomic_compare_swap(int *): number of winners");
    CHECK(ia[0] >= 1 && ia[0] <= npes, "shmem_atomic_compare_swap(int *) winner value");
    CHECK(la[1] >= 1 && la[1] <= npes, "shmem_atomic_compare_swap_nbi winner value");
    unsigned int uor = 0, ux = 0;
    unsigned long long qor = 0, qx = 0;
    for (int p = 0; p < npes; p++) {
      uor |= 1u << (p % 32);
      qor |= 1ULL << (32 + p % 32);
      ux ^= 0x5A5A5A5Au;
      qx ^= 0xF0F0F0F0F0F0F0F0ULL;
    }
    CHECK_EQ(ua[0], uor, "shmem_atomic_or(unsigned int *)");
    CHECK_EQ(ua[1], ~uor, "shmem_atomic_fetch_and(ctx, unsigned int *)");
    CHECK_EQ(ua[2], ux, "shmem_atomic_xor(ctx, unsigned int *)");
    CHECK_EQ(qa[0], qor, "shmem_atomic_fetch_or(unsigned long long *)");
    CHECK_EQ(qa[1], ~qor, "shmem_atomic_and(unsigned long long *)");
    CHECK_EQ(qa[2], qx, "shmem_atomic_fetch_xor(ctx, unsigned long long *)");
    CHECK_EQ(qa[3], qor, "shmem_atomic_fetch_*_nbi(unsigned long long *)");
  }
  shmem_barrier_all();
  shmem_free(ia);
  shmem_free(qa);
  shmem_free(ua);
  shmem_free(fa);
  shmem_free(da);
  shmem_free(la);
}

/* ------------------------------------------------------------------------------------------------
 * point-to-point synchronization */
static void p2p(void) {
  int* iv = (int*)shmem_calloc(4, sizeof(int));
  long* lv = (long*)shmem_calloc(4, sizeof(long));
  unsigned short* sv = (unsigned short*)shmem_calloc(4, sizeof(unsigned short));
  unsigned long long* qv = (unsigned long long*)shmem_calloc(4, sizeof(unsigned long long));
  CHECK(iv && lv && sv && qv, "shmem_calloc");
  int r = shmem_test(&iv[0], SHMEM_CMP_EQ, 5); /* nobody writes before the next barrier */
  CHECK_EQ(r, 0, "generic shmem_test(int *) before the update");
  shmem_barrier_all();
  shtest_sleep_us(200);
  shmem_p(&iv[0], 5, right);
  shmem_p(&lv[0], -3L, right);
  shmem_p(&lv[1], -4L, right);
  shmem_p(&sv[2], (unsigned short)60000, right);
  shmem_atomic_set(&qv[1], 1ULL << 50, right);
  shmem_quiet();
  shmem_wait_until(&iv[0], SHMEM_CMP_EQ, 5);
  shmem_wait_until_all(lv, 2, NULL, SHMEM_CMP_LT, 0L);
  CHECK(lv[0] == -3 && lv[1] == -4, "generic shmem_wait_until_all(long *)");
  size_t k = shmem_wait_until_any(sv, 4, NULL, SHMEM_CMP_GT, (unsigned short)50000);
  CHECK_EQ(k, (size_t)2, "generic shmem_wait_until_any(unsigned short *)");
  size_t idx[4];
  k = shmem_wait_until_some(qv, 4, idx, NULL, SHMEM_CMP_GE, 1ULL << 50);
  CHECK(k == 1 && idx[0] == 1, "generic shmem_wait_until_some(unsigned long long *)");
  long cv[2] = {-3, -4};
  shmem_wait_until_all_vector(lv, 2, NULL, SHMEM_CMP_EQ, cv);
  r = shmem_test(&iv[0], SHMEM_CMP_EQ, 5);
  CHECK_EQ(r, 1, "generic shmem_test(int *) after the update");
  r = shmem_test_all(lv, 2, NULL, SHMEM_CMP_LE, -3L);
  CHECK_EQ(r, 1, "generic shmem_test_all(long *)");
  k = shmem_test_any(sv, 4, NULL, SHMEM_CMP_NE, (unsigned short)0);
  CHECK_EQ(k, (size_t)2, "generic shmem_test_any(unsigned short *)");
  k = shmem_test_some(qv, 4, idx, NULL, SHMEM_CMP_GT, 1ULL << 49);
  CHECK(k == 1 && idx[0] == 1, "generic shmem_test_some(unsigned long long *)");
  unsigned short sc[4] = {1, 1, 59999, 1};
  k = shmem_test_any_vector(sv, 4, NULL, SHMEM_CMP_GT, sc);
  CHECK_EQ(k, (size_t)2, "generic shmem_test_any_vector(unsigned short *)");
  r = shmem_test_all_vector(lv, 2, NULL, SHMEM_CMP_EQ, cv);
  CHECK_EQ(r, 1, "generic shmem_test_all_vector(long *)");
  unsigned long long qc[4] = {0, 1ULL << 50, 0, 0};
  k = shmem_test_some_vector(qv, 4, idx, NULL, SHMEM_CMP_EQ, qc);
  CHECK_EQ(k, (size_t)4, "generic shmem_test_some_vector(unsigned long long *)");
  k = shmem_wait_until_any_vector(iv, 1, NULL, SHMEM_CMP_EQ, &iv[0]);
  CHECK_EQ(k, (size_t)0, "generic shmem_wait_until_any_vector(int *)");
  k = shmem_wait_until_some_vector(qv, 2, idx, NULL, SHMEM_CMP_EQ, qc);
  CHECK_EQ(k, (size_t)2, "generic shmem_wait_until_some_vector(unsigned long long *)");
  shmem_barrier_all();
  shmem_free(qv);
  shmem_free(sv);
  shmem_free(lv);
  shmem_free(iv);
}

/* ------------------------------------------------------------------------------------------------
 * collectives */
static void coll(void) {
  const size_t n = (size_t)npes;
  double* d = (double*)shmem_malloc(64 * sizeof(double));
  double* d2 = (double*)shmem_malloc(64 * sizeof(double));
  long double* ld = (long double*)shmem_malloc(8 * sizeof(long double));
  long double* ld2 = (long double*)shmem_malloc(8 * sizeof(long double));
  int* ib = (int*)shmem_malloc(8 * n * sizeof(int));
  int* ib2 = (int*)shmem_malloc(8 * n * sizeof(int));
  char* cb = (char*)shmem_malloc(8 * n);
  char* cb2 = (char*)shmem_malloc(8 * n);
  short* sb = (short*)shmem_malloc(8 * n * sizeof(short));
  short* sb2 = (short*)shmem_malloc(8 * n * sizeof(short));
  unsigned long* ulb = (unsigned long*)shmem_malloc(16 * n * sizeof(unsigned long));
  unsigned long* ulb2 = (unsigned long*)shmem_malloc(16 * n * sizeof(unsigned long));
  long long* llb = (long long*)shmem_malloc(8 * sizeof(long long));
  unsigned char* uc = (unsigned char*)shmem_malloc(8);
  float* fl = (float*)shmem_malloc(8 * sizeof(float));
  CHECK(
      d && d2 && ld && ld2 && ib && ib2 && cb && cb2 && sb && sb2 && ulb && ulb2 && llb && uc && fl,
      "shmem_malloc");
  const int root = npes - 1;
  const long double tiny = 1.0L / (1ULL << 61);
  int rc;

  for (int i = 0; i < 8; i++) {
    d[i] = me + i * 0.125;
    d2[i] = -1;
    ld[i] = 3.0L + (me * 8 + i) * tiny;
    ld2[i] = -1;
  }
  shmem_barrier_all();
  rc = shmem_broadcast(SHMEM_TEAM_WORLD, d2, d, 8, root);
  CHECK_EQ(rc, 0, "generic shmem_broadcast(double *)");
  rc = shmem_broadcast(SHMEM_TEAM_WORLD, ld2, ld, 8, 0);
  CHECK_EQ(rc, 0, "generic shmem_broadcast(long double *)");
  for (int i = 0; i < 8; i++) {
    CHECK_EQ(d2[i], root + i * 0.125, "generic shmem_broadcast(double *) element %d", i);
    CHECK_EQ(ld2[i], 3.0L + i * tiny, "generic shmem_broadcast(long double *) element %d", i);
  }
  /* collect (PE p gives p % 2 + 1 ints), fcollect (2 chars), alltoall (2 shorts) */
  for (int i = 0; i < 2; i++) {
    ib[i] = me * 10 + i;
    cb[i] = (char)('a' + me * 2 + i);
  }
  for (size_t i = 0; i < 2 * n; i++) sb[i] = (short)(-(me * 100 + (int)i));
  for (size_t i = 0; i < 3 * n; i++) ulb[i] = (1UL << 33) + (unsigned long)(me * 1000) + i;
  shmem_barrier_all();
  rc = shmem_collect(SHMEM_TEAM_WORLD, ib2, ib, (size_t)(me % 2 + 1));
  CHECK_EQ(rc, 0, "generic shmem_collect(int *)");
  rc = shmem_fcollect(SHMEM_TEAM_WORLD, cb2, cb, 2);
  CHECK_EQ(rc, 0, "generic shmem_fcollect(char *)");
  rc = shmem_alltoall(SHMEM_TEAM_WORLD, sb2, sb, 2);
  CHECK_EQ(rc, 0, "generic shmem_alltoall(short *)");
  rc = shmem_alltoalls(SHMEM_TEAM_WORLD, ulb2, ulb, 2, 3, 1);
  CHECK_EQ(rc, 0, "generic shmem_alltoalls(unsigned long *)");
  size_t pos = 0;
  for (int p = 0; p < npes; p++) {
    for (int i = 0; i < p % 2 + 1; i++, pos++)
      CHECK_EQ(ib2[pos], p * 10 + i, "generic shmem_collect(int *) from PE %d element %d", p, i);
    for (int i = 0; i < 2; i++) {
      CHECK_EQ(cb2[p * 2 + i], (char)('a' + p * 2 + i), "generic shmem_fcollect(char *)");
      CHECK_EQ(sb2[p * 2 + i], (short)(-(p * 100 + me * 2 + i)), "generic shmem_alltoall(short *)");
    }
    CHECK_EQ(ulb2[p * 2], (1UL << 33) + (unsigned long)(p * 1000) + (unsigned long)(me * 3),
             "generic shmem_alltoalls(unsigned long *) from PE %d", p);
  }
  /* reductions */
  for (int i = 0; i < 8; i++) {
    d[i] = me + 0.5 * i;
    llb[i] = (1LL << 40) + me * 3 + i;
    ib[i] = (me + i) % 2 ? 2 : 1;
    fl[i] = (float)((me * 7 + i * 3) % 11) - 5.0f;
    ld[i] = 1.0L + (me + i) * tiny;
    ulb[i] = 1UL << (me % 64);
    uc[i] = (unsigned char)(0xF0 | me);
  }
  shmem_barrier_all();
  rc = shmem_sum_reduce(SHMEM_TEAM_WORLD, d2, d, 8);
  CHECK_EQ(rc, 0, "generic shmem_sum_reduce(double *)");
  rc = shmem_sum_reduce(SHMEM_TEAM_WORLD, llb, llb, 8); /* in place */
  CHECK_EQ(rc, 0, "generic shmem_sum_reduce(long long *)");
  rc = shmem_prod_reduce(SHMEM_TEAM_WORLD, ib2, ib, 8);
  CHECK_EQ(rc, 0, "generic shmem_prod_reduce(int *)");
  rc = shmem_max_reduce(SHMEM_TEAM_WORLD, fl, fl, 4);
  CHECK_EQ(rc, 0, "generic shmem_max_reduce(float *)");
  rc = shmem_min_reduce(SHMEM_TEAM_WORLD, ld2, ld, 8);
  CHECK_EQ(rc, 0, "generic shmem_min_reduce(long double *)");
  rc = shmem_or_reduce(SHMEM_TEAM_WORLD, ulb2, ulb, 8);
  CHECK_EQ(rc, 0, "generic shmem_or_reduce(unsigned long *)");
  rc = shmem_and_reduce(SHMEM_TEAM_WORLD, uc, uc, 8);
  CHECK_EQ(rc, 0, "generic shmem_and_reduce(unsigned char *)");
  rc = shmem_xor_reduce(SHMEM_TEAM_WORLD, &ulb2[8], ulb, 8);
  CHECK_EQ(rc, 0, "generic shmem_xor_reduce(unsigned long *)");
  for (int i = 0; i < 8; i++) {
    double es = 0;
    long long el = 0;
    int ep = 1;
    float em = -100;
    long double en = 100;
    unsigned long eo = 0, ex = 0;
    unsigned char ea = 0xFF;
    for (int p = 0; p < npes; p++) {
      es += p + 0.5 * i;
      el += (1LL << 40) + p * 3 + i;
      ep *= (p + i) % 2 ? 2 : 1;
      float fv = (float)((p * 7 + i * 3) % 11) - 5.0f;
      em = fv > em ? fv : em;
      long double lv = 1.0L + (p + i) * tiny;
      en = lv < en ? lv : en;
      eo |= 1UL << (p % 64);
      ex ^= 1UL << (p % 64);
      ea &= (unsigned char)(0xF0 | p);
    }
    CHECK_EQ(d2[i], es, "generic shmem_sum_reduce(double *) element %d", i);
    CHECK_EQ(llb[i], el, "generic shmem_sum_reduce(long long *) in place, element %d", i);
    CHECK_EQ(ib2[i], ep, "generic shmem_prod_reduce(int *) element %d", i);
    if (i < 4) CHECK_EQ(fl[i], em, "generic shmem_max_reduce(float *) element %d", i);
    CHECK_EQ(ld2[i], en, "generic shmem_min_reduce(long double *) element %d", i);
    CHECK_EQ(ulb2[i], eo, "generic shmem_or_reduce(unsigned long *) element %d", i);
    CHECK_EQ(ulb2[8 + i], ex, "generic shmem_xor_reduce(unsigned long *) element %d", i);
    CHECK_EQ(uc[i], ea, "generic shmem_and_reduce(unsigned char *) element %d", i);
  }

  /* shmem_sync: the team form and the 4-argument active-set form */
  rc = shmem_sync(SHMEM_TEAM_WORLD);
  CHECK_EQ(rc, 0, "generic shmem_sync(team)");
  shmem_int_p(&ib[0], 4242 + me, right);
  shmem_quiet();
  shmem_sync(0, 0, npes, psync);
  CHECK_EQ(ib[0], 4242 + left, "put, quiet, shmem_sync(0, 0, n, pSync)");
  shmem_sync(0, 0, npes, psync);
  rc = shmem_sync(SHMEM_TEAM_WORLD);
  CHECK_EQ(rc, 0, "generic shmem_sync(team), again");
  shmem_barrier_all();

  shmem_free(fl);
  shmem_free(uc);
  shmem_free(llb);
  shmem_free(ulb2);
  shmem_free(ulb);
  shmem_free(sb2);
  shmem_free(sb);
  shmem_free(cb2);
  shmem_free(cb);
  shmem_free(ib2);
  shmem_free(ib);
  shmem_free(ld2);
  shmem_free(ld);
  shmem_free(d2);
  shmem_free(d);
}

int main(void) {
  shmem_init();
  shtest_require_pes(2);
  shtest_ring(&me, &npes, &left, &right);
  for (int i = 0; i < SHMEM_BARRIER_SYNC_SIZE; i++) psync[i] = SHMEM_SYNC_VALUE;
  int rc = shmem_ctx_create(0, &ctx);
  CHECK_EQ(rc, 0, "shmem_ctx_create");
  shmem_barrier_all();

  rma();
  amo();
  p2p();
  coll();

  shmem_ctx_destroy(ctx);
  shtest_pass("test_generic");
  shmem_finalize();
  return 0;
}
