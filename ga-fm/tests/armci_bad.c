/* armci_bad.c - one invalid ARMCI call (or a killed rank) per run: the job must end with an error
 * message naming the call and the argument, never a crash or a hang (run_bad.sh checks).
 *   mpiexec -n 2 armci_bad CASE
 * Cases: uninit proc_range not_armci past_end bad_handle neg_count levels acc_type rmw_op
 *        gop_op sel_op malloc_fail mutex_range no_mutexes group_rank kill */
#include <armci.h>
#include <message.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: armci_bad CASE\n");
    return 2;
  }
  const char* c = argv[1];
  MPI_Init(&argc, &argv);
  int me, np;
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  MPI_Comm_size(MPI_COMM_WORLD, &np);
  char local[64];
  if (strcmp(c, "uninit") == 0) ARMCI_Put(local, local, 8, 0);
  ARMCI_Init();
  void** p = calloc((size_t)np, sizeof(void*));
  ARMCI_Malloc(p, 1024);
  int other = (me + 1) % np;
  if (me == 0) {
    if (strcmp(c, "proc_range") == 0) ARMCI_Put(local, p[0], 8, np);
    if (strcmp(c, "not_armci") == 0) ARMCI_Put(local, local, 8, other);
    if (strcmp(c, "past_end") == 0) ARMCI_Get((char*)p[other] + 1000, local, 64, other);
    if (strcmp(c, "bad_handle") == 0) {
      armci_hdl_t h;
      h.target = 123456;
      h.aggregate = 1;
      ARMCI_Wait(&h);
    }
    if (strcmp(c, "neg_count") == 0) {
      int count[2] = {-8, 2}, st[1] = {16};
      ARMCI_PutS(local, st, p[other], st, count, 1, other);
    }
    if (strcmp(c, "levels") == 0) {
      int count[20] = {8}, st[20] = {16};
      ARMCI_GetS(p[other], st, local, st, count, 17, other);
    }
    if (strcmp(c, "acc_type") == 0) {
      int one = 1;
      ARMCI_Acc(9, &one, local, p[other], 8, other);
    }
    if (strcmp(c, "rmw_op") == 0) {
      int v = 0;
      ARMCI_Rmw(7, &v, p[other], 1, other);
    }
    if (strcmp(c, "gop_op") == 0) {
      int x = 1;
      armci_msg_igop(&x, 1, "plus");
    }
    if (strcmp(c, "malloc_fail") == 0) {
      /* every rank asks: ARMCI_Malloc is collective */
    }
    if (strcmp(c, "mutex_range") == 0) {
      ARMCI_Create_mutexes(2);
      ARMCI_Lock(5, other);
    }
    if (strcmp(c, "no_mutexes") == 0) ARMCI_Lock(0, other);
    if (strcmp(c, "group_rank") == 0) {
      ARMCI_Group w;
      ARMCI_Group_get_world(&w);
      ARMCI_Absolute_id(&w, np + 3);
    }
  }
  if (strcmp(c, "gop_op") == 0 && me != 0) {
    int x = 1;
    armci_msg_igop(&x, 1, "plus");
  }
  if (strcmp(c, "sel_op") == 0) {
    double x[2] = {1, 2};
    armci_msg_sel_scope(SCOPE_ALL, x, sizeof x, "median", ARMCI_DOUBLE, 1);
  }
  if (strcmp(c, "malloc_fail") == 0) {
    void** q = calloc((size_t)np, sizeof(void*));
    ARMCI_Malloc(q, 1L << 52); /* 4 PiB */
  }
  if (strcmp(c, "mutex_range") == 0 && me != 0) ARMCI_Create_mutexes(2);
  if (strcmp(c, "kill") == 0) {
    /* the last rank dies; the others keep reaching it (through FM, or directly on its host,
     * where the memory outlives it: the barriers then find it gone) */
    ARMCI_Barrier();
    if (me == np - 1) kill(getpid(), SIGKILL);
    for (int i = 0;; ++i) {
      long v = 0;
      ARMCI_Get(p[np - 1], &v, sizeof v, np - 1);
      ARMCI_Put(&v, p[np - 1], sizeof v, np - 1);
      ARMCI_Fence(np - 1);
      if (i % 100 == 99) ARMCI_Barrier();
    }
  }
  /* a valid program would get here; the invalid call should have ended the job */
  MPI_Barrier(MPI_COMM_WORLD);
  if (me == 0) printf("armci_bad: %s: the invalid call returned\n", c);
  ARMCI_Finalize();
  MPI_Finalize();
  return 3;
}
