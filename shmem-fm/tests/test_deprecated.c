/* test_deprecated.c - deprecated interfaces that OpenSHMEM 1.5 programs still use.
 *
 *  - start_pes(0) instead of shmem_init; no shmem_finalize (start_pes finalizes implicitly at
 *    exit); _my_pe / _num_pes;
 *  - shmalloc / shrealloc (contents kept) / shmemalign (alignment honoured) / shfree;
 *  - the old AMO names over their tables: shmem_TYPENAME_cswap / finc / inc / fadd / add for
 *    int, long, long long and shmem_TYPENAME_fetch / set / swap for those and float, double,
 *    with a counter hammered on PE 0 by every PE; shmem_swap(long *, long, int); the C11
 *    generic old names (shmem_fadd, shmem_cswap ...);
 *  - shmem_clear_cache_inv, shmem_set_cache_inv, shmem_clear_cache_line_inv,
 *    shmem_set_cache_line_inv, shmem_udcflush, shmem_udcflush_line (no-ops). */
#include "shtest.h"

#define NOPS 20

static int me, npes, right, left;

/* extended old names: fetch / set / swap */
#define OV(T, pe, k) ((T)((pe)*16 + (k)) + (T)0.25)
#define OLDEXT_TEST(T, N)                                      \
  static T oe_g_##N;                                           \
  static void oldext_##N(void) {                               \
    T* v = (T*)shmalloc(2 * sizeof(T));                        \
    CHECK(v != NULL, "shmalloc for " #N);                      \
    shmem_##N##_set(&v[0], OV(T, me, 1), right);               \
    shmem_##N##_set(&oe_g_##N, OV(T, me, 2), right);           \
    shmem_barrier_all();                                       \
    T e = OV(T, left, 1);                                      \
    CHECK_EQ(v[0], e, "shmem_" #N "_set on the heap");         \
    e = OV(T, left, 2);                                        \
    CHECK_EQ(oe_g_##N, e, "shmem_" #N "_set on a global");     \
    shmem_barrier_all(); /* checked before the swaps below */  \
    T f = shmem_##N##_fetch(&v[0], right);                     \
    e = OV(T, me, 1);                                          \
    CHECK_EQ(f, e, "shmem_" #N "_fetch");                      \
    f = shmem_##N##_fetch(&oe_g_##N, right);                   \
    e = OV(T, me, 2);                                          \
    CHECK_EQ(f, e, "shmem_" #N "_fetch from a global");        \
    f = shmem_##N##_swap(&v[0], OV(T, me, 3), right);          \
    e = OV(T, me, 1);                                          \
    CHECK_EQ(f, e, "shmem_" #N "_swap returns the old value"); \
    f = shmem_##N##_fetch(&v[0], right);                       \
    e = OV(T, me, 3);                                          \
    CHECK_EQ(f, e, "value after shmem_" #N "_swap");           \
    shmem_barrier_all();                                       \
    shfree(v);                                                 \
  }
SHMEMFM_OLDEXTAMO_TYPES(OLDEXT_TEST)

/* standard old names: cswap / finc / inc / fadd / add */
#define OLDAMO_TEST(T, N)                                                                     \
  static T oa_g_##N;                                                                          \
  static void oldamo_##N(void) {                                                              \
    T* c = (T*)shmalloc(4 * sizeof(T));                                                       \
    CHECK(c != NULL, "shmalloc for " #N);                                                     \
    c[0] = c[1] = c[2] = c[3] = (T)0;                                                         \
    oa_g_##N = (T)0;                                                                          \
    shmem_barrier_all();                                                                      \
    T prev = (T)-1;                                                                           \
    for (int k = 0; k < NOPS; k++) {                                                          \
      T f = shmem_##N##_finc(&c[0], 0);                                                       \
      CHECK(f > prev || k == 0, "shmem_" #N "_finc results of one PE increase");              \
      CHECK(f >= (T)0 && f < (T)(npes * NOPS), "shmem_" #N "_finc result in range");          \
      prev = f;                                                                               \
      shmem_##N##_inc(&c[1], 0);                                                              \
      f = shmem_##N##_fadd(&c[1], (T)3, 0);                                                   \
      CHECK(f >= (T)0 && f <= (T)(4 * npes * NOPS - 3), "shmem_" #N "_fadd result in range"); \
      shmem_##N##_add(&oa_g_##N, (T)2, 0);                                                    \
    }                                                                                         \
    /* cswap: exactly one PE wins */                                                          \
    T old = shmem_##N##_cswap(&c[2], (T)0, (T)(me + 1), 0);                                   \
    if (old == (T)0) shmem_##N##_inc(&c[3], 0);                                               \
    shmem_barrier_all();                                                                      \
    if (me == 0) {                                                                            \
      T e = (T)(npes * NOPS);                                                                 \
      CHECK_EQ(c[0], e, "shmem_" #N "_finc counter");                                         \
      e = (T)(4 * npes * NOPS);                                                               \
      CHECK_EQ(c[1], e, "shmem_" #N "_inc + fadd(3) counter");                                \
      e = (T)(2 * npes * NOPS);                                                               \
      CHECK_EQ(oa_g_##N, e, "shmem_" #N "_add on a global");                                  \
      e = (T)1;                                                                               \
      CHECK_EQ(c[3], e, "shmem_" #N "_cswap: number of winners");                             \
      CHECK(c[2] >= (T)1 && c[2] <= (T)npes, "shmem_" #N "_cswap: winner's value");           \
    }                                                                                         \
    /* a failing cswap returns the current value and changes nothing */                       \
    old = shmem_##N##_cswap(&c[2], (T)-7, (T)99, 0);                                          \
    T cur = shmem_##N##_fetch(&c[2], 0);                                                      \
    CHECK_EQ(old, cur, "failing shmem_" #N "_cswap returns the current value");               \
    CHECK(cur != (T)99, "failing shmem_" #N "_cswap changed the value");                      \
    shmem_barrier_all();                                                                      \
    shfree(c);                                                                                \
  }
SHMEMFM_OLDAMO_TYPES(OLDAMO_TEST)

#define CALL_EXT(T, N) oldext_##N();
#define CALL_AMO(T, N) oldamo_##N();

static long swap_g;

int main(void) {
  start_pes(0);
  me = _my_pe();
  npes = _num_pes();
  CHECK_EQ(me, shmem_my_pe(), "_my_pe");
  CHECK_EQ(npes, shmem_n_pes(), "_num_pes");
  shtest_require_pes(2);
  right = (me + 1) % npes;
  left = (me + npes - 1) % npes;

  /* deprecated allocation */
  unsigned char* a = (unsigned char*)shmalloc(1000);
  CHECK(a != NULL, "shmalloc(1000)");
  for (int i = 0; i < 1000; i++) a[i] = (unsigned char)(i * 7 + me);
  unsigned char* b = (unsigned char*)shrealloc(a, 4000);
  CHECK(b != NULL, "shrealloc(4000)");
  for (int i = 0; i < 1000; i++)
    CHECK_EQ(b[i], (unsigned char)(i * 7 + me), "shrealloc keeps byte %d", i);
  shmem_putmem(b + 3000, b, 1000, right); /* usable as a symmetric target */
  shmem_barrier_all();
  for (int i = 0; i < 1000; i++)
    CHECK_EQ(b[3000 + i], (unsigned char)(i * 7 + left), "putmem into shrealloc'ed block, byte %d",
             i);
  void* al = shmemalign(256, 512);
  CHECK(al != NULL && (uintptr_t)al % 256 == 0, "shmemalign(256, 512) alignment");
  shmem_long_p((long*)al, 5L + me, right);
  shmem_barrier_all();
  CHECK_EQ(*(long*)al, 5L + left, "put into a shmemalign'ed block");
  shmem_barrier_all();
  shfree(al);
  shfree(b);

  SHMEMFM_OLDEXTAMO_TYPES(CALL_EXT)
  SHMEMFM_OLDAMO_TYPES(CALL_AMO)

  /* shmem_swap(long *, long, int): the parentheses call the function, not the C11 generic */
  swap_g = 100 + me;
  shmem_barrier_all();
  long old = (shmem_swap)(&swap_g, 200 + me, right);
  CHECK_EQ(old, 100L + right, "shmem_swap(long *) returns the old value");
  shmem_barrier_all();
  CHECK_EQ(swap_g, 200L + left, "value after shmem_swap(long *)");
  shmem_barrier_all();

  /* the C11 generic old names */
  {
    long* l = (long*)shmalloc(2 * sizeof(long));
    int* i = (int*)shmalloc(sizeof(int));
    double* d = (double*)shmalloc(sizeof(double));
    CHECK(l != NULL && i != NULL && d != NULL, "shmalloc");
    l[0] = l[1] = 0;
    *i = 0;
    *d = 0;
    shmem_barrier_all();
    shmem_add(&l[0], 2L, 0);
    shmem_inc(i, 0);
    long f = shmem_fadd(&l[1], 5L, 0);
    CHECK(f % 5 == 0, "generic shmem_fadd result");
    int fi = shmem_finc(i, 0);
    CHECK(fi >= 0 && fi < 2 * npes, "generic shmem_finc result");
    shmem_barrier_all();
    if (me == 0) {
      CHECK_EQ(l[0], 2L * npes, "generic shmem_add");
      CHECK_EQ(l[1], 5L * npes, "generic shmem_fadd");
      CHECK_EQ(*i, 2 * npes, "generic shmem_inc + shmem_finc");
    }
    shmem_barrier_all();
    shmem_set(d, 1.5 + me, right);
    shmem_barrier_all();
    CHECK_EQ(*d, 1.5 + left, "generic shmem_set(double *)");
    shmem_barrier_all(); /* every PE has checked its d before the swaps change it */
    double od = shmem_swap(d, 2.5, right);
    CHECK_EQ(od, 1.5 + me, "generic shmem_swap(double *)");
    od = shmem_fetch(d, right);
    CHECK_EQ(od, 2.5, "generic shmem_fetch(double *)");
    int oi = shmem_cswap(i, 2 * npes, -1, 0);
    CHECK(oi == 2 * npes || oi == -1, "generic shmem_cswap(int *) result %d", oi);
    shmem_barrier_all();
    shfree(d);
    shfree(i);
    shfree(l);
  }

  /* cache management: no-ops that must exist and return */
  shmem_clear_cache_inv();
  shmem_set_cache_inv();
  shmem_clear_cache_line_inv(&swap_g);
  shmem_set_cache_line_inv(&swap_g);
  shmem_udcflush();
  shmem_udcflush_line(&swap_g);

  shtest_pass("test_deprecated");
  /* no shmem_finalize: start_pes finalizes implicitly when the program exits */
  return 0;
}
