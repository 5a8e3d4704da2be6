/* test_rma.c - RMA routines of OpenSHMEM 1.5 over every type of SHMEMFM_RMA_TYPES and every size
 * of the sized / mem forms.
 *
 * For each type the X-macro generates thin wrappers (plain form, or ctx form on SHMEM_CTX_DEFAULT
 * or on a created context, chosen by a mode argument); one generic driver then runs, in each of
 * the three modes:
 *   put / get of 0, 1, 100 elements, p / g, iput / iget with strides, put_nbi / get_nbi + quiet,
 *   a put into and a get from a global (non-heap) symmetric array, and for a few types 1 MiB
 *   transfers.
 * All transfers use the ring pattern (PE i targets PE (i+1) % n) and values that encode
 * (writing PE, element index, type, step), so misplaced, stale or foreign elements are detected;
 * elements that must not be written hold a sentinel and are checked too.
 * Sized forms put8/16/32/64/128 (+ get, iput, iget, *_nbi) and putmem/getmem (+ _nbi) use the
 * same driver with byte-pattern elements. */
#include "shtest.h"

#define LEN 128             /* elements of the small buffers */
#define BIGBYTES (1u << 20) /* the large transfers */

enum { M_PLAIN = 0, M_CTXDEF = 1, M_CTXNEW = 2, NMODES = 3 };
static const char* const mode_name[NMODES] = {"plain", "ctx=SHMEM_CTX_DEFAULT", "ctx=created"};

static int me, npes, right, left;
static shmem_ctx_t ctx_new = SHMEM_CTX_INVALID;

#define CTXOF(m) ((m) == M_CTXDEF ? SHMEM_CTX_DEFAULT : ctx_new)

typedef void (*contig_fn)(int mode, void* dest, const void* source, size_t nelems, int pe);
typedef void (*strided_fn)(int mode, void* dest, const void* source, ptrdiff_t dst, ptrdiff_t sst,
                           size_t nelems, int pe);

typedef struct {
  const char* name;
  size_t size; /* bytes per element */
  int tid;     /* type number, mixed into the values */
  void* gdst;  /* global (non-heap) symmetric arrays of LEN elements */
  void* gsrc;
  void (*set)(void* buf, size_t i, size_t esz, unsigned long long v);
  int (*eq)(const void* buf, size_t i, size_t esz, unsigned long long v);
  void (*fmt)(char* out, size_t n, const void* buf, size_t i, size_t esz);
  contig_fn put, get, put_nbi, get_nbi;
  strided_fn iput, iget;                                      /* NULL for the mem forms */
  void (*p)(int mode, void* dest, const void* value, int pe); /* NULL for sized forms */
  void (*g)(int mode, void* out, const void* source, int pe);
} rma_ops;

/* --- typed wrappers --------------------------------------------------------------------------- */
#define TYPED_WRAP(T, N)                                                                      \
  static T g_dst_##N[LEN];                                                                    \
  static T g_src_##N[LEN];                                                                    \
  static void set_##N(void* b, size_t i, size_t esz, unsigned long long v) {                  \
    (void)esz;                                                                                \
    ((T*)b)[i] = (T)v;                                                                        \
  }                                                                                           \
  static int eq_##N(const void* b, size_t i, size_t esz, unsigned long long v) {              \
    (void)esz;                                                                                \
    return ((const T*)b)[i] == (T)v;                                                          \
  }                                                                                           \
  static void fmt_##N(char* out, size_t n, const void* b, size_t i, size_t esz) {             \
    char tmp[160];                                                                            \
    (void)esz;                                                                                \
    SHT_FMT(tmp, ((const T*)b)[i]);                                                           \
    snprintf(out, n, "%s", tmp);                                                              \
  }                                                                                           \
  static void put_##N(int m, void* d, const void* s, size_t n, int pe) {                      \
    if (m == M_PLAIN)                                                                         \
      shmem_##N##_put((T*)d, (const T*)s, n, pe);                                             \
    else                                                                                      \
      shmem_ctx_##N##_put(CTXOF(m), (T*)d, (const T*)s, n, pe);                               \
  }                                                                                           \
  static void get_##N(int m, void* d, const void* s, size_t n, int pe) {                      \
    if (m == M_PLAIN)                                                                         \
      shmem_##N##_get((T*)d, (const T*)s, n, pe);                                             \
    else                                                                                      \
      shmem_ctx_##N##_get(CTXOF(m), (T*)d, (const T*)s, n, pe);                               \
  }                                                                                           \
  static void put_nbi_##N(int m, void* d, const void* s, size_t n, int pe) {                  \
    if (m == M_PLAIN)                                                                         \
      shmem_##N##_put_nbi((T*)d, (const T*)s, n, pe);                                         \
    else                                                                                      \
      shmem_ctx_##N##_put_nbi(CTXOF(m), (T*)d, (const T*)s, n, pe);                           \
  }                                                                                           \
  static void get_nbi_##N(int m, void* d, const void* s, size_t n, int pe) {                  \
    if (m == M_PLAIN)                                                                         \
      shmem_##N##_get_nbi((T*)d, (const T*)s, n, pe);                                         \
    else                                                                                      \
      shmem_ctx_##N##_get_nbi(CTXOF(m), (T*)d, (const T*)s, n, pe);                           \
  }                                                                                           \
  static void iput_##N(int m, void* d, const void* s, ptrdiff_t dst, ptrdiff_t sst, size_t n, \
                       int pe) {                                                              \
    if (m == M_PLAIN)                                                                         \
      shmem_##N##_iput((T*)d, (const T*)s, dst, sst, n, pe);                                  \
    else                                                                                      \
      shmem_ctx_##N##_iput(CTXOF(m), (T*)d, (const T*)s, dst, sst, n, pe);                    \
  }                                                                                           \
  static void iget_##N(int m, void* d, const void* s, ptrdiff_t dst, ptrdiff_t sst, size_t n, \
                       int pe) {                                                              \
    if (m == M_PLAIN)                                                                         \
      shmem_##N##_iget((T*)d, (const T*)s, dst, sst, n, pe);                                  \
    else                                                                                      \
      shmem_ctx_##N##_iget(CTXOF(m), (T*)d, (const T*)s, dst, sst, n, pe);                    \
  }                                                                                           \
  static void p_##N(int m, void* d, const void* v, int pe) {                                  \
    if (m == M_PLAIN)                                                                         \
      shmem_##N##_p((T*)d, *(const T*)v, pe);                                                 \
    else                                                                                      \
      shmem_ctx_##N##_p(CTXOF(m), (T*)d, *(const T*)v, pe);                                   \
  }                                                                                           \
  static void g_##N(int m, void* out, const void* s, int pe) {                                \
    T v;                                                                                      \
    if (m == M_PLAIN)                                                                         \
      v = shmem_##N##_g((const T*)s, pe);                                                     \
    else                                                                                      \
      v = shmem_ctx_##N##_g(CTXOF(m), (const T*)s, pe);                                       \
    *(T*)out = v;                                                                             \
  }
SHMEMFM_RMA_TYPES(TYPED_WRAP)

#define TYPED_OPS(T, N)    \
  {.name = #N,             \
   .size = sizeof(T),      \
   .gdst = g_dst_##N,      \
   .gsrc = g_src_##N,      \
   .set = set_##N,         \
   .eq = eq_##N,           \
   .fmt = fmt_##N,         \
   .put = put_##N,         \
   .get = get_##N,         \
   .put_nbi = put_nbi_##N, \
   .get_nbi = get_nbi_##N, \
   .iput = iput_##N,       \
   .iget = iget_##N,       \
   .p = p_##N,             \
   .g = g_##N},
static rma_ops typed_ops[] = {SHMEMFM_RMA_TYPES(TYPED_OPS)};
#define NTYPED (sizeof typed_ops / sizeof typed_ops[0])

/* --- sized / mem wrappers: elements are byte patterns ----------------------------------------- */
static unsigned char byte_of(unsigned long long v, size_t k) {
  unsigned long long h = (v + 1) * 0x9E3779B97F4A7C15ull + (k + 1) * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 29;
  return (unsigned char)(h ^ (h >> 17) ^ (h >> 41));
}
static void set_bytes(void* b, size_t i, size_t esz, unsigned long long v) {
  unsigned char* p = (unsigned char*)b + i * esz;
  for (size_t k = 0; k < esz; k++) p[k] = byte_of(v, k);
}
static int eq_bytes(const void* b, size_t i, size_t esz, unsigned long long v) {
  const unsigned char* p = (const unsigned char*)b + i * esz;
  for (size_t k = 0; k < esz; k++)
    if (p[k] != byte_of(v, k)) return 0;
  return 1;
}
static void fmt_bytes(char* out, size_t n, const void* b, size_t i, size_t esz) {
  const unsigned char* p = (const unsigned char*)b + i * esz;
  size_t used = 0;
  out[0] = 0;
  for (size_t k = 0; k < esz && used + 3 < n; k++)
    used += (size_t)snprintf(out + used, n - used, "%02x", p[k]);
}

#define SIZED_CONTIG(S)                                                       \
  static _Alignas(16) unsigned char g_dst_s##S[LEN * 16];                     \
  static _Alignas(16) unsigned char g_src_s##S[LEN * 16];                     \
  static void put_s##S(int m, void* d, const void* s, size_t n, int pe) {     \
    if (m == M_PLAIN)                                                         \
      shmem_put##S(d, s, n, pe);                                              \
    else                                                                      \
      shmem_ctx_put##S(CTXOF(m), d, s, n, pe);                                \
  }                                                                           \
  static void get_s##S(int m, void* d, const void* s, size_t n, int pe) {     \
    if (m == M_PLAIN)                                                         \
      shmem_get##S(d, s, n, pe);                                              \
    else                                                                      \
      shmem_ctx_get##S(CTXOF(m), d, s, n, pe);                                \
  }                                                                           \
  static void put_nbi_s##S(int m, void* d, const void* s, size_t n, int pe) { \
    if (m == M_PLAIN)                                                         \
      shmem_put##S##_nbi(d, s, n, pe);                                        \
    else                                                                      \
      shmem_ctx_put##S##_nbi(CTXOF(m), d, s, n, pe);                          \
  }                                                                           \
  static void get_nbi_s##S(int m, void* d, const void* s, size_t n, int pe) { \
    if (m == M_PLAIN)                                                         \
      shmem_get##S##_nbi(d, s, n, pe);                                        \
    else                                                                      \
      shmem_ctx_get##S##_nbi(CTXOF(m), d, s, n, pe);                          \
  }
#define SIZED_STRIDED(S, B)                                                                    \
  SIZED_CONTIG(S)                                                                              \
  static void iput_s##S(int m, void* d, const void* s, ptrdiff_t dst, ptrdiff_t sst, size_t n, \
                        int pe) {                                                              \
    if (m == M_PLAIN)                                                                          \
      shmem_iput##S(d, s, dst, sst, n, pe);                                                    \
    else                                                                                       \
      shmem_ctx_iput##S(CTXOF(m), d, s, dst, sst, n, pe);                                      \
  }                                                                                            \
  static void iget_s##S(int m, void* d, const void* s, ptrdiff_t dst, ptrdiff_t sst, size_t n, \
                        int pe) {                                                              \
    if (m == M_PLAIN)                                                                          \
      shmem_iget##S(d, s, dst, sst, n, pe);                                                    \
    else                                                                                       \
      shmem_ctx_iget##S(CTXOF(m), d, s, dst, sst, n, pe);                                      \
  }
SHMEMFM_SIZES(SIZED_STRIDED)
SIZED_CONTIG(mem) /* putmem / getmem / putmem_nbi / getmem_nbi: no iputmem in OpenSHMEM 1.5 */

#define SIZED_OPS(S, B)     \
  {.name = "size" #S,       \
   .size = B,               \
   .tid = 100 + S,          \
   .gdst = g_dst_s##S,      \
   .gsrc = g_src_s##S,      \
   .set = set_bytes,        \
   .eq = eq_bytes,          \
   .fmt = fmt_bytes,        \
   .put = put_s##S,         \
   .get = get_s##S,         \
   .put_nbi = put_nbi_s##S, \
   .get_nbi = get_nbi_s##S, \
   .iput = iput_s##S,       \
   .iget = iget_s##S},
static rma_ops sized_ops[] = {
    SHMEMFM_SIZES(SIZED_OPS){.name = "mem",
                             .size = 1,
                             .tid = 99,
                             .gdst = g_dst_smem,
                             .gsrc = g_src_smem,
                             .set = set_bytes,
                             .eq = eq_bytes,
                             .fmt = fmt_bytes,
                             .put = put_smem,
                             .get = get_smem,
                             .put_nbi = put_nbi_smem,
                             .get_nbi = get_nbi_smem} /* no iputmem / igetmem in OpenSHMEM 1.5 */
};
#define NSIZED (sizeof sized_ops / sizeof sized_ops[0])

/* --- generic driver --------------------------------------------------------------------------- */
static void fill_sent(const rma_ops* o, void* buf, size_t n) {
  for (size_t i = 0; i < n; i++) o->set(buf, i, o->size, sht_mod(o->size));
}
static unsigned long long sent_of(const rma_ops* o) {
  return sht_mod(o->size);
}
/* Values are produced with the 8-byte range and then reduced by the element's own range. */
static unsigned long long val_of(const rma_ops* o, int pe, size_t i, int tag) {
  return sht_val(pe, i, tag, 8) % sht_mod(o->size);
}

static void expect_elem(const rma_ops* o, const void* buf, size_t i, unsigned long long v, int line,
                        const char* what, int mode, int tag) {
  if (!o->eq(buf, i, o->size, v)) {
    long double _Complex tmp[4];
    char e[160], g[160];
    o->set(tmp, 0, o->size, v);
    o->fmt(e, sizeof e, tmp, 0, o->size);
    o->fmt(g, sizeof g, buf, i, o->size);
    shtest_fail(__FILE__, line, e, g, "%s %s (%s, step tag %d) element %zu", o->name, what,
                mode_name[mode], tag, i);
  }
}
#define EXPECT(o, buf, i, v, what) expect_elem((o), (buf), (i), (v), __LINE__, (what), mode, tag)

/* Ends a transfer phase: completes the created context (barrier_all only quiets the default
 * context), then synchronizes all PEs. */
static void end_phase(int mode) {
  if (mode == M_CTXNEW) shmem_ctx_quiet(ctx_new);
  shmem_barrier_all();
}
static void quiet_mode(int mode) {
  if (mode == M_PLAIN)
    shmem_quiet();
  else
    shmem_ctx_quiet(CTXOF(mode));
}

static void run_ops(const rma_ops* o, int mode, void* src, void* dst) {
  static const size_t lens[] = {0, 1, 100, LEN};
  const size_t nl = sizeof lens / sizeof lens[0];
  int tag = 0;
  int step = 0;
#define NEXT_TAG() (tag = o->tid * 64 + mode * 16 + (step++ % 16))

  /* contiguous put, several lengths */
  for (size_t li = 0; li < nl; li++) {
    size_t L = lens[li];
    NEXT_TAG();
    for (size_t i = 0; i < LEN; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
    fill_sent(o, dst, LEN);
    shmem_barrier_all();
    o->put(mode, dst, src, L, right);
    end_phase(mode);
    for (size_t i = 0; i < LEN; i++)
      EXPECT(o, dst, i, i < L ? val_of(o, left, i, tag) : sent_of(o), "put");
  }
  /* contiguous get, several lengths */
  for (size_t li = 0; li < nl; li++) {
    size_t L = lens[li];
    NEXT_TAG();
    for (size_t i = 0; i < LEN; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
    fill_sent(o, dst, LEN);
    shmem_barrier_all();
    o->get(mode, dst, src, L, right);
    for (size_t i = 0; i < LEN; i++)
      EXPECT(o, dst, i, i < L ? val_of(o, right, i, tag) : sent_of(o), "get");
    end_phase(mode);
  }
  /* p / g */
  if (o->p) {
    long double _Complex tmp[4];
    NEXT_TAG();
    for (size_t i = 0; i < LEN; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
    fill_sent(o, dst, LEN);
    shmem_barrier_all();
    for (size_t i = 0; i < 10; i++) {
      o->set(tmp, 0, o->size, val_of(o, me, i * 3, tag));
      o->p(mode, (char*)dst + i * o->size, tmp, right);
    }
    end_phase(mode);
    for (size_t i = 0; i < LEN; i++)
      EXPECT(o, dst, i, i < 10 ? val_of(o, left, i * 3, tag) : sent_of(o), "p");
    for (size_t i = 0; i < 10; i++) {
      o->g(mode, tmp, (char*)src + (i * 7) * o->size, right);
      EXPECT(o, tmp, 0, val_of(o, right, i * 7, tag), "g");
    }
    shmem_barrier_all();
  }
  /* iput / iget with strides */
  if (o->iput) {
    NEXT_TAG();
    for (size_t i = 0; i < LEN; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
    fill_sent(o, dst, LEN);
    shmem_barrier_all();
    o->iput(mode, dst, src, 3, 2, 10, right); /* dst[3k] on right = src[2k] */
    end_phase(mode);
    for (size_t j = 0; j < LEN; j++)
      EXPECT(o, dst, j, (j % 3 == 0 && j / 3 < 10) ? val_of(o, left, 2 * (j / 3), tag) : sent_of(o),
             "iput(dst=3,sst=2,n=10)");

    NEXT_TAG();
    for (size_t i = 0; i < LEN; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
    fill_sent(o, dst, LEN);
    shmem_barrier_all();
    o->iget(mode, dst, src, 2, 3, 10, right); /* dst[2k] = src[3k] of right */
    for (size_t j = 0; j < LEN; j++)
      EXPECT(o, dst, j,
             (j % 2 == 0 && j / 2 < 10) ? val_of(o, right, 3 * (j / 2), tag) : sent_of(o),
             "iget(dst=2,sst=3,n=10)");
    end_phase(mode);

    /* unit strides and a single element */
    NEXT_TAG();
    for (size_t i = 0; i < LEN; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
    fill_sent(o, dst, LEN);
    shmem_barrier_all();
    o->iput(mode, dst, src, 1, 1, 50, right);
    o->iput(mode, (char*)dst + 60 * o->size, (char*)src + 70 * o->size, 5, 5, 1, right);
    end_phase(mode);
    for (size_t j = 0; j < LEN; j++) {
      unsigned long long e = sent_of(o);
      if (j < 50) e = val_of(o, left, j, tag);
      if (j == 60) e = val_of(o, left, 70, tag);
      EXPECT(o, dst, j, e, "iput(1,1,50) + iput(n=1)");
    }
  }
  /* put_nbi / get_nbi + quiet */
  NEXT_TAG();
  for (size_t i = 0; i < LEN; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
  fill_sent(o, dst, LEN);
  shmem_barrier_all();
  o->put_nbi(mode, dst, src, 60, right);
  o->put_nbi(mode, (char*)dst + 60 * o->size, (char*)src + 60 * o->size, 40, right);
  quiet_mode(mode);
  shmem_barrier_all();
  for (size_t i = 0; i < LEN; i++)
    EXPECT(o, dst, i, i < 100 ? val_of(o, left, i, tag) : sent_of(o), "put_nbi+quiet");

  NEXT_TAG();
  for (size_t i = 0; i < LEN; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
  fill_sent(o, dst, LEN);
  shmem_barrier_all();
  o->get_nbi(mode, dst, src, 100, right);
  o->get_nbi(mode, (char*)dst + 100 * o->size, (char*)src + 100 * o->size, 1, right);
  quiet_mode(mode);
  for (size_t i = 0; i < LEN; i++)
    EXPECT(o, dst, i, i < 101 ? val_of(o, right, i, tag) : sent_of(o), "get_nbi+quiet");
  end_phase(mode);

  /* global (non-heap) arrays: put into one, get from one */
  NEXT_TAG();
  for (size_t i = 0; i < LEN; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
  for (size_t i = 0; i < LEN; i++) o->set(o->gsrc, i, o->size, val_of(o, me, i + 1000, tag));
  fill_sent(o, o->gdst, LEN);
  fill_sent(o, dst, LEN);
  shmem_barrier_all();
  o->put(mode, o->gdst, src, 77, right);
  o->get(mode, dst, o->gsrc, 99, right);
  for (size_t i = 0; i < LEN; i++)
    EXPECT(o, dst, i, i < 99 ? val_of(o, right, i + 1000, tag) : sent_of(o), "get from global");
  end_phase(mode);
  for (size_t i = 0; i < LEN; i++)
    EXPECT(o, o->gdst, i, i < 77 ? val_of(o, left, i, tag) : sent_of(o), "put to global");

  /* put to self */
  if (mode == M_PLAIN) {
    NEXT_TAG();
    for (size_t i = 0; i < LEN; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
    fill_sent(o, dst, LEN);
    shmem_barrier_all();
    o->put(mode, dst, src, 33, me);
    shmem_quiet();
    for (size_t i = 0; i < LEN; i++)
      EXPECT(o, dst, i, i < 33 ? val_of(o, me, i, tag) : sent_of(o), "put to self");
    o->get(mode, dst, src, 40, me);
    for (size_t i = 0; i < LEN; i++)
      EXPECT(o, dst, i, i < 40 ? val_of(o, me, i, tag) : sent_of(o), "get from self");
    shmem_barrier_all();
  }
#undef NEXT_TAG
}

/* 1 MiB put, get and put_nbi, one per mode. */
static void run_big(const rma_ops* o) {
  size_t n = BIGBYTES / o->size;
  void* src = shmem_malloc(n * o->size);
  void* dst = shmem_malloc(n * o->size);
  CHECK(src != NULL && dst != NULL, "shmem_malloc of 2 x 1 MiB for %s", o->name);
  for (int mode = 0; mode < NMODES; mode++) {
    int tag = o->tid * 64 + 60 + mode;
    for (size_t i = 0; i < n; i++) o->set(src, i, o->size, val_of(o, me, i, tag));
    fill_sent(o, dst, n);
    shmem_barrier_all();
    if (mode == M_PLAIN) {
      o->put(mode, dst, src, n, right);
      end_phase(mode);
      for (size_t i = 0; i < n; i++) EXPECT(o, dst, i, val_of(o, left, i, tag), "1 MiB put");
    } else if (mode == M_CTXNEW) {
      o->get(mode, dst, src, n, right);
      for (size_t i = 0; i < n; i++) EXPECT(o, dst, i, val_of(o, right, i, tag), "1 MiB get");
      end_phase(mode);
    } else {
      o->put_nbi(mode, dst, src, n, right);
      quiet_mode(mode);
      shmem_barrier_all();
      for (size_t i = 0; i < n; i++) EXPECT(o, dst, i, val_of(o, left, i, tag), "1 MiB put_nbi");
    }
  }
  shmem_free(dst);
  shmem_free(src);
}

static int is_big_type(const char* name) {
  static const char* const big[] = {"char", "int", "double", "longdouble", "uint64", "size64"};
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
    if (strcmp(name, big[i]) == 0) return 1;
  return 0;
}

int main(void) {
  shmem_init();
  shtest_require_pes(2);
  shtest_ring(&me, &npes, &left, &right);

  int rc = shmem_ctx_create(0, &ctx_new);
  CHECK_EQ(rc, 0, "shmem_ctx_create return value");
  CHECK(ctx_new != SHMEM_CTX_INVALID, "shmem_ctx_create gives a valid context");

  /* heap buffers: LEN elements of the largest element size (16 bytes) */
  void* src = shmem_malloc(LEN * 16);
  void* dst = shmem_malloc(LEN * 16);
  CHECK(src != NULL && dst != NULL, "shmem_malloc of the buffers");

  for (size_t t = 0; t < NTYPED; t++) {
    typed_ops[t].tid = (int)t + 1;
    for (int mode = 0; mode < NMODES; mode++) run_ops(&typed_ops[t], mode, src, dst);
    if (is_big_type(typed_ops[t].name)) run_big(&typed_ops[t]);
  }
  for (size_t t = 0; t < NSIZED; t++) {
    for (int mode = 0; mode < NMODES; mode++) run_ops(&sized_ops[t], mode, src, dst);
    if (is_big_type(sized_ops[t].name) || strcmp(sized_ops[t].name, "mem") == 0)
      run_big(&sized_ops[t]);
  }

  shmem_free(dst);
  shmem_free(src);
  shmem_ctx_destroy(ctx_new);
  shtest_pass("test_rma");
  shmem_finalize();
  return 0;
}
