/*
 * halo.c - 2-D halo exchange: a Jacobi relaxation on a grid split over a Cartesian process grid,
 * rows sent contiguously, columns as an MPI vector type, with non-blocking sends and receives.
 * The result (a global checksum) is compared with the same relaxation done serially on rank 0.
 * Self-checking: prints "halo: PASS" on rank 0 or exits 1.
 *
 *   mpicc -o halo halo.c && mpiexec -n 4 ./halo [n] [iterations]
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double initial(int gi, int gj) {
  return (double)((gi * 37 + gj * 11) % 101);
}

/* serial reference: the same iterations on the whole (n+2)x(n+2) grid, border fixed at 0 */
static double serial(int n, int iters) {
  int w = n + 2;
  double *a = calloc((size_t)w * w, sizeof(double)), *b = calloc((size_t)w * w, sizeof(double));
  for (int i = 1; i <= n; i++)
    for (int j = 1; j <= n; j++) a[i * w + j] = initial(i - 1, j - 1);
  for (int it = 0; it < iters; it++) {
    for (int i = 1; i <= n; i++)
      for (int j = 1; j <= n; j++)
        b[i * w + j] =
            0.25 * (a[(i - 1) * w + j] + a[(i + 1) * w + j] + a[i * w + j - 1] + a[i * w + j + 1]);
    double* t = a;
    a = b;
    b = t;
  }
  double sum = 0;
  for (int i = 1; i <= n; i++)
    for (int j = 1; j <= n; j++) sum += a[i * w + j] * (1 + (i * 7 + j) % 5);
  free(a);
  free(b);
  return sum;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int n = argc > 1 ? atoi(argv[1]) : 240;
  int iters = argc > 2 ? atoi(argv[2]) : 50;

  int dims[2] = {0, 0}, periods[2] = {0, 0}, coords[2];
  MPI_Dims_create(size, 2, dims);
  MPI_Comm cart;
  MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 1, &cart);
  MPI_Comm_rank(cart, &rank);
  MPI_Cart_coords(cart, rank, 2, coords);
  if (n % dims[0] != 0 || n % dims[1] != 0) {
    if (rank == 0)
      fprintf(stderr, "halo: n=%d must divide by the process grid %dx%d\n", n, dims[0], dims[1]);
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  int up, down, left, right;
  MPI_Cart_shift(cart, 0, 1, &up, &down);
  MPI_Cart_shift(cart, 1, 1, &left, &right);

  int rows = n / dims[0], cols = n / dims[1];
  int w = cols + 2;
  int gi0 = coords[0] * rows, gj0 = coords[1] * cols;
  double* a = calloc((size_t)(rows + 2) * w, sizeof(double));
  double* b = calloc((size_t)(rows + 2) * w, sizeof(double));
  for (int i = 1; i <= rows; i++)
    for (int j = 1; j <= cols; j++) a[i * w + j] = initial(gi0 + i - 1, gj0 + j - 1);

  MPI_Datatype column;
  MPI_Type_vector(rows, 1, w, MPI_DOUBLE, &column);
  MPI_Type_commit(&column);

  for (int it = 0; it < iters; it++) {
    MPI_Request rq[8];
    MPI_Irecv(&a[0 * w + 1], cols, MPI_DOUBLE, up, 0, cart, &rq[0]);
    MPI_Irecv(&a[(rows + 1) * w + 1], cols, MPI_DOUBLE, down, 1, cart, &rq[1]);
    MPI_Irecv(&a[1 * w + 0], 1, column, left, 2, cart, &rq[2]);
    MPI_Irecv(&a[1 * w + cols + 1], 1, column, right, 3, cart, &rq[3]);
    MPI_Isend(&a[1 * w + 1], cols, MPI_DOUBLE, up, 1, cart, &rq[4]);
    MPI_Isend(&a[rows * w + 1], cols, MPI_DOUBLE, down, 0, cart, &rq[5]);
    MPI_Isend(&a[1 * w + 1], 1, column, left, 3, cart, &rq[6]);
    MPI_Isend(&a[1 * w + cols], 1, column, right, 2, cart, &rq[7]);
    MPI_Waitall(8, rq, MPI_STATUSES_IGNORE);
    for (int i = 1; i <= rows; i++)
      for (int j = 1; j <= cols; j++)
        b[i * w + j] =
            0.25 * (a[(i - 1) * w + j] + a[(i + 1) * w + j] + a[i * w + j - 1] + a[i * w + j + 1]);
    double* t = a;
    a = b;
    b = t;
  }
  double local = 0, global = 0;
  for (int i = 1; i <= rows; i++)
    for (int j = 1; j <= cols; j++) {
      int gi = gi0 + i, gj = gj0 + j;
      local += a[i * w + j] * (1 + (gi * 7 + gj) % 5);
    }
  MPI_Reduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, 0, cart);
  int ok = 1;
  if (rank == 0) {
    double want = serial(n, iters);
    ok = fabs(global - want) <= 1e-9 * fabs(want);
    if (!ok)
      fprintf(stderr, "halo: checksum %.12g, serial %.12g\n", global, want);
    else
      printf("halo: PASS (%dx%d grid on %dx%d ranks, %d iterations, checksum %.6f)\n", n, n,
             dims[0], dims[1], iters, global);
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, cart);
  MPI_Type_free(&column);
  MPI_Comm_free(&cart);
  free(a);
  free(b);
  MPI_Finalize();
  return ok ? 0 : 1;
}
