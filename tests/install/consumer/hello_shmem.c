/* hello_shmem.c - an OpenSHMEM program built with an installed SHMEM-FM (oshcc, find_package):
 * each PE puts its number into the next PE's symmetric variable.  Prints "hello_shmem: PE X of N:
 * PASS", exits 1 otherwise. */
#include <shmem.h>
#include <stdio.h>

static int value = -1;

int main(void) {
  shmem_init();
  int me = shmem_my_pe(), n = shmem_n_pes();
  shmem_int_p(&value, me, (me + 1) % n);
  shmem_barrier_all();
  int ok = value == (me + n - 1) % n;
  if (!ok)
    fprintf(stderr, "hello_shmem: PE %d: got %d\n", me, value);
  else
    printf("hello_shmem: PE %d of %d: PASS\n", me, n);
  shmem_finalize();
  return ok ? 0 : 1;
}
