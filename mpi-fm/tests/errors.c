/*
 * errors.c - MPI-FM's error behaviour, self-checking:
 *   errors  (2+ ranks) with MPI_ERRORS_RETURN: a send to a rank out of range, a negative count,
 *           and a truncated receive (the payload goes through the FM netmod's receive path) each
 *           return the right MPI error class with a message; communication still works after.
 *   kill    (3+ ranks, mpiexec -disable-auto-cleanup) the last rank dies (SIGKILL) while the
 *           others wait for a message from it: they get an MPI error (not a hang) naming the
 *           failure, print "errors: kill: rank R got error class C: MSG", check the class
 *           (MPIX_ERR_PROC_FAILED, "Process failed"), and MPI_Finalize returns: exit 0.
 *   unreachable  (3+ ranks, tests/netns/run.sh --cut-host, one rank per host, over tcp) the last
 *           rank's host is cut off from the others (nobody dies, the launcher says nothing) while
 *           every rank waits in MPI_Recv for a message from the other side: each gets an MPI
 *           error within 1.5 times FM_PEER_TIMEOUT_MS plus 5 s, prints
 *           "errors: unreachable: rank R got error class C after S s: MSG" and exits 0.
 *   abort   every rank calls MPI_Abort(MPI_COMM_WORLD, 3) at once: mpiexec must exit 3 and the
 *           output keep MPICH's "Abort(3) on node R" line (run_abort.sh).
 */
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rank, size;

static void expect_class(int rc, int want, const char* what) {
  int cls;
  char msg[MPI_MAX_ERROR_STRING];
  int len;
  if (rc == MPI_SUCCESS) {
    fprintf(stderr, "errors: rank %d: %s succeeded, expected an error\n", rank, what);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Error_class(rc, &cls);
  MPI_Error_string(rc, msg, &len);
  if (cls != want) {
    fprintf(stderr, "errors: rank %d: %s: class %d (%s), expected %d\n", rank, what, cls, msg,
            want);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  printf("errors: rank %d: %s -> class %d: %s\n", rank, what, cls, msg);
}

static int test_errors(void) {
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int v[4] = {1, 2, 3, 4};
  expect_class(MPI_Send(v, 1, MPI_INT, size, 0, MPI_COMM_WORLD), MPI_ERR_RANK,
               "MPI_Send to rank == size");
  expect_class(MPI_Send(v, -1, MPI_INT, 0, 0, MPI_COMM_WORLD), MPI_ERR_COUNT,
               "MPI_Send with count -1");
  /* truncation: 4 ints into room for 2, small (eager) and large (rendezvous) */
  for (int big = 0; big < 2; big++) {
    int n = big ? 1 << 20 : 4;
    int *s = calloc(n, sizeof(int)), *r = calloc(n, sizeof(int));
    if (rank == 0) {
      MPI_Send(s, n, MPI_INT, 1, 5, MPI_COMM_WORLD);
    } else if (rank == 1) {
      MPI_Status st;
      int rc = MPI_Recv(r, n / 2, MPI_INT, 0, 5, MPI_COMM_WORLD, &st);
      expect_class(rc, MPI_ERR_TRUNCATE,
                   big ? "large truncated MPI_Recv" : "small truncated MPI_Recv");
    }
    free(s);
    free(r);
  }
  /* still usable */
  int sum = 0;
  MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (sum != size * (size - 1) / 2) {
    fprintf(stderr, "errors: rank %d: allreduce after errors gave %d\n", rank, sum);
    return 1;
  }
  if (rank == 0) printf("errors: PASS\n");
  return 0;
}

/* Prints "errors: MODE: rank R got error class C after S s: MSG" for a failed call's code rc
 * and leaves MPI's message in msg (MPI_MAX_ERROR_STRING bytes). */
static void report_failure(const char* mode, int rc, double secs, char* msg) {
  int cls, len;
  MPI_Error_class(rc, &cls);
  MPI_Error_string(rc, msg, &len);
  printf("errors: %s: rank %d got error class %d after %.1f s: %s\n", mode, rank, cls, secs, msg);
  fflush(stdout);
}

static int test_kill(void) {
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Barrier(MPI_COMM_WORLD);
  int victim = size - 1;
  if (rank == victim) {
    usleep(200000);
    raise(SIGKILL);
  }
  int x;
  double t0 = MPI_Wtime();
  int rc = MPI_Recv(&x, 1, MPI_INT, victim, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (rc == MPI_SUCCESS) {
    fprintf(stderr, "errors: kill: rank %d received from the dead rank\n", rank);
    return 1;
  }
  char msg[MPI_MAX_ERROR_STRING];
  report_failure("kill", rc, MPI_Wtime() - t0, msg);
  /* the class is ULFM's, and has a text (MPI-FM's patch 0004; MPICH 4.0.2 had none) */
  int cls, len;
  char text[MPI_MAX_ERROR_STRING];
  MPI_Error_class(rc, &cls);
  MPI_Error_string(cls, text, &len);
  if (cls != MPIX_ERR_PROC_FAILED || strcmp(text, "Process failed") != 0) {
    fprintf(stderr,
            "errors: kill: rank %d: class %d (\"%s\"), expected MPIX_ERR_PROC_FAILED (%d, "
            "\"Process failed\")\n",
            rank, cls, text, MPIX_ERR_PROC_FAILED);
    _exit(1);
  }
  /* MPI_Finalize must still end (no wait for the dead rank: patch 0005); main calls it */
  return 0;
}

static int test_unreachable(void) {
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Barrier(MPI_COMM_WORLD);
  int victim = size - 1, x;
  if (rank == victim) {
    const char* cut = getenv("FM_TEST_CUT_FILE");
    FILE* f = cut != NULL ? fopen(cut, "w") : NULL;
    if (f == NULL) {
      fprintf(stderr, "errors: unreachable: cannot create FM_TEST_CUT_FILE (tests/netns/run.sh)\n");
      return 1;
    }
    fclose(f);
  }
  const char* e = getenv("FM_PEER_TIMEOUT_MS");
  const double bound = 1.5 * (e != NULL ? atof(e) / 1000.0 : 10.0) + 5.0;
  double t0 = MPI_Wtime();
  int rc =
      MPI_Recv(&x, 1, MPI_INT, rank == victim ? 0 : victim, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  double secs = MPI_Wtime() - t0;
  if (rc == MPI_SUCCESS) {
    fprintf(stderr, "errors: unreachable: rank %d received across the cut\n", rank);
    return 1;
  }
  char msg[MPI_MAX_ERROR_STRING];
  report_failure("unreachable", rc, secs, msg);
  if (secs > bound || strstr(msg, "unreachable") == NULL) {
    fprintf(stderr, "errors: unreachable: rank %d: %s (bound %.1f s)\n", rank,
            secs > bound ? "too late" : "the message does not say unreachable", bound);
    return 1;
  }
  _exit(0); /* MPI_Finalize would wait for the lost ranks at its barrier */
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const char* mode = argc > 1 ? argv[1] : "errors";
  if (strcmp(mode, "abort") == 0) MPI_Abort(MPI_COMM_WORLD, 3);
  int rc = strcmp(mode, "kill") == 0          ? test_kill()
           : strcmp(mode, "unreachable") == 0 ? test_unreachable()
                                              : test_errors();
  MPI_Finalize();
  if (strcmp(mode, "kill") == 0) printf("errors: kill: rank %d finalized\n", rank);
  return rc;
}
