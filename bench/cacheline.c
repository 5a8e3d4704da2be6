/* cacheline.c - the floor under every on-host latency: one cache line passed back and forth
 * between two processes (a counter each writes in turn, no FM, no library), as one-way ns.
 * On a VM the figure moves with where the host places the vCPUs (80 ns on one core complex of
 * this EPYC host, 300 ns across two), so bench/shm.sh measures it in every round next to the
 * stacks it compares.  Usage: cacheline [-I iterations] (default 1000000). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long iters = 1000000;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "-I") == 0 && i + 1 < argc) {
      iters = strtol(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "usage: cacheline [-I iterations]\n");
      return 2;
    }
  }
  if (iters <= 0) {
    fprintf(stderr, "cacheline: -I must be positive\n");
    return 2;
  }
  /* two lines, one per direction, on one shared page */
  _Atomic long* line = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (line == MAP_FAILED) {
    perror("cacheline: mmap");
    return 1;
  }
  _Atomic long* ping = line;
  _Atomic long* pong = line + 16;
  atomic_store(ping, 0);
  atomic_store(pong, 0);
  const long warm = iters / 10 + 1000;
  pid_t child = fork();
  if (child < 0) {
    perror("cacheline: fork");
    return 1;
  }
  if (child == 0) {
    for (long i = 1; i <= warm + iters; ++i) {
      while (atomic_load_explicit(ping, memory_order_acquire) != i) {
      }
      atomic_store_explicit(pong, i, memory_order_release);
    }
    _exit(0);
  }
  struct timespec t0 = {0, 0}, t1;
  for (long i = 1; i <= warm + iters; ++i) {
    if (i == warm + 1) clock_gettime(CLOCK_MONOTONIC, &t0);
    atomic_store_explicit(ping, i, memory_order_release);
    while (atomic_load_explicit(pong, memory_order_acquire) != i) {
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  int status = 0;
  waitpid(child, &status, 0);
  const double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%.1f\n", ns / (double)iters / 2);
  return 0;
}
