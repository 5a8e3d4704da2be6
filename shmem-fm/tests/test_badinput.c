/* test_badinput.c CASE - makes exactly one invalid OpenSHMEM call after shmem_init, on PE 0 only
 * (the other PEs wait in a barrier: the error must end the whole job, not hang it).
 *
 *   CASE          invalid call                              expected
 *   ------------  ----------------------------------------  ------------------------------------
 *   pe_range      PE 0: shmem_int_p(&x, 1, n_pes)           job exits nonzero, stderr contains
 *                 (x global, PE number one past the last)   "shmem_int_p" (SHMEM-FM: "shmem_int_p:
 *                                                           PE 2 is out of range" with 2 PEs)
 *   nonsymmetric  PE 0: shmem_int_put(stack_array, src, 4,  job exits nonzero, stderr contains
 *                 (me + 1) % n) (dest is a stack array)     "shmem_int_put" (SHMEM-FM:
 *                                                           "shmem_int_put: address ... is not
 *                                                           symmetric")
 *   ctx_invalid   PE 0: shmem_ctx_int_p(SHMEM_CTX_INVALID,  job exits nonzero, stderr contains
 *                 &x, 1, (me + 1) % n)                      "shmem_ctx_int_p" (SHMEM-FM:
 *                                                           "shmem_ctx_int_p: the context is
 *                                                           SHMEM_CTX_INVALID")
 *   team_invalid  all PEs: rc =                             rc != 0 and no abort: PE 0 prints
 *                 shmem_team_sync(SHMEM_TEAM_INVALID)       "OK returned <rc>" and "PASS
 *                                                           test_badinput team_invalid", normal
 *                                                           finalize, exit 0; rc == 0: FAIL, exit 1
 *
 * If an invalid call of the first three cases returns instead of ending the job, PE 0 prints
 * "FAIL ... not detected" to stderr and the program finalizes and exits 0, which the harness
 * reports as a failure (it requires a nonzero status).  An unknown CASE exits 2. */
#include "shtest.h"

static int x; /* a symmetric global target */

int main(int argc, char** argv) {
  static const char* const cases[] = {"pe_range", "nonsymmetric", "team_invalid", "ctx_invalid"};
  const char* c = argc > 1 ? argv[1] : "";
  int known = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) known |= strcmp(c, cases[i]) == 0;
  if (!known) {
    fprintf(stderr, "usage: %s pe_range|nonsymmetric|team_invalid|ctx_invalid\n", argv[0]);
    return 2;
  }

  shmem_init();
  const int me = shmem_my_pe(), npes = shmem_n_pes();
  shmem_barrier_all();

  if (strcmp(c, "team_invalid") == 0) {
    int rc = shmem_team_sync(SHMEM_TEAM_INVALID);
    CHECK(rc != 0, "shmem_team_sync(SHMEM_TEAM_INVALID) must return nonzero (returned %d)", rc);
    if (me == 0) {
      printf("OK returned %d\n", rc);
      fflush(stdout);
    }
    shtest_pass("test_badinput team_invalid");
    shmem_finalize();
    return 0;
  }

  if (me == 0) {
    if (strcmp(c, "pe_range") == 0) {
      shmem_int_p(&x, 1, npes);
    } else if (strcmp(c, "nonsymmetric") == 0) {
      int stack_array[4] = {0, 0, 0, 0};
      const int src[4] = {1, 2, 3, 4};
      shmem_int_put(stack_array, src, 4, (me + 1) % npes);
      shmem_quiet();
    } else { /* ctx_invalid */
      shmem_ctx_int_p(SHMEM_CTX_INVALID, &x, 1, (me + 1) % npes);
    }
    fprintf(stderr,
            "FAIL %s:%d: invalid call of case %s not detected (PE %d, expected the job to "
            "end with an error naming the call, got a normal return)\n",
            __FILE__, __LINE__, c, me);
    fflush(stderr);
  }
  shmem_barrier_all();
  shmem_finalize();
  return 0;
}
