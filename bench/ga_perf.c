/* ga_perf.c - Global Arrays latency and bandwidth between two processes, through GA's C API, so
 * that the same program measures Debian's GA on GA-FM and on ARMCI-MPI (any MPI).
 *   mpiexec -n 2 ga_perf [--csv] [-I ITERS] [TEST...]
 * Tests (default all): put get acc readinc putfence (8-byte latency: rank 0 to an element rank 1
 * owns; each operation timed alone) and putbw getbw accbw (patches of 8 KiB to 4 MiB of doubles
 * owned by rank 1, back to back; bandwidth = bytes / time per operation).  put and acc return
 * when the source may be reused (GA's blocking semantics: remote completion is GA_Fence or
 * GA_Sync); putfence is NGA_Put then GA_Fence, a completed round trip.  Output: perf_report.h's
 * format; latencies here are per operation, not round trip / 2. */
#include <ga.h>
#include <macdecls.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "perf_report.h"

static int me, csv;
static long iters = 20000;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static int cmp_d(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* 8-byte operation latency; rank 0 measures, rank 1 waits in GA_Sync (serving passively). */
static void latency(const char* name, int g_dbl, int g_long) {
  if (me == 0) perf_test(csv, name, "8 bytes, rank 0 to an element rank 1 owns, per operation");
  double* t = malloc(sizeof(double) * (size_t)iters);
  const long warm = iters / 10 + 10;
  if (me == 0) {
    int lo[1], hi[1];
    NGA_Distribution(g_dbl, 1, lo, hi);
    int sub[1] = {lo[0]};
    int lsub[1] = {1};
    double v = 1.0, alpha = 1.0;
    for (long i = -warm; i < iters; ++i) {
      const double t0 = now_us();
      if (strcmp(name, "put") == 0) {
        NGA_Put(g_dbl, sub, sub, &v, NULL);
      } else if (strcmp(name, "get") == 0) {
        NGA_Get(g_dbl, sub, sub, &v, NULL);
      } else if (strcmp(name, "acc") == 0) {
        NGA_Acc(g_dbl, sub, sub, &v, NULL, &alpha);
      } else if (strcmp(name, "readinc") == 0) {
        (void)NGA_Read_inc(g_long, lsub, 1);
      } else {
        GA_Init_fence();
        NGA_Put(g_dbl, sub, sub, &v, NULL);
        GA_Fence();
      }
      if (i >= 0) t[i] = now_us() - t0;
    }
    double sum = 0;
    for (long i = 0; i < iters; ++i) sum += t[i];
    qsort(t, (size_t)iters, sizeof(double), cmp_d);
    perf_row(csv, 8, iters, t[iters / 2], t[(long)(iters * 0.99)], sum / (double)iters, NAN,
             (double)iters / sum);
  }
  free(t);
  GA_Sync();
}

/* Patch bandwidth: rank 0 puts/gets/accumulates patches of rank 1's part back to back. */
static void bandwidth(const char* name, int g_dbl, double* buf) {
  if (me == 0)
    perf_test(csv, name, "a patch rank 1 owns, back to back; MB/s = bytes / time per operation");
  for (size_t bytes = 8192; bytes <= (4u << 20); bytes *= 2) {
    long n = (long)(64 << 20) / (long)bytes;
    if (n < 20) n = 20;
    if (n > 2000) n = 2000;
    if (me == 0) {
      int lo[1], hi[1];
      NGA_Distribution(g_dbl, 1, lo, hi);
      int plo[1] = {lo[0]}, phi[1] = {lo[0] + (int)(bytes / 8) - 1};
      double alpha = 1.0;
      double t0 = 0;
      for (long i = -2; i < n; ++i) {
        if (i == 0) t0 = now_us();
        if (strcmp(name, "putbw") == 0)
          NGA_Put(g_dbl, plo, phi, buf, NULL);
        else if (strcmp(name, "getbw") == 0)
          NGA_Get(g_dbl, plo, phi, buf, NULL);
        else
          NGA_Acc(g_dbl, plo, phi, buf, NULL, &alpha);
      }
      if (strcmp(name, "getbw") != 0) {
        GA_Init_fence();
        GA_Fence(); /* the last ones applied */
      }
      const double us = (now_us() - t0) / (double)n;
      perf_row(csv, bytes, n, NAN, NAN, us, (double)bytes / us, 1.0 / us);
    }
    GA_Sync();
  }
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  GA_Initialize();
  MA_init(C_DBL, 1000, 1000);
  me = GA_Nodeid();
  const char* tests[16];
  int ntests = 0;
  for (int a = 1; a < argc; ++a) {
    if (strcmp(argv[a], "--csv") == 0)
      csv = 1;
    else if (strcmp(argv[a], "-I") == 0 && a + 1 < argc)
      iters = atol(argv[++a]);
    else if (ntests < 16)
      tests[ntests++] = argv[a];
  }
  if (GA_Nnodes() != 2 || iters < 1) {
    if (me == 0) fprintf(stderr, "ga_perf: runs on 2 processes (mpiexec -n 2), -I > 0\n");
    GA_Terminate();
    MPI_Finalize();
    return 2;
  }
  if (ntests == 0) {
    static const char* all[] = {"put",      "get",   "acc",   "readinc",
                                "putfence", "putbw", "getbw", "accbw"};
    for (int i = 0; i < 8; ++i) tests[ntests++] = all[i];
  }
  if (me == 0) {
    perf_preamble("ga_perf", "1");
    const char* mpi = getenv("GA_PERF_STACK");
    perf_param("stack: %s", mpi != NULL ? mpi : "(GA_PERF_STACK unset)");
    perf_param(
        "processes: 2, latency iterations: %ld (after %ld warm-up), bandwidth: 8 KiB to 4 MiB",
        iters, iters / 10 + 10);
    perf_units();
  }
  int dims[1] = {2 * (4 << 20) / 8};
  int g_dbl = NGA_Create(C_DBL, 1, dims, "perf", NULL);
  int ldims[1] = {2};
  int g_long = NGA_Create(C_LONG, 1, ldims, "counter", NULL);
  GA_Zero(g_dbl);
  GA_Zero(g_long);
  double* buf = calloc((4u << 20) / 8, sizeof(double));
  for (int i = 0; i < ntests; ++i) {
    if (strcmp(tests[i], "putbw") == 0 || strcmp(tests[i], "getbw") == 0 ||
        strcmp(tests[i], "accbw") == 0)
      bandwidth(tests[i], g_dbl, buf);
    else if (strcmp(tests[i], "put") == 0 || strcmp(tests[i], "get") == 0 ||
             strcmp(tests[i], "acc") == 0 || strcmp(tests[i], "readinc") == 0 ||
             strcmp(tests[i], "putfence") == 0)
      latency(tests[i], g_dbl, g_long);
    else if (me == 0)
      fprintf(stderr, "ga_perf: unknown test '%s'\n", tests[i]);
    fflush(stdout);
  }
  free(buf);
  GA_Destroy(g_dbl);
  GA_Destroy(g_long);
  GA_Terminate();
  MPI_Finalize();
  return 0;
}
