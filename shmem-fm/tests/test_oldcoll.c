/* test_oldcoll.c - the deprecated active-set collectives (PE_start, logPE_stride, PE_size,
 * pSync) of OpenSHMEM 1.5, over the full set (0, 0, n) and over the even PEs (0, 1, (n+1)/2),
 * where only the members call.
 *
 * pSync arrays are static, set to SHMEM_SYNC_VALUE and published with a barrier before first
 * use.  shmem_barrier and shmem_sync reuse one pSync each back to back; the data collectives reuse
 * one pSync each, separated by a shmem_barrier (on another pSync) that makes dest ready and the
 * pSync free; the reductions alternate between two pSync / pWrk / buffer sets with no barrier at
 * all (allowed for successive calls on the same active set).
 *  - shmem_barrier (completes prior puts), shmem_sync (4 arguments, after quiet);
 *  - broadcast32/64 from the first and the last member: the root's dest is NOT updated;
 *  - collect32/64 (member i gives i % 3 elements), fcollect32/64, alltoall32/64,
 *    alltoalls32/64 (dst 2, sst 3);
 *  - the *_to_all reductions: and/or/xor (SHMEMFM_OLDBIT_TYPES), max/min (SHMEMFM_OLDORD_TYPES),
 *    sum/prod (SHMEMFM_OLDARITH_TYPES, incl. complex), nreduce 1, 7 and 300, in place and out of
 *    place, with pWrk of max(nreduce/2 + 1, SHMEM_REDUCE_MIN_WRKDATA_SIZE) elements. */
#include "shtest.h"

static int me, npes;

static long ps_bar[SHMEM_BARRIER_SYNC_SIZE];
static long ps_sync[SHMEM_BARRIER_SYNC_SIZE];
static long ps_bcast[SHMEM_BCAST_SYNC_SIZE];
static long ps_coll[SHMEM_COLLECT_SYNC_SIZE];
static long ps_a2a[SHMEM_ALLTOALL_SYNC_SIZE];
static long ps_a2as[SHMEM_ALLTOALLS_SYNC_SIZE];
static long ps_red[2][SHMEM_REDUCE_SYNC_SIZE];

/* the active set being tested */
static int S0, LS, SZ, midx; /* start, log stride, size, my index in the set */
static const char* sname;
#define SPE(i) (S0 + ((i) << LS)) /* world PE of member i */
#define BAR() shmem_barrier(S0, LS, SZ, ps_bar)

static void set_psync(void) {
  for (int i = 0; i < SHMEM_BARRIER_SYNC_SIZE; i++) ps_bar[i] = ps_sync[i] = SHMEM_SYNC_VALUE;
  for (int i = 0; i < SHMEM_BCAST_SYNC_SIZE; i++) ps_bcast[i] = SHMEM_SYNC_VALUE;
  for (int i = 0; i < SHMEM_COLLECT_SYNC_SIZE; i++) ps_coll[i] = SHMEM_SYNC_VALUE;
  for (int i = 0; i < SHMEM_ALLTOALL_SYNC_SIZE; i++) ps_a2a[i] = SHMEM_SYNC_VALUE;
  for (int i = 0; i < SHMEM_ALLTOALLS_SYNC_SIZE; i++) ps_a2as[i] = SHMEM_SYNC_VALUE;
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < SHMEM_REDUCE_SYNC_SIZE; i++) ps_red[k][i] = SHMEM_SYNC_VALUE;
}

/* ------------------------------------------------------------------------------------------------
 * barrier / sync */
static int bflag[2];
static void barrier_sync_tests(void) {
  const int next = SPE((midx + 1) % SZ), prev = SPE((midx + SZ - 1) % SZ);
  for (int round = 0; round < 20; round++) {
    shmem_int_p(&bflag[0], round * 1000 + me, next);
    BAR(); /* completes the put */
    CHECK_EQ(bflag[0], round * 1000 + prev, "%s: put then shmem_barrier, round %d", sname, round);
    shmem_int_p(&bflag[1], round * 1000 + me + 7, next);
    shmem_quiet();
    shmem_sync(S0, LS, SZ, ps_sync); /* the 4-argument (active set) shmem_sync */
    CHECK_EQ(bflag[1], round * 1000 + prev + 7, "%s: put, quiet, shmem_sync, round %d", sname,
             round);
    BAR(); /* the same pSync, back to back */
    BAR();
  }
  for (int i = 0; i < 30; i++) shmem_sync(S0, LS, SZ, ps_sync);
  BAR();
}

/* ------------------------------------------------------------------------------------------------
 * broadcast, collect, fcollect, alltoall, alltoalls for 32 and 64 bits */
#define DATA_FN(BITS, UT)                                                                         \
  static void data##BITS(void* sbuf, void* dbuf) {                                                \
    UT* src = (UT*)sbuf;                                                                          \
    UT* dst = (UT*)dbuf;                                                                          \
    const int tag0 = BITS * 100;                                                                  \
    /* broadcast: root's dest keeps its old contents */                                           \
    for (int r = 0; r < 3; r++) {                                                                 \
      const int root = r == 1 ? SZ - 1 : 0;                                                       \
      const size_t nel = r == 2 ? 1 : 45;                                                         \
      const int tag = tag0 + r;                                                                   \
      for (size_t i = 0; i < 48; i++) {                                                           \
        src[i] = VAL(UT, me, i, tag) + ((UT)1 << (BITS - 2));                                     \
        dst[i] = SENT(UT);                                                                        \
      }                                                                                           \
      BAR();                                                                                      \
      shmem_broadcast##BITS(dst, src, nel, root, S0, LS, SZ, ps_bcast);                           \
      for (size_t i = 0; i < 48; i++) {                                                           \
        UT e = (midx != root && i < nel)                                                          \
                   ? (UT)(VAL(UT, SPE(root), i, tag) + ((UT)1 << (BITS - 2)))                     \
                   : SENT(UT);                                                                    \
        CHECK_EQ(dst[i], e, "%s: broadcast" #BITS " root %d nelems %zu: element %zu%s", sname,    \
                 root, nel, i, midx == root ? " (root's dest must not change)" : "");             \
      }                                                                                           \
    }                                                                                             \
    /* collect: member i gives i % 3 elements */                                                  \
    {                                                                                             \
      const int tag = tag0 + 10;                                                                  \
      size_t total = 0;                                                                           \
      for (int i = 0; i < SZ; i++) total += (size_t)(i % 3);                                      \
      for (size_t i = 0; i < 3; i++) src[i] = VAL(UT, me, i, tag);                                \
      for (size_t i = 0; i < total + 2; i++) dst[i] = SENT(UT);                                   \
      BAR();                                                                                      \
      shmem_collect##BITS(dst, src, (size_t)(midx % 3), S0, LS, SZ, ps_coll);                     \
      size_t pos = 0;                                                                             \
      for (int i = 0; i < SZ; i++)                                                                \
        for (size_t k = 0; k < (size_t)(i % 3); k++, pos++) {                                     \
          UT e = VAL(UT, SPE(i), k, tag);                                                         \
          CHECK_EQ(dst[pos], e, "%s: collect" #BITS " element %zu of member %d", sname, k, i);    \
        }                                                                                         \
      for (; pos < total + 2; pos++) {                                                            \
        UT e = SENT(UT);                                                                          \
        CHECK_EQ(dst[pos], e, "%s: collect" #BITS " element %zu past the end", sname, pos);       \
      }                                                                                           \
    }                                                                                             \
    /* fcollect: 4 each */                                                                        \
    {                                                                                             \
      const int tag = tag0 + 11;                                                                  \
      const size_t total = (size_t)SZ * 4;                                                        \
      for (size_t i = 0; i < 4; i++) src[i] = VAL(UT, me, i, tag);                                \
      for (size_t i = 0; i < total + 2; i++) dst[i] = SENT(UT);                                   \
      BAR();                                                                                      \
      shmem_fcollect##BITS(dst, src, 4, S0, LS, SZ, ps_coll);                                     \
      for (size_t i = 0; i < total + 2; i++) {                                                    \
        UT e = i < total ? VAL(UT, SPE((int)(i / 4)), i % 4, tag) : SENT(UT);                     \
        CHECK_EQ(dst[i], e, "%s: fcollect" #BITS " element %zu", sname, i);                       \
      }                                                                                           \
    }                                                                                             \
    /* alltoall: 2 per pair */                                                                    \
    {                                                                                             \
      const int tag = tag0 + 12;                                                                  \
      const size_t total = (size_t)SZ * 2;                                                        \
      for (size_t i = 0; i < total; i++) src[i] = VAL(UT, me, i, tag);                            \
      for (size_t i = 0; i < total + 2; i++) dst[i] = SENT(UT);                                   \
      BAR();                                                                                      \
      shmem_alltoall##BITS(dst, src, 2, S0, LS, SZ, ps_a2a);                                      \
      for (size_t i = 0; i < total + 2; i++) {                                                    \
        UT e = i < total ? VAL(UT, SPE((int)(i / 2)), (size_t)midx * 2 + i % 2, tag) : SENT(UT);  \
        CHECK_EQ(dst[i], e, "%s: alltoall" #BITS " element %zu", sname, i);                       \
      }                                                                                           \
    }                                                                                             \
    /* alltoalls: nelems 2, dst 2, sst 3 */                                                       \
    {                                                                                             \
      const int tag = tag0 + 13;                                                                  \
      const size_t nel = 2, ds = 2, ss = 3;                                                       \
      const size_t sspan = (size_t)SZ * nel * ss, dspan = (size_t)SZ * nel * ds;                  \
      for (size_t i = 0; i < sspan; i++) src[i] = SENT(UT);                                       \
      for (size_t j = 0; j < (size_t)SZ; j++)                                                     \
        for (size_t k = 0; k < nel; k++) src[(j * nel + k) * ss] = VAL(UT, me, j * nel + k, tag); \
      for (size_t i = 0; i < dspan + 2; i++) dst[i] = SENT(UT);                                   \
      BAR();                                                                                      \
      shmem_alltoalls##BITS(dst, src, (ptrdiff_t)ds, (ptrdiff_t)ss, nel, S0, LS, SZ, ps_a2as);    \
      for (size_t i = 0; i < dspan + 2; i++) {                                                    \
        UT e = SENT(UT);                                                                          \
        if (i % ds == 0 && i / ds < (size_t)SZ * nel)                                             \
          e = VAL(UT, SPE((int)((i / ds) / nel)), (size_t)midx * nel + (i / ds) % nel, tag);      \
        CHECK_EQ(dst[i], e, "%s: alltoalls" #BITS " dest element %zu", sname, i);                 \
      }                                                                                           \
    }                                                                                             \
    BAR();                                                                                        \
  }
DATA_FN(32, uint32_t)
DATA_FN(64, uint64_t)

/* ------------------------------------------------------------------------------------------------
 * *_to_all reductions */
#define MAXRED 300
static const int nreds[3] = {1, 7, MAXRED};
static void* rbuf[2][2]; /* [set][source, dest] */
static void* wrk[2];     /* pWrk of each set */
static unsigned rot;

static unsigned long long bitv(int pe, size_t j) {
  unsigned long long h = (unsigned long long)(pe + 3) * 0x9E3779B97F4A7C15ull;
  h ^= (unsigned long long)(j + 1) * 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 29);
}
#define BITV(T, pe, j) ((T)bitv((pe), (j)))
#define ORDV(T, pe, j) ((T)((int)(((unsigned)(pe)*41u + (unsigned)(j)*13u) % 90u) - 45))
static double _Complex sumv(int pe, size_t j) {
  return (double)(((size_t)pe + j) % 4) + (double)(((size_t)pe + 3 * j) % 2) * _Complex_I;
}
static double _Complex prodv(int pe, size_t j) {
  switch (((size_t)pe + 2 * j) % 3) {
    case 0:
      return 2.0;
    case 1:
      return 1.0;
    default:
      return 1.0 - 1.0 * _Complex_I; /* 1 for real types */
  }
}
#define SUMV(T, pe, j) ((T)sumv((pe), (j)))
#define PRODV(T, pe, j) ((T)prodv((pe), (j)))
#define C_AND(T, a, b) ((T)((a) & (b)))
#define C_OR(T, a, b) ((T)((a) | (b)))
#define C_XOR(T, a, b) ((T)((a) ^ (b)))
#define C_MAX(T, a, b) ((a) > (b) ? (a) : (b))
#define C_MIN(T, a, b) ((a) < (b) ? (a) : (b))
#define C_SUM(T, a, b) ((T)((a) + (b)))
#define C_PROD(T, a, b) ((T)((a) * (b)))

#define RED_FN(T, N, OP, VALF, COMBINE)                                                           \
  static void red_##N##_##OP(void) {                                                              \
    for (int ci = 0; ci < 6; ci++) {                                                              \
      const int nr = nreds[ci / 2];                                                               \
      const int inplace = ci % 2;                                                                 \
      const unsigned set = rot++ % 2;                                                             \
      T* src = (T*)rbuf[set][0];                                                                  \
      T* dst = (T*)rbuf[set][1];                                                                  \
      for (int j = 0; j <= nr; j++) {                                                             \
        src[j] = j < nr ? VALF(T, me, (size_t)j) : SENT(T);                                       \
        dst[j] = SENT(T);                                                                         \
      }                                                                                           \
      if (inplace)                                                                                \
        shmem_##N##_##OP##_to_all(src, src, nr, S0, LS, SZ, (T*)wrk[set], ps_red[set]);           \
      else                                                                                        \
        shmem_##N##_##OP##_to_all(dst, src, nr, S0, LS, SZ, (T*)wrk[set], ps_red[set]);           \
      T* res = inplace ? src : dst;                                                               \
      for (int j = 0; j < nr; j++) {                                                              \
        T ref = VALF(T, SPE(0), (size_t)j);                                                       \
        for (int i = 1; i < SZ; i++) {                                                            \
          T v = VALF(T, SPE(i), (size_t)j);                                                       \
          ref = COMBINE(T, ref, v);                                                               \
        }                                                                                         \
        CHECK_EQ(res[j], ref, "%s: shmem_" #N "_" #OP "_to_all nreduce %d %s: element %d", sname, \
                 nr, inplace ? "in place" : "out of place", j);                                   \
        if (!inplace) {                                                                           \
          T s = VALF(T, me, (size_t)j);                                                           \
          CHECK_EQ(src[j], s, "%s: shmem_" #N "_" #OP "_to_all nreduce %d: source %d changed",    \
                   sname, nr, j);                                                                 \
        }                                                                                         \
      }                                                                                           \
      T s = SENT(T);                                                                              \
      CHECK_EQ(res[nr], s, "%s: shmem_" #N "_" #OP "_to_all nreduce %d: element past the end",    \
               sname, nr);                                                                        \
    }                                                                                             \
  }
#define BIT_FNS(T, N) \
  RED_FN(T, N, and, BITV, C_AND) RED_FN(T, N, or, BITV, C_OR) RED_FN(T, N, xor, BITV, C_XOR)
#define ORD_FNS(T, N) RED_FN(T, N, max, ORDV, C_MAX) RED_FN(T, N, min, ORDV, C_MIN)
#define ARITH_FNS(T, N) RED_FN(T, N, sum, SUMV, C_SUM) RED_FN(T, N, prod, PRODV, C_PROD)
SHMEMFM_OLDBIT_TYPES(BIT_FNS)
SHMEMFM_OLDORD_TYPES(ORD_FNS)
SHMEMFM_OLDARITH_TYPES(ARITH_FNS)

#define CALL_BIT(T, N) \
  red_##N##_and();     \
  red_##N##_or();      \
  red_##N##_xor();
#define CALL_ORD(T, N) \
  red_##N##_max();     \
  red_##N##_min();
#define CALL_ARITH(T, N) \
  red_##N##_sum();       \
  red_##N##_prod();

static void run_set(int start, int logstride, int size, const char* name, void* sbuf, void* dbuf) {
  S0 = start;
  LS = logstride;
  SZ = size;
  sname = name;
  if (me < start || (me - start) % (1 << logstride) != 0 || (me - start) >> logstride >= size)
    return; /* not a member: does not call */
  midx = (me - start) >> logstride;
  barrier_sync_tests();
  data32(sbuf, dbuf);
  data64(sbuf, dbuf);
  SHMEMFM_OLDBIT_TYPES(CALL_BIT)
  SHMEMFM_OLDORD_TYPES(CALL_ORD)
  SHMEMFM_OLDARITH_TYPES(CALL_ARITH)
  BAR();
}

int main(void) {
  shmem_init();
  shtest_require_pes(2);
  me = shmem_my_pe();
  npes = shmem_n_pes();

  set_psync();
  const size_t bytes = (MAXRED + 64 * (size_t)npes) * 16;
  const size_t wbytes =
      ((MAXRED / 2 + 1) > SHMEM_REDUCE_MIN_WRKDATA_SIZE ? (MAXRED / 2 + 1)
                                                        : SHMEM_REDUCE_MIN_WRKDATA_SIZE) *
      16;
  void* sbuf = shmem_malloc(bytes);
  void* dbuf = shmem_malloc(bytes);
  int ok = sbuf != NULL && dbuf != NULL;
  for (int s = 0; s < 2; s++) {
    rbuf[s][0] = shmem_malloc(bytes);
    rbuf[s][1] = shmem_malloc(bytes);
    wrk[s] = shmem_malloc(wbytes);
    ok = ok && rbuf[s][0] != NULL && rbuf[s][1] != NULL && wrk[s] != NULL;
  }
  CHECK(ok, "shmem_malloc of the buffers");
  shmem_barrier_all(); /* every PE has initialised its pSync arrays */

  run_set(0, 0, npes, "full set (0,0,n)", sbuf, dbuf);
  shmem_barrier_all();
  run_set(0, 1, (npes + 1) / 2, "even PEs (0,1,(n+1)/2)", sbuf, dbuf);
  shmem_barrier_all();
  if (npes >= 4) { /* the odd PEs as well: start 1 */
    run_set(1, 1, npes / 2, "odd PEs (1,1,n/2)", sbuf, dbuf);
    shmem_barrier_all();
  }

  for (int s = 1; s >= 0; s--) {
    shmem_free(wrk[s]);
    shmem_free(rbuf[s][1]);
    shmem_free(rbuf[s][0]);
  }
  shmem_free(dbuf);
  shmem_free(sbuf);
  shtest_pass("test_oldcoll");
  shmem_finalize();
  return 0;
}
