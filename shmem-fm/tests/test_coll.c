/* test_coll.c - team-based collectives of OpenSHMEM 1.5 on SHMEM_TEAM_WORLD and on the team of
 * the even PEs (shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 2, (n+1)/2, ...)).
 *
 *  - broadcast of every type of SHMEMFM_RMA_TYPES with roots 0, last, middle (team-relative) and
 *    37 or 1 elements: dest is updated on all PEs INCLUDING the root (OpenSHMEM 1.5 team
 *    semantics), the element past the end is untouched;
 *  - collect with a different count per PE (PE i gives i % 3 elements, so some give none),
 *    fcollect (5 each), alltoall (3 per pair), alltoalls (dst stride 2, sst stride 3), for every
 *    type, and the *mem forms;
 *  - and/or/xor reductions over SHMEMFM_BITRED_TYPES, max/min over SHMEMFM_ORDRED_TYPES, sum/prod
 *    over SHMEMFM_ARITHRED_TYPES (incl. float/double _Complex), each with nreduce 1, 7 and 1000,
 *    in place (dest == source) and out of place (source must stay unchanged), against a locally
 *    computed reference (values keep float sums exact; products use factors 1, 2 and 1+i);
 *  - barrier_all (completes puts), sync_all and shmem_team_sync (after quiet), return codes.
 * Team-relative PE numbers are translated with shmem_team_translate_pe. */
#include "shtest.h"

static int me, npes;

static void tsync(shmem_team_t team) {
  int rc = shmem_team_sync(team);
  CHECK_EQ(rc, 0, "shmem_team_sync return value");
}

/* ------------------------------------------------------------------------------------------------
 * broadcast, collect, fcollect, alltoall, alltoalls over every RMA type */
#define BN 37
#define COLL_FN(T, N)                                                                            \
  static void coll_##N(shmem_team_t team, const char* tname, const int* wpe, int tme, int tn,    \
                       int tid, void* sbuf, void* dbuf) {                                        \
    T* src = (T*)sbuf;                                                                           \
    T* dst = (T*)dbuf;                                                                           \
    int rc;                                                                                      \
    /* broadcast */                                                                              \
    const int roots[4] = {0, tn - 1, tn / 2, 0};                                                 \
    const size_t bn[4] = {BN, BN, BN, 1};                                                        \
    for (int r = 0; r < 4; r++) {                                                                \
      const int tag = tid * 16 + r;                                                              \
      for (size_t i = 0; i < BN + 3; i++) {                                                      \
        src[i] = VAL(T, me, i, tag);                                                             \
        dst[i] = SENT(T);                                                                        \
      }                                                                                          \
      tsync(team);                                                                               \
      rc = shmem_##N##_broadcast(team, dst, src, bn[r], roots[r]);                               \
      CHECK_EQ(rc, 0, #N "_broadcast on %s: return value", tname);                               \
      for (size_t i = 0; i < BN + 3; i++) {                                                      \
        T e = i < bn[r] ? VAL(T, wpe[roots[r]], i, tag) : SENT(T);                               \
        CHECK_EQ(dst[i], e, #N "_broadcast on %s, root %d, nelems %zu: element %zu", tname,      \
                 roots[r], bn[r], i);                                                            \
      }                                                                                          \
    }                                                                                            \
    /* collect: PE i contributes i % 3 elements */                                               \
    {                                                                                            \
      const int tag = tid * 16 + 4;                                                              \
      const size_t cnt = (size_t)(tme % 3);                                                      \
      size_t total = 0;                                                                          \
      for (int i = 0; i < tn; i++) total += (size_t)(i % 3);                                     \
      for (size_t i = 0; i < 3; i++) src[i] = VAL(T, me, i, tag);                                \
      for (size_t i = 0; i < total + 2; i++) dst[i] = SENT(T);                                   \
      tsync(team);                                                                               \
      rc = shmem_##N##_collect(team, dst, src, cnt);                                             \
      CHECK_EQ(rc, 0, #N "_collect on %s: return value", tname);                                 \
      size_t pos = 0;                                                                            \
      for (int i = 0; i < tn; i++)                                                               \
        for (size_t k = 0; k < (size_t)(i % 3); k++, pos++) {                                    \
          T e = VAL(T, wpe[i], k, tag);                                                          \
          CHECK_EQ(dst[pos], e, #N "_collect on %s: element %zu of team PE %d", tname, k, i);    \
        }                                                                                        \
      for (; pos < total + 2; pos++) {                                                           \
        T e = SENT(T);                                                                           \
        CHECK_EQ(dst[pos], e, #N "_collect on %s: element %zu past the end", tname, pos);        \
      }                                                                                          \
    }                                                                                            \
    /* fcollect: 5 each */                                                                       \
    {                                                                                            \
      const int tag = tid * 16 + 5;                                                              \
      const size_t total = (size_t)tn * 5;                                                       \
      for (size_t i = 0; i < 5; i++) src[i] = VAL(T, me, i, tag);                                \
      for (size_t i = 0; i < total + 2; i++) dst[i] = SENT(T);                                   \
      tsync(team);                                                                               \
      rc = shmem_##N##_fcollect(team, dst, src, 5);                                              \
      CHECK_EQ(rc, 0, #N "_fcollect on %s: return value", tname);                                \
      for (size_t i = 0; i < total + 2; i++) {                                                   \
        T e = i < total ? VAL(T, wpe[i / 5], i % 5, tag) : SENT(T);                              \
        CHECK_EQ(dst[i], e, #N "_fcollect on %s: element %zu", tname, i);                        \
      }                                                                                          \
    }                                                                                            \
    /* alltoall: 3 elements per pair; value encodes (source PE, destination team PE, k) */       \
    {                                                                                            \
      const int tag = tid * 16 + 6;                                                              \
      const size_t total = (size_t)tn * 3;                                                       \
      for (size_t i = 0; i < total; i++) src[i] = VAL(T, me, i, tag);                            \
      for (size_t i = 0; i < total + 2; i++) dst[i] = SENT(T);                                   \
      tsync(team);                                                                               \
      rc = shmem_##N##_alltoall(team, dst, src, 3);                                              \
      CHECK_EQ(rc, 0, #N "_alltoall on %s: return value", tname);                                \
      for (size_t i = 0; i < total + 2; i++) {                                                   \
        T e = i < total ? VAL(T, wpe[i / 3], (size_t)tme * 3 + i % 3, tag) : SENT(T);            \
        CHECK_EQ(dst[i], e, #N "_alltoall on %s: element %zu", tname, i);                        \
      }                                                                                          \
    }                                                                                            \
    /* alltoalls: nelems 2, dst stride 2, sst stride 3 */                                        \
    {                                                                                            \
      const int tag = tid * 16 + 7;                                                              \
      const size_t nel = 2, ds = 2, ss = 3;                                                      \
      const size_t sspan = (size_t)tn * nel * ss, dspan = (size_t)tn * nel * ds;                 \
      for (size_t i = 0; i < sspan; i++) src[i] = SENT(T);                                       \
      for (size_t j = 0; j < (size_t)tn; j++)                                                    \
        for (size_t k = 0; k < nel; k++) src[(j * nel + k) * ss] = VAL(T, me, j * nel + k, tag); \
      for (size_t i = 0; i < dspan + 2; i++) dst[i] = SENT(T);                                   \
      tsync(team);                                                                               \
      rc = shmem_##N##_alltoalls(team, dst, src, (ptrdiff_t)ds, (ptrdiff_t)ss, nel);             \
      CHECK_EQ(rc, 0, #N "_alltoalls on %s: return value", tname);                               \
      for (size_t i = 0; i < dspan + 2; i++) {                                                   \
        T e = SENT(T);                                                                           \
        if (i % ds == 0 && i / ds < (size_t)tn * nel) {                                          \
          size_t blk = (i / ds) / nel, k = (i / ds) % nel;                                       \
          e = VAL(T, wpe[blk], (size_t)tme * nel + k, tag);                                      \
        }                                                                                        \
        CHECK_EQ(dst[i], e, #N "_alltoalls on %s: dest element %zu", tname, i);                  \
      }                                                                                          \
    }                                                                                            \
  }
SHMEMFM_RMA_TYPES(COLL_FN)

/* the *mem forms (bytes) */
static void coll_mem(shmem_team_t team, const char* tname, const int* wpe, int tme, int tn,
                     void* sbuf, void* dbuf) {
  unsigned char* src = (unsigned char*)sbuf;
  unsigned char* dst = (unsigned char*)dbuf;
  int rc;
  const int tag = 5000;
  for (int r = 0; r < 2; r++) {
    const int root = r == 0 ? tn - 1 : 0;
    const size_t nb = r == 0 ? 1001 : 3;
    for (size_t i = 0; i < nb + 8; i++) {
      src[i] = VAL(unsigned char, me, i, tag + r);
      dst[i] = SENT(unsigned char);
    }
    tsync(team);
    rc = shmem_broadcastmem(team, dst, src, nb, root);
    CHECK_EQ(rc, 0, "broadcastmem on %s: return value", tname);
    for (size_t i = 0; i < nb + 8; i++) {
      unsigned char e = i < nb ? VAL(unsigned char, wpe[root], i, tag + r) : SENT(unsigned char);
      CHECK_EQ(dst[i], e, "broadcastmem on %s, root %d: byte %zu", tname, root, i);
    }
  }
  /* collectmem: PE i gives 7 * (i % 3) bytes */
  {
    size_t total = 0;
    for (int i = 0; i < tn; i++) total += 7 * (size_t)(i % 3);
    for (size_t i = 0; i < 14; i++) src[i] = VAL(unsigned char, me, i, tag + 2);
    for (size_t i = 0; i < total + 8; i++) dst[i] = SENT(unsigned char);
    tsync(team);
    rc = shmem_collectmem(team, dst, src, 7 * (size_t)(tme % 3));
    CHECK_EQ(rc, 0, "collectmem on %s: return value", tname);
    size_t pos = 0;
    for (int i = 0; i < tn; i++)
      for (size_t k = 0; k < 7 * (size_t)(i % 3); k++, pos++) {
        unsigned char e = VAL(unsigned char, wpe[i], k, tag + 2);
        CHECK_EQ(dst[pos], e, "collectmem on %s: byte %zu of team PE %d", tname, k, i);
      }
    for (; pos < total + 8; pos++) {
      unsigned char e = SENT(unsigned char);
      CHECK_EQ(dst[pos], e, "collectmem on %s: byte %zu past the end", tname, pos);
    }
  }
  /* fcollectmem: 13 bytes each */
  {
    const size_t total = (size_t)tn * 13;
    for (size_t i = 0; i < 13; i++) src[i] = VAL(unsigned char, me, i, tag + 3);
    for (size_t i = 0; i < total + 8; i++) dst[i] = SENT(unsigned char);
    tsync(team);
    rc = shmem_fcollectmem(team, dst, src, 13);
    CHECK_EQ(rc, 0, "fcollectmem on %s: return value", tname);
    for (size_t i = 0; i < total + 8; i++) {
      unsigned char e =
          i < total ? VAL(unsigned char, wpe[i / 13], i % 13, tag + 3) : SENT(unsigned char);
      CHECK_EQ(dst[i], e, "fcollectmem on %s: byte %zu", tname, i);
    }
  }
  /* alltoallmem: 11 bytes per pair */
  {
    const size_t total = (size_t)tn * 11;
    for (size_t i = 0; i < total; i++) src[i] = VAL(unsigned char, me, i, tag + 4);
    for (size_t i = 0; i < total + 8; i++) dst[i] = SENT(unsigned char);
    tsync(team);
    rc = shmem_alltoallmem(team, dst, src, 11);
    CHECK_EQ(rc, 0, "alltoallmem on %s: return value", tname);
    for (size_t i = 0; i < total + 8; i++) {
      unsigned char e = i < total
                            ? VAL(unsigned char, wpe[i / 11], (size_t)tme * 11 + i % 11, tag + 4)
                            : SENT(unsigned char);
      CHECK_EQ(dst[i], e, "alltoallmem on %s: byte %zu", tname, i);
    }
  }
  /* alltoallsmem: 3 bytes per pair, dst stride 3, sst stride 2 */
  {
    const size_t nel = 3, ds = 3, ss = 2;
    const size_t sspan = (size_t)tn * nel * ss, dspan = (size_t)tn * nel * ds;
    for (size_t i = 0; i < sspan; i++) src[i] = SENT(unsigned char);
    for (size_t j = 0; j < (size_t)tn; j++)
      for (size_t k = 0; k < nel; k++)
        src[(j * nel + k) * ss] = VAL(unsigned char, me, j* nel + k, tag + 5);
    for (size_t i = 0; i < dspan + 8; i++) dst[i] = SENT(unsigned char);
    tsync(team);
    rc = shmem_alltoallsmem(team, dst, src, (ptrdiff_t)ds, (ptrdiff_t)ss, nel);
    CHECK_EQ(rc, 0, "alltoallsmem on %s: return value", tname);
    for (size_t i = 0; i < dspan + 8; i++) {
      unsigned char e = SENT(unsigned char);
      if (i % ds == 0 && i / ds < (size_t)tn * nel)
        e = VAL(unsigned char, wpe[(i / ds) / nel], (size_t)tme* nel + (i / ds) % nel, tag + 5);
      CHECK_EQ(dst[i], e, "alltoallsmem on %s: dest byte %zu", tname, i);
    }
  }
}

/* ------------------------------------------------------------------------------------------------
 * reductions */
static const size_t nreds[3] = {1, 7, 1000};
static void* rbuf[4]; /* two (source, dest) pairs used in turn */
static unsigned rot;

/* Values of PE pe at index j. */
static unsigned long long bitv(int pe, size_t j) {
  unsigned long long h = (unsigned long long)(pe + 1) * 0x9E3779B97F4A7C15ull;
  h ^= (unsigned long long)(j + 1) * 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 31);
}
#define BITV(T, pe, j) ((T)bitv((pe), (j)))
#define ORDV(T, pe, j) ((T)((int)(((unsigned)(pe)*37u + (unsigned)(j)*11u) % 100u) - 50))
static double _Complex sumv(int pe, size_t j) {
  return (double)(((size_t)pe + j) % 3) + (double)(((size_t)pe + 2 * j) % 2) * _Complex_I;
}
static double _Complex prodv(int pe, size_t j) {
  switch (((size_t)pe + j) % 3) {
    case 0:
      return 2.0;
    case 1:
      return 1.0;
    default:
      return 1.0 + 1.0 * _Complex_I; /* 1 for real types */
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

#define RED_FN(T, N, OP, VALF, COMBINE)                                                            \
  static void red_##N##_##OP(shmem_team_t team, const char* tname, const int* wpe, int tn) {       \
    for (int ci = 0; ci < 6; ci++) {                                                               \
      const size_t nr = nreds[ci / 2];                                                             \
      const int inplace = ci % 2;                                                                  \
      T* src = (T*)rbuf[(rot % 2) * 2];                                                            \
      T* dst = (T*)rbuf[(rot % 2) * 2 + 1];                                                        \
      rot++;                                                                                       \
      for (size_t j = 0; j < nr; j++) {                                                            \
        src[j] = VALF(T, me, j);                                                                   \
        dst[j] = SENT(T);                                                                          \
      }                                                                                            \
      src[nr] = SENT(T);                                                                           \
      dst[nr] = SENT(T);                                                                           \
      int rc = inplace ? shmem_##N##_##OP##_reduce(team, src, src, nr)                             \
                       : shmem_##N##_##OP##_reduce(team, dst, src, nr);                            \
      CHECK_EQ(rc, 0, #N "_" #OP "_reduce on %s: return value", tname);                            \
      T* res = inplace ? src : dst;                                                                \
      for (size_t j = 0; j < nr; j++) {                                                            \
        T ref = VALF(T, wpe[0], j);                                                                \
        for (int i = 1; i < tn; i++) {                                                             \
          T v = VALF(T, wpe[i], j);                                                                \
          ref = COMBINE(T, ref, v);                                                                \
        }                                                                                          \
        CHECK_EQ(res[j], ref, #N "_" #OP "_reduce on %s, nreduce %zu, %s: element %zu", tname, nr, \
                 inplace ? "in place" : "out of place", j);                                        \
        if (!inplace) {                                                                            \
          T s = VALF(T, me, j);                                                                    \
          CHECK_EQ(src[j], s, #N "_" #OP "_reduce on %s, nreduce %zu: source element %zu changed", \
                   tname, nr, j);                                                                  \
        }                                                                                          \
      }                                                                                            \
      T s = SENT(T);                                                                               \
      CHECK_EQ(res[nr], s, #N "_" #OP "_reduce on %s, nreduce %zu, %s: element past the end",      \
               tname, nr, inplace ? "in place" : "out of place");                                  \
    }                                                                                              \
  }
#define BIT_FNS(T, N) \
  RED_FN(T, N, and, BITV, C_AND) RED_FN(T, N, or, BITV, C_OR) RED_FN(T, N, xor, BITV, C_XOR)
#define ORD_FNS(T, N) RED_FN(T, N, max, ORDV, C_MAX) RED_FN(T, N, min, ORDV, C_MIN)
#define ARITH_FNS(T, N) RED_FN(T, N, sum, SUMV, C_SUM) RED_FN(T, N, prod, PRODV, C_PROD)
SHMEMFM_BITRED_TYPES(BIT_FNS)
SHMEMFM_ORDRED_TYPES(ORD_FNS)
SHMEMFM_ARITHRED_TYPES(ARITH_FNS)

#define CALL_COLL(T, N) coll_##N(team, tname, wpe, tme, tn, ++tid, sbuf, dbuf);
#define CALL_BIT(T, N)                 \
  red_##N##_and(team, tname, wpe, tn); \
  red_##N##_or(team, tname, wpe, tn);  \
  red_##N##_xor(team, tname, wpe, tn);
#define CALL_ORD(T, N)                 \
  red_##N##_max(team, tname, wpe, tn); \
  red_##N##_min(team, tname, wpe, tn);
#define CALL_ARITH(T, N)               \
  red_##N##_sum(team, tname, wpe, tn); \
  red_##N##_prod(team, tname, wpe, tn);

/* Every collective on one team (called by its members only). */
static void run_team(shmem_team_t team, const char* tname, void* sbuf, void* dbuf) {
  const int tme = shmem_team_my_pe(team), tn = shmem_team_n_pes(team);
  CHECK(tme >= 0 && tme < tn, "team_my_pe %d / team_n_pes %d of %s", tme, tn, tname);
  int* wpe = (int*)malloc((size_t)tn * sizeof(int));
  CHECK(wpe != NULL, "malloc");
  for (int i = 0; i < tn; i++) {
    wpe[i] = shmem_team_translate_pe(team, i, SHMEM_TEAM_WORLD);
    CHECK(wpe[i] >= 0 && wpe[i] < npes, "translate_pe(%s, %d, WORLD) = %d", tname, i, wpe[i]);
  }
  CHECK_EQ(wpe[tme], me, "translate_pe of my own team PE number on %s", tname);
  int tid = 0;
  SHMEMFM_RMA_TYPES(CALL_COLL)
  coll_mem(team, tname, wpe, tme, tn, sbuf, dbuf);
  tsync(team);
  SHMEMFM_BITRED_TYPES(CALL_BIT)
  SHMEMFM_ORDRED_TYPES(CALL_ORD)
  SHMEMFM_ARITHRED_TYPES(CALL_ARITH)
  tsync(team);
  free(wpe);
}

/* ------------------------------------------------------------------------------------------------
 * barrier_all / sync_all / team_sync */
static int flags[3];
static void sync_tests(shmem_team_t even) {
  const int right = (me + 1) % npes, left = (me + npes - 1) % npes;
  for (int round = 0; round < 20; round++) {
    /* barrier_all completes the puts issued before it */
    shmem_int_p(&flags[0], round * 100 + me, right);
    shmem_barrier_all();
    CHECK_EQ(flags[0], round * 100 + left, "put then shmem_barrier_all, round %d", round);
    /* sync_all after quiet */
    shmem_int_p(&flags[1], round * 100 + me + 1, right);
    shmem_quiet();
    shmem_sync_all();
    CHECK_EQ(flags[1], round * 100 + left + 1, "put, quiet, shmem_sync_all, round %d", round);
    shmem_barrier_all(); /* nobody overwrites flags before everybody checked */
  }
  if (even != SHMEM_TEAM_INVALID) {
    const int tme = shmem_team_my_pe(even), tn = shmem_team_n_pes(even);
    const int tr = shmem_team_translate_pe(even, (tme + 1) % tn, SHMEM_TEAM_WORLD);
    const int tl = shmem_team_translate_pe(even, (tme + tn - 1) % tn, SHMEM_TEAM_WORLD);
    for (int round = 0; round < 20; round++) {
      shmem_int_p(&flags[2], round * 100 + me, tr);
      shmem_quiet();
      tsync(even);
      CHECK_EQ(flags[2], round * 100 + tl, "put, quiet, shmem_team_sync(even), round %d", round);
      tsync(even);
    }
  }
  for (int i = 0; i < 50; i++) shmem_barrier_all(); /* back to back */
  for (int i = 0; i < 50; i++) shmem_sync_all();
  for (int i = 0; i < 50; i++) tsync(SHMEM_TEAM_WORLD);
  shmem_barrier_all();
}

int main(void) {
  shmem_init();
  shtest_require_pes(2);
  me = shmem_my_pe();
  npes = shmem_n_pes();

  shmem_team_t even = SHMEM_TEAM_INVALID;
  const int esize = (npes + 1) / 2;
  int rc = shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 2, esize, NULL, 0, &even);
  CHECK_EQ(rc, 0, "shmem_team_split_strided(WORLD, 0, 2, %d) return value", esize);
  CHECK((me % 2 == 0) == (even != SHMEM_TEAM_INVALID), "even team handle valid only on even PEs");

  const size_t bytes = (1000 + 64 * (size_t)npes) * 16;
  void* sbuf = shmem_malloc(bytes);
  void* dbuf = shmem_malloc(bytes);
  for (int i = 0; i < 4; i++) rbuf[i] = shmem_malloc(bytes);
  CHECK(sbuf != NULL && dbuf != NULL && rbuf[0] != NULL && rbuf[1] != NULL && rbuf[2] != NULL &&
            rbuf[3] != NULL,
        "shmem_malloc of the buffers");

  sync_tests(even);

  run_team(SHMEM_TEAM_WORLD, "SHMEM_TEAM_WORLD", sbuf, dbuf);
  shmem_barrier_all();
  if (even != SHMEM_TEAM_INVALID) run_team(even, "even team", sbuf, dbuf);
  shmem_barrier_all();

  if (even != SHMEM_TEAM_INVALID) shmem_team_destroy(even);
  for (int i = 3; i >= 0; i--) shmem_free(rbuf[i]);
  shmem_free(dbuf);
  shmem_free(sbuf);
  shtest_pass("test_coll");
  shmem_finalize();
  return 0;
}
