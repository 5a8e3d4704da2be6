/* shmem_perf.c - OpenSHMEM latency and bandwidth between PE 0 and PE 1 (portable: built with
 * SHMEM-FM's oshcc and with Open MPI's oshcc by bench/shmem.sh, run alternately).
 *   shmem_perf [OP ...]   OP: put get fadd pingpong putbw getbw (default: all)
 * Prints one line per measurement: "<op> <bytes> <usec per op> <MB/s>" (PE 0 only).
 *  put      8-byte shmem_putmem + shmem_quiet, PE 0 to PE 1 (completion latency)
 *  get      8-byte shmem_getmem
 *  fadd     shmem_long_atomic_fetch_add
 *  pingpong put of a flag, answered by a put back (one-way = half the round trip)
 *  putbw    shmem_putmem_nbi of a size, 64 in a row, then shmem_quiet; sizes 8 B .. 4 MiB
 *  getbw    the same with shmem_getmem_nbi */
#include <shmem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static long flag;
enum { MAXBYTES = 4 << 20, WINDOW = 64 };

static int want(int argc, char** argv, const char* op) {
  if (argc < 2) return 1;
  for (int i = 1; i < argc; ++i)
    if (strcmp(argv[i], op) == 0) return 1;
  return 0;
}

static void report(const char* op, size_t bytes, double us, double per_op_bytes) {
  printf("%-8s %8zu %10.3f %10.1f\n", op, bytes, us, us > 0 ? per_op_bytes / us : 0.0);
  fflush(stdout);
}

int main(int argc, char** argv) {
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

  if (want(argc, argv, "put")) {
    if (me == 0) {
      for (int i = 0; i < warm; ++i) {
        shmem_putmem(buf, local, 8, 1);
        shmem_quiet();
      }
      t0 = now_us();
      for (int i = 0; i < iters; ++i) {
        shmem_putmem(buf, local, 8, 1);
        shmem_quiet();
      }
      report("put", 8, (now_us() - t0) / iters, 8);
    }
    shmem_barrier_all();
  }
  if (want(argc, argv, "get")) {
    if (me == 0) {
      for (int i = 0; i < warm; ++i) shmem_getmem(local, buf, 8, 1);
      t0 = now_us();
      for (int i = 0; i < iters; ++i) shmem_getmem(local, buf, 8, 1);
      report("get", 8, (now_us() - t0) / iters, 8);
    }
    shmem_barrier_all();
  }
  if (want(argc, argv, "fadd")) {
    if (me == 0) {
      for (int i = 0; i < warm; ++i) (void)shmem_long_atomic_fetch_add(word, 1, 1);
      t0 = now_us();
      for (int i = 0; i < iters; ++i) (void)shmem_long_atomic_fetch_add(word, 1, 1);
      report("fadd", 8, (now_us() - t0) / iters, 8);
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
        shmem_long_p(&flag, i, 1);
        shmem_long_wait_until(&flag, SHMEM_CMP_EQ, i);
      } else if (me == 1) {
        shmem_long_wait_until(&flag, SHMEM_CMP_EQ, i);
        shmem_long_p(&flag, i, 0);
      }
    }
    if (me == 0) report("pingpong", 8, (now_us() - t0) / n / 2, 8);
    shmem_barrier_all();
  }
  for (int g = 0; g < 2; ++g) {
    const char* op = g == 0 ? "putbw" : "getbw";
    if (!want(argc, argv, op)) continue;
    for (size_t bytes = 8; bytes <= MAXBYTES; bytes *= 4) {
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
        report(op, bytes, best, (double)bytes);
      }
      shmem_barrier_all();
    }
  }
  shmem_free(word);
  shmem_free(buf);
  free(local);
  shmem_finalize();
  return 0;
}
