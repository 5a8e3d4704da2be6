/*
 * ring.c - MPI ring: a message travels around all ranks, each adding its rank, for several sizes
 * (eager, rendezvous, non-contiguous).  Self-checking: prints "ring: PASS" on rank 0 or exits 1.
 *
 *   mpicc -o ring ring.c && mpiexec -n 4 ./ring [laps]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(int rank, const char* what, long got, long want) {
  fprintf(stderr, "ring: rank %d: %s: got %ld, expected %ld\n", rank, what, got, want);
  MPI_Abort(MPI_COMM_WORLD, 1);
  return 1;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int laps = argc > 1 ? atoi(argv[1]) : 10;
  int next = (rank + 1) % size, prev = (rank + size - 1) % size;

  /* a token: each rank adds its rank, laps times around */
  long token = 0;
  for (int lap = 0; lap < laps; lap++) {
    if (rank == 0) {
      token += rank;
      MPI_Send(&token, 1, MPI_LONG, next, lap, MPI_COMM_WORLD);
      MPI_Recv(&token, 1, MPI_LONG, prev, lap, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
      MPI_Recv(&token, 1, MPI_LONG, prev, lap, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      token += rank;
      MPI_Send(&token, 1, MPI_LONG, next, lap, MPI_COMM_WORLD);
    }
  }
  if (rank == 0 && token != (long)laps * size * (size - 1) / 2)
    return fail(rank, "token", token, (long)laps * size * (size - 1) / 2);

  /* buffers of growing size shifted one step around the ring with Sendrecv: each element
   * carries its origin rank, checked byte-exact */
  for (size_t n = 1; n <= (size_t)4 << 20; n *= 8) {
    int *out = malloc(n * sizeof(int)), *in = malloc(n * sizeof(int));
    for (size_t i = 0; i < n; i++) out[i] = (int)(rank * 1000003 + i);
    MPI_Status st;
    MPI_Sendrecv(out, (int)n, MPI_INT, next, 7, in, (int)n, MPI_INT, prev, 7, MPI_COMM_WORLD, &st);
    int count;
    MPI_Get_count(&st, MPI_INT, &count);
    if ((size_t)count != n) return fail(rank, "Sendrecv count", count, (long)n);
    for (size_t i = 0; i < n; i++)
      if (in[i] != (int)(prev * 1000003 + i))
        return fail(rank, "Sendrecv element", in[i], (long)(prev * 1000003 + i));
    free(out);
    free(in);
  }

  /* non-contiguous: every other element of a vector */
  enum { N = 100000 };
  double *v = malloc(2 * N * sizeof(double)), *w = calloc(2 * N, sizeof(double));
  for (int i = 0; i < 2 * N; i++) v[i] = rank + i * 0.5;
  MPI_Datatype every_other;
  MPI_Type_vector(N, 1, 2, MPI_DOUBLE, &every_other);
  MPI_Type_commit(&every_other);
  MPI_Request rq[2];
  MPI_Irecv(w, 1, every_other, prev, 9, MPI_COMM_WORLD, &rq[0]);
  MPI_Isend(v, 1, every_other, next, 9, MPI_COMM_WORLD, &rq[1]);
  MPI_Waitall(2, rq, MPI_STATUSES_IGNORE);
  for (int i = 0; i < 2 * N; i++) {
    double want = i % 2 == 0 ? prev + i * 0.5 : 0.0;
    if (w[i] != want) return fail(rank, "vector element", (long)(w[i] * 2), (long)(want * 2));
  }
  MPI_Type_free(&every_other);
  free(v);
  free(w);

  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0)
    printf("ring: PASS (%d ranks, %d laps, sizes 4 B to 16 MiB, vector type)\n", size, laps);
  MPI_Finalize();
  return 0;
}
