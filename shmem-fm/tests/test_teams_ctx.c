/* test_teams_ctx.c - teams and contexts of OpenSHMEM 1.5.
 *
 *  - SHMEM_TEAM_WORLD matches shmem_my_pe / shmem_n_pes; SHMEM_TEAM_INVALID gives -1 for my_pe,
 *    n_pes and translate_pe;
 *  - shmem_team_split_strided with several (start, stride, size) triplets (negative and zero
 *    strides among them): membership, team PE
 *    numbers, sizes, translate_pe to and from SHMEM_TEAM_WORLD and between split teams (-1 for a
 *    PE not in the destination team), SHMEM_TEAM_INVALID on non-members; a split of a split team;
 *    get_config (num_contexts given with SHMEM_TEAM_NUM_CONTEXTS); team_sync; destroy;
 *  - shmem_team_split_2d with xrange 2;
 *  - SHMEM_TEAM_SHARED: every member's heap memory is reachable with shmem_ptr;
 *  - ctx_create (with each option), team_create_ctx, ctx_get_team (WORLD for the default and
 *    created contexts, the team for a team context, nonzero + SHMEM_TEAM_INVALID for
 *    SHMEM_CTX_INVALID), ctx_destroy;
 *  - RMA and AMOs through a team's context, whose PE arguments are team-relative (on teams where
 *    team PE numbers differ from world PE numbers), with ctx_quiet and ctx_fence ordering. */
#include "shtest.h"

static int me, npes;

static void tsync(shmem_team_t t) {
  int rc = shmem_team_sync(t);
  CHECK_EQ(rc, 0, "shmem_team_sync return value");
}

/* Membership of world PE p in the triplet. */
static int member_index(int p, int start, int stride, int size) {
  for (int k = 0; k < size; k++)
    if (start + k * stride == p) return k;
  return -1;
}

/* Checks a team made by split_strided(WORLD, start, stride, size). */
static void check_split(shmem_team_t t, int start, int stride, int size, const char* what) {
  const int k = member_index(me, start, stride, size);
  if (k < 0) {
    CHECK(t == SHMEM_TEAM_INVALID, "%s: non-member PE gets SHMEM_TEAM_INVALID", what);
    int v = shmem_team_translate_pe(SHMEM_TEAM_WORLD, me, t);
    CHECK_EQ(v, -1, "%s: translate_pe to SHMEM_TEAM_INVALID", what);
    return;
  }
  CHECK(t != SHMEM_TEAM_INVALID, "%s: member gets a valid team", what);
  int v = shmem_team_my_pe(t);
  CHECK_EQ(v, k, "%s: team_my_pe", what);
  v = shmem_team_n_pes(t);
  CHECK_EQ(v, size, "%s: team_n_pes", what);
  for (int i = 0; i < size; i++) {
    v = shmem_team_translate_pe(t, i, SHMEM_TEAM_WORLD);
    CHECK_EQ(v, start + i * stride, "%s: translate_pe(team, %d, WORLD)", what, i);
  }
  for (int p = 0; p < npes; p++) {
    v = shmem_team_translate_pe(SHMEM_TEAM_WORLD, p, t);
    CHECK_EQ(v, member_index(p, start, stride, size), "%s: translate_pe(WORLD, %d, team)", what, p);
  }
  v = shmem_team_translate_pe(t, size, SHMEM_TEAM_WORLD);
  CHECK_EQ(v, -1, "%s: translate_pe of team PE %d (out of range)", what, size);
  v = shmem_team_translate_pe(t, -1, SHMEM_TEAM_WORLD);
  CHECK_EQ(v, -1, "%s: translate_pe of team PE -1", what);
  tsync(t);
}

static void predefined(void) {
  int v = shmem_team_my_pe(SHMEM_TEAM_WORLD);
  CHECK_EQ(v, me, "team_my_pe(WORLD)");
  v = shmem_team_n_pes(SHMEM_TEAM_WORLD);
  CHECK_EQ(v, npes, "team_n_pes(WORLD)");
  v = shmem_team_my_pe(SHMEM_TEAM_INVALID);
  CHECK_EQ(v, -1, "team_my_pe(SHMEM_TEAM_INVALID)");
  v = shmem_team_n_pes(SHMEM_TEAM_INVALID);
  CHECK_EQ(v, -1, "team_n_pes(SHMEM_TEAM_INVALID)");
  v = shmem_team_translate_pe(SHMEM_TEAM_INVALID, 0, SHMEM_TEAM_WORLD);
  CHECK_EQ(v, -1, "translate_pe from SHMEM_TEAM_INVALID");
  for (int p = 0; p < npes; p++) {
    v = shmem_team_translate_pe(SHMEM_TEAM_WORLD, p, SHMEM_TEAM_WORLD);
    CHECK_EQ(v, p, "translate_pe(WORLD, %d, WORLD)", p);
  }

  /* SHMEM_TEAM_SHARED */
  long* buf = (long*)shmem_malloc(4 * sizeof(long));
  CHECK(buf != NULL, "shmem_malloc");
  const int sme = shmem_team_my_pe(SHMEM_TEAM_SHARED), sn = shmem_team_n_pes(SHMEM_TEAM_SHARED);
  CHECK(sn >= 1 && sn <= npes, "team_n_pes(SHMEM_TEAM_SHARED) = %d", sn);
  CHECK(sme >= 0 && sme < sn, "team_my_pe(SHMEM_TEAM_SHARED) = %d of %d", sme, sn);
  v = shmem_team_translate_pe(SHMEM_TEAM_WORLD, me, SHMEM_TEAM_SHARED);
  CHECK_EQ(v, sme, "translate_pe(WORLD, me, SHARED)");
  int in_shared = 0;
  for (int i = 0; i < sn; i++) {
    int w = shmem_team_translate_pe(SHMEM_TEAM_SHARED, i, SHMEM_TEAM_WORLD);
    CHECK(w >= 0 && w < npes, "translate_pe(SHARED, %d, WORLD) = %d", i, w);
    CHECK(shmem_ptr(buf, w) != NULL,
          "shmem_ptr to the heap of SHMEM_TEAM_SHARED member %d "
          "(world PE %d) is NULL",
          i, w);
    in_shared += (w == me);
  }
  CHECK_EQ(in_shared, 1, "my own PE appears once in SHMEM_TEAM_SHARED");
  tsync(SHMEM_TEAM_SHARED);
  shmem_barrier_all();
  shmem_free(buf);
}

static void splits(void) {
  struct {
    int start, stride, size;
  } tr[] = {{0, 1, npes},
            {0, 2, (npes + 1) / 2},
            {1, 2, npes / 2},
            {1, 1, npes - 1},
            {npes - 1, 1, 1},
            {0, npes - 1, 2},
            {0, 1, 1},
            /* negative strides (team PE i is parent PE start + i * stride) and a zero stride */
            {npes - 1, -1, npes},
            {npes - 1, -2, (npes + 1) / 2},
            {npes / 2, 0, 1}};
  shmem_team_t t[sizeof tr / sizeof tr[0]];
  const int nt = (int)(sizeof tr / sizeof tr[0]);
  char what[96];
  for (int i = 0; i < nt; i++) {
    t[i] = SHMEM_TEAM_INVALID;
    int rc = shmem_team_split_strided(SHMEM_TEAM_WORLD, tr[i].start, tr[i].stride, tr[i].size, NULL,
                                      0, &t[i]);
    snprintf(what, sizeof what, "split_strided(WORLD, %d, %d, %d)", tr[i].start, tr[i].stride,
             tr[i].size);
    CHECK_EQ(rc, 0, "%s return value", what);
    check_split(t[i], tr[i].start, tr[i].stride, tr[i].size, what);
  }
  /* translate between split teams: evens (t[1]) -> all but PE 0 (t[3]) */
  if (t[1] != SHMEM_TEAM_INVALID && t[3] != SHMEM_TEAM_INVALID) {
    for (int i = 0; i < tr[1].size; i++) {
      int v = shmem_team_translate_pe(t[1], i, t[3]);
      CHECK_EQ(v, 2 * i - 1, "translate_pe(evens, %d, all-but-0)", i);
    }
    for (int i = 0; i < tr[3].size; i++) {
      int v = shmem_team_translate_pe(t[3], i, t[1]);
      CHECK_EQ(v, (i + 1) % 2 == 0 ? (i + 1) / 2 : -1, "translate_pe(all-but-0, %d, evens)", i);
    }
  }
  /* split of a split: every other even PE (world 0, 4, 8 ...) */
  if (t[1] != SHMEM_TEAM_INVALID) {
    const int es = tr[1].size;
    shmem_team_t q = SHMEM_TEAM_INVALID;
    int rc = shmem_team_split_strided(t[1], 0, 2, (es + 1) / 2, NULL, 0, &q);
    CHECK_EQ(rc, 0, "split_strided(evens, 0, 2, %d) return value", (es + 1) / 2);
    if (me % 4 == 0) {
      CHECK(q != SHMEM_TEAM_INVALID, "member of the split of evens");
      int v = shmem_team_my_pe(q);
      CHECK_EQ(v, me / 4, "team_my_pe of the split of evens");
      for (int i = 0; i < (es + 1) / 2; i++) {
        v = shmem_team_translate_pe(q, i, SHMEM_TEAM_WORLD);
        CHECK_EQ(v, 4 * i, "translate_pe(split of evens, %d, WORLD)", i);
        v = shmem_team_translate_pe(q, i, t[1]);
        CHECK_EQ(v, 2 * i, "translate_pe(split of evens, %d, evens)", i);
      }
      tsync(q);
      shmem_team_destroy(q);
    } else {
      CHECK(q == SHMEM_TEAM_INVALID, "non-member of the split of evens gets SHMEM_TEAM_INVALID");
    }
  }
  /* get_config: num_contexts given at split time, default 0 */
  {
    shmem_team_config_t cfg = {.num_contexts = 3};
    shmem_team_t c = SHMEM_TEAM_INVALID;
    int rc =
        shmem_team_split_strided(SHMEM_TEAM_WORLD, 0, 1, npes, &cfg, SHMEM_TEAM_NUM_CONTEXTS, &c);
    CHECK_EQ(rc, 0, "split_strided with a config");
    shmem_team_config_t got = {.num_contexts = -5};
    rc = shmem_team_get_config(c, SHMEM_TEAM_NUM_CONTEXTS, &got);
    CHECK_EQ(rc, 0, "team_get_config return value");
    CHECK_EQ(got.num_contexts, 3, "team_get_config num_contexts");
    got.num_contexts = -5;
    rc = shmem_team_get_config(t[0], SHMEM_TEAM_NUM_CONTEXTS, &got);
    CHECK_EQ(rc, 0, "team_get_config return value (default config)");
    CHECK_EQ(got.num_contexts, 0, "team_get_config num_contexts of a team split without config");
    /* the 3 contexts */
    shmem_ctx_t cx[3];
    for (int i = 0; i < 3; i++) {
      rc = shmem_team_create_ctx(c, 0, &cx[i]);
      CHECK_EQ(rc, 0, "team_create_ctx %d on a team with num_contexts 3", i);
    }
    for (int i = 0; i < 3; i++) shmem_ctx_destroy(cx[i]);
    tsync(c);
    shmem_team_destroy(c);
  }
  for (int i = nt - 1; i >= 0; i--)
    if (t[i] != SHMEM_TEAM_INVALID) shmem_team_destroy(t[i]);
  shmem_barrier_all();
}

static void split2d(void) {
  shmem_team_t x = SHMEM_TEAM_INVALID, y = SHMEM_TEAM_INVALID;
  int rc = shmem_team_split_2d(SHMEM_TEAM_WORLD, 2, NULL, 0, &x, NULL, 0, &y);
  CHECK_EQ(rc, 0, "split_2d(WORLD, xrange 2) return value");
  CHECK(x != SHMEM_TEAM_INVALID && y != SHMEM_TEAM_INVALID, "split_2d gives valid teams");
  const int xsize = (me / 2) * 2 + 2 <= npes ? 2 : 1;
  const int ysize = (npes - me % 2 + 1) / 2;
  int v = shmem_team_my_pe(x);
  CHECK_EQ(v, me % 2, "split_2d x team_my_pe");
  v = shmem_team_n_pes(x);
  CHECK_EQ(v, xsize, "split_2d x team_n_pes");
  v = shmem_team_my_pe(y);
  CHECK_EQ(v, me / 2, "split_2d y team_my_pe");
  v = shmem_team_n_pes(y);
  CHECK_EQ(v, ysize, "split_2d y team_n_pes");
  for (int i = 0; i < xsize; i++) {
    v = shmem_team_translate_pe(x, i, SHMEM_TEAM_WORLD);
    CHECK_EQ(v, (me / 2) * 2 + i, "split_2d translate_pe(x, %d, WORLD)", i);
  }
  for (int i = 0; i < ysize; i++) {
    v = shmem_team_translate_pe(y, i, SHMEM_TEAM_WORLD);
    CHECK_EQ(v, me % 2 + 2 * i, "split_2d translate_pe(y, %d, WORLD)", i);
  }
  tsync(x);
  tsync(y);
  shmem_team_destroy(y);
  shmem_team_destroy(x);
  shmem_barrier_all();
}

static void contexts(void) {
  shmem_team_t t = SHMEM_TEAM_INVALID;
  int rc = shmem_ctx_get_team(SHMEM_CTX_DEFAULT, &t);
  CHECK_EQ(rc, 0, "ctx_get_team(SHMEM_CTX_DEFAULT) return value");
  CHECK(t == SHMEM_TEAM_WORLD, "ctx_get_team(SHMEM_CTX_DEFAULT) is SHMEM_TEAM_WORLD");
  t = SHMEM_TEAM_WORLD;
  rc = shmem_ctx_get_team(SHMEM_CTX_INVALID, &t);
  CHECK(rc != 0, "ctx_get_team(SHMEM_CTX_INVALID) returns nonzero (got %d)", rc);
  CHECK(t == SHMEM_TEAM_INVALID, "ctx_get_team(SHMEM_CTX_INVALID) gives SHMEM_TEAM_INVALID");

  static const long opts[] = {0, SHMEM_CTX_SERIALIZED, SHMEM_CTX_PRIVATE,
                              SHMEM_CTX_SERIALIZED | SHMEM_CTX_PRIVATE, SHMEM_CTX_NOSTORE};
  long* buf = (long*)shmem_calloc(8, sizeof(long));
  CHECK(buf != NULL, "shmem_calloc");
  const int right = (me + 1) % npes, left = (me + npes - 1) % npes;
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    shmem_ctx_t c = SHMEM_CTX_INVALID;
    rc = shmem_ctx_create(opts[i], &c);
    CHECK_EQ(rc, 0, "ctx_create(options %ld) return value", opts[i]);
    CHECK(c != SHMEM_CTX_INVALID, "ctx_create(options %ld) gives a valid context", opts[i]);
    t = SHMEM_TEAM_INVALID;
    rc = shmem_ctx_get_team(c, &t);
    CHECK_EQ(rc, 0, "ctx_get_team of a created context");
    CHECK(t == SHMEM_TEAM_WORLD, "ctx_get_team of a context from ctx_create is SHMEM_TEAM_WORLD");
    if (opts[i] & SHMEM_CTX_NOSTORE) { /* no stores on this context: gets and fetches only */
      buf[0] = 1000 + me;
      shmem_barrier_all();
      long g = shmem_ctx_long_g(c, &buf[0], right);
      CHECK_EQ(g, 1000L + right, "ctx_long_g on a SHMEM_CTX_NOSTORE context");
      g = shmem_ctx_long_atomic_fetch(c, &buf[0], left);
      CHECK_EQ(g, 1000L + left, "ctx_long_atomic_fetch on a SHMEM_CTX_NOSTORE context");
    } else {
      shmem_ctx_long_p(c, &buf[1], 100 * (long)i + me, right);
      shmem_ctx_long_atomic_add(c, &buf[2], 1, right);
      shmem_ctx_quiet(c);
      shmem_barrier_all();
      CHECK_EQ(buf[1], 100 * (long)i + left, "ctx_long_p on a context with options %ld", opts[i]);
    }
    shmem_barrier_all();
    shmem_ctx_destroy(c);
  }
  CHECK_EQ(buf[2], 4L, "ctx_long_atomic_add on the four storing contexts");
  shmem_barrier_all();
  shmem_free(buf);
}

/* RMA / AMO through the context of a team whose PE numbers differ from world numbers. */
static void team_ctx_rma(int start, int stride, int size, const char* name) {
  int* data = (int*)shmem_calloc(16, sizeof(int));
  int* flag = (int*)shmem_calloc(2, sizeof(int));
  long* cnt = (long*)shmem_calloc(1, sizeof(long));
  CHECK(data != NULL && flag != NULL && cnt != NULL, "shmem_calloc");
  shmem_team_t t = SHMEM_TEAM_INVALID;
  int rc = shmem_team_split_strided(SHMEM_TEAM_WORLD, start, stride, size, NULL, 0, &t);
  CHECK_EQ(rc, 0, "split_strided for %s", name);
  if (t != SHMEM_TEAM_INVALID) {
    const int tme = shmem_team_my_pe(t), tn = shmem_team_n_pes(t);
    const int tright = (tme + 1) % tn, tleft = (tme + tn - 1) % tn;
    const int wleft = shmem_team_translate_pe(t, tleft, SHMEM_TEAM_WORLD);
    const int wright = shmem_team_translate_pe(t, tright, SHMEM_TEAM_WORLD);
    shmem_ctx_t c = SHMEM_CTX_INVALID;
    rc = shmem_team_create_ctx(t, 0, &c);
    CHECK_EQ(rc, 0, "team_create_ctx(%s)", name);
    shmem_team_t back = SHMEM_TEAM_INVALID;
    rc = shmem_ctx_get_team(c, &back);
    CHECK_EQ(rc, 0, "ctx_get_team of the %s context", name);
    CHECK(back == t, "ctx_get_team of a team context gives the team (%s)", name);

    /* put: team-relative PE number */
    int src[8];
    for (int i = 0; i < 8; i++) src[i] = me * 100 + i;
    shmem_ctx_int_put(c, data, src, 8, tright);
    shmem_ctx_quiet(c);
    tsync(t);
    for (int i = 0; i < 8; i++)
      CHECK_EQ(data[i], wleft * 100 + i,
               "%s ctx put to team PE %d: element %d (from the team-left"
               " neighbour, world PE %d)",
               name, tright, i, wleft);
    /* get / g from the team-right neighbour */
    int got[8];
    shmem_ctx_int_get(c, got, data, 8, tright);
    for (int i = 0; i < 8; i++)
      CHECK_EQ(got[i], me * 100 + i, "%s ctx get from team PE %d: element %d", name, tright, i);
    int g1 = shmem_ctx_int_g(c, &data[3], tright);
    CHECK_EQ(g1, me * 100 + 3, "%s ctx g from team PE %d", name, tright);
    /* AMO on team PE 0 (world PE start) */
    long f = shmem_ctx_long_atomic_fetch_inc(c, cnt, 0);
    CHECK(f >= 0 && f < tn, "%s ctx fetch_inc on team PE 0: fetched %ld", name, f);
    shmem_ctx_quiet(c);
    tsync(t);
    if (tme == 0)
      CHECK_EQ(*cnt, (long)tn, "%s ctx fetch_inc count on team PE 0 (world PE %d)", name, me);
    /* fence: data then flag to the same team PE; the flag implies the data */
    for (int round = 1; round <= 10; round++) {
      for (int i = 0; i < 8; i++) src[i] = me * 1000 + round * 10 + i;
      shmem_ctx_int_put(c, &data[8], src, 8, tright);
      shmem_ctx_fence(c);
      shmem_ctx_int_p(c, &flag[0], round, tright);
      shmem_int_wait_until(&flag[0], SHMEM_CMP_GE, round);
      for (int i = 0; i < 8; i++)
        CHECK_EQ(data[8 + i], wleft * 1000 + round * 10 + i,
                 "%s ctx_fence: data before flag %d, element %d", name, round, i);
      shmem_ctx_quiet(c);
      tsync(t);
    }
    (void)wright;
    shmem_ctx_destroy(c);
    tsync(t);
    shmem_team_destroy(t);
  }
  shmem_barrier_all();
  shmem_free(cnt);
  shmem_free(flag);
  shmem_free(data);
}

int main(void) {
  shmem_init();
  shtest_require_pes(2);
  me = shmem_my_pe();
  npes = shmem_n_pes();

  predefined();
  splits();
  split2d();
  contexts();
  team_ctx_rma(1, 1, npes - 1, "all but PE 0");
  team_ctx_rma(1, 2, npes / 2, "odd PEs");
  team_ctx_rma(0, 1, npes, "copy of WORLD");
  if (npes >= 3) team_ctx_rma(npes - 2, 1, 2, "last two PEs");
  team_ctx_rma(npes - 1, -1, npes, "WORLD reversed (stride -1)");

  shtest_pass("test_teams_ctx");
  shmem_finalize();
  return 0;
}
