/* test_conformance.c - OpenSHMEM 1.5 rules that a program may rely on and that are easy to get
 * wrong (issue #20, items 1-3):
 *
 *  - shmem_query_thread after shmem_init gives SHMEM_THREAD_SINGLE;
 *  - fairness of the _any forms (9.10): with every flag satisfied and status NULL, a series of
 *    shmem_test_any / shmem_wait_until_any (and the _vector forms) calls returns every index in
 *    turn; the spec's shmem_test_any example loop (status set for each returned index) ends; the
 *    _some forms return every satisfied index at once;
 *  - SHMEM_CTX_INVALID: shmem_ctx_quiet, shmem_ctx_fence and shmem_ctx_destroy perform no
 *    operation; shmem_ctx_get_team gives SHMEM_TEAM_INVALID and nonzero;
 *  - SHMEM_TEAM_INVALID: team_my_pe, team_n_pes and translate_pe give -1; get_config,
 * split_strided, split_2d and team_create_ctx give nonzero (and SHMEM_TEAM_INVALID /
 * SHMEM_CTX_INVALID); team_destroy performs no operation;
 *  - team split until it cannot create a team (9.4.6): the failing split returns nonzero on every
 *    PE of the parent with SHMEM_TEAM_INVALID, the job goes on; after shmem_team_destroy the same
 *    number of splits succeeds again (the slots are freed), and the teams work. */
#include "shtest.h"

#define NFLAGS 16
#define MAXTEAMS 1024

static int flags[NFLAGS];
static long lflags[NFLAGS];

static void fairness(void) {
  int seen[NFLAGS];
  int cmpv[NFLAGS];
  for (int i = 0; i < NFLAGS; i++) {
    flags[i] = 1;
    lflags[i] = 1;
    cmpv[i] = 1;
  }
  shmem_barrier_all();
  /* test_any, status NULL: NFLAGS calls return every index once, whatever the scan started at. */
  memset(seen, 0, sizeof seen);
  for (int k = 0; k < 3 * NFLAGS; k++) {
    size_t i = shmem_int_test_any(flags, NFLAGS, NULL, SHMEM_CMP_EQ, 1);
    CHECK(i < NFLAGS, "shmem_int_test_any call %d returns an index (got %zu)", k, i);
    seen[i]++;
  }
  for (int i = 0; i < NFLAGS; i++)
    CHECK_EQ(seen[i], 3, "index %d returned by 3 * NFLAGS calls of shmem_int_test_any", i);
  /* the same for wait_until_any and the vector forms */
  memset(seen, 0, sizeof seen);
  for (int k = 0; k < NFLAGS; k++)
    seen[shmem_int_wait_until_any(flags, NFLAGS, NULL, SHMEM_CMP_EQ, 1)]++;
  for (int k = 0; k < NFLAGS; k++) {
    size_t i = shmem_int_test_any_vector(flags, NFLAGS, NULL, SHMEM_CMP_EQ, cmpv);
    CHECK(i < NFLAGS, "shmem_int_test_any_vector returns an index (got %zu)", i);
    seen[i]++;
  }
  for (int k = 0; k < NFLAGS; k++)
    seen[shmem_int_wait_until_any_vector(flags, NFLAGS, NULL, SHMEM_CMP_EQ, cmpv)]++;
  for (int k = 0; k < NFLAGS; k++) {
    size_t i = shmem_long_test_any(lflags, NFLAGS, NULL, SHMEM_CMP_NE, 0);
    CHECK(i < NFLAGS, "shmem_long_test_any returns an index (got %zu)", i);
    seen[i]++;
  }
  for (int i = 0; i < NFLAGS; i++)
    CHECK_EQ(seen[i], 4, "index %d returned once per round of 4 _any forms", i);
  /* some flags unsatisfied: only the satisfied ones come back, each in turn */
  for (int i = 0; i < NFLAGS; i += 3) flags[i] = 0;
  memset(seen, 0, sizeof seen);
  int nsat = 0;
  for (int i = 0; i < NFLAGS; i++) nsat += flags[i] == 1;
  for (int k = 0; k < 2 * nsat; k++)
    seen[shmem_int_test_any(flags, NFLAGS, NULL, SHMEM_CMP_EQ, 1)]++;
  for (int i = 0; i < NFLAGS; i++)
    CHECK_EQ(seen[i], flags[i] == 1 ? 2 : 0, "index %d over 2 rounds with some flags unset", i);
  /* the specification's example: loop until every index came back (status set as they do) */
  int status[NFLAGS];
  memset(status, 0, sizeof status);
  for (int i = 0; i < NFLAGS; i++) flags[i] = 1;
  size_t ncompleted = 0;
  for (int calls = 0; ncompleted < NFLAGS; calls++) {
    CHECK(calls < 100 * NFLAGS, "the shmem_test_any example loop ends (%zu of %d back)", ncompleted,
          NFLAGS);
    size_t i = shmem_int_test_any(flags, NFLAGS, status, SHMEM_CMP_EQ, 1);
    if (i != SIZE_MAX) {
      CHECK_EQ(status[i], 0, "index %zu returned while its status excludes it", i);
      status[i] = 1;
      ncompleted++;
    }
  }
  CHECK(shmem_int_test_any(flags, NFLAGS, status, SHMEM_CMP_EQ, 1) == SIZE_MAX,
        "every index excluded by status: SIZE_MAX");
  /* _some: every satisfied index at each call */
  size_t idx[NFLAGS];
  for (int i = 0; i < NFLAGS; i += 2) flags[i] = 0;
  for (int k = 0; k < 3; k++) {
    size_t n = shmem_int_test_some(flags, NFLAGS, idx, NULL, SHMEM_CMP_EQ, 1);
    CHECK_EQ(n, (size_t)(NFLAGS / 2), "shmem_int_test_some returns every satisfied index");
    for (size_t j = 0; j < n; j++)
      CHECK_EQ(idx[j] % 2, (size_t)1, "index %zu is satisfied", idx[j]);
    n = shmem_int_wait_until_some(flags, NFLAGS, idx, NULL, SHMEM_CMP_EQ, 1);
    CHECK_EQ(n, (size_t)(NFLAGS / 2), "shmem_int_wait_until_some returns every satisfied index");
  }
  /* a remote PE's store makes the one unsatisfied flag come back among the others */
  const int me = shmem_my_pe(), npes = shmem_n_pes();
  for (int i = 0; i < NFLAGS; i++) flags[i] = i == NFLAGS - 1 ? 0 : 1;
  shmem_barrier_all();
  shmem_int_p(&flags[NFLAGS - 1], 1, (me + 1) % npes);
  memset(seen, 0, sizeof seen);
  for (double t0 = shtest_now(); seen[NFLAGS - 1] == 0;) {
    CHECK(shtest_now() - t0 < 60, "the flag set by PE %d comes back from shmem_int_test_any",
          (me + npes - 1) % npes);
    size_t i = shmem_int_test_any(flags, NFLAGS, NULL, SHMEM_CMP_EQ, 1);
    if (i < NFLAGS) seen[i]++;
  }
  shmem_barrier_all();
}

static void invalid_handles(void) {
  /* contexts */
  shmem_ctx_quiet(SHMEM_CTX_INVALID);
  shmem_ctx_fence(SHMEM_CTX_INVALID);
  shmem_ctx_destroy(SHMEM_CTX_INVALID);
  shmem_team_t t = SHMEM_TEAM_WORLD;
  CHECK(shmem_ctx_get_team(SHMEM_CTX_INVALID, &t) != 0, "ctx_get_team(SHMEM_CTX_INVALID) nonzero");
  CHECK(t == SHMEM_TEAM_INVALID, "ctx_get_team(SHMEM_CTX_INVALID) gives SHMEM_TEAM_INVALID");
  /* teams */
  CHECK_EQ(shmem_team_my_pe(SHMEM_TEAM_INVALID), -1, "team_my_pe(SHMEM_TEAM_INVALID)");
  CHECK_EQ(shmem_team_n_pes(SHMEM_TEAM_INVALID), -1, "team_n_pes(SHMEM_TEAM_INVALID)");
  CHECK_EQ(shmem_team_translate_pe(SHMEM_TEAM_INVALID, 0, SHMEM_TEAM_WORLD), -1,
           "translate_pe from SHMEM_TEAM_INVALID");
  CHECK_EQ(shmem_team_translate_pe(SHMEM_TEAM_WORLD, 0, SHMEM_TEAM_INVALID), -1,
           "translate_pe to SHMEM_TEAM_INVALID");
  shmem_team_config_t cfg = {7};
  CHECK(shmem_team_get_config(SHMEM_TEAM_INVALID, SHMEM_TEAM_NUM_CONTEXTS, &cfg) != 0,
        "team_get_config(SHMEM_TEAM_INVALID) nonzero");
  shmem_team_t nt = SHMEM_TEAM_WORLD;
  CHECK(shmem_team_split_strided(SHMEM_TEAM_INVALID, 0, 1, 1, NULL, 0, &nt) != 0,
        "split_strided of SHMEM_TEAM_INVALID nonzero");
  CHECK(nt == SHMEM_TEAM_INVALID, "split_strided of SHMEM_TEAM_INVALID gives SHMEM_TEAM_INVALID");
  shmem_team_t xt = SHMEM_TEAM_WORLD, yt = SHMEM_TEAM_WORLD;
  CHECK(shmem_team_split_2d(SHMEM_TEAM_INVALID, 1, NULL, 0, &xt, NULL, 0, &yt) != 0,
        "split_2d of SHMEM_TEAM_INVALID nonzero");
  CHECK(xt == SHMEM_TEAM_INVALID && yt == SHMEM_TEAM_INVALID,
        "split_2d of SHMEM_TEAM_INVALID gives SHMEM_TEAM_INVALID twice");
  shmem_ctx_t c = SHMEM_CTX_DEFAULT;
  CHECK(shmem_team_create_ctx(SHMEM_TEAM_INVALID, 0, &c) != 0,
        "team_create_ctx(SHMEM_TEAM_INVALID) nonzero");
  CHECK(c == SHMEM_CTX_INVALID, "team_create_ctx(SHMEM_TEAM_INVALID) gives SHMEM_CTX_INVALID");
  shmem_team_destroy(SHMEM_TEAM_INVALID);
  shmem_barrier_all();
}

static shmem_team_t teams[MAXTEAMS];
static long pwrk[1];
static long psum[1];

/* Splits SHMEM_TEAM_WORLD (all PEs, or every other PE) until a split fails; returns how many were
 * made.  Every team made is checked to be usable. */
static int split_until_failure(int every_other) {
  const int me = shmem_my_pe(), npes = shmem_n_pes();
  int made = 0;
  for (;;) {
    CHECK(made < MAXTEAMS, "a split fails before %d teams", MAXTEAMS);
    shmem_team_t t = SHMEM_TEAM_WORLD;
    int rc = every_other
                 ? shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 2, (npes + 1) / 2, NULL, 0, &t)
                 : shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 1, npes, NULL, 0, &t);
    if (rc != 0) {
      CHECK(t == SHMEM_TEAM_INVALID, "a failed split gives SHMEM_TEAM_INVALID (split %d)", made);
      break;
    }
    if (!every_other || me % 2 == 0) {
      CHECK(t != SHMEM_TEAM_INVALID, "split %d made a team for a member", made);
      CHECK_EQ(shmem_team_n_pes(t), every_other ? (npes + 1) / 2 : npes, "size of team %d", made);
    } else {
      CHECK(t == SHMEM_TEAM_INVALID, "split %d: a non-member gets SHMEM_TEAM_INVALID", made);
    }
    teams[made++] = t;
  }
  /* every PE saw the failure at the same split: compare counts */
  *pwrk = made;
  shmem_barrier_all();
  for (int p = 0; p < npes; p++) {
    long other = shmem_long_g(pwrk, p);
    CHECK_EQ(other, (long)made, "splits made on PE %d and here", p);
  }
  shmem_barrier_all();
  /* the last team works: a sum over it */
  CHECK(made >= 1, "at least one split succeeds (made %d)", made);
  shmem_team_t last = teams[made - 1];
  if (last != SHMEM_TEAM_INVALID) {
    *pwrk = me + 1;
    CHECK_EQ(shmem_long_sum_reduce(last, psum, pwrk, 1), 0, "sum over the last team made");
    long want = 0;
    for (int p = 0; p < npes; p += every_other ? 2 : 1) want += p + 1;
    CHECK_EQ(*psum, want, "sum over the last team made");
  }
  return made;
}

static void destroy_all(int made) {
  for (int i = made - 1; i >= 0; i--) shmem_team_destroy(teams[i]);
  shmem_barrier_all();
}

static void team_limit(void) {
  const int first = split_until_failure(0);
  CHECK(first >= 1, "at least one split succeeds (made %d)", first);
  /* failing again, at once, changes nothing */
  shmem_team_t t = SHMEM_TEAM_WORLD;
  CHECK(shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 1, 1, NULL, 0, &t) != 0,
        "a split with every slot taken fails again");
  shmem_team_t xt, yt;
  CHECK(shmem_team_split_2d(SHMEM_TEAM_WORLD, 1, NULL, 0, &xt, NULL, 0, &yt) != 0,
        "split_2d with every slot taken fails");
  CHECK(xt == SHMEM_TEAM_INVALID && yt == SHMEM_TEAM_INVALID, "failed split_2d gives INVALID");
  destroy_all(first);
  /* destroyed teams' slots are reused: as many splits succeed again */
  const int second = split_until_failure(0);
  CHECK_EQ(second, first, "splits that succeed after destroying every team");
  destroy_all(second);
  /* with half the PEs in each team, the non-members' slots stay free for other teams: still the
   * same number, since the members' slots run out */
  if (shmem_n_pes() > 1) {
    const int third = split_until_failure(1);
    CHECK_EQ(third, first, "splits of every other PE until failure");
    destroy_all(third);
  }
  /* and split_2d works again */
  CHECK_EQ(shmem_team_split_2d(SHMEM_TEAM_WORLD, 1, NULL, 0, &xt, NULL, 0, &yt), 0,
           "split_2d after destroying every team");
  CHECK_EQ(shmem_team_n_pes(yt), shmem_n_pes(), "y team of split_2d with xrange 1");
  shmem_team_destroy(xt);
  shmem_team_destroy(yt);
}

int main(void) {
  shmem_init();
  int level = -1;
  shmem_query_thread(&level);
  CHECK_EQ(level, (int)SHMEM_THREAD_SINGLE, "shmem_query_thread after shmem_init");
  fairness();
  invalid_handles();
  team_limit();
  shtest_pass("conformance");
  shmem_finalize();
  return 0;
}
