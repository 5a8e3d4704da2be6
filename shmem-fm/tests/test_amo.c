/* test_amo.c - atomic memory operations of OpenSHMEM 1.5 over their type tables.
 *
 *  - extended AMOs (SHMEMFM_EXTAMO_TYPES, incl. float/double): atomic_fetch / set / swap and
 *    fetch_nbi / swap_nbi, plain and ctx forms (SHMEM_CTX_DEFAULT and a created context), on heap
 *    and global targets, with values that use the full width (2^40 + k + 0.5 for double, 64-bit
 *    integers above 2^32) so a round trip through a narrower type is detected; a swap contention
 *    on PE 0 whose fetched values plus the final value must be a permutation of what was written.
 *  - standard AMOs (SHMEMFM_AMO_TYPES): every PE hammers a counter on PE 0 with fetch_inc (plain,
 *    ctx, nbi, ctx nbi): final value n*K and the fetched values, gathered on PE 0, cover 0..n*K-1
 *    exactly once; a counter on the last PE with inc and fetch_add (all forms): final value 3*n*K
 *    and the fetched values are pairwise distinct; add / ctx_add on a global; compare_swap
 *    contention where exactly one PE wins (plain on PE 0, compare_swap_nbi / ctx on the last PE);
 *    a compare_swap whose condition fails leaves the target unchanged.
 *  - bitwise AMOs (SHMEMFM_BITAMO_TYPES): and / or / xor, fetch_and / or / xor and their _nbi
 *    forms, plain and ctx, from every PE on one word; checks the final word and the fetched
 *    values (a PE's own bit is never set / cleared before its own operation). */
#include "shtest.h"

#define K 40 /* operations per PE per counter */

static int me, npes, last;
static shmem_ctx_t ctx_new = SHMEM_CTX_INVALID;

/* 2^40 for 8-byte types (so values do not fit in 32 bits), 0 otherwise. */
#define HI(T) ((T)(sizeof(T) >= 8 ? (1ull << 40) : 0ull))
/* A value owned by PE pe at step k: integral, plus 0.5 for floating types. */
#define XV(T, pe, k) ((T)(HI(T) + (T)((pe)*16 + (k)) + (T)0.5))

/* ------------------------------------------------------------------------------------------------
 * extended AMOs */
#define EXT_TEST(T, N)                                                                          \
  static T ext_g_##N;                                                                           \
  static void ext_##N(void) {                                                                   \
    const int right = (me + 1) % npes, left = (me + npes - 1) % npes;                           \
    T* slots = (T*)shmem_calloc((size_t)npes, sizeof(T));                                       \
    T* gath = (T*)shmem_calloc((size_t)npes, sizeof(T));                                        \
    T* swp = (T*)shmem_calloc(1, sizeof(T));                                                    \
    CHECK(slots != NULL && gath != NULL && swp != NULL, "shmem_calloc for " #N);                \
    T f, e;                                                                                     \
    /* set (heap and global) */                                                                 \
    shmem_##N##_atomic_set(&slots[me], XV(T, me, 1), right);                                    \
    shmem_##N##_atomic_set(&ext_g_##N, XV(T, me, 9), right);                                    \
    shmem_barrier_all();                                                                        \
    e = XV(T, left, 1);                                                                         \
    CHECK_EQ(slots[left], e, #N " atomic_set on heap from PE %d", left);                        \
    e = XV(T, left, 9);                                                                         \
    CHECK_EQ(ext_g_##N, e, #N " atomic_set on global from PE %d", left);                        \
    shmem_barrier_all();                                                                        \
    /* fetch, every form */                                                                     \
    e = XV(T, me, 1);                                                                           \
    f = shmem_##N##_atomic_fetch(&slots[me], right);                                            \
    CHECK_EQ(f, e, #N " atomic_fetch");                                                         \
    f = shmem_ctx_##N##_atomic_fetch(SHMEM_CTX_DEFAULT, &slots[me], right);                     \
    CHECK_EQ(f, e, #N " ctx_atomic_fetch(default)");                                            \
    f = shmem_ctx_##N##_atomic_fetch(ctx_new, &slots[me], right);                               \
    CHECK_EQ(f, e, #N " ctx_atomic_fetch(created)");                                            \
    f = shmem_##N##_atomic_fetch(&ext_g_##N, right);                                            \
    e = XV(T, me, 9);                                                                           \
    CHECK_EQ(f, e, #N " atomic_fetch from global");                                             \
    /* swap, every form: each returns the previous value */                                     \
    f = shmem_##N##_atomic_swap(&slots[me], XV(T, me, 2), right);                               \
    e = XV(T, me, 1);                                                                           \
    CHECK_EQ(f, e, #N " atomic_swap");                                                          \
    f = shmem_ctx_##N##_atomic_swap(SHMEM_CTX_DEFAULT, &slots[me], XV(T, me, 3), right);        \
    e = XV(T, me, 2);                                                                           \
    CHECK_EQ(f, e, #N " ctx_atomic_swap(default)");                                             \
    f = shmem_ctx_##N##_atomic_swap(ctx_new, &slots[me], XV(T, me, 4), right);                  \
    e = XV(T, me, 3);                                                                           \
    CHECK_EQ(f, e, #N " ctx_atomic_swap(created)");                                             \
    /* fetch_nbi */                                                                             \
    f = (T)0;                                                                                   \
    shmem_##N##_atomic_fetch_nbi(&f, &slots[me], right);                                        \
    shmem_quiet();                                                                              \
    e = XV(T, me, 4);                                                                           \
    CHECK_EQ(f, e, #N " atomic_fetch_nbi + quiet");                                             \
    f = (T)0;                                                                                   \
    shmem_ctx_##N##_atomic_fetch_nbi(ctx_new, &f, &slots[me], right);                           \
    shmem_ctx_quiet(ctx_new);                                                                   \
    CHECK_EQ(f, e, #N " ctx_atomic_fetch_nbi(created) + ctx_quiet");                            \
    f = (T)0;                                                                                   \
    shmem_ctx_##N##_atomic_fetch_nbi(SHMEM_CTX_DEFAULT, &f, &slots[me], right);                 \
    shmem_ctx_quiet(SHMEM_CTX_DEFAULT);                                                         \
    CHECK_EQ(f, e, #N " ctx_atomic_fetch_nbi(default) + ctx_quiet");                            \
    /* swap_nbi */                                                                              \
    f = (T)0;                                                                                   \
    shmem_##N##_atomic_swap_nbi(&f, &slots[me], XV(T, me, 5), right);                           \
    shmem_quiet();                                                                              \
    e = XV(T, me, 4);                                                                           \
    CHECK_EQ(f, e, #N " atomic_swap_nbi + quiet");                                              \
    f = (T)0;                                                                                   \
    shmem_ctx_##N##_atomic_swap_nbi(ctx_new, &f, &slots[me], XV(T, me, 6), right);              \
    shmem_ctx_quiet(ctx_new);                                                                   \
    e = XV(T, me, 5);                                                                           \
    CHECK_EQ(f, e, #N " ctx_atomic_swap_nbi(created)");                                         \
    f = (T)0;                                                                                   \
    shmem_ctx_##N##_atomic_swap_nbi(SHMEM_CTX_DEFAULT, &f, &slots[me], XV(T, me, 7), right);    \
    shmem_quiet();                                                                              \
    e = XV(T, me, 6);                                                                           \
    CHECK_EQ(f, e, #N " ctx_atomic_swap_nbi(default)");                                         \
    /* ctx set */                                                                               \
    shmem_ctx_##N##_atomic_set(ctx_new, &slots[me], XV(T, me, 8), right);                       \
    shmem_ctx_##N##_atomic_set(SHMEM_CTX_DEFAULT, &ext_g_##N, XV(T, me, 10), right);            \
    shmem_ctx_quiet(ctx_new);                                                                   \
    shmem_barrier_all();                                                                        \
    e = XV(T, left, 8);                                                                         \
    CHECK_EQ(slots[left], e, #N " ctx_atomic_set(created)");                                    \
    e = XV(T, left, 10);                                                                        \
    CHECK_EQ(ext_g_##N, e, #N " ctx_atomic_set(default) on global");                            \
    /* swap contention on PE 0: the fetched values and the final value are a permutation of the \
     * initial value and the n written values */                                                \
    *swp = XV(T, 999, 0);                                                                       \
    shmem_barrier_all();                                                                        \
    f = shmem_##N##_atomic_swap(swp, XV(T, me, 11), 0);                                         \
    shmem_##N##_p(&gath[me], f, 0);                                                             \
    shmem_barrier_all();                                                                        \
    if (me == 0) {                                                                              \
      for (int c = -1; c < npes; c++) {                                                         \
        T cand = c < 0 ? XV(T, 999, 0) : XV(T, c, 11);                                          \
        int count = (*swp == cand);                                                             \
        for (int p = 0; p < npes; p++) count += (gath[p] == cand);                              \
        CHECK_EQ(count, 1, #N " swap contention: occurrences of the value %s PE %d",            \
                 c < 0 ? "initial, not from" : "from", c);                                      \
      }                                                                                         \
    }                                                                                           \
    shmem_barrier_all();                                                                        \
    shmem_free(swp);                                                                            \
    shmem_free(gath);                                                                           \
    shmem_free(slots);                                                                          \
  }
SHMEMFM_EXTAMO_TYPES(EXT_TEST)

/* ------------------------------------------------------------------------------------------------
 * standard AMOs */
static int cmp_u64(const void* a, const void* b) {
  unsigned long long x = *(const unsigned long long*)a, y = *(const unsigned long long*)b;
  return x < y ? -1 : x > y;
}

#define STD_TEST(T, N)                                                                             \
  static T std_g_##N;                                                                              \
  static void std_##N(void) {                                                                      \
    const int nk = npes * K;                                                                       \
    T* ctr = (T*)shmem_calloc(8, sizeof(T));                                                       \
    T* gath = (T*)shmem_calloc((size_t)nk, sizeof(T));                                             \
    T res[K];                                                                                      \
    CHECK(ctr != NULL && gath != NULL, "shmem_calloc for " #N);                                    \
    std_g_##N = (T)0;                                                                              \
    shmem_barrier_all();                                                                           \
    /* (a) fetch_inc hammer on PE 0 in every form */                                               \
    for (int k = 0; k < K; k++) {                                                                  \
      switch (k % 5) {                                                                             \
        case 0:                                                                                    \
          res[k] = shmem_##N##_atomic_fetch_inc(&ctr[0], 0);                                       \
          break;                                                                                   \
        case 1:                                                                                    \
          res[k] = shmem_ctx_##N##_atomic_fetch_inc(SHMEM_CTX_DEFAULT, &ctr[0], 0);                \
          break;                                                                                   \
        case 2:                                                                                    \
          res[k] = shmem_ctx_##N##_atomic_fetch_inc(ctx_new, &ctr[0], 0);                          \
          break;                                                                                   \
        case 3:                                                                                    \
          shmem_##N##_atomic_fetch_inc_nbi(&res[k], &ctr[0], 0);                                   \
          break;                                                                                   \
        default:                                                                                   \
          shmem_ctx_##N##_atomic_fetch_inc_nbi(ctx_new, &res[k], &ctr[0], 0);                      \
          break;                                                                                   \
      }                                                                                            \
    }                                                                                              \
    shmem_quiet();                                                                                 \
    shmem_ctx_quiet(ctx_new);                                                                      \
    shmem_##N##_put(&gath[me * K], res, K, 0);                                                     \
    shmem_barrier_all();                                                                           \
    if (me == 0) {                                                                                 \
      T e = (T)nk;                                                                                 \
      CHECK_EQ(ctr[0], e, #N " fetch_inc counter on PE 0 after %d x %d", npes, K);                 \
      char* seen = (char*)calloc((size_t)nk, 1);                                                   \
      CHECK(seen != NULL, "calloc");                                                               \
      for (int i = 0; i < nk; i++) {                                                               \
        unsigned long long v = (unsigned long long)gath[i];                                        \
        CHECK(v < (unsigned long long)nk,                                                          \
              #N " fetch_inc result %llu of PE %d op %d in range 0..%d", v, i / K, i % K, nk - 1); \
        CHECK(!seen[v], #N " fetch_inc result %llu fetched twice (PE %d op %d)", v, i / K, i % K); \
        seen[v] = 1;                                                                               \
      }                                                                                            \
      free(seen);                                                                                  \
    }                                                                                              \
    /* (b) inc + fetch_add(2) hammer on the last PE, every form */                                 \
    for (int k = 0; k < K; k++) {                                                                  \
      switch (k % 3) {                                                                             \
        case 0:                                                                                    \
          shmem_##N##_atomic_inc(&ctr[1], last);                                                   \
          res[k] = shmem_##N##_atomic_fetch_add(&ctr[1], (T)2, last);                              \
          break;                                                                                   \
        case 1:                                                                                    \
          shmem_ctx_##N##_atomic_inc(SHMEM_CTX_DEFAULT, &ctr[1], last);                            \
          res[k] = shmem_ctx_##N##_atomic_fetch_add(ctx_new, &ctr[1], (T)2, last);                 \
          break;                                                                                   \
        default:                                                                                   \
          shmem_ctx_##N##_atomic_inc(ctx_new, &ctr[1], last);                                      \
          if (k % 2)                                                                               \
            shmem_##N##_atomic_fetch_add_nbi(&res[k], &ctr[1], (T)2, last);                        \
          else                                                                                     \
            shmem_ctx_##N##_atomic_fetch_add_nbi(ctx_new, &res[k], &ctr[1], (T)2, last);           \
          break;                                                                                   \
      }                                                                                            \
    }                                                                                              \
    shmem_quiet();                                                                                 \
    shmem_ctx_quiet(ctx_new);                                                                      \
    shmem_##N##_put(&gath[me * K], res, K, last);                                                  \
    shmem_barrier_all();                                                                           \
    if (me == last) {                                                                              \
      T e = (T)(3 * nk);                                                                           \
      CHECK_EQ(ctr[1], e, #N " inc+fetch_add(2) counter on the last PE after %d x %d", npes, K);   \
      unsigned long long* v = (unsigned long long*)malloc((size_t)nk * sizeof *v);                 \
      CHECK(v != NULL, "malloc");                                                                  \
      for (int i = 0; i < nk; i++) {                                                               \
        v[i] = (unsigned long long)gath[i];                                                        \
        CHECK(v[i] <= (unsigned long long)(3 * nk - 2),                                            \
              #N " fetch_add result %llu of PE %d op %d in range", v[i], i / K, i % K);            \
      }                                                                                            \
      qsort(v, (size_t)nk, sizeof *v, cmp_u64);                                                    \
      for (int i = 1; i < nk; i++)                                                                 \
        CHECK(v[i] != v[i - 1], #N " fetch_add result %llu fetched twice", v[i]);                  \
      free(v);                                                                                     \
    }                                                                                              \
    /* (c) add / ctx_add on a global of PE 0 */                                                    \
    shmem_##N##_atomic_add(&std_g_##N, (T)(me + 1), 0);                                            \
    shmem_ctx_##N##_atomic_add(ctx_new, &std_g_##N, (T)(me + 1), 0);                               \
    shmem_ctx_##N##_atomic_add(SHMEM_CTX_DEFAULT, &std_g_##N, (T)(2 * me + 2), 0);                 \
    shmem_ctx_quiet(ctx_new);                                                                      \
    shmem_barrier_all();                                                                           \
    if (me == 0) {                                                                                 \
      T e = (T)(2 * npes * (npes + 1));                                                            \
      CHECK_EQ(std_g_##N, e, #N " atomic_add + ctx_atomic_add on a global of PE 0");               \
    }                                                                                              \
    /* (d) compare_swap contention on PE 0: exactly one PE wins */                                 \
    {                                                                                              \
      T old = shmem_##N##_atomic_compare_swap(&ctr[2], (T)0, (T)(me + 1), 0);                      \
      if (old == (T)0) shmem_##N##_atomic_inc(&ctr[3], 0);                                         \
      shmem_##N##_p(&gath[me], old, 0);                                                            \
      shmem_barrier_all();                                                                         \
      if (me == 0) {                                                                               \
        T one = (T)1;                                                                              \
        CHECK_EQ(ctr[3], one, #N " compare_swap contention: number of winners");                   \
        CHECK(ctr[2] >= (T)1 && ctr[2] <= (T)npes, #N " compare_swap winner value");               \
        for (int p = 0; p < npes; p++)                                                             \
          CHECK(gath[p] == (T)0 || gath[p] == ctr[2],                                              \
                #N " compare_swap loser PE %d must fetch the winner's value", p);                  \
      }                                                                                            \
    }                                                                                              \
    /* (e) compare_swap_nbi / ctx contention on the last PE */                                     \
    {                                                                                              \
      T old = (T)77;                                                                               \
      if (me % 2)                                                                                  \
        shmem_##N##_atomic_compare_swap_nbi(&old, &ctr[4], (T)0, (T)(me + 1), last);               \
      else                                                                                         \
        shmem_ctx_##N##_atomic_compare_swap_nbi(ctx_new, &old, &ctr[4], (T)0, (T)(me + 1), last);  \
      shmem_quiet();                                                                               \
      shmem_ctx_quiet(ctx_new);                                                                    \
      if (old == (T)0) shmem_ctx_##N##_atomic_inc(ctx_new, &ctr[5], last);                         \
      shmem_ctx_quiet(ctx_new);                                                                    \
      shmem_##N##_p(&gath[me], old, last);                                                         \
      shmem_barrier_all();                                                                         \
      if (me == last) {                                                                            \
        T one = (T)1;                                                                              \
        CHECK_EQ(ctr[5], one, #N " compare_swap_nbi contention: number of winners");               \
        for (int p = 0; p < npes; p++)                                                             \
          CHECK(gath[p] == (T)0 || gath[p] == ctr[4],                                              \
                #N " compare_swap_nbi loser PE %d must fetch the winner's value", p);              \
      }                                                                                            \
    }                                                                                              \
    /* (f) failing compare_swap leaves the target unchanged; ctx compare_swap succeeds */          \
    {                                                                                              \
      const int right = (me + 1) % npes;                                                           \
      T big = HI(T) + (T)5;                                                                        \
      shmem_##N##_atomic_set(&ctr[6], big, right);                                                 \
      shmem_quiet();                                                                               \
      T old = shmem_##N##_atomic_compare_swap(&ctr[6], (T)4, (T)9, right);                         \
      CHECK_EQ(old, big, #N " failing compare_swap returns the current value");                    \
      old = shmem_ctx_##N##_atomic_compare_swap(SHMEM_CTX_DEFAULT, &ctr[6], big, (T)(HI(T) + 6),   \
                                                right);                                            \
      CHECK_EQ(old, big, #N " ctx compare_swap returns the old value");                            \
      old = shmem_ctx_##N##_atomic_compare_swap(ctx_new, &ctr[6], (T)5, (T)10, right);             \
      T e = (T)(HI(T) + 6);                                                                        \
      CHECK_EQ(old, e, #N " failing ctx compare_swap(created)");                                   \
      old = shmem_##N##_atomic_fetch(&ctr[6], right);                                              \
      CHECK_EQ(old, e, #N " value after the compare_swaps");                                       \
    }                                                                                              \
    shmem_barrier_all();                                                                           \
    shmem_free(gath);                                                                              \
    shmem_free(ctr);                                                                               \
  }
SHMEMFM_AMO_TYPES(STD_TEST)

/* ------------------------------------------------------------------------------------------------
 * bitwise AMOs */
/* Bit of PE p (bits 0..15, or 40..55 for 64-bit types), a second bit (16..23 / 56..63) and an
 * xor pattern. */
#define BSH(T) (sizeof(T) >= 8 ? 40 : 0)
#define BIT1(T, p) ((T)((T)1 << ((p) % 16 + BSH(T))))
#define BIT2(T, p) ((T)((T)1 << ((p) % 8 + 16 + BSH(T))))
#define XPAT(T, p) ((T)(0x9E3779B97F4A7C15ull * (unsigned long long)((p) + 1)))

#define BIT_TEST(T, N)                                                                             \
  static void bit_##N(void) {                                                                      \
    T* w = (T*)shmem_malloc(12 * sizeof(T));                                                       \
    CHECK(w != NULL, "shmem_malloc for " #N);                                                      \
    T or1 = (T)0, or2 = (T)0, x = (T)0, f, e;                                                      \
    for (int p = 0; p < npes; p++) {                                                               \
      or1 = (T)(or1 | BIT1(T, p));                                                                 \
      or2 = (T)(or2 | BIT1(T, p) | BIT2(T, p));                                                    \
      x = (T)(x ^ XPAT(T, p));                                                                     \
    }                                                                                              \
    const int unique = npes <= 8; /* own bits not shared with another PE */                        \
    for (int rnd = 0; rnd < 2; rnd++) {                                                            \
      const int tgt = rnd == 0 ? 0 : last;                                                         \
      T* v = &w[rnd * 6];                                                                          \
      v[0] = (T)0;                                                                                 \
      v[1] = (T) ~(T)0;                                                                            \
      v[2] = (T)0;                                                                                 \
      v[3] = (T)0;                                                                                 \
      v[4] = (T) ~(T)0;                                                                            \
      v[5] = (T)0;                                                                                 \
      shmem_barrier_all();                                                                         \
      const T b1 = BIT1(T, me), b12 = (T)(BIT1(T, me) | BIT2(T, me));                              \
      if (rnd == 0) {                                                                              \
        /* blocking forms, plain and ctx */                                                        \
        switch (me % 3) {                                                                          \
          case 0:                                                                                  \
            shmem_##N##_atomic_or(&v[0], b1, tgt);                                                 \
            shmem_##N##_atomic_and(&v[1], (T)~b1, tgt);                                            \
            shmem_##N##_atomic_xor(&v[2], XPAT(T, me), tgt);                                       \
            break;                                                                                 \
          case 1:                                                                                  \
            shmem_ctx_##N##_atomic_or(SHMEM_CTX_DEFAULT, &v[0], b1, tgt);                          \
            shmem_ctx_##N##_atomic_and(SHMEM_CTX_DEFAULT, &v[1], (T)~b1, tgt);                     \
            shmem_ctx_##N##_atomic_xor(SHMEM_CTX_DEFAULT, &v[2], XPAT(T, me), tgt);                \
            break;                                                                                 \
          default:                                                                                 \
            shmem_ctx_##N##_atomic_or(ctx_new, &v[0], b1, tgt);                                    \
            shmem_ctx_##N##_atomic_and(ctx_new, &v[1], (T)~b1, tgt);                               \
            shmem_ctx_##N##_atomic_xor(ctx_new, &v[2], XPAT(T, me), tgt);                          \
            break;                                                                                 \
        }                                                                                          \
        f = me % 2 ? shmem_##N##_atomic_fetch_or(&v[3], b12, tgt)                                  \
                   : shmem_ctx_##N##_atomic_fetch_or(ctx_new, &v[3], b12, tgt);                    \
        if (unique) CHECK((f & b12) == (T)0, #N " fetch_or: own bits already set before own op");  \
        f = me % 2 ? shmem_##N##_atomic_fetch_and(&v[4], (T)~b12, tgt)                             \
                   : shmem_ctx_##N##_atomic_fetch_and(ctx_new, &v[4], (T)~b12, tgt);               \
        if (unique) CHECK((f & b12) == b12, #N " fetch_and: own bits cleared before own op");      \
        f = me % 2 ? shmem_##N##_atomic_fetch_xor(&v[5], XPAT(T, me), tgt)                         \
                   : shmem_ctx_##N##_atomic_fetch_xor(SHMEM_CTX_DEFAULT, &v[5], XPAT(T, me), tgt); \
        (void)f;                                                                                   \
      } else {                                                                                     \
        /* nonblocking fetching forms */                                                           \
        T f3 = (T)0, f4 = (T)0, f5 = (T)0;                                                         \
        shmem_##N##_atomic_or(&v[0], b1, tgt);                                                     \
        shmem_ctx_##N##_atomic_and(ctx_new, &v[1], (T)~b1, tgt);                                   \
        shmem_ctx_##N##_atomic_xor(ctx_new, &v[2], XPAT(T, me), tgt);                              \
        if (me % 2) {                                                                              \
          shmem_##N##_atomic_fetch_or_nbi(&f3, &v[3], b12, tgt);                                   \
          shmem_##N##_atomic_fetch_and_nbi(&f4, &v[4], (T)~b12, tgt);                              \
          shmem_##N##_atomic_fetch_xor_nbi(&f5, &v[5], XPAT(T, me), tgt);                          \
        } else {                                                                                   \
          shmem_ctx_##N##_atomic_fetch_or_nbi(ctx_new, &f3, &v[3], b12, tgt);                      \
          shmem_ctx_##N##_atomic_fetch_and_nbi(ctx_new, &f4, &v[4], (T)~b12, tgt);                 \
          shmem_ctx_##N##_atomic_fetch_xor_nbi(ctx_new, &f5, &v[5], XPAT(T, me), tgt);             \
        }                                                                                          \
        shmem_quiet();                                                                             \
        shmem_ctx_quiet(ctx_new);                                                                  \
        if (unique) {                                                                              \
          CHECK((f3 & b12) == (T)0, #N " fetch_or_nbi: own bits already set before own op");       \
          CHECK((f4 & b12) == b12, #N " fetch_and_nbi: own bits cleared before own op");           \
        }                                                                                          \
      }                                                                                            \
      shmem_ctx_quiet(ctx_new);                                                                    \
      shmem_barrier_all();                                                                         \
      if (me == tgt) {                                                                             \
        e = or1;                                                                                   \
        CHECK_EQ(v[0], e, #N " atomic_or from all PEs (round %d)", rnd);                           \
        e = (T)~or1;                                                                               \
        CHECK_EQ(v[1], e, #N " atomic_and from all PEs (round %d)", rnd);                          \
        e = x;                                                                                     \
        CHECK_EQ(v[2], e, #N " atomic_xor from all PEs (round %d)", rnd);                          \
        e = or2;                                                                                   \
        CHECK_EQ(v[3], e, #N " atomic_fetch_or from all PEs (round %d)", rnd);                     \
        e = (T)~or2;                                                                               \
        CHECK_EQ(v[4], e, #N " atomic_fetch_and from all PEs (round %d)", rnd);                    \
        e = x;                                                                                     \
        CHECK_EQ(v[5], e, #N " atomic_fetch_xor from all PEs (round %d)", rnd);                    \
      }                                                                                            \
      shmem_barrier_all();                                                                         \
    }                                                                                              \
    shmem_free(w);                                                                                 \
  }
SHMEMFM_BITAMO_TYPES(BIT_TEST)

#define CALL(T, N) ext_##N();
#define CALL_STD(T, N) std_##N();
#define CALL_BIT(T, N) bit_##N();

int main(void) {
  shmem_init();
  shtest_require_pes(2);
  me = shmem_my_pe();
  npes = shmem_n_pes();
  last = npes - 1;
  int rc = shmem_ctx_create(0, &ctx_new);
  CHECK_EQ(rc, 0, "shmem_ctx_create");

  SHMEMFM_EXTAMO_TYPES(CALL)
  SHMEMFM_AMO_TYPES(CALL_STD)
  SHMEMFM_BITAMO_TYPES(CALL_BIT)

  shmem_ctx_destroy(ctx_new);
  shtest_pass("test_amo");
  shmem_finalize();
  return 0;
}
