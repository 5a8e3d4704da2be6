/*
 * isend_nowait.c - MPI_Isend and MPI_Issend are local: they return while the receiver stays
 * outside MPI (MPI 4.0 §3.7: a nonblocking send start call "may return before the message is
 * copied out of the send buffer").  Rank 0 starts sends to rank 1 of many sizes (8 B to 256 KiB:
 * the compact, short, eager and rendezvous paths), more bytes than FM's credit window and than a
 * shared-memory ring hold, while rank 1 computes outside MPI; rank 1 enters MPI only once rank 0
 * has said, through a file both see (not through MPI), that every send call returned.  Were a
 * send call to wait for the receiver, rank 0 would never say so and rank 1 reports it after a
 * minute (a hang guard, not a timing: on time the file appears at once).  Then rank 1 receives
 * everything and checks every byte and the order; rank 0 completes its requests.  Rank 0 prints
 * PASS when both passed.  Two ranks on one host (the file): over shm, tcp and udp.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* both sides of 16 KiB, of the same-host eager limit (32 KiB) and of the largest eager payload a
 * 64 KiB shm ring holds (65048 bytes, the network limit's cap there) */
static const int sizes[] = {8,     1000,  4096,  8192,  16384, 16385, 32768,
                            32769, 40000, 65048, 65049, 65536, 262144};
#define NSIZES ((int)(sizeof(sizes) / sizeof(sizes[0])))
/* 12 x 595 KiB: more than a 64-credit window or a 64 KiB ring of any transport holds */
#define ROUNDS 12
#define NMSG (NSIZES * ROUNDS)

static unsigned char pattern(int seq, int i) {
  return (unsigned char)(seq * 29 + i * 7 + 3);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size, bad = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 2) {
    if (rank == 0) fprintf(stderr, "isend_nowait: needs 2 ranks\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  char path[256] = "";
  if (rank == 0) {
    const char* dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/isend_nowait.XXXXXX", dir != NULL && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
      perror("isend_nowait: mkstemp");
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    close(fd);
  }
  MPI_Bcast(path, sizeof path, MPI_CHAR, 0, MPI_COMM_WORLD);

  unsigned char** buf = malloc(NMSG * sizeof *buf);
  for (int m = 0; m < NMSG; m++) {
    const int n = sizes[m % NSIZES];
    buf[m] = malloc(n);
    if (rank == 0)
      for (int i = 0; i < n; i++) buf[m][i] = pattern(m, i);
    else
      memset(buf[m], 0, n);
  }
  MPI_Request req[NMSG];
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    /* every fourth message synchronous: its start call returns too, its completion waits */
    for (int m = 0; m < NMSG; m++) {
      const int n = sizes[m % NSIZES];
      if (m % 4 == 3)
        MPI_Issend(buf[m], n, MPI_BYTE, 1, m % NSIZES, MPI_COMM_WORLD, &req[m]);
      else
        MPI_Isend(buf[m], n, MPI_BYTE, 1, m % NSIZES, MPI_COMM_WORLD, &req[m]);
    }
    FILE* f = fopen(path, "w");
    if (f == NULL || fputs("returned\n", f) < 0 || fclose(f) != 0) {
      perror("isend_nowait: writing the file");
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Waitall(NMSG, req, MPI_STATUSES_IGNORE);
  } else {
    /* outside MPI until rank 0's send calls have all returned */
    int seen = 0;
    for (int tick = 0; tick < 60000 && !seen; tick++) {
      FILE* f = fopen(path, "r");
      char line[32] = "";
      if (f != NULL) {
        seen = fgets(line, sizeof line, f) != NULL && strcmp(line, "returned\n") == 0;
        fclose(f);
      }
      if (!seen) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
      }
    }
    if (!seen) {
      fprintf(stderr,
              "isend_nowait: rank 0's MPI_Isend/MPI_Issend calls did not all return within 60 s "
              "while this rank stayed outside MPI: a nonblocking send waited for its receiver\n");
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (int m = 0; m < NMSG; m++) {
      const int n = sizes[m % NSIZES];
      MPI_Status st;
      int count = -1;
      MPI_Recv(buf[m], n, MPI_BYTE, 0, m % NSIZES, MPI_COMM_WORLD, &st);
      MPI_Get_count(&st, MPI_BYTE, &count);
      if (count != n) {
        fprintf(stderr, "isend_nowait: message %d: %d bytes, expected %d\n", m, count, n);
        bad++;
        continue;
      }
      for (int i = 0; i < n; i++)
        if (buf[m][i] != pattern(m, i)) {
          fprintf(stderr, "isend_nowait: message %d (%d B): byte %d is %u, expected %u\n", m, n, i,
                  buf[m][i], pattern(m, i));
          bad++;
          break;
        }
    }
  }
  int total = 0;
  MPI_Reduce(&bad, &total, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    unlink(path);
    if (total == 0) printf("isend_nowait: PASS (%d sends of 8 B to 256 KiB)\n", NMSG);
  }
  for (int m = 0; m < NMSG; m++) free(buf[m]);
  free(buf);
  MPI_Finalize();
  return total == 0 ? 0 : 1;
}
