/* armci_test.c - GA-FM's ARMCI, tested through its public API with real ranks.
 *   mpiexec -n N armci_test [TEST...]      (no TEST: all of them)
 * Tests: malloc contig strided vector acc rmw mutex nb fence flag passive groups msg values.
 * Each rank prints "armci_test: rank R: PASS (N checks)" when every check held, else the
 * failed checks and exits 1. */
#include <armci.h>
#include <message.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void** alloc_all(long bytes) {
  void** p = calloc((size_t)np, sizeof(void*));
  CHECK(ARMCI_Malloc(p, bytes) == 0, "ARMCI_Malloc(%ld)", bytes);
  return p;
}

static void free_all(void** p) {
  ARMCI_Free(p[me]);
  free(p);
}

/* --- malloc: sizes differ per rank, 0 gives NULL; memory is usable and aligned ------------- */
static void test_malloc(void) {
  void** p = calloc((size_t)np, sizeof(void*));
  long mine = me % 2 == 1 ? 0 : 1000 + 8 * me;
  CHECK(ARMCI_Malloc(p, mine) == 0, "malloc");
  for (int r = 0; r < np; ++r) {
    if (r % 2 == 1)
      CHECK(p[r] == NULL, "rank %d asked for 0 bytes, got %p", r, p[r]);
    else
      CHECK(p[r] != NULL && (uintptr_t)p[r] % 64 == 0, "rank %d: %p", r, p[r]);
  }
  if (p[me] != NULL) memset(p[me], 0x5a, (size_t)mine);
  ARMCI_Barrier();
  ARMCI_Free(p[me]); /* NULL on ranks that allocated nothing */
  /* many small allocations, freed in another order than made */
  void** q[8];
  for (int i = 0; i < 8; ++i) q[i] = alloc_all(64 * (i + 1));
  for (int i = 0; i < 8; i += 2) free_all(q[i]);
  for (int i = 1; i < 8; i += 2) {
    int v = 1000 * me + i, t = (me + 1) % np;
    ARMCI_Put(&v, (char*)q[i][t] + 8, sizeof v, t);
  }
  ARMCI_Barrier();
  for (int i = 1; i < 8; i += 2) {
    int from = (me + np - 1) % np;
    CHECK(((int*)q[i][me])[2] == 1000 * from + i, "allocation %d: %d", i, ((int*)q[i][me])[2]);
    free_all(q[i]);
  }
  free(p);
  /* a put and a vector put straight after the collective allocation, with no
   * barrier of the caller's: every member must know the new memory when ARMCI_Malloc returns
   * (through FM, GA_FM_DIRECT=0 or across hosts, the target's handler checks it) */
  for (int i = 0; i < 40; ++i) {
    void** r = alloc_all(256);
    int t = (me + 1) % np, from = (me + np - 1) % np;
    long v = 100000L * i + me, w = v + 1;
    void* src[1] = {&w};
    void* dst[1] = {(char*)r[t] + 64};
    armci_giov_t g = {
        .src_ptr_array = src, .dst_ptr_array = dst, .bytes = (int)sizeof w, .ptr_array_len = 1};
    ARMCI_Put(&v, r[t], sizeof v, t);
    ARMCI_PutV(&g, 1, t);
    ARMCI_AllFence();
    ARMCI_Barrier();
    const long* got = (const long*)r[me];
    const long want = 100000L * i + from;
    CHECK(got[0] == want && got[8] == want + 1,
          "round %d: put %ld, vector put %ld from rank %d (want %ld, %ld)", i, got[0], got[8], from,
          want, want + 1);
    ARMCI_Barrier();
    free_all(r);
  }
  void* l = ARMCI_Malloc_local(100);
  CHECK(l != NULL, "ARMCI_Malloc_local");
  ARMCI_Free_local(l);
}

/* --- contig: put, get, acc of one block to every rank ------------------------------------------
 */
static void test_contig(void) {
  const int n = 1000;
  void** p = alloc_all((long)n * np * (long)sizeof(int));
  int* mine = p[me];
  for (int i = 0; i < n * np; ++i) mine[i] = -1;
  ARMCI_Barrier();
  int* buf = malloc(sizeof(int) * (size_t)n);
  for (int t = 0; t < np; ++t) {
    for (int i = 0; i < n; ++i) buf[i] = me * 100000 + t * 1000 + i;
    CHECK(ARMCI_Put(buf, (int*)p[t] + me * n, n * (int)sizeof(int), t) == 0, "put to %d", t);
  }
  ARMCI_Barrier();
  for (int r = 0; r < np; ++r)
    for (int i = 0; i < n; ++i)
      if (mine[r * n + i] != r * 100000 + me * 1000 + i) {
        CHECK(0, "from %d element %d: %d", r, i, mine[r * n + i]);
        break;
      }
  for (int t = 0; t < np; ++t) {
    memset(buf, 0, sizeof(int) * (size_t)n);
    CHECK(ARMCI_Get((int*)p[t] + me * n, buf, n * (int)sizeof(int), t) == 0, "get");
    int ok = 1;
    for (int i = 0; i < n; ++i) ok = ok && buf[i] == me * 100000 + t * 1000 + i;
    CHECK(ok, "get back from %d", t);
  }
  /* acc: every rank adds 2*(i+me) into rank t's first block */
  ARMCI_Barrier();
  if (me == 0)
    for (int i = 0; i < n; ++i) mine[i] = 0;
  ARMCI_Barrier();
  int two = 2;
  for (int i = 0; i < n; ++i) buf[i] = i + me;
  CHECK(ARMCI_Acc(ARMCI_ACC_INT, &two, buf, p[0], n * (int)sizeof(int), 0) == 0, "acc");
  ARMCI_Barrier();
  if (me == 0)
    for (int i = 0; i < n; ++i)
      if (mine[i] != 2 * (np * i + np * (np - 1) / 2)) {
        CHECK(0, "acc element %d: %d", i, mine[i]);
        break;
      }
  free(buf);
  ARMCI_Barrier();
  free_all(p);
}

/* --- strided: 0 to 3 levels, odd shapes, different strides on each side ------------------------
 */
/* The target array: D0 x D1 x D2 x D3 bytes (D0 fastest). */
enum { D0 = 37, D1 = 9, D2 = 5, D3 = 3 };
static unsigned char pattern(int rank, int a, int b, int c, int d) {
  return (unsigned char)(rank * 31 + a * 7 + b * 13 + c * 17 + d * 19 + 1);
}

static void test_strided(void) {
  const long size = (long)D0 * D1 * D2 * D3;
  void** p = alloc_all(size);
  unsigned char* mine = p[me];
  int dst_stride[3] = {D0, D0 * D1, D0 * D1 * D2};
  /* shapes: count[0] bytes, then repetitions */
  int shapes[4][4] = {{D0 - 4, 1, 1, 1}, {13, D1 - 2, 1, 1}, {11, 7, D2 - 1, 1}, {5, 3, 4, D3}};
  int offs[4][4] = {{3, 0, 0, 0}, {1, 2, 0, 0}, {25, 1, 1, 0}, {31, 6, 0, 0}};
  for (int levels = 0; levels <= 3; ++levels) {
    memset(mine, 0, (size_t)size);
    ARMCI_Barrier();
    int* cnt = shapes[levels];
    int* o = offs[levels];
    /* the source: a local array with padded strides (each dimension 3 larger) */
    int s0 = cnt[0] + 3, s1 = cnt[1] + 3, s2 = cnt[2] + 3;
    int src_stride[3] = {s0, s0 * s1, s0 * s1 * s2};
    size_t src_size = (size_t)s0 * s1 * s2 * (cnt[3] + 1);
    unsigned char* src = calloc(src_size, 1);
    unsigned char* back = calloc(src_size, 1);
    int t = (me + 1) % np;
    for (int d = 0; d < cnt[3]; ++d)
      for (int c = 0; c < cnt[2]; ++c)
        for (int b = 0; b < cnt[1]; ++b)
          for (int a = 0; a < cnt[0]; ++a)
            src[a + (size_t)b * s0 + (size_t)c * s0 * s1 + (size_t)d * s0 * s1 * s2] =
                pattern(me, a, b, c, d);
    unsigned char* dst =
        (unsigned char*)p[t] + o[0] + o[1] * D0 + o[2] * D0 * D1 + o[3] * D0 * D1 * D2;
    CHECK(ARMCI_PutS(src, src_stride, dst, dst_stride, cnt, levels, t) == 0, "puts %d", levels);
    ARMCI_Barrier();
    /* what arrived from the previous rank: the block, and nothing around it */
    int from = (me + np - 1) % np, bad = 0;
    for (int d = 0; d < D3; ++d)
      for (int c = 0; c < D2; ++c)
        for (int b = 0; b < D1; ++b)
          for (int a = 0; a < D0; ++a) {
            int ia = a - o[0], ib = b - o[1], ic = c - o[2], id = d - o[3];
            int in = ia >= 0 && ia < cnt[0] && ib >= 0 && ib < cnt[1] && ic >= 0 && ic < cnt[2] &&
                     id >= 0 && id < cnt[3];
            unsigned char want = in ? pattern(from, ia, ib, ic, id) : 0;
            unsigned char got = mine[a + b * D0 + c * D0 * D1 + d * D0 * D1 * D2];
            if (got != want && bad++ == 0)
              CHECK(0, "levels %d: byte (%d,%d,%d,%d) is %d, not %d", levels, a, b, c, d, got,
                    want);
          }
    CHECK(bad == 0, "levels %d: %d wrong bytes", levels, bad);
    /* read it back with the source's strides */
    CHECK(ARMCI_GetS(dst, dst_stride, back, src_stride, cnt, levels, t) == 0, "gets");
    bad = 0;
    for (size_t i = 0; i < src_size; ++i) bad += back[i] != src[i];
    CHECK(bad == 0, "levels %d: get back: %d wrong bytes", levels, bad);
    free(src);
    free(back);
    ARMCI_Barrier();
  }
  /* zero-size transfers do nothing */
  int zero[2] = {0, 4}, st[1] = {D0};
  CHECK(ARMCI_PutS(mine, st, p[(me + 1) % np], st, zero, 1, (me + 1) % np) == 0, "empty puts");
  ARMCI_Barrier();
  free_all(p);
}

/* --- vector: put, get and acc of scattered segments; colliding accumulate targets ------------- */
static void test_vector(void) {
  const int n = 64;
  void** p = alloc_all(n * (long)sizeof(double));
  double* mine = p[me];
  for (int i = 0; i < n; ++i) mine[i] = 0;
  ARMCI_Barrier();
  int t = (me + 1) % np;
  double vals[64];
  void* src[64];
  void* dst[64];
  for (int i = 0; i < 16; ++i) {
    vals[i] = me * 1000 + i;
    src[i] = &vals[i];
    dst[i] = (double*)p[t] + (i * 5 + 3) % n; /* 16 distinct places */
  }
  armci_giov_t iov[2];
  iov[0].src_ptr_array = src;
  iov[0].dst_ptr_array = dst;
  iov[0].ptr_array_len = 10;
  iov[0].bytes = sizeof(double);
  iov[1].src_ptr_array = src + 10;
  iov[1].dst_ptr_array = dst + 10;
  iov[1].ptr_array_len = 6;
  iov[1].bytes = sizeof(double);
  CHECK(ARMCI_PutV(iov, 2, t) == 0, "putv");
  ARMCI_Barrier();
  int from = (me + np - 1) % np;
  for (int i = 0; i < 16; ++i)
    CHECK(mine[(i * 5 + 3) % n] == from * 1000 + i, "putv element %d: %g", i,
          mine[(i * 5 + 3) % n]);
  /* get them back into a scattered local buffer */
  double back[64] = {0};
  void* bsrc[16];
  void* bdst[16];
  for (int i = 0; i < 16; ++i) {
    bsrc[i] = dst[i];
    bdst[i] = &back[63 - i * 3];
  }
  armci_giov_t g = {bsrc, bdst, sizeof(double), 16};
  CHECK(ARMCI_GetV(&g, 1, t) == 0, "getv");
  for (int i = 0; i < 16; ++i)
    CHECK(back[63 - i * 3] == me * 1000 + i, "getv %d: %g", i, back[63 - i * 3]);
  ARMCI_Barrier();
  /* accumulate with colliding subscripts: every rank adds into element 7 of rank 0 five times and
   * into element 9 once per segment of a 2-double segment */
  for (int i = 0; i < n; ++i) mine[i] = 0;
  ARMCI_Barrier();
  double ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  void* asrc[5] = {ones, ones, ones, ones, ones};
  void* adst[5];
  for (int i = 0; i < 5; ++i) adst[i] = (double*)p[0] + 7;
  armci_giov_t a = {asrc, adst, sizeof(double), 5};
  double scale = 3;
  CHECK(ARMCI_AccV(ARMCI_ACC_DBL, &scale, &a, 1, 0) == 0, "accv");
  void* a2src[3] = {ones, ones, ones};
  void* a2dst[3] = {(double*)p[0] + 9, (double*)p[0] + 10, (double*)p[0] + 9};
  armci_giov_t a2 = {a2src, a2dst, 2 * sizeof(double), 3};
  double one = 1;
  CHECK(ARMCI_AccV(ARMCI_ACC_DBL, &one, &a2, 1, 0) == 0, "accv 2");
  ARMCI_Barrier();
  if (me == 0) {
    CHECK(mine[7] == 15.0 * np, "accv collisions: %g, wanted %g", mine[7], 15.0 * np);
    CHECK(mine[9] == 2.0 * np && mine[10] == 3.0 * np && mine[11] == 1.0 * np,
          "accv overlapping segments: %g %g %g", mine[9], mine[10], mine[11]);
  }
  ARMCI_Barrier();
  free_all(p);
}

/* --- acc: every type, every rank into one patch of every rank, exact totals --------------------
 */
static void test_acc(void) {
  const int n = 300, reps = 3;
  void** p = alloc_all(n * 16L * 6);
  char* mine = p[me];
  memset(mine, 0, (size_t)n * 16 * 6);
  ARMCI_Barrier();
  int types[6] = {ARMCI_ACC_INT, ARMCI_ACC_LNG, ARMCI_ACC_FLT,
                  ARMCI_ACC_DBL, ARMCI_ACC_CPL, ARMCI_ACC_DCP};
  for (int ti = 0; ti < 6; ++ti) {
    int type = types[ti];
    _Alignas(16) char src[300 * 16];
    _Alignas(16) char scale[16];
    size_t es;
    for (int i = 0; i < n; ++i) {
      switch (type) {
        case ARMCI_ACC_INT:
          ((int*)src)[i] = i + 1;
          break;
        case ARMCI_ACC_LNG:
          ((long*)src)[i] = (long)(i + 1) << 33;
          break;
        case ARMCI_ACC_FLT:
          ((float*)src)[i] = (float)(i + 1);
          break;
        case ARMCI_ACC_DBL:
          ((double*)src)[i] = i + 1;
          break;
        case ARMCI_ACC_CPL:
          ((float*)src)[2 * i] = (float)(i + 1);
          ((float*)src)[2 * i + 1] = 1;
          break;
        default:
          ((double*)src)[2 * i] = i + 1;
          ((double*)src)[2 * i + 1] = 1;
          break;
      }
    }
    switch (type) {
      case ARMCI_ACC_INT:
        *(int*)scale = 3;
        es = 4;
        break;
      case ARMCI_ACC_LNG:
        *(long*)scale = 3;
        es = 8;
        break;
      case ARMCI_ACC_FLT:
        *(float*)scale = 3;
        es = 4;
        break;
      case ARMCI_ACC_DBL:
        *(double*)scale = 3;
        es = 8;
        break;
      case ARMCI_ACC_CPL:
        ((float*)scale)[0] = 0;
        ((float*)scale)[1] = 2;
        es = 8;
        break; /* 2i */
      default:
        ((double*)scale)[0] = 0;
        ((double*)scale)[1] = 2;
        es = 16;
        break;
    }
    for (int r = 0; r < reps; ++r)
      for (int t0 = 0; t0 < np; ++t0) {
        int t = (me + t0) % np;
        char* dst = (char*)p[t] + (size_t)ti * n * 16;
        /* as a 2-level strided accumulate (10 rows of n/10 elements) and a contiguous one */
        if (r % 2 == 0) {
          int count[2] = {(int)es * (n / 10), 10}, stride[1] = {(int)es * (n / 10)};
          CHECK(ARMCI_AccS(type, scale, src, stride, dst, stride, count, 1, t) == 0, "accs");
        } else {
          CHECK(ARMCI_Acc(type, scale, src, dst, (int)es * n, t) == 0, "acc");
        }
      }
  }
  ARMCI_Barrier();
  const double k = (double)np * reps;
  int bad = 0;
  for (int i = 0; i < n; ++i) {
    char* b = mine;
    double v = i + 1;
    bad += ((int*)(b + 0 * n * 16))[i] != (int)(3 * v * k);
    bad += ((long*)(b + 1 * n * 16))[i] != ((long)(i + 1) << 33) * 3 * (long)k;
    bad += ((float*)(b + 2 * n * 16))[i] != (float)(3 * v * k);
    bad += ((double*)(b + 3 * n * 16))[i] != 3 * v * k;
    /* (v + i) * 2i = -2 + 2v i */
    bad += ((float*)(b + 4 * n * 16))[2 * i] != (float)(-2 * k) ||
           ((float*)(b + 4 * n * 16))[2 * i + 1] != (float)(2 * v * k);
    bad += ((double*)(b + 5 * n * 16))[2 * i] != -2 * k ||
           ((double*)(b + 5 * n * 16))[2 * i + 1] != 2 * v * k;
  }
  CHECK(bad == 0, "%d wrong accumulated elements", bad);
  ARMCI_Barrier();
  free_all(p);
}

/* --- rmw: fetch-and-add tickets are unique and dense; swaps chain ------------------------------
 */
static int cmp_long(const void* a, const void* b) {
  long x = *(const long*)a, y = *(const long*)b;
  return x < y ? -1 : x > y;
}
static void test_rmw(void) {
  const int k = 200;
  void** p = alloc_all(64);
  memset(p[me], 0, 64);
  ARMCI_Barrier();
  long* mine = malloc(sizeof(long) * 2 * k);
  for (int i = 0; i < k; ++i) {
    int t = 0;
    CHECK(ARMCI_Rmw(ARMCI_FETCH_AND_ADD, &t, p[np - 1], 1, np - 1) == 0, "fadd");
    long tl = 0;
    CHECK(ARMCI_Rmw(ARMCI_FETCH_AND_ADD_LONG, &tl, (char*)p[0] + 8, 2, 0) == 0, "fadd long");
    mine[i] = t;
    mine[k + i] = tl;
  }
  long* all = malloc(sizeof(long) * 2 * k * (size_t)np);
  MPI_Allgather(mine, 2 * k, MPI_LONG, all, 2 * k, MPI_LONG, MPI_COMM_WORLD);
  long* ints = malloc(sizeof(long) * k * (size_t)np);
  long* longs = malloc(sizeof(long) * k * (size_t)np);
  for (int r = 0; r < np; ++r)
    for (int i = 0; i < k; ++i) {
      ints[r * k + i] = all[r * 2 * k + i];
      longs[r * k + i] = all[r * 2 * k + k + i];
    }
  qsort(ints, (size_t)k * np, sizeof(long), cmp_long);
  qsort(longs, (size_t)k * np, sizeof(long), cmp_long);
  int bad = 0;
  for (long i = 0; i < (long)k * np; ++i) bad += ints[i] != i || longs[i] != 2 * i;
  CHECK(bad == 0, "%d tickets missing or duplicated", bad);
  /* a long add above 2^32 carries */
  ARMCI_Barrier();
  if (me == 0) *(long*)((char*)p[0] + 16) = 0xffffffffL;
  ARMCI_Barrier();
  if (me == np - 1) {
    long old = 0;
    ARMCI_Rmw(ARMCI_FETCH_AND_ADD_LONG, &old, (char*)p[0] + 16, 1, 0);
    CHECK(old == 0xffffffffL, "old %lx", old);
    ARMCI_Rmw(ARMCI_FETCH_AND_ADD_LONG, &old, (char*)p[0] + 16, -2, 0);
    CHECK(old == 0x100000000L, "carry: %lx", old);
  }
  ARMCI_Barrier();
  /* swap: each rank swaps its rank into rank 0's word; the values seen form a chain */
  if (me == 0) *(int*)((char*)p[0] + 24) = -1;
  ARMCI_Barrier();
  int v = me;
  ARMCI_Rmw(ARMCI_SWAP, &v, (char*)p[0] + 24, 0, 0);
  long lv = 1000 + me;
  ARMCI_Rmw(ARMCI_SWAP_LONG, &lv, (char*)p[0] + 32, 0, 0);
  int* seen = malloc(sizeof(int) * (size_t)np);
  MPI_Allgather(&v, 1, MPI_INT, seen, 1, MPI_INT, MPI_COMM_WORLD);
  ARMCI_Barrier();
  int last = me == 0 ? *(int*)((char*)p[0] + 24) : 0; /* p[0] is an address of rank 0 */
  MPI_Bcast(&last, 1, MPI_INT, 0, MPI_COMM_WORLD);
  /* every value but the last one was seen exactly once, -1 included */
  int count = 0;
  for (int r = 0; r < np; ++r) count += seen[r] == -1;
  CHECK(count == 1, "-1 seen %d times", count);
  for (int r = 0; r < np; ++r) {
    int c = 0;
    for (int q = 0; q < np; ++q) c += seen[q] == r;
    CHECK(c == (r == last ? 0 : 1), "rank %d seen %d times (last %d)", r, c, last);
  }
  free(seen);
  free(mine);
  free(all);
  free(ints);
  free(longs);
  ARMCI_Barrier();
  free_all(p);
}

/* --- mutex: a read-modify-write under a lock, from every rank, on counters on every rank -------
 */
static void test_mutex(void) {
  const int k = 30;
  int count = me + 1; /* each rank hosts a different number of mutexes */
  CHECK(ARMCI_Create_mutexes(count) == 0, "create");
  void** p = alloc_all(64);
  memset(p[me], 0, 64);
  ARMCI_Barrier();
  for (int i = 0; i < k; ++i) {
    int t = (me + i) % np, m = i % (t + 1);
    ARMCI_Lock(m, t);
    long v = 0;
    ARMCI_Get((long*)p[t] + m, &v, sizeof v, t);
    v += 1;
    ARMCI_Put(&v, (long*)p[t] + m, sizeof v, t);
    ARMCI_Unlock(m, t);
  }
  ARMCI_Barrier();
  /* the expected count per (host, mutex) */
  long* want = calloc((size_t)np * 8, sizeof(long));
  for (int r = 0; r < np; ++r)
    for (int i = 0; i < k; ++i) {
      int t = (r + i) % np;
      want[t * 8 + i % (t + 1)] += 1;
    }
  for (int m = 0; m <= me && m < 8; ++m)
    CHECK(((long*)p[me])[m] == want[me * 8 + m], "mutex %d: %ld, wanted %ld", m, ((long*)p[me])[m],
          want[me * 8 + m]);
  free(want);
  CHECK(ARMCI_Destroy_mutexes() == 0, "destroy");
  /* again, with other counts (zero on some ranks) */
  CHECK(ARMCI_Create_mutexes(me % 2 == 0 ? 2 : 0) == 0, "create again");
  ARMCI_Lock(1, 0);
  ARMCI_Unlock(1, 0);
  CHECK(ARMCI_Destroy_mutexes() == 0, "destroy again");
  ARMCI_Barrier();
  free_all(p);
}

/* --- nb: non-blocking operations and their handles ---------------------------------------------
 */
static void test_nb(void) {
  const int n = 4096;
  void** p = alloc_all(n * (long)sizeof(int) * 4);
  int* mine = p[me];
  for (int i = 0; i < 4 * n; ++i) mine[i] = me * 1000000 + i;
  ARMCI_Barrier();
  int t = (me + 1) % np;
  int* buf = malloc(sizeof(int) * 4 * (size_t)n);
  armci_hdl_t h[4];
  for (int i = 0; i < 4; ++i) {
    ARMCI_INIT_HANDLE(&h[i]);
    CHECK(ARMCI_NbGet((int*)p[t] + i * n, buf + i * n, n * (int)sizeof(int), t, &h[i]) == 0,
          "nbget");
  }
  /* test until complete (0 = complete), then wait (again: nothing to do) */
  for (int i = 0; i < 4; ++i) {
    double t0 = now();
    while (ARMCI_Test(&h[i]) != 0 && now() - t0 < 60) {
    }
    CHECK(ARMCI_Test(&h[i]) == 0, "test %d", i);
    CHECK(ARMCI_Wait(&h[i]) == 0, "wait %d", i);
  }
  int bad = 0;
  for (int i = 0; i < 4 * n; ++i) bad += buf[i] != t * 1000000 + i;
  CHECK(bad == 0, "nbget: %d wrong", bad);
  /* strided, non-blocking, waited on with WaitProc and WaitAll; NULL handles */
  memset(buf, 0, sizeof(int) * 4 * (size_t)n);
  int count[2] = {100 * (int)sizeof(int), 8}, sst[1] = {n / 2 * (int)sizeof(int)},
      dst[1] = {100 * (int)sizeof(int)};
  CHECK(ARMCI_NbGetS(p[t], sst, buf, dst, count, 1, t, NULL) == 0, "nbgets");
  ARMCI_WaitProc(t);
  bad = 0;
  for (int r = 0; r < 8; ++r)
    for (int i = 0; i < 100; ++i) bad += buf[r * 100 + i] != t * 1000000 + r * (n / 2) + i;
  CHECK(bad == 0, "nbgets + waitproc: %d wrong", bad);
  armci_hdl_t hp;
  ARMCI_INIT_HANDLE(&hp);
  for (int i = 0; i < 200; ++i) buf[i] = -i;
  int count2[2] = {100 * (int)sizeof(int), 2}; /* 2 rows: 3n and 3n + n/2 */
  CHECK(ARMCI_NbPutS(buf, dst, (int*)p[t] + 3 * n, sst, count2, 1, t, &hp) == 0, "nbputs");
  CHECK(ARMCI_Wait(&hp) == 0, "wait nbputs");
  int two = 2;
  CHECK(
      ARMCI_NbAccS(ARMCI_ACC_INT, &two, buf, dst, (int*)p[t] + 3 * n, sst, count2, 1, t, NULL) == 0,
      "nbaccs");
  armci_hdl_t hv;
  ARMCI_INIT_HANDLE(&hv);
  CHECK(ARMCI_NbPutValueInt(77, (int*)p[t] + 4 * n - 1, t, &hv) == 0, "nbputvalue");
  ARMCI_Wait(&hv);
  ARMCI_WaitAll();
  ARMCI_Barrier();
  bad = 0;
  for (int r = 0; r < 2; ++r)
    for (int i = 0; i < 100; ++i) bad += mine[3 * n + r * (n / 2) + i] != -3 * (r * 100 + i);
  CHECK(bad == 0, "nbputs+nbaccs: %d wrong", bad);
  CHECK(mine[4 * n - 1] == 77, "nbputvalue: %d", mine[4 * n - 1]);
  /* a handle whose operation is long complete (its slot since reused) waits for nothing */
  armci_hdl_t old;
  ARMCI_INIT_HANDLE(&old);
  ARMCI_NbGet(p[t], buf, 4, t, &old);
  ARMCI_Wait(&old);
  for (int i = 0; i < 50; ++i) ARMCI_Get(p[t], buf, 4, t);
  CHECK(ARMCI_Wait(&old) == 0 && ARMCI_Test(&old) == 0, "stale handle");
  free(buf);
  ARMCI_Barrier();
  free_all(p);
}

/* --- fence: after ARMCI_Fence(t) returns, t sees the data (told by an MPI message) -------------
 */
static void test_fence(void) {
  const int n = 20000;
  void** p = alloc_all(n * (long)sizeof(int) * np);
  int* mine = p[me];
  memset(mine, 0, sizeof(int) * (size_t)n * np);
  ARMCI_Barrier();
  int* buf = malloc(sizeof(int) * (size_t)n);
  int one = 1;
  for (int round = 1; round <= 3; ++round) {
    for (int t = 0; t < np; ++t) {
      if (t == me) continue;
      for (int i = 0; i < n; ++i) buf[i] = round * 100 + me;
      ARMCI_Put(buf, (int*)p[t] + me * n, n * (int)sizeof(int), t);
      ARMCI_Acc(ARMCI_ACC_INT, &one, buf, (int*)p[t] + me * n, 4 * (int)sizeof(int), t);
      ARMCI_Fence(t);
      MPI_Send(&round, 1, MPI_INT, t, 5, MPI_COMM_WORLD);
    }
    for (int r = 0; r < np - 1; ++r) {
      int got;
      MPI_Status s;
      MPI_Recv(&got, 1, MPI_INT, MPI_ANY_SOURCE, 5, MPI_COMM_WORLD, &s);
      int from = s.MPI_SOURCE, bad = 0;
      int* blk = mine + from * n;
      for (int i = 0; i < n; ++i) bad += blk[i] != (i < 4 ? 2 : 1) * (round * 100 + from);
      CHECK(bad == 0, "round %d from %d: %d elements not there after the fence", round, from, bad);
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  /* AllFence the same way */
  for (int t = 0; t < np; ++t)
    if (t != me) ARMCI_PutValueInt(4242, (int*)p[t] + me * n + 5, t);
  ARMCI_AllFence();
  MPI_Barrier(MPI_COMM_WORLD);
  for (int r = 0; r < np; ++r)
    if (r != me) CHECK(mine[r * n + 5] == 4242, "allfence from %d: %d", r, mine[r * n + 5]);
  free(buf);
  ARMCI_Barrier();
  free_all(p);
}

/* --- flag: ARMCI_PutS_flag; the target waits on its flag without calling ARMCI -----------------
 */
static void test_flag(void) {
  const int n = 3000;
  void** p = alloc_all((n + 16) * (long)sizeof(int));
  volatile int* mine = p[me];
  for (int i = 0; i < n + 16; ++i) mine[i] = 0;
  ARMCI_Barrier();
  int t = (me + 1) % np, from = (me + np - 1) % np;
  int* buf = malloc(sizeof(int) * (size_t)n);
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < n; ++i) buf[i] = round * 1000 + i;
    int count[2] = {n / 3 * (int)sizeof(int), 3}, st[1] = {n / 3 * (int)sizeof(int)};
    CHECK(ARMCI_PutS_flag(buf, st, (int*)p[t] + 16, st, count, 1, (int*)p[t], round, t) == 0,
          "puts_flag");
    double t0 = now();
    while (mine[0] != round && now() - t0 < 60) {
    }
    CHECK(mine[0] == round, "round %d: flag %d after 60 s", round, mine[0]);
    int bad = 0;
    for (int i = 0; i < n; ++i) bad += mine[16 + i] != round * 1000 + i;
    CHECK(bad == 0, "round %d: flag set before %d elements", round, bad);
    (void)from;
    MPI_Barrier(MPI_COMM_WORLD);
  }
  free(buf);
  ARMCI_Barrier();
  free_all(p);
}

/* --- passive: rank 0 computes without calling ARMCI or MPI while the others get from it, add to
 * it and read-increment its counter; it waits (bounded) for all of them to have done so ----------
 */
static void test_passive(void) {
  void** p = alloc_all(1024);
  volatile long* mine = p[me];
  for (int i = 0; i < 128; ++i) mine[i] = 0;
  ARMCI_Barrier();
  const int k = 20;
  if (me == 0) {
    mine[0] = 12345; /* what the others read */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    long want = (long)(np - 1) * k;
    /* busy: no library call until every other rank's read-increments and accumulates landed */
    while ((__atomic_load_n(&mine[1], __ATOMIC_ACQUIRE) != want || mine[2] != want) &&
           now() - t0 < 60) {
    }
    CHECK(mine[1] == want && mine[2] == want,
          "passive progress: %ld increments, %ld accumulates of %ld "
          "while busy",
          mine[1], mine[2], want);
  } else {
    MPI_Barrier(MPI_COMM_WORLD);
    for (int i = 0; i < k; ++i) {
      long v = ARMCI_GetValueLong((long*)p[0], 0);
      CHECK(v == 12345, "get while rank 0 is busy: %ld", v);
      long old = 0;
      ARMCI_Rmw(ARMCI_FETCH_AND_ADD_LONG, &old, (long*)p[0] + 1, 1, 0);
      long one = 1;
      long lone = 1;
      ARMCI_Acc(ARMCI_ACC_LNG, &lone, &one, (long*)p[0] + 2, sizeof(long), 0);
    }
    ARMCI_Fence(0);
  }
  ARMCI_Barrier();
  free_all(p);
}

/* --- groups: create (collective over the default group), allocate on them, translate ranks ---- */
static void test_groups(void) {
  ARMCI_Group world, evens, dflt;
  ARMCI_Group_get_world(&world);
  int wr = -1, ws = -1;
  ARMCI_Group_rank(&world, &wr);
  ARMCI_Group_size(&world, &ws);
  CHECK(wr == me && ws == np, "world: rank %d size %d", wr, ws);
  int cmp = 0;
  MPI_Comm_compare(world.comm, MPI_COMM_WORLD, &cmp);
  CHECK(cmp == MPI_CONGRUENT || cmp == MPI_IDENT, "world.comm is not MPI_COMM_WORLD's group");
  int ne = (np + 1) / 2;
  int* list = malloc(sizeof(int) * (size_t)ne);
  for (int i = 0; i < ne; ++i) list[i] = 2 * i;
  ARMCI_Group_create(ne, list, &evens);
  int gr = -1, gs = -1;
  ARMCI_Group_rank(&evens, &gr);
  ARMCI_Group_size(&evens, &gs);
  if (me % 2 == 0) {
    CHECK(gr == me / 2 && gs == ne, "evens: rank %d size %d", gr, gs);
    for (int i = 0; i < ne; ++i)
      CHECK(ARMCI_Absolute_id(&evens, i) == 2 * i, "absolute id of %d", i);
    /* memory on the group, indexed by group rank; accesses by world rank */
    void** p = calloc((size_t)ne, sizeof(void*));
    CHECK(ARMCI_Malloc_group(p, 64, &evens) == 0, "malloc_group");
    ((int*)p[gr])[0] = 0;
    armci_msg_group_barrier(&evens);
    int one = 1;
    for (int i = 0; i < ne; ++i)
      ARMCI_Acc(ARMCI_ACC_INT, &one, &one, p[i], sizeof(int), ARMCI_Absolute_id(&evens, i));
    ARMCI_AllFence();
    armci_msg_group_barrier(&evens);
    CHECK(((int*)p[gr])[0] == ne, "group acc: %d", ((int*)p[gr])[0]);
    int x = me;
    armci_msg_group_igop(&x, 1, "+", &evens);
    CHECK(x == 2 * (ne * (ne - 1) / 2), "group igop: %d", x);
    int root = ne > 1 ? 2 : 0; /* a world rank */
    double d = me == root ? 3.5 : 0;
    armci_msg_group_bcast_scope(SCOPE_ALL, &d, sizeof d, root, &evens);
    CHECK(d == 3.5, "group bcast from world rank %d: %g", root, d);
    ARMCI_Free_group(p[gr], &evens);
    free(p);
    ARMCI_Group_free(&evens);
  } else {
    CHECK(gr == -1 && gs == 0 && evens.comm == MPI_COMM_NULL, "not a member: rank %d size %d", gr,
          gs);
  }
  /* a default group: ARMCI_Group_create's ranks are then its ranks */
  if (np >= 2) {
    int all[64];
    for (int i = 0; i < np; ++i) all[i] = np - 1 - i; /* reversed */
    ARMCI_Group rev;
    ARMCI_Group_create(np, all, &rev);
    ARMCI_Group_set_default(&rev);
    ARMCI_Group_get_default(&dflt);
    CHECK(dflt.comm == rev.comm, "default group");
    int first[1] = {0}; /* rank 0 of the reversed group: world rank np-1 */
    ARMCI_Group one;
    ARMCI_Group_create(1, first, &one);
    if (me == np - 1)
      CHECK(one.size == 1 && ARMCI_Absolute_id(&one, 0) == np - 1, "child of default");
    else
      CHECK(one.comm == MPI_COMM_NULL, "child of default: not a member");
    if (one.comm != MPI_COMM_NULL) ARMCI_Group_free(&one);
    ARMCI_Group_set_default(&world);
    ARMCI_Group_free(&rev);
  }
  free(list);
  ARMCI_Barrier();
}

/* --- msg: armci_msg_* ---------------------------------------------------------------------------
 */
static void test_msg(void) {
  CHECK(armci_msg_me() == me && armci_msg_nproc() == np, "me/nproc");
  int i4[3] = {me + 1, -(me + 1), 1 << me};
  armci_msg_igop(i4, 1, "+");
  CHECK(i4[0] == np * (np + 1) / 2, "igop +: %d", i4[0]);
  int a = -(me + 1);
  armci_msg_igop(&a, 1, "absmax");
  CHECK(a == np, "igop absmax: %d", a);
  int b = -(me + 1);
  armci_msg_igop(&b, 1, "absmin");
  CHECK(b == 1, "igop absmin: %d", b);
  int o = 1 << me;
  armci_msg_igop(&o, 1, "or");
  CHECK(o == (1 << np) - 1, "igop or: %d", o);
  long l = me + 1;
  armci_msg_lgop(&l, 1, "*");
  long f = 1;
  for (int r = 1; r <= np; ++r) f *= r;
  CHECK(l == f, "lgop *: %ld", l);
  long long ll = me;
  armci_msg_llgop(&ll, 1, "max");
  CHECK(ll == np - 1, "llgop max: %lld", ll);
  float fl = (float)me + 0.5f;
  armci_msg_fgop(&fl, 1, "min");
  CHECK(fl == 0.5f, "fgop min: %g", fl);
  double dv[100];
  for (int i = 0; i < 100; ++i) dv[i] = i * (me + 1);
  armci_msg_dgop(dv, 100, "+");
  int bad = 0;
  for (int i = 0; i < 100; ++i) bad += dv[i] != i * (np * (np + 1) / 2.0);
  CHECK(bad == 0, "dgop + of 100: %d wrong", bad);
  int land = 1, lor = me == np - 1;
  armci_msg_igop(&land, 1, "&&");
  armci_msg_igop(&lor, 1, "||");
  CHECK(land == 1 && lor == 1, "&& ||: %d %d", land, lor);
  int node = me;
  armci_msg_gop_scope(SCOPE_NODE, &node, 1, "+", ARMCI_INT);
  CHECK(node == me, "SCOPE_NODE: %d", node);
  double m = me;
  armci_msg_gop_scope(SCOPE_MASTERS, &m, 1, "+", ARMCI_DOUBLE);
  CHECK(m == np * (np - 1) / 2.0, "SCOPE_MASTERS: %g", m);
  /* sel: the record of the least value, whole */
  struct {
    double v;
    long idx[2];
  } rec = {10.0 + (me + 2) % np, {me, 100 + me}};
  armci_msg_sel_scope(SCOPE_ALL, &rec, sizeof rec, "min", ARMCI_DOUBLE, 1);
  int minr = (np - 2 + np) % np; /* (r + 2) % np == 0 */
  CHECK(rec.v == 10.0 && rec.idx[0] == minr && rec.idx[1] == 100 + minr, "sel: %g %ld %ld", rec.v,
        rec.idx[0], rec.idx[1]);
  struct {
    int v;
    int idx;
  } r2 = {me, me};
  armci_msg_sel_scope(SCOPE_ALL, &r2, sizeof r2, "max", ARMCI_INT, me != np - 1);
  CHECK(np == 1 || (r2.v == np - 2 && r2.idx == np - 2), "sel without the largest: %d", r2.v);
  /* bintree, send/receive along it */
  int root, up = -7, left, right;
  armci_msg_bintree(SCOPE_ALL, &root, &up, &left, &right);
  CHECK(root == 0 && up == (me == 0 ? -1 : (me - 1) / 2) &&
            left == (2 * me + 1 < np ? 2 * me + 1 : -1) &&
            right == (2 * me + 2 < np ? 2 * me + 2 : -1),
        "bintree: %d %d %d %d", root, up, left, right);
  long sum = me;
  for (int c = 0; c < 2; ++c) {
    int child = c == 0 ? left : right;
    if (child < 0) continue;
    long got = 0;
    int len = 0;
    armci_msg_rcv(9, &got, sizeof got, &len, child);
    CHECK(len == sizeof got, "rcv length %d", len);
    sum += got;
  }
  if (up >= 0) armci_msg_snd(9, &sum, sizeof sum, up);
  armci_msg_bcast(&sum, sizeof sum, 0);
  CHECK(sum == (long)np * (np - 1) / 2, "tree sum %ld", sum);
  char s[32] = "";
  if (me == np - 1) strcpy(s, "from the last");
  armci_msg_brdcst(s, sizeof s, np - 1);
  CHECK(strcmp(s, "from the last") == 0, "brdcst: '%s'", s);
  void* addrs[64] = {0};
  addrs[me] = (void*)(uintptr_t)(0x1000 + me);
  armci_exchange_address(addrs, np);
  bad = 0;
  for (int r = 0; r < np; ++r) bad += addrs[r] != (void*)(uintptr_t)(0x1000 + r);
  CHECK(bad == 0, "exchange_address: %d wrong", bad);
  armci_msg_barrier();
}

/* --- values: Put/GetValue of every type ------------------------------------------------------- */
static void test_values(void) {
  void** p = alloc_all(64);
  memset(p[me], 0, 64);
  ARMCI_Barrier();
  int t = (me + 1) % np;
  char* d = p[t];
  ARMCI_PutValueInt(-5 - me, d, t);
  ARMCI_PutValueLong(1L << 40 | me, d + 8, t);
  ARMCI_PutValueFloat(1.5f + (float)me, d + 16, t);
  ARMCI_PutValueDouble(2.25 + me, d + 24, t);
  CHECK(ARMCI_GetValueInt(d, t) == -5 - me, "int");
  CHECK(ARMCI_GetValueLong(d + 8, t) == (1L << 40 | me), "long");
  CHECK(ARMCI_GetValueFloat(d + 16, t) == 1.5f + (float)me, "float");
  CHECK(ARMCI_GetValueDouble(d + 24, t) == 2.25 + me, "double");
  ARMCI_Barrier();
  free_all(p);
}

static const struct test tests[] = {
    {"malloc", test_malloc}, {"contig", test_contig},   {"strided", test_strided},
    {"vector", test_vector}, {"acc", test_acc},         {"rmw", test_rmw},
    {"mutex", test_mutex},   {"nb", test_nb},           {"fence", test_fence},
    {"flag", test_flag},     {"passive", test_passive}, {"groups", test_groups},
    {"msg", test_msg},       {"values", test_values},
};

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ARMCI_Init();
  ARMCI_Init(); /* reference counted */
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  MPI_Comm_size(MPI_COMM_WORLD, &np);
  harness_run("armci_test", argc, argv, tests, (int)(sizeof tests / sizeof tests[0]), NULL);
  CHECK(ARMCI_Initialized() == 1, "initialized");
  ARMCI_Finalize();
  CHECK(ARMCI_Initialized() == 1, "still initialized after one of two finalizes");
  ARMCI_Finalize();
  CHECK(ARMCI_Initialized() == 0, "finalized");
  const int rc = harness_report("armci_test");
  MPI_Finalize();
  return rc;
}
