/* ga_bad.c - one invalid Global Arrays call per run: the job must end with GA's error message
 * naming the call, never a crash or a hang (run_bad.sh checks).
 *   mpiexec -n 2 ga_bad CASE        Cases: patch_range bad_handle readinc_type */
#include <ga.h>
#include <macdecls.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: ga_bad CASE\n");
    return 2;
  }
  MPI_Init(&argc, &argv);
  GA_Initialize();
  MA_init(C_DBL, 10000, 10000);
  int dims[2] = {10, 10};
  int g = NGA_Create(C_DBL, 2, dims, "bad", NULL);
  GA_Zero(g);
  double buf[400];
  int ld = 20;
  if (GA_Nodeid() == 0) {
    if (strcmp(argv[1], "patch_range") == 0) {
      int lo[2] = {5, 5}, hi[2] = {12, 9};
      NGA_Put(g, lo, hi, buf, &ld);
    }
    if (strcmp(argv[1], "bad_handle") == 0) {
      int lo[2] = {0, 0}, hi[2] = {1, 1};
      NGA_Get(g + 4242, lo, hi, buf, &ld);
    }
    if (strcmp(argv[1], "readinc_type") == 0) {
      int sub[2] = {1, 1};
      NGA_Read_inc(g, sub, 1);
    }
  }
  GA_Sync();
  if (GA_Nodeid() == 0) printf("ga_bad: %s: the invalid call returned\n", argv[1]);
  GA_Terminate();
  MPI_Finalize();
  return 3;
}
