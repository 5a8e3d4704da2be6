/*
 * mpi_perf.c - MPI ping-pong latency and streaming bandwidth between ranks 0 and 1, in the manner
 * of the OSU micro-benchmarks, for any MPI (compiled with MPI-FM's, MPICH's or Open MPI's mpicc).
 *
 *   mpi_perf [-t latency|bw] [-S size] [-I iterations] [-W window] [-w warmup]
 *
 * latency: one-way time = round trip / 2, mean over I iterations after w warm-up ones (us).
 * bw: rank 0 posts W MPI_Isend of S bytes, rank 1 W MPI_Irecv (all of one buffer, as the OSU
 *     benchmarks do); rank 1 acknowledges each window with a 4-byte message; bandwidth =
 *     S * W * I / time (MB/s, MB = 10^6 bytes).
 * Output (rank 0): the benchmarks' common format (perf_report.h): a header with every parameter,
 * then the row of the size; --csv for comma-separated rows.  latency: p50, p99 and mean of the
 * round trips / 2; bw: bandwidth and message rate.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perf_report.h"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const char* test = "latency";
  long bytes = 8, iters = 10000, window = 64, warmup = -1;
  int csv = 0;
  for (int i = 1; i < argc; i++) /* --csv, before getopt sees it */
    if (strcmp(argv[i], "--csv") == 0) {
      csv = 1;
      for (int j = i; j < argc - 1; j++) argv[j] = argv[j + 1];
      argc--;
      break;
    }
  int c;
  while ((c = getopt(argc, argv, "t:S:I:W:w:")) != -1) {
    switch (c) {
      case 't':
        test = optarg;
        break;
      case 'S':
        bytes = atol(optarg);
        break;
      case 'I':
        iters = atol(optarg);
        break;
      case 'W':
        window = atol(optarg);
        break;
      case 'w':
        warmup = atol(optarg);
        break;
      default:
        if (rank == 0)
          fprintf(stderr,
                  "usage: mpi_perf [-t latency|bw] [-S size] [-I iters] "
                  "[-W window] [-w warmup] [--csv]\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
  }
  if (size < 2 || bytes < 0 || iters < 1 || window < 1 || window > 1024 ||
      (strcmp(test, "latency") != 0 && strcmp(test, "bw") != 0)) {
    if (rank == 0)
      fprintf(stderr,
              "mpi_perf: need 2 ranks, -t latency|bw, S >= 0, I >= 1, "
              "1 <= W <= 1024 (got %d ranks, -t %s, S %ld, I %ld, W %ld)\n",
              size, test, bytes, iters, window);
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  if (warmup < 0) warmup = iters / 10 < 1000 ? iters / 10 : 1000;
  char* buf = malloc(bytes > 0 ? (size_t)bytes : 1);
  memset(buf, 1, bytes > 0 ? (size_t)bytes : 1);
  MPI_Request* rq = malloc(window * sizeof(MPI_Request));
  double* rtt = malloc((size_t)iters * sizeof(double));
  double t0 = 0, t1;
  if (rank == 0) {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    for (char* p = version; *p; p++)
      if (*p == '\n') *p = ' ';
    perf_preamble("mpi_perf", version);
    perf_param("ranks: %d (ranks 0 and 1 measure), sizes: %ld B, iterations: %ld, warm-up: %ld",
               size, bytes, iters, warmup);
    perf_param("window: %ld (bw only), timer: MPI_Wtime, format: %s", window, csv ? "csv" : "text");
    perf_units();
    if (strcmp(test, "latency") == 0)
      perf_test(csv, "latency", "MPI_Send/MPI_Recv ping-pong, one-way = round trip / 2");
    else
      perf_test(csv, "bw",
                "rank 0 posts a window of MPI_Isend, rank 1 of MPI_Irecv, one ack per window");
  }
  if (rank <= 1) {
    int peer = 1 - rank;
    if (strcmp(test, "latency") == 0) {
      for (long i = 0; i < warmup + iters; i++) {
        if (i == warmup) t0 = MPI_Wtime();
        if (rank == 0) {
          const double s0 = MPI_Wtime();
          MPI_Send(buf, (int)bytes, MPI_CHAR, peer, 1, MPI_COMM_WORLD);
          MPI_Recv(buf, (int)bytes, MPI_CHAR, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
          if (i >= warmup) rtt[i - warmup] = (MPI_Wtime() - s0) * 1e6 / 2;
        } else {
          MPI_Recv(buf, (int)bytes, MPI_CHAR, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
          MPI_Send(buf, (int)bytes, MPI_CHAR, peer, 1, MPI_COMM_WORLD);
        }
      }
      t1 = MPI_Wtime();
      if (rank == 0) {
        const double mean = (t1 - t0) * 1e6 / (2.0 * iters);
        const double p99 = perf_quantile(rtt, iters, 0.99), p50 = perf_quantile(rtt, iters, 0.5);
        perf_row(csv, (size_t)bytes, iters, p50, p99, mean, mean > 0 ? bytes / mean : 0,
                 mean > 0 ? 1.0 / mean : 0);
      }
    } else {
      int ack = 0;
      for (long i = 0; i < warmup + iters; i++) {
        if (i == warmup) t0 = MPI_Wtime();
        if (rank == 0) {
          for (long k = 0; k < window; k++)
            MPI_Isend(buf, (int)bytes, MPI_CHAR, peer, 2, MPI_COMM_WORLD, &rq[k]);
          MPI_Waitall((int)window, rq, MPI_STATUSES_IGNORE);
          MPI_Recv(&ack, 1, MPI_INT, peer, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
          for (long k = 0; k < window; k++)
            MPI_Irecv(buf, (int)bytes, MPI_CHAR, peer, 2, MPI_COMM_WORLD, &rq[k]);
          MPI_Waitall((int)window, rq, MPI_STATUSES_IGNORE);
          MPI_Send(&ack, 1, MPI_INT, peer, 3, MPI_COMM_WORLD);
        }
      }
      t1 = MPI_Wtime();
      if (rank == 0) {
        const double us = (t1 - t0) * 1e6, msgs = (double)window * iters;
        perf_row(csv, (size_t)bytes, iters, NAN, NAN, NAN, (double)bytes * msgs / us, msgs / us);
      }
    }
  }
  free(rtt);
  free(rq);
  free(buf);
  MPI_Finalize();
  return 0;
}
