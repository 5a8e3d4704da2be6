/* hello_mpi.c - an MPI program built with an installed MPI-FM's mpicc: an allreduce of the ranks.
 * Prints "hello_mpi: rank X of N: PASS", exits 1 otherwise. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size, sum = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  int ok = sum == size * (size - 1) / 2;
  if (ok)
    printf("hello_mpi: rank %d of %d: PASS\n", rank, size);
  else
    fprintf(stderr, "hello_mpi: rank %d: sum %d\n", rank, sum);
  MPI_Finalize();
  return ok ? 0 : 1;
}
