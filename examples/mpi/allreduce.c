/*
 * allreduce.c - collectives with exact expected results: MPI_Allreduce (sum, max, a user-defined
 * non-commutative-safe operation) over 1 to 1M elements, MPI_Reduce, MPI_Bcast, MPI_Allgather,
 * MPI_Alltoall, on MPI_COMM_WORLD and a split communicator.
 * Self-checking: prints "allreduce: PASS" on rank 0 or exits 1.
 *
 *   mpicc -o allreduce allreduce.c && mpiexec -n 4 ./allreduce
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int rank_w;

#define CHECK(cond, ...)                               \
  do {                                                 \
    if (!(cond)) {                                     \
      fprintf(stderr, "allreduce: rank %d: ", rank_w); \
      fprintf(stderr, __VA_ARGS__);                    \
      fprintf(stderr, "\n");                           \
      MPI_Abort(MPI_COMM_WORLD, 1);                    \
    }                                                  \
  } while (0)

/* element-wise (a*b) mod 1000003 on int64: associative and commutative */
static void mulmod(void* in, void* inout, int* len, MPI_Datatype* dt) {
  (void)dt;
  int64_t *a = in, *b = inout;
  for (int i = 0; i < *len; i++) b[i] = (a[i] * b[i]) % 1000003;
}

static void run(MPI_Comm comm, const char* name) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  MPI_Op op;
  MPI_Op_create(mulmod, 1, &op);
  for (int n = 1; n <= 1 << 20; n *= 16) {
    int64_t *x = malloc(n * sizeof(int64_t)), *y = malloc(n * sizeof(int64_t));
    for (int i = 0; i < n; i++) x[i] = rank + i;
    MPI_Allreduce(x, y, n, MPI_INT64_T, MPI_SUM, comm);
    for (int i = 0; i < n; i++)
      CHECK(y[i] == (int64_t)size * i + (int64_t)size * (size - 1) / 2,
            "%s: sum of %d: element %d is %lld", name, n, i, (long long)y[i]);
    MPI_Allreduce(x, y, n, MPI_INT64_T, MPI_MAX, comm);
    for (int i = 0; i < n; i++)
      CHECK(y[i] == size - 1 + i, "%s: max of %d: element %d is %lld", name, n, i, (long long)y[i]);
    for (int i = 0; i < n; i++) x[i] = (rank + 2) * (int64_t)(i % 7 + 1);
    MPI_Allreduce(x, y, n, MPI_INT64_T, op, comm);
    for (int i = 0; i < n; i++) {
      int64_t want = 1;
      for (int r = 0; r < size; r++) want = (want * ((r + 2) * (int64_t)(i % 7 + 1))) % 1000003;
      CHECK(y[i] == want, "%s: user op of %d: element %d is %lld, want %lld", name, n, i,
            (long long)y[i], (long long)want);
    }
    /* reduce to the last rank, then broadcast from it */
    for (int i = 0; i < n; i++) x[i] = rank * 3 + i;
    MPI_Reduce(x, y, n, MPI_INT64_T, MPI_SUM, size - 1, comm);
    if (rank != size - 1)
      for (int i = 0; i < n; i++) y[i] = -1;
    MPI_Bcast(y, n, MPI_INT64_T, size - 1, comm);
    for (int i = 0; i < n; i++)
      CHECK(y[i] == (int64_t)3 * size * (size - 1) / 2 + (int64_t)size * i,
            "%s: reduce+bcast of %d: element %d is %lld", name, n, i, (long long)y[i]);
    free(x);
    free(y);
  }
  int *g = malloc(size * sizeof(int)), *s = malloc(size * sizeof(int)),
      *t = malloc(size * sizeof(int));
  MPI_Allgather(&rank, 1, MPI_INT, g, 1, MPI_INT, comm);
  for (int r = 0; r < size; r++) {
    CHECK(g[r] == r, "%s: allgather[%d] = %d", name, r, g[r]);
    s[r] = rank * 100 + r;
  }
  MPI_Alltoall(s, 1, MPI_INT, t, 1, MPI_INT, comm);
  for (int r = 0; r < size; r++)
    CHECK(t[r] == r * 100 + rank, "%s: alltoall[%d] = %d", name, r, t[r]);
  free(g);
  free(s);
  free(t);
  MPI_Op_free(&op);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_w);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  run(MPI_COMM_WORLD, "world");
  MPI_Comm half;
  MPI_Comm_split(MPI_COMM_WORLD, rank_w % 2, size - rank_w, &half); /* reversed order */
  run(half, "split");
  MPI_Comm_free(&half);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_w == 0)
    printf(
        "allreduce: PASS (%d ranks; 1 to 1M elements; sum, max, user op; reduce, bcast, "
        "allgather, alltoall; world and split)\n",
        size);
  MPI_Finalize();
  return 0;
}
