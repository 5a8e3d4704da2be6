/* hello_ga.c - a Global Arrays program built with an installed GA-FM's ga-config and MPI-FM's
 * mpicc: each process puts its rank into its own row of a shared matrix, then reads the whole
 * matrix back.  Prints "hello_ga: rank X of N: PASS", exits 1 otherwise. */
#include <ga.h>
#include <macdecls.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  GA_Initialize();
  MA_init(C_DBL, 1000, 1000);
  int me = GA_Nodeid(), n = GA_Nnodes();
  int dims[2] = {n, 4}, chunk[2] = {1, 4};
  int g = NGA_Create(C_INT, 2, dims, "hello", chunk);
  int row[4] = {me, me, me, me};
  int lo[2] = {(me + 1) % n, 0}, hi[2] = {(me + 1) % n, 3}, ld = 4;
  NGA_Put(g, lo, hi, row, &ld); /* into the next process's row */
  GA_Sync();
  int* all = malloc(sizeof(int) * 4 * (size_t)n);
  int alo[2] = {0, 0}, ahi[2] = {n - 1, 3};
  NGA_Get(g, alo, ahi, all, &ld);
  int ok = 1;
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < 4; ++c) ok = ok && all[r * 4 + c] == (r + n - 1) % n;
  if (ok)
    printf("hello_ga: rank %d of %d: PASS\n", me, n);
  else
    fprintf(stderr, "hello_ga: rank %d: wrong matrix\n", me);
  free(all);
  GA_Destroy(g);
  GA_Terminate();
  MPI_Finalize();
  return ok ? 0 : 1;
}
