/* shmem_perf.c - OpenSHMEM latency and bandwidth between PE 0 and PE 1 (portable: built with
 * SHMEM-FM's oshcc and with Open MPI's oshcc by bench/shmem.sh, run alternately).
 *   shmem_perf [--csv] [--multiple] [OP ...]
 *                                 OP: put get fadd pingpong putbw getbw getlat gput gget bulk coll
 *                                 (default: all); --multiple: initialized with
 *                                 shmem_init_thread(SHMEM_THREAD_MULTIPLE), one thread still
 *                                 (what the thread-safe mode costs)
 * Output (PE 0): the benchmarks' common format (perf_report.h), a section per op; --csv for
 * comma-separated rows.  Latencies are per operation (p50, p99 and mean over the iterations).
 *  put      8-byte shmem_putmem + shmem_quiet, PE 0 to PE 1 (completion latency)
 *  get      8-byte shmem_getmem
 *  fadd     shmem_long_atomic_fetch_add
 *  pingpong put of a flag, answered by a put back (one-way = half the round trip)
 *  putbw    shmem_putmem_nbi of a size, 64 in a row, then shmem_quiet; sizes 8 B .. 4 MiB
 *  getbw    the same with shmem_getmem_nbi
 *  getlat   blocking shmem_getmem of 1 KiB .. 1 MiB (every power of 2): latency per size
 *  gput     8-byte shmem_putmem + shmem_quiet to a global variable (put on the heap: put)
 *  gget     8-byte shmem_getmem from a global variable (from the heap: get)
 *  bulk     16 MiB blocking shmem_getmem, 20 in a row (PE 0 from PE 1): MB/s
 *  coll     8-byte collectives with pSync/pWrk in globals, as the standard benchmarks call them
 *           (both PEs): shmem_barrier_all, shmem_barrier (active set), shmem_broadcast64,
 *           shmem_long_sum_to_all; and the team forms shmem_team_sync, shmem_long_sum_reduce */
#include <shmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "perf_report.h"

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static long flag;
static long gword[8]; /* globals for gput/gget and the collectives' data */
static long gsrc[8], gdst[8];
static long psync[SHMEM_REDUCE_SYNC_SIZE > SHMEM_BCAST_SYNC_SIZE ? SHMEM_REDUCE_SYNC_SIZE
                                                                 : SHMEM_BCAST_SYNC_SIZE];
static long psync2[SHMEM_BARRIER_SYNC_SIZE]; /* the barriers' */
static long pwrk[SHMEM_REDUCE_MIN_WRKDATA_SIZE > 8 ? SHMEM_REDUCE_MIN_WRKDATA_SIZE : 8];
enum { MAXBYTES = 16 << 20, BWMAX = 4 << 20, BULK = 16 << 20, WINDOW = 64 };

static int csv = 0;
static double* lat; /* per-iteration times of a latency test (us) */

static int want(int argc, char** argv, const char* op) {
  int any = 0;
  for (int i = 1; i < argc; ++i)
    if (strcmp(argv[i], "--csv") != 0 && strcmp(argv[i], "--multiple") != 0) any = 1;
  if (!any) return 1;
  for (int i = 1; i < argc; ++i)
    if (strcmp(argv[i], op) == 0) return 1;
  return 0;
}

/* A latency test's row: n per-iteration times in lat[], mean over the elapsed time. */
static void report_lat(const char* op, const char* what, size_t bytes, long n, double mean) {
  perf_test(csv, op, what);
  const double p99 = perf_quantile(lat, n, 0.99), p50 = perf_quantile(lat, n, 0.5);
  perf_row(csv, bytes, n, p50, p99, mean, mean > 0 ? bytes / mean : 0, mean > 0 ? 1 / mean : 0);
}

int main(int argc, char** argv) {
  int multiple = 0, level = SHMEM_THREAD_SINGLE;
  for (int i = 1; i < argc; ++i) {
    csv |= strcmp(argv[i], "--csv") == 0;
    multiple |= strcmp(argv[i], "--multiple") == 0;
  }
  if (multiple)
    shmem_init_thread(SHMEM_THREAD_MULTIPLE, &level);
  else
    shmem_init();
  const int me = shmem_my_pe();
  if (shmem_n_pes() < 2) {
    if (me == 0) fprintf(stderr, "shmem_perf: needs 2 PEs\n");
    shmem_finalize();
    return 1;
  }
  char* buf = shmem_malloc(MAXBYTES);
  char* local = malloc(MAXBYTES);
  memset(buf, 1, MAXBYTES);
  memset(local, 2, MAXBYTES);
  long* word = shmem_malloc(sizeof(long));
  *word = 0;
  shmem_barrier_all();
  const int iters = 20000, warm = 1000;
  double t0 = 0;
  lat = malloc(iters * sizeof *lat);
  if (me == 0) {
    char version[64];
    int major = 0, minor = 0;
    char name[SHMEM_MAX_NAME_LEN] = "";
    shmem_info_get_version(&major, &minor);
    shmem_info_get_name(name);
    snprintf(version, sizeof version, "OpenSHMEM %d.%d, %.40s", major, minor, name);
    perf_preamble("shmem_perf", version);
    perf_param("PEs: %d (PE 0 to PE 1), latency iterations: %d, warm-up: %d, bw window: %d",
               shmem_n_pes(), iters, warm, WINDOW);
    perf_param("timer: CLOCK_MONOTONIC, format: %s, thread level provided: %s",
               csv ? "csv" : "text",
               level == SHMEM_THREAD_MULTIPLE ? "MULTIPLE"
               : multiple                     ? "below MULTIPLE"
                                              : "SINGLE");
    perf_units();
  }

  /* put/gput: 8-byte shmem_putmem + shmem_quiet to the heap / a global; get/gget likewise */
  for (int k = 0; k < 4; ++k) {
    static const char* const ops[] = {"put", "get", "gput", "gget"};
    static const char* const what[] = {"8-byte shmem_putmem + shmem_quiet: completion, not halved",
                                       "8-byte shmem_getmem, not halved",
                                       "8-byte shmem_putmem + shmem_quiet to a global",
                                       "8-byte shmem_getmem from a global"};
    if (!want(argc, argv, ops[k])) continue;
    void* target = k < 2 ? (void*)buf : (void*)gword;
    const int is_put = k % 2 == 0;
    if (me == 0) {
      for (int i = -warm; i < iters; ++i) {
        if (i == 0) t0 = now_us();
        const double s0 = now_us();
        if (is_put) {
          shmem_putmem(target, local, 8, 1);
          shmem_quiet();
        } else {
          shmem_getmem(local, target, 8, 1);
        }
        if (i >= 0) lat[i] = now_us() - s0;
      }
      report_lat(ops[k], what[k], 8, iters, (now_us() - t0) / iters);
    }
    shmem_barrier_all();
  }
  if (want(argc, argv, "fadd")) {
    if (me == 0) {
      for (int i = 0; i < warm; ++i) (void)shmem_long_atomic_fetch_add(word, 1, 1);
      t0 = now_us();
      for (int i = 0; i < iters; ++i) {
        const double s0 = now_us();
        (void)shmem_long_atomic_fetch_add(word, 1, 1);
        lat[i] = now_us() - s0;
      }
      report_lat("fadd", "shmem_long_atomic_fetch_add, not halved", 8, iters,
                 (now_us() - t0) / iters);
    }
    shmem_barrier_all();
  }
  if (want(argc, argv, "pingpong")) {
    flag = 0;
    shmem_barrier_all();
    const int n = iters / 2;
    t0 = 0;
    for (long i = 1; i <= n + warm; ++i) {
      if (i == warm + 1) t0 = now_us();
      if (me == 0) {
        const double s0 = now_us();
        shmem_long_p(&flag, i, 1);
        shmem_long_wait_until(&flag, SHMEM_CMP_EQ, i);
        if (i > warm) lat[i - warm - 1] = (now_us() - s0) / 2;
      } else if (me == 1) {
        shmem_long_wait_until(&flag, SHMEM_CMP_EQ, i);
        shmem_long_p(&flag, i, 0);
      }
    }
    if (me == 0)
      report_lat("pingpong", "a put of a flag answered by a put back, one-way", 8, n,
                 (now_us() - t0) / n / 2);
    shmem_barrier_all();
  }
  if (want(argc, argv, "getlat")) {
    if (me == 0) perf_test(csv, "getlat", "blocking shmem_getmem of a size, from the heap");
    for (size_t bytes = 1024; bytes <= (1 << 20); bytes *= 2) {
      if (me == 0) {
        const int n = bytes >= (256 << 10) ? 200 : 2000;
        for (int i = 0; i < 20; ++i) shmem_getmem(local, buf, bytes, 1);
        t0 = now_us();
        for (int i = 0; i < n; ++i) {
          const double s0 = now_us();
          shmem_getmem(local, buf, bytes, 1);
          lat[i] = now_us() - s0;
        }
        const double mean = (now_us() - t0) / n;
        perf_row(csv, bytes, n, perf_quantile(lat, n, 0.5), perf_quantile(lat, n, 0.99), mean,
                 bytes / mean, 1 / mean);
      }
      shmem_barrier_all();
    }
  }
  if (want(argc, argv, "bulk")) {
    if (me == 0) {
      perf_test(csv, "bulk", "16 MiB blocking shmem_getmem, 20 in a row");
      shmem_getmem(local, buf, BULK, 1);
      const int n = 20;
      t0 = now_us();
      for (int i = 0; i < n; ++i) shmem_getmem(local, buf, BULK, 1);
      const double per = (now_us() - t0) / n;
      perf_row(csv, BULK, n, NAN, NAN, per, BULK / per, 1 / per);
    }
    shmem_barrier_all();
  }
  if (want(argc, argv, "coll")) {
    for (size_t i = 0; i < sizeof psync / sizeof psync[0]; ++i) psync[i] = SHMEM_SYNC_VALUE;
    for (size_t i = 0; i < sizeof psync2 / sizeof psync2[0]; ++i) psync2[i] = SHMEM_SYNC_VALUE;
    shmem_barrier_all();
    const int n = iters / 4;
    /* the team forms exist from OpenSHMEM 1.5 (Open MPI 4.1's OpenSHMEM is 1.4) */
#if SHMEM_MAJOR_VERSION > 1 || SHMEM_MINOR_VERSION >= 5
    const int ncoll = 6;
#else
    const int ncoll = 4;
#endif
    for (int c = 0; c < ncoll; ++c) {
      static const char* const names[] = {"barrier_all", "barrier",   "broadcast64",
                                          "sum_to_all",  "team_sync", "sum_reduce"};
      for (int i = 0; i < n + warm; ++i) {
        if (i == warm) t0 = now_us();
        const double s0 = now_us();
        switch (c) {
          case 0:
            shmem_barrier_all();
            break;
          case 1:
            shmem_barrier(0, 0, shmem_n_pes(), psync2);
            break;
          case 2: /* the standard benchmarks' pattern: the pSync reused after a barrier */
            shmem_broadcast64(gdst, gsrc, 1, 0, 0, 0, shmem_n_pes(), psync);
            shmem_barrier(0, 0, shmem_n_pes(), psync2);
            break;
          case 3:
            shmem_long_sum_to_all(gdst, gsrc, 1, 0, 0, shmem_n_pes(), pwrk, psync);
            shmem_barrier(0, 0, shmem_n_pes(), psync2);
            break;
#if SHMEM_MAJOR_VERSION > 1 || SHMEM_MINOR_VERSION >= 5
          case 4:
            shmem_team_sync(SHMEM_TEAM_WORLD);
            break;
          default:
            shmem_long_sum_reduce(SHMEM_TEAM_WORLD, gdst, gsrc, 1);
            break;
#else
          default:
            break;
#endif
        }
        if (i >= warm) lat[i - warm] = now_us() - s0;
      }
      if (me == 0)
        report_lat(names[c],
                   c == 2 || c == 3 ? "8 bytes, pSync in globals, then shmem_barrier (as OSU)"
                                    : "8 bytes, pSync/data in globals",
                   8, n, (now_us() - t0) / n);
      shmem_barrier_all();
    }
  }
  for (int g = 0; g < 2; ++g) {
    const char* op = g == 0 ? "putbw" : "getbw";
    if (!want(argc, argv, op)) continue;
    if (me == 0)
      perf_test(csv, op,
                g == 0 ? "windows of shmem_putmem_nbi closed by shmem_quiet"
                       : "windows of shmem_getmem_nbi closed by shmem_quiet");
    for (size_t bytes = 8; bytes <= BWMAX; bytes *= 4) {
      if (me == 0) {
        const int rounds = bytes >= (1 << 20) ? 10 : bytes >= (64 << 10) ? 50 : 300;
        double best = 0;
        for (int r = 0; r < rounds + 2; ++r) {
          if (r == 2) t0 = now_us();
          for (int k = 0; k < WINDOW; ++k) {
            if (g == 0)
              shmem_putmem_nbi(buf, local, bytes, 1);
            else
              shmem_getmem_nbi(local, buf, bytes, 1);
          }
          shmem_quiet();
        }
        best = (now_us() - t0) / (rounds * (double)WINDOW);
        perf_row(csv, bytes, (long)rounds * WINDOW, NAN, NAN, NAN, bytes / best, 1 / best);
      }
      shmem_barrier_all();
    }
  }
  shmem_free(word);
  shmem_free(buf);
  free(local);
  free(lat);
  shmem_finalize();
  return 0;
}
