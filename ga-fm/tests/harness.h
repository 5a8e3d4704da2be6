/* harness.h - the check macro and test runner shared by armci_test.c and ga_test.c.
 * A program defines its tests as a table of {name, function} and calls harness_run, which runs
 * the ones named on the command line (all without arguments), prints "PROG: TEST: ok|FAILED"
 * on rank 0, and harness_report, which prints "PROG: rank R: PASS (N checks)" or the failures. */
#ifndef GAFM_TESTS_HARNESS_H
#define GAFM_TESTS_HARNESS_H

#include <stdio.h>
#include <string.h>

static int me, np, checks, failures;

#define CHECK(cond, ...)                                                                  \
  do {                                                                                    \
    ++checks;                                                                             \
    if (!(cond)) {                                                                        \
      ++failures;                                                                         \
      if (failures <= 20) {                                                               \
        fprintf(stderr, "[%d] %s:%d: check failed: %s: ", me, __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                              \
      }                                                                                   \
    }                                                                                     \
  } while (0)

struct test {
  const char* name;
  void (*run)(void);
};

/* Runs the tests named in argv (all when none), `after` (if any) following each; an unknown
 * name counts as a failure. */
static void harness_run(const char* prog, int argc, char** argv, const struct test* tests,
                        int ntests, void (*after)(void)) {
  for (int a = 1; a < argc; ++a) {
    int known = 0;
    for (int i = 0; i < ntests; ++i) known = known || strcmp(argv[a], tests[i].name) == 0;
    if (!known) {
      if (me == 0) fprintf(stderr, "%s: unknown test '%s'\n", prog, argv[a]);
      ++failures;
    }
  }
  for (int i = 0; i < ntests; ++i) {
    int run = argc == 1;
    for (int a = 1; a < argc; ++a) run = run || strcmp(argv[a], tests[i].name) == 0;
    if (!run) continue;
    int before = failures;
    tests[i].run();
    if (after != NULL) after();
    if (me == 0) printf("%s: %s: %s\n", prog, tests[i].name, failures == before ? "ok" : "FAILED");
    fflush(stdout);
  }
}

/* The verdict of this rank; the process's exit status. */
static int harness_report(const char* prog) {
  if (failures == 0)
    printf("%s: rank %d: PASS (%d checks)\n", prog, me, checks);
  else
    fprintf(stderr, "%s: rank %d: %d of %d checks FAILED\n", prog, me, failures, checks);
  return failures == 0 ? 0 : 1;
}

#endif
