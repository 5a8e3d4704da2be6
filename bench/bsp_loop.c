/*
 * bsp_loop.c - a bulk-synchronous MPI loop, for any MPI (compiled with MPI-FM's, MPICH's or Open
 * MPI's mpicc): what bench/cosched.sh runs to see how jobs that share CPUs are scheduled.
 *
 *   bsp_loop [-g GRAIN_US] [-i ITERS] [-w WARMUP] [-k SPINS_PER_US] [-G GO_FILE]
 *
 * Per iteration, every rank:
 *   1. computes for GRAIN_US (default 200) microseconds of *CPU time*: a spin loop whose speed
 *      (spins per microsecond, on CLOCK_THREAD_CPUTIME_ID) is calibrated once at start, the best
 *      of a few trials, the largest over the ranks; every rank then does the same fixed count of
 *      spins per iteration whatever the contention.  -k gives the rate instead (bench/cosched.sh
 *      calibrates once and passes it to every run, so that every job does the same work);
 *   2. exchanges 1 KiB with both ring neighbours (MPI_Irecv, MPI_Isend, MPI_Waitall);
 *   3. takes part in an 8-byte MPI_Allreduce (sum).
 * -G: after the warm-up, rank 0 creates GO_FILE.ready.PID and waits (asleep, polling every
 * millisecond) until GO_FILE exists, then the timed loop starts with a barrier: bench/cosched.sh
 * creates GO_FILE once every job it started is ready, so that their timed loops overlap from
 * the start whatever their launchers' start-up takes.
 * Both the messages and the sums are checked: a wrong value is reported on stderr and the
 * program exits 1.
 *
 * Output, rank 0 only: on stderr a "# bsp_loop: ..." line with the parameters and the rate; on
 * stdout one CSV line
 *   ranks,grain_us,iters,wall_s,cpu_s,compute_s
 * wall_s: the timed loop (after WARMUP iterations, default 50), the largest over the ranks;
 * cpu_s: the sum over the ranks of their process's user + system CPU time (getrusage
 * RUSAGE_SELF, every thread) during the timed loop; compute_s: the sum over the ranks of the
 * thread CPU time spent in part 1.  Default ITERS: 1,000,000 / GRAIN_US (1 s of computation per
 * rank: a dedicated 2-rank run takes a little more than 1 s at any grain).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MSG_WORDS (1024 / sizeof(uint64_t)) /* 1 KiB to each neighbour */
#define TAG_RIGHT 1                         /* sent to the right-hand neighbour */
#define TAG_LEFT 2                          /* sent to the left-hand neighbour */

static volatile uint64_t sink; /* keeps the spin loop's result alive */

/* The work: a dependent chain of integer operations (xorshift64), no memory traffic. */
static uint64_t spin(uint64_t n, uint64_t x) {
  for (uint64_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

static double now(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double rusage_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Spins per microsecond of this thread's CPU time: the best of several trials of about 5 ms. */
static double calibrate(void) {
  uint64_t n = 100000, x = 88172645463325252ull;
  double t0 = now(CLOCK_THREAD_CPUTIME_ID);
  x = spin(n, x);
  double t = now(CLOCK_THREAD_CPUTIME_ID) - t0;
  double rate = t > 0 ? (double)n / (t * 1e6) : 1000.0;
  for (int trial = 0; trial < 7; trial++) {
    n = (uint64_t)(rate * 5000.0) + 1;
    t0 = now(CLOCK_THREAD_CPUTIME_ID);
    x = spin(n, x);
    t = now(CLOCK_THREAD_CPUTIME_ID) - t0;
    if (t > 0 && (double)n / (t * 1e6) > rate) rate = (double)n / (t * 1e6);
  }
  sink = x;
  return rate;
}

static uint64_t word(int from, long it, size_t i) { /* what rank `from` sends in iteration it */
  return ((uint64_t)from << 48) ^ ((uint64_t)it << 16) ^ (uint64_t)i ^ 0x5a5a000000000000ull;
}

static void usage(const char* argv0) {
  fprintf(stderr,
          "usage: %s [-g GRAIN_US (200)] [-i ITERS (1000000/GRAIN_US)] [-w WARMUP (50)] "
          "[-k SPINS_PER_US (calibrated)] [-G GO_FILE]\n",
          argv0);
}

int main(int argc, char** argv) {
  long grain = 200, iters = -1, warmup = 50;
  double rate = 0;
  const char* go = NULL;
  int opt, bad = 0;
  while ((opt = getopt(argc, argv, "g:i:w:k:G:h")) != -1) {
    char* end = NULL;
    errno = 0;
    switch (opt) {
      case 'g':
        grain = strtol(optarg, &end, 10);
        bad |= grain < 0;
        break;
      case 'i':
        iters = strtol(optarg, &end, 10);
        bad |= iters < 1;
        break;
      case 'w':
        warmup = strtol(optarg, &end, 10);
        bad |= warmup < 0;
        break;
      case 'k':
        rate = strtod(optarg, &end);
        bad |= !(rate > 0);
        break;
      case 'G':
        go = optarg;
        bad |= *go == '\0';
        break;
      default:
        bad = 1;
        break;
    }
    if (end != NULL && (*end != '\0' || end == optarg || errno != 0)) bad = 1;
  }
  if (bad || optind != argc) {
    usage(argv[0]);
    return 2;
  }
  if (iters < 0) iters = grain > 0 ? 1000000 / grain : 10000;
  if (iters < 1) iters = 1;

  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int right = (rank + 1) % size, left = (rank + size - 1) % size;

  const int calibrated = !(rate > 0);
  if (calibrated) {
    double mine = calibrate();
    MPI_Allreduce(&mine, &rate, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  }
  const uint64_t spins = (uint64_t)(rate * (double)grain + 0.5);

  uint64_t sbuf[MSG_WORDS], from_left[MSG_WORDS], from_right[MSG_WORDS];
  long errors = 0;
  uint64_t x = 88172645463325252ull ^ (uint64_t)rank;
  double compute = 0, wall0 = 0, cpu0 = 0;
  for (long it = -warmup; it < iters; it++) {
    if (it == 0) {                   /* the timed loop starts together */
      if (go != NULL && rank == 0) { /* and when the other jobs are ready */
        char ready[4096];
        snprintf(ready, sizeof ready, "%s.ready.%ld", go, (long)getpid());
        FILE* f = fopen(ready, "w");
        if (f == NULL || fclose(f) != 0)
          fprintf(stderr, "bsp_loop: %s: %s (-G: starting now)\n", ready, strerror(errno));
        else {
          const struct timespec ms = {0, 1000000};
          while (access(go, F_OK) != 0) nanosleep(&ms, NULL);
        }
      }
      MPI_Barrier(MPI_COMM_WORLD);
      compute = 0;
      cpu0 = rusage_s();
      wall0 = now(CLOCK_MONOTONIC);
    }
    /* 1. the computation */
    double c0 = now(CLOCK_THREAD_CPUTIME_ID);
    x = spin(spins, x);
    compute += now(CLOCK_THREAD_CPUTIME_ID) - c0;
    /* 2. 1 KiB with both ring neighbours */
    for (size_t i = 0; i < MSG_WORDS; i++) sbuf[i] = word(rank, it, i);
    MPI_Request req[4];
    MPI_Status st[4];
    MPI_Irecv(from_left, (int)sizeof from_left, MPI_BYTE, left, TAG_RIGHT, MPI_COMM_WORLD, &req[0]);
    MPI_Irecv(from_right, (int)sizeof from_right, MPI_BYTE, right, TAG_LEFT, MPI_COMM_WORLD,
              &req[1]);
    MPI_Isend(sbuf, (int)sizeof sbuf, MPI_BYTE, right, TAG_RIGHT, MPI_COMM_WORLD, &req[2]);
    MPI_Isend(sbuf, (int)sizeof sbuf, MPI_BYTE, left, TAG_LEFT, MPI_COMM_WORLD, &req[3]);
    MPI_Waitall(4, req, st); /* not MPI_STATUSES_IGNORE: MPICH's header trips gcc 12 */
    for (size_t i = 0; i < MSG_WORDS; i++) {
      if (from_left[i] != word(left, it, i) || from_right[i] != word(right, it, i)) {
        if (errors++ < 5)
          fprintf(stderr, "bsp_loop: rank %d, iteration %ld: wrong word %zu from a neighbour\n",
                  rank, it, i);
        break;
      }
    }
    /* 3. an 8-byte allreduce: sum over ranks of (rank + 1) * (it + warmup + 1) */
    int64_t mine = (int64_t)(rank + 1) * (it + warmup + 1), sum = 0;
    MPI_Allreduce(&mine, &sum, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    const int64_t want = (int64_t)size * (size + 1) / 2 * (it + warmup + 1);
    if (sum != want && errors++ < 5)
      fprintf(stderr,
              "bsp_loop: rank %d, iteration %ld: allreduce gave %" PRId64 ", not %" PRId64 "\n",
              rank, it, sum, want);
  }
  double wall = now(CLOCK_MONOTONIC) - wall0, cpu = rusage_s() - cpu0;
  sink = x;

  double mine[2] = {cpu, compute}, sums[2] = {0, 0}, wall_max = 0;
  long errors_all = 0;
  MPI_Reduce(mine, sums, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  MPI_Reduce(&wall, &wall_max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  MPI_Allreduce(&errors, &errors_all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) {
    fprintf(stderr,
            "# bsp_loop: %d ranks, grain %ld us, %ld iterations (+%ld warm-up), "
            "%.3f spins/us (%s), %" PRIu64 " spins per iteration%s\n",
            size, grain, iters, warmup, rate, calibrated ? "calibrated" : "-k", spins,
            errors_all ? ", WRONG RESULTS" : "");
    printf("%d,%ld,%ld,%.6f,%.6f,%.6f\n", size, grain, iters, wall_max, sums[0], sums[1]);
    fflush(stdout);
  }
  MPI_Finalize();
  return errors_all ? 1 : 0;
}
