/*
 * io.c - MPI-IO (ROMIO) on MPI-FM: the ranks write one shared file through an interleaved file
 * view with a collective write, then every rank reads back a neighbour's part with independent
 * and collective reads, and appends a record with the ordered (shared file pointer) write.
 * Self-checking: prints "io: PASS" on rank 0 or exits 1.  The file is removed at the end.
 *
 *   mpicc -o io io.c && mpiexec -n 4 ./io [file]     (default: $TMPDIR/io.<pid of rank 0>)
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BLOCK = 1024, BLOCKS = 64 }; /* ints per block, blocks per rank */

static void check(int rc, int rank, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len;
  MPI_Error_string(rc, msg, &len);
  fprintf(stderr, "io: rank %d: %s: %s\n", rank, what, msg);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

static int value(int rank, int block, int i) {
  return rank * 1000003 + block * BLOCK + i;
}

static void expect(int rank, const char* what, const int* got, int owner) {
  for (int b = 0; b < BLOCKS; b++)
    for (int i = 0; i < BLOCK; i++)
      if (got[b * BLOCK + i] != value(owner, b, i)) {
        fprintf(stderr,
                "io: rank %d: %s: block %d element %d of rank %d's part: got %d, expected %d\n",
                rank, what, b, i, owner, got[b * BLOCK + i], value(owner, b, i));
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char path[4096];
  if (argc > 1) {
    snprintf(path, sizeof path, "%s", argv[1]);
  } else {
    int pid = (int)getpid();
    MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
    const char* tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/io.%d", tmp && *tmp ? tmp : "/tmp", pid);
  }
  /* errors on files are returned, not fatal: checked with their message */
  MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN);

  int* out = malloc(sizeof(int) * BLOCK * BLOCKS);
  int* in = malloc(sizeof(int) * BLOCK * BLOCKS);
  for (int b = 0; b < BLOCKS; b++)
    for (int i = 0; i < BLOCK; i++) out[b * BLOCK + i] = value(rank, b, i);

  /* the file: block b of rank r at (b * size + r) * BLOCK ints */
  MPI_Datatype blocks;
  MPI_Type_vector(BLOCKS, BLOCK, BLOCK * size, MPI_INT, &blocks);
  MPI_Type_commit(&blocks);
  MPI_File fh;
  check(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh),
        rank, path);
  MPI_Offset mine = (MPI_Offset)rank * BLOCK * sizeof(int);
  check(MPI_File_set_view(fh, mine, MPI_INT, blocks, "native", MPI_INFO_NULL), rank, "set_view");
  check(MPI_File_write_all(fh, out, BLOCK * BLOCKS, MPI_INT, MPI_STATUS_IGNORE), rank, "write_all");
  check(MPI_File_sync(fh), rank, "sync");
  MPI_Barrier(MPI_COMM_WORLD);
  check(MPI_File_sync(fh), rank, "sync");

  MPI_Offset fsize;
  check(MPI_File_get_size(fh, &fsize), rank, "get_size");
  MPI_Offset want = (MPI_Offset)size * BLOCKS * BLOCK * sizeof(int);
  if (fsize != want) {
    fprintf(stderr, "io: rank %d: file size %lld, expected %lld\n", rank, (long long)fsize,
            (long long)want);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }

  /* the next rank's part: independent reads block by block through the plain byte view ... */
  int next = (rank + 1) % size;
  check(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL), rank, "set_view");
  memset(in, 0, sizeof(int) * BLOCK * BLOCKS);
  for (int b = 0; b < BLOCKS; b++)
    check(MPI_File_read_at(fh, ((MPI_Offset)b * size + next) * BLOCK * sizeof(int), in + b * BLOCK,
                           BLOCK, MPI_INT, MPI_STATUS_IGNORE),
          rank, "read_at");
  expect(rank, "independent read", in, next);

  /* ... and the previous rank's with a collective read through its view */
  int prev = (rank + size - 1) % size;
  check(MPI_File_set_view(fh, (MPI_Offset)prev * BLOCK * sizeof(int), MPI_INT, blocks, "native",
                          MPI_INFO_NULL),
        rank, "set_view");
  memset(in, 0, sizeof(int) * BLOCK * BLOCKS);
  MPI_Status st;
  check(MPI_File_read_all(fh, in, BLOCK * BLOCKS, MPI_INT, &st), rank, "read_all");
  int count;
  MPI_Get_count(&st, MPI_INT, &count);
  if (count != BLOCK * BLOCKS) {
    fprintf(stderr, "io: rank %d: read_all count %d, expected %d\n", rank, count, BLOCK * BLOCKS);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  expect(rank, "collective read", in, prev);

  /* ordered writes after the data, through the shared file pointer: rank order */
  check(MPI_File_set_view(fh, want, MPI_INT, MPI_INT, "native", MPI_INFO_NULL), rank, "set_view");
  int rec[2] = {rank, -rank};
  check(MPI_File_write_ordered(fh, rec, 2, MPI_INT, MPI_STATUS_IGNORE), rank, "write_ordered");
  check(MPI_File_sync(fh), rank, "sync");
  MPI_Barrier(MPI_COMM_WORLD);
  check(MPI_File_sync(fh), rank, "sync");
  int* recs = malloc(sizeof(int) * 2 * size);
  check(MPI_File_read_at_all(fh, 0, recs, 2 * size, MPI_INT, MPI_STATUS_IGNORE), rank,
        "read_at_all");
  for (int r = 0; r < size; r++)
    if (recs[2 * r] != r || recs[2 * r + 1] != -r) {
      fprintf(stderr, "io: rank %d: ordered record %d: got (%d, %d), expected (%d, %d)\n", rank, r,
              recs[2 * r], recs[2 * r + 1], r, -r);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }

  check(MPI_File_close(&fh), rank, "close");
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) check(MPI_File_delete(path, MPI_INFO_NULL), rank, "delete");
  MPI_Type_free(&blocks);
  free(out);
  free(in);
  free(recs);
  if (rank == 0)
    printf(
        "io: PASS (%d ranks, %lld bytes through a strided view, collective and independent, "
        "ordered records)\n",
        size, (long long)want);
  MPI_Finalize();
  return 0;
}
