/* ga_test.c - Debian's Global Arrays on GA-FM, through GA's C API with real ranks.
 *   mpiexec -n N ga_test [TEST...]      (no TEST: all of them)
 * Tests: patch acc readinc nb scatter lock ghosts groups dgemm coll select.
 * Each rank prints "ga_test: rank R: PASS (N checks)" when every check held, else the failed
 * checks and exits 1. */
#include <ga.h>
#include <macdecls.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* --- patch: patches that span several owners, put by one rank, read by all ------------------- */
static void test_patch(void) {
  int dims[2] = {101, 67}, chunk[2] = {-1, -1};
  int g = NGA_Create(C_DBL, 2, dims, "patch", chunk);
  CHECK(g != 0, "create");
  GA_Zero(g);
  /* each rank puts a band of rows crossing every owner's block, with an odd leading dimension */
  int rows = dims[0] / np, r0 = me * rows, r1 = me == np - 1 ? dims[0] - 1 : r0 + rows - 1;
  int ld = dims[1] + 3;
  double* buf = malloc(sizeof(double) * (size_t)(r1 - r0 + 1) * (size_t)ld);
  for (int i = r0; i <= r1; ++i)
    for (int j = 0; j < dims[1]; ++j) buf[(i - r0) * ld + j] = i * 1000.0 + j;
  int lo[2] = {r0, 0}, hi[2] = {r1, dims[1] - 1};
  NGA_Put(g, lo, hi, buf, &ld);
  free(buf);
  GA_Sync();
  /* every rank reads an interior patch crossing every boundary */
  int plo[2] = {3, 5}, phi[2] = {dims[0] - 4, dims[1] - 2};
  int pld = phi[1] - plo[1] + 1;
  double* got = malloc(sizeof(double) * (size_t)(phi[0] - plo[0] + 1) * (size_t)pld);
  NGA_Get(g, plo, phi, got, &pld);
  int bad = 0;
  for (int i = plo[0]; i <= phi[0]; ++i)
    for (int j = plo[1]; j <= phi[1]; ++j)
      bad += got[(i - plo[0]) * pld + (j - plo[1])] != i * 1000.0 + j;
  CHECK(bad == 0, "%d wrong elements in the patch", bad);
  free(got);
  /* the local block through NGA_Access matches the distribution */
  int dlo[2], dhi[2], dld[1];
  NGA_Distribution(g, me, dlo, dhi);
  double* p;
  if (dlo[0] >= 0 && dhi[0] >= dlo[0]) {
    NGA_Access(g, dlo, dhi, &p, dld);
    bad = 0;
    for (int i = dlo[0]; i <= dhi[0]; ++i)
      for (int j = dlo[1]; j <= dhi[1]; ++j)
        bad += p[(i - dlo[0]) * dld[0] + (j - dlo[1])] != i * 1000.0 + j;
    CHECK(bad == 0, "%d wrong elements in the local block", bad);
    NGA_Release(g, dlo, dhi);
  }
  /* single elements of every type */
  int types[5] = {C_INT, C_LONG, C_FLOAT, C_DBL, C_DCPL};
  for (int t = 0; t < 5; ++t) {
    int d1[1] = {np * 3 + 1};
    int h = NGA_Create(types[t], 1, d1, "elems", NULL);
    GA_Zero(h);
    GA_Sync();
    int idx[1] = {(me * 3 + 2) % d1[0]};
    double v[2] = {me + 0.25, -me};
    int iv = me + 7;
    long lv = me + (1L << 40);
    float fv = (float)me + 0.5f;
    void* src = types[t] == C_INT     ? (void*)&iv
                : types[t] == C_LONG  ? (void*)&lv
                : types[t] == C_FLOAT ? (void*)&fv
                                      : (void*)v;
    int one = 1;
    NGA_Put(h, idx, idx, src, &one);
    GA_Sync();
    int from = (me + 1) % np, fidx[1] = {(from * 3 + 2) % d1[0]};
    double out[2] = {0, 0};
    NGA_Get(h, fidx, fidx, out, &one);
    int ok;
    switch (types[t]) {
      case C_INT:
        ok = *(int*)out == from + 7;
        break;
      case C_LONG:
        ok = *(long*)out == from + (1L << 40);
        break;
      case C_FLOAT:
        ok = *(float*)out == (float)from + 0.5f;
        break;
      case C_DBL:
        ok = out[0] == from + 0.25;
        break;
      default:
        ok = out[0] == from + 0.25 && out[1] == -from;
        break;
    }
    CHECK(ok, "type %d: element of %d", types[t], from);
    GA_Destroy(h);
  }
  GA_Destroy(g);
}

/* --- acc: every rank accumulates into the whole array at once ----------------------------------
 */
static void test_acc(void) {
  int dims[2] = {64, 48};
  int g = NGA_Create(C_DBL, 2, dims, "acc", NULL);
  int gi = NGA_Create(C_INT, 2, dims, "acci", NULL);
  GA_Zero(g);
  GA_Zero(gi);
  double* buf = malloc(sizeof(double) * 64 * 48);
  int* ibuf = malloc(sizeof(int) * 64 * 48);
  for (int i = 0; i < 64 * 48; ++i) {
    buf[i] = i % 17;
    ibuf[i] = i % 13;
  }
  int lo[2] = {0, 0}, hi[2] = {63, 47}, ld = 48;
  double alpha = 0.5 + me;
  int ialpha = 2;
  for (int rep = 0; rep < 4; ++rep) {
    NGA_Acc(g, lo, hi, buf, &ld, &alpha);
    NGA_Acc(gi, lo, hi, ibuf, &ld, &ialpha);
  }
  GA_Sync();
  NGA_Get(g, lo, hi, buf, &ld);
  NGA_Get(gi, lo, hi, ibuf, &ld);
  double sa = 0;
  for (int r = 0; r < np; ++r) sa += 0.5 + r;
  int bad = 0;
  for (int i = 0; i < 64 * 48; ++i)
    bad += buf[i] != 4 * sa * (i % 17) || ibuf[i] != 4 * 2 * np * (i % 13);
  CHECK(bad == 0, "%d wrong totals", bad);
  free(buf);
  free(ibuf);
  GA_Destroy(g);
  GA_Destroy(gi);
}

/* --- readinc: NGA_Read_inc hands out unique, dense tickets -------------------------------------
 */
static int cmp_long(const void* a, const void* b) {
  long x = *(const long*)a, y = *(const long*)b;
  return x < y ? -1 : x > y;
}
static void test_readinc(void) {
  int types[2] = {C_INT, C_LONG};
  for (int t = 0; t < 2; ++t) {
    int dims[1] = {np};
    int g = NGA_Create(types[t], 1, dims, "counter", NULL);
    GA_Zero(g);
    GA_Sync();
    const int k = 100;
    long mine[100];
    int sub[1] = {np - 1};
    for (int i = 0; i < k; ++i) mine[i] = NGA_Read_inc(g, sub, 3);
    long* all = malloc(sizeof(long) * (size_t)k * (size_t)np);
    MPI_Allgather(mine, k, MPI_LONG, all, k, MPI_LONG, MPI_COMM_WORLD);
    qsort(all, (size_t)k * np, sizeof(long), cmp_long);
    int bad = 0;
    for (long i = 0; i < (long)k * np; ++i) bad += all[i] != 3 * i;
    CHECK(bad == 0, "type %d: %d tickets missing or repeated", types[t], bad);
    free(all);
    GA_Sync();
    GA_Destroy(g);
  }
}

/* --- nb: non-blocking put and get ----------------------------------------------------------------
 */
static void test_nb(void) {
  int dims[1] = {1000 * np};
  int g = NGA_Create(C_INT, 1, dims, "nb", NULL);
  GA_Zero(g);
  int* buf = malloc(sizeof(int) * 1000);
  int* back = malloc(sizeof(int) * 1000);
  int t = (me + 1) % np;
  for (int i = 0; i < 1000; ++i) buf[i] = me * 10000 + i;
  /* into the next rank's part, offset so that it spans two owners */
  int lo[1] = {(t * 1000 + 500) % dims[0]}, hi[1] = {lo[0] + 499};
  ga_nbhdl_t h1, h2;
  NGA_NbPut(g, lo, hi, buf, NULL, &h1);
  NGA_NbWait(&h1);
  GA_Sync();
  NGA_NbGet(g, lo, hi, back, NULL, &h2);
  NGA_NbWait(&h2);
  int bad = 0;
  for (int i = 0; i < 500; ++i) bad += back[i] != me * 10000 + i;
  CHECK(bad == 0, "%d wrong after nb put/get", bad);
  /* several gets in flight */
  ga_nbhdl_t hs[8];
  int parts[8][50];
  for (int k = 0; k < 8; ++k) {
    int l[1] = {lo[0] + k * 50}, h[1] = {lo[0] + k * 50 + 49};
    NGA_NbGet(g, l, h, parts[k], NULL, &hs[k]);
  }
  for (int k = 7; k >= 0; --k) NGA_NbWait(&hs[k]);
  bad = 0;
  for (int k = 0; k < 8; ++k)
    for (int i = 0; i < 50; ++i) bad += parts[k][i] != me * 10000 + k * 50 + i;
  CHECK(bad == 0, "%d wrong after 8 gets in flight", bad);
  free(buf);
  free(back);
  GA_Sync();
  GA_Destroy(g);
}

/* --- scatter, gather, scatter-accumulate with colliding subscripts -----------------------------
 */
static void test_scatter(void) {
  int dims[2] = {20, 30};
  int g = NGA_Create(C_DBL, 2, dims, "scatter", NULL);
  GA_Zero(g);
  GA_Sync();
  enum { N = 40 };
  double v[N];
  int subs_store[N][2];
  int* subs[N];
  for (int i = 0; i < N; ++i) {
    /* rank me owns the elements with (i + j) % np == me */
    int e = i * np + me;
    subs_store[i][0] = e / 30 % 20;
    subs_store[i][1] = e % 30;
    subs[i] = subs_store[i];
    v[i] = 1000.0 * me + i;
  }
  NGA_Scatter(g, v, subs, N);
  GA_Sync();
  double got[N];
  /* gather what the next rank scattered */
  int t = (me + 1) % np;
  int tsub[N][2];
  int* tsubs[N];
  for (int i = 0; i < N; ++i) {
    int e = i * np + t;
    tsub[i][0] = e / 30 % 20;
    tsub[i][1] = e % 30;
    tsubs[i] = tsub[i];
  }
  NGA_Gather(g, got, tsubs, N);
  int bad = 0;
  for (int i = 0; i < N; ++i) bad += got[i] != 1000.0 * t + i;
  CHECK(bad == 0, "gather: %d wrong", bad);
  GA_Sync();
  /* scatter-accumulate: every rank adds 1 into element (5,5) N times in one call, and i into (i%3,
   * 7) */
  GA_Zero(g);
  GA_Sync();
  for (int i = 0; i < N; ++i) {
    subs_store[i][0] = i % 2 == 0 ? 5 : i % 3;
    subs_store[i][1] = i % 2 == 0 ? 5 : 7;
    v[i] = i % 2 == 0 ? 1.0 : i;
  }
  double alpha = 2;
  NGA_Scatter_acc(g, v, subs, N, &alpha);
  GA_Sync();
  int e55[2] = {5, 5};
  double x = 0;
  NGA_Gather(g, &x, (int*[]){e55}, 1);
  CHECK(x == 2.0 * (N / 2) * np, "scatter_acc collisions at (5,5): %g, wanted %g", x,
        2.0 * (N / 2) * np);
  double want[3] = {0, 0, 0};
  for (int i = 1; i < N; i += 2) want[i % 3] += 2.0 * i * np;
  for (int r = 0; r < 3; ++r) {
    int e[2] = {r, 7};
    NGA_Gather(g, &x, (int*[]){e}, 1);
    CHECK(x == want[r], "scatter_acc at (%d,7): %g, wanted %g", r, x, want[r]);
  }
  GA_Destroy(g);
}

/* --- lock: GA's mutexes protect a get-modify-put ---------------------------------------------- */
static void test_lock(void) {
  int dims[1] = {4};
  int g = NGA_Create(C_INT, 1, dims, "locked", NULL);
  GA_Zero(g);
  CHECK(GA_Create_mutexes(2), "create mutexes");
  const int k = 25;
  int sub[1] = {1};
  int one = 1;
  for (int i = 0; i < k; ++i) {
    GA_Lock(1);
    int v = 0;
    NGA_Get(g, sub, sub, &v, &one);
    v += 1;
    NGA_Put(g, sub, sub, &v, &one);
    GA_Unlock(1);
  }
  GA_Sync();
  int v = 0;
  NGA_Get(g, sub, sub, &v, &one);
  CHECK(v == k * np, "counter under lock: %d, wanted %d", v, k * np);
  CHECK(GA_Destroy_mutexes(), "destroy mutexes");
  GA_Destroy(g);
}

/* --- ghosts: a 2-D array with ghost cells of width 1 and 2, updated from the neighbours --------
 */
static void test_ghosts(void) {
  int dims[2] = {24, 18}, width[2] = {1, 2};
  int g = NGA_Create_ghosts(C_INT, 2, dims, width, "ghosts", NULL);
  CHECK(g != 0, "create_ghosts");
  int lo[2] = {0, 0}, hi[2] = {23, 17}, ld = 18;
  int* all = malloc(sizeof(int) * 24 * 18);
  for (int i = 0; i < 24 * 18; ++i) all[i] = i;
  if (me == 0) NGA_Put(g, lo, hi, all, &ld);
  GA_Sync();
  GA_Update_ghosts(g);
  GA_Sync();
  int dlo[2], dhi[2];
  NGA_Distribution(g, me, dlo, dhi);
  int gdims[2], gld[2];
  int* p;
  NGA_Access_ghosts(g, gdims, &p, gld);
  /* the interior and the ghost cells inside the array (periodic: GA wraps around) */
  int bad = 0;
  for (int i = dlo[0] - width[0]; i <= dhi[0] + width[0]; ++i)
    for (int j = dlo[1] - width[1]; j <= dhi[1] + width[1]; ++j) {
      int gi = (i + 24) % 24, gj = (j + 18) % 18;
      int got = p[(i - dlo[0] + width[0]) * gld[0] + (j - dlo[1] + width[1])];
      bad += got != gi * 18 + gj;
    }
  CHECK(bad == 0, "%d wrong cells (interior and ghosts)", bad);
  NGA_Release(g, dlo, dhi);
  free(all);
  GA_Destroy(g);
}

/* --- groups: arrays on processor groups, their collectives -------------------------------------
 */
static void test_groups(void) {
  int half = np / 2 > 0 ? np / 2 : 1;
  int* first = malloc(sizeof(int) * (size_t)np);
  int* second = malloc(sizeof(int) * (size_t)np);
  for (int i = 0; i < half; ++i) first[i] = i;
  for (int i = half; i < np; ++i) second[i - half] = i;
  int g1 = GA_Pgroup_create(first, half);
  int g2 = np > half ? GA_Pgroup_create(second, np - half) : -1;
  int mine = me < half ? g1 : g2;
  int size = me < half ? half : np - half;
  CHECK(GA_Pgroup_nnodes(mine) == size, "group size %d", GA_Pgroup_nnodes(mine));
  CHECK(GA_Pgroup_nodeid(mine) == (me < half ? me : me - half), "group rank %d",
        GA_Pgroup_nodeid(mine));
  /* an array on my group: each member writes its group rank into its element */
  int dims[1] = {size * 10};
  int g = NGA_Create_config(C_INT, 1, dims, "onegroup", NULL, mine);
  GA_Zero(g);
  GA_Pgroup_sync(mine);
  int grank = GA_Pgroup_nodeid(mine);
  int lo[1] = {grank * 10}, hi[1] = {grank * 10 + 9};
  int vals[10];
  for (int i = 0; i < 10; ++i) vals[i] = 100 * grank + i;
  NGA_Put(g, lo, hi, vals, NULL);
  GA_Pgroup_sync(mine);
  int all[400];
  int alo[1] = {0}, ahi[1] = {size * 10 - 1};
  NGA_Get(g, alo, ahi, all, NULL);
  int bad = 0;
  for (int r = 0; r < size; ++r)
    for (int i = 0; i < 10; ++i) bad += all[r * 10 + i] != 100 * r + i;
  CHECK(bad == 0, "group array: %d wrong", bad);
  double x = me;
  GA_Pgroup_dgop(mine, &x, 1, "+");
  double want = 0;
  for (int r = (me < half ? 0 : half); r < (me < half ? half : np); ++r) want += r;
  CHECK(x == want, "group dgop: %g, wanted %g", x, want);
  int b = me == (me < half ? 0 : half) ? 4242 : 0;
  GA_Pgroup_brdcst(mine, &b, sizeof b, 0);
  CHECK(b == 4242, "group brdcst: %d", b);
  GA_Destroy(g);
  /* the default group switched to mine: GA_Nnodes and new arrays follow it */
  GA_Pgroup_set_default(mine);
  CHECK(GA_Nnodes() == size, "GA_Nnodes under the default group: %d", GA_Nnodes());
  int h = NGA_Create(C_DBL, 1, dims, "ondefault", NULL);
  GA_Zero(h);
  GA_Destroy(h);
  GA_Pgroup_set_default(GA_Pgroup_get_world());
  GA_Sync();
  free(first);
  free(second);
}

/* --- dgemm: C = A * B with GA_Dgemm, checked against a local product -------------------------- */
static void test_dgemm(void) {
  int m = 37, n = 29, k = 41;
  int da[2] = {m, k}, db[2] = {k, n}, dc[2] = {m, n};
  int a = NGA_Create(C_DBL, 2, da, "A", NULL);
  int b = NGA_Create(C_DBL, 2, db, "B", NULL);
  int c = NGA_Create(C_DBL, 2, dc, "C", NULL);
  double* A = malloc(sizeof(double) * m * k);
  double* B = malloc(sizeof(double) * k * n);
  double* C = malloc(sizeof(double) * m * n);
  for (int i = 0; i < m * k; ++i) A[i] = (i % 7) - 3;
  for (int i = 0; i < k * n; ++i) B[i] = (i % 5) - 2;
  if (me == 0) {
    int lo[2] = {0, 0}, ha[2] = {m - 1, k - 1}, hb[2] = {k - 1, n - 1};
    NGA_Put(a, lo, ha, A, &k);
    NGA_Put(b, lo, hb, B, &n);
  }
  GA_Zero(c);
  GA_Sync();
  GA_Dgemm('N', 'N', m, n, k, 1.0, a, b, 0.0, c);
  GA_Sync();
  int lo[2] = {0, 0}, hc[2] = {m - 1, n - 1};
  NGA_Get(c, lo, hc, C, &n);
  int bad = 0;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int l = 0; l < k; ++l) s += A[i * k + l] * B[l * n + j];
      bad += C[i * n + j] != s; /* small integers: exact */
    }
  CHECK(bad == 0, "dgemm: %d wrong elements of %d", bad, m * n);
  free(A);
  free(B);
  free(C);
  GA_Destroy(a);
  GA_Destroy(b);
  GA_Destroy(c);
}

/* --- coll: GA's global operations, GA_Ddot, GA_Copy, GA_Fill ------------------------------------
 */
static void test_coll(void) {
  double d[3] = {me, -me, me + 1};
  GA_Dgop(d, 1, "+");
  GA_Dgop(d + 1, 1, "absmax");
  GA_Dgop(d + 2, 1, "*");
  double fact = 1;
  for (int r = 1; r <= np; ++r) fact *= r;
  CHECK(d[0] == np * (np - 1) / 2.0 && d[1] == np - 1 && d[2] == fact, "dgop: %g %g %g", d[0], d[1],
        d[2]);
  int i2[2] = {me, me};
  GA_Igop(i2, 1, "max");
  GA_Igop(i2 + 1, 1, "min");
  CHECK(i2[0] == np - 1 && i2[1] == 0, "igop: %d %d", i2[0], i2[1]);
  long l = 1L << (me + 30);
  GA_Lgop(&l, 1, "+");
  CHECK(l == ((1L << (np + 30)) - (1L << 30)), "lgop: %ld", l);
  char msg[16] = "";
  if (me == np - 1) strcpy(msg, "broadcast");
  GA_Brdcst(msg, sizeof msg, np - 1);
  CHECK(strcmp(msg, "broadcast") == 0, "brdcst: '%s'", msg);
  int dims[1] = {1000};
  int x = NGA_Create(C_DBL, 1, dims, "x", NULL);
  int y = GA_Duplicate(x, "y");
  double two = 2, three = 3;
  GA_Fill(x, &two);
  GA_Fill(y, &three);
  CHECK(GA_Ddot(x, y) == 6000.0, "ddot: %g", GA_Ddot(x, y));
  GA_Copy(x, y);
  CHECK(GA_Ddot(x, y) == 4000.0, "copy then ddot: %g", GA_Ddot(x, y));
  GA_Destroy(x);
  GA_Destroy(y);
}

/* --- select: NGA_Select_elem finds the extreme element and its place -------------------------- */
static void test_select(void) {
  int dims[2] = {30, 40};
  int g = NGA_Create(C_DBL, 2, dims, "select", NULL);
  GA_Zero(g);
  GA_Sync();
  if (me == np - 1) {
    int lo[2] = {17, 23};
    double v = 99.5, w = -12.25;
    int one = 1;
    NGA_Put(g, lo, lo, &v, &one);
    int lo2[2] = {2, 31};
    NGA_Put(g, lo2, lo2, &w, &one);
  }
  GA_Sync();
  double v = 0;
  int idx[2] = {-1, -1};
  NGA_Select_elem(g, "max", &v, idx);
  CHECK(v == 99.5 && idx[0] == 17 && idx[1] == 23, "max %g at (%d,%d)", v, idx[0], idx[1]);
  NGA_Select_elem(g, "min", &v, idx);
  CHECK(v == -12.25 && idx[0] == 2 && idx[1] == 31, "min %g at (%d,%d)", v, idx[0], idx[1]);
  GA_Destroy(g);
}

static const struct test tests[] = {
    {"patch", test_patch},   {"acc", test_acc},         {"readinc", test_readinc},
    {"nb", test_nb},         {"scatter", test_scatter}, {"lock", test_lock},
    {"ghosts", test_ghosts}, {"groups", test_groups},   {"dgemm", test_dgemm},
    {"coll", test_coll},     {"select", test_select},
};

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  GA_Initialize();
  MA_init(C_DBL, 100000, 100000);
  me = GA_Nodeid();
  np = GA_Nnodes();
  harness_run("ga_test", argc, argv, tests, (int)(sizeof tests / sizeof tests[0]), GA_Sync);
  GA_Terminate();
  const int rc = harness_report("ga_test");
  MPI_Finalize();
  return rc;
}
