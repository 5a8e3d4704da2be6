/* test_signal.c - put-with-signal of OpenSHMEM 1.5.
 *
 *  1. Ring of ITERS iterations with 64 KiB payloads: in each iteration PE i sends to PE i+1 with
 *     one of the put_signal variants (typed, sized 8..128, mem, blocking and _nbi, plain and ctx
 *     forms with SHMEM_CTX_DEFAULT and a created context), alternating SHMEM_SIGNAL_SET (signal =
 *     iteration) and SHMEM_SIGNAL_ADD (signal += 1, giving the iteration too).  The receiver
 *     waits with shmem_signal_wait_until, checks the returned value and shmem_signal_fetch, then
 *     checks that all 64 KiB of the payload are present (data is delivered before the signal),
 *     then acknowledges with an atomic set so the sender may reuse the buffer.
 *  2. Every type of SHMEMFM_RMA_TYPES: shmem_TYPENAME_put_signal, _put_signal_nbi and the ctx
 *     forms, with SET and ADD, on a global (non-heap) signal word.
 *  3. SHMEM_SIGNAL_ADD from all PEs on one signal of PE 0 (contention); the data of every PE
 *     must be present when the signal reaches its total.
 *  4. shmem_signal_wait_until with the comparison operators NE, GT, LE, LT. */
#include "shtest.h"

#define PAYLOAD (64 * 1024)
#define ITERS 56
#define NVARIANTS 28

static int me, npes, right, left;
static shmem_ctx_t ctx_new = SHMEM_CTX_INVALID;
static uint64_t gsig; /* a global (non-heap) signal word */

static unsigned char pat(int pe, int it, size_t i) {
  return (unsigned char)((i * 131u) ^ (i >> 8) ^ (unsigned)(it * 17) ^ (unsigned)(pe * 29));
}

/* Issues variant v of put-with-signal; returns the context that must be quieted (or NULL). */
static shmem_ctx_t send_variant(int v, void* dst, const void* src, uint64_t* sig, uint64_t value,
                                int op, int pe) {
  const size_t B = PAYLOAD;
  switch (v) {
    case 0:
      shmem_uint64_put_signal((uint64_t*)dst, (const uint64_t*)src, B / 8, sig, value, op, pe);
      return NULL;
    case 1:
      shmem_int_put_signal_nbi((int*)dst, (const int*)src, B / sizeof(int), sig, value, op, pe);
      return SHMEM_CTX_DEFAULT;
    case 2:
      shmem_char_put_signal((char*)dst, (const char*)src, B, sig, value, op, pe);
      return NULL;
    case 3:
      shmem_uchar_put_signal_nbi((unsigned char*)dst, (const unsigned char*)src, B, sig, value, op,
                                 pe);
      return SHMEM_CTX_DEFAULT;
    case 4:
      shmem_put8_signal(dst, src, B, sig, value, op, pe);
      return NULL;
    case 5:
      shmem_put8_signal_nbi(dst, src, B, sig, value, op, pe);
      return SHMEM_CTX_DEFAULT;
    case 6:
      shmem_put16_signal(dst, src, B / 2, sig, value, op, pe);
      return NULL;
    case 7:
      shmem_put16_signal_nbi(dst, src, B / 2, sig, value, op, pe);
      return SHMEM_CTX_DEFAULT;
    case 8:
      shmem_put32_signal(dst, src, B / 4, sig, value, op, pe);
      return NULL;
    case 9:
      shmem_put32_signal_nbi(dst, src, B / 4, sig, value, op, pe);
      return SHMEM_CTX_DEFAULT;
    case 10:
      shmem_put64_signal(dst, src, B / 8, sig, value, op, pe);
      return NULL;
    case 11:
      shmem_put64_signal_nbi(dst, src, B / 8, sig, value, op, pe);
      return SHMEM_CTX_DEFAULT;
    case 12:
      shmem_put128_signal(dst, src, B / 16, sig, value, op, pe);
      return NULL;
    case 13:
      shmem_put128_signal_nbi(dst, src, B / 16, sig, value, op, pe);
      return SHMEM_CTX_DEFAULT;
    case 14:
      shmem_putmem_signal(dst, src, B, sig, value, op, pe);
      return NULL;
    case 15:
      shmem_putmem_signal_nbi(dst, src, B, sig, value, op, pe);
      return SHMEM_CTX_DEFAULT;
    case 16:
      shmem_ctx_putmem_signal(SHMEM_CTX_DEFAULT, dst, src, B, sig, value, op, pe);
      return NULL;
    case 17:
      shmem_ctx_putmem_signal_nbi(ctx_new, dst, src, B, sig, value, op, pe);
      return ctx_new;
    case 18:
      shmem_ctx_uint64_put_signal(ctx_new, (uint64_t*)dst, (const uint64_t*)src, B / 8, sig, value,
                                  op, pe);
      return ctx_new;
    case 19:
      shmem_ctx_uint64_put_signal_nbi(SHMEM_CTX_DEFAULT, (uint64_t*)dst, (const uint64_t*)src,
                                      B / 8, sig, value, op, pe);
      return SHMEM_CTX_DEFAULT;
    case 20:
      shmem_ctx_put8_signal(ctx_new, dst, src, B, sig, value, op, pe);
      return ctx_new;
    case 21:
      shmem_ctx_put16_signal_nbi(ctx_new, dst, src, B / 2, sig, value, op, pe);
      return ctx_new;
    case 22:
      shmem_ctx_put32_signal(SHMEM_CTX_DEFAULT, dst, src, B / 4, sig, value, op, pe);
      return NULL;
    case 23:
      shmem_ctx_put64_signal_nbi(ctx_new, dst, src, B / 8, sig, value, op, pe);
      return ctx_new;
    case 24:
      shmem_ctx_put128_signal(ctx_new, dst, src, B / 16, sig, value, op, pe);
      return ctx_new;
    case 25:
      shmem_ctx_put128_signal_nbi(SHMEM_CTX_DEFAULT, dst, src, B / 16, sig, value, op, pe);
      return SHMEM_CTX_DEFAULT;
    case 26:
      shmem_ctx_int64_put_signal(SHMEM_CTX_DEFAULT, (int64_t*)dst, (const int64_t*)src, B / 8, sig,
                                 value, op, pe);
      return NULL;
    default:
      shmem_ctx_short_put_signal_nbi(ctx_new, (short*)dst, (const short*)src, B / sizeof(short),
                                     sig, value, op, pe);
      return ctx_new;
  }
}

static void ring(void) {
  unsigned char* src = (unsigned char*)shmem_malloc(PAYLOAD);
  unsigned char* dst = (unsigned char*)shmem_malloc(PAYLOAD);
  uint64_t* sig = (uint64_t*)shmem_calloc(2, sizeof(uint64_t)); /* [0] data signal, [1] ack */
  CHECK(src != NULL && dst != NULL && sig != NULL, "shmem_malloc of the ring buffers");
  memset(dst, 0, PAYLOAD);
  shmem_barrier_all();
  for (int it = 1; it <= ITERS; it++) {
    const int v = (it - 1) % NVARIANTS;
    const int op = ((it + v / 2) % 2) ? SHMEM_SIGNAL_SET : SHMEM_SIGNAL_ADD;
    /* sender: wait until the right neighbour consumed the previous payload */
    shmem_uint64_wait_until(&sig[1], SHMEM_CMP_GE, (uint64_t)(it - 1));
    for (size_t i = 0; i < PAYLOAD; i++) src[i] = pat(me, it, i);
    shmem_ctx_t q =
        send_variant(v, dst, src, &sig[0], op == SHMEM_SIGNAL_SET ? (uint64_t)it : 1u, op, right);
    if (q != NULL) shmem_ctx_quiet(q);
    /* receiver */
    uint64_t got = shmem_signal_wait_until(&sig[0], SHMEM_CMP_GE, (uint64_t)it);
    CHECK_EQ(got, (uint64_t)it, "signal_wait_until return value, variant %d op %d", v, op);
    got = shmem_signal_fetch(&sig[0]);
    CHECK_EQ(got, (uint64_t)it, "signal_fetch after the wait, variant %d op %d", v, op);
    for (size_t i = 0; i < PAYLOAD; i++) {
      unsigned char e = pat(left, it, i);
      if (dst[i] != e)
        CHECK_EQ(dst[i], e,
                 "payload byte %zu of iteration %d (variant %d, op %s) present when "
                 "the signal arrived",
                 i, it, v, op == SHMEM_SIGNAL_SET ? "SET" : "ADD");
    }
    shmem_uint64_atomic_set(&sig[1], (uint64_t)it, left);
  }
  shmem_barrier_all();
  shmem_free(sig);
  shmem_free(dst);
  shmem_free(src);
}

/* ------------------------------------------------------------------------------------------------
 * every RMA type: put_signal / put_signal_nbi / ctx forms on the global signal word */
#define TN 37
#define TYPED_SIG(T, N)                                                                      \
  static void typed_##N(int tid, void* dstbuf) {                                             \
    T src[TN];                                                                               \
    T* dst = (T*)dstbuf;                                                                     \
    for (int step = 0; step < 4; step++) {                                                   \
      const int tag = tid * 4 + step;                                                        \
      const uint64_t expect = (uint64_t)(tid * 4 + step + 1);                                \
      for (int i = 0; i < TN; i++) {                                                         \
        src[i] = VAL(T, me, i, tag);                                                         \
        dst[i] = SENT(T);                                                                    \
      }                                                                                      \
      dst[TN] = SENT(T);                                                                     \
      shmem_barrier_all();                                                                   \
      switch (step) {                                                                        \
        case 0:                                                                              \
          shmem_##N##_put_signal(dst, src, TN, &gsig, expect, SHMEM_SIGNAL_SET, right);      \
          break;                                                                             \
        case 1:                                                                              \
          shmem_##N##_put_signal_nbi(dst, src, TN, &gsig, 1, SHMEM_SIGNAL_ADD, right);       \
          shmem_quiet();                                                                     \
          break;                                                                             \
        case 2:                                                                              \
          shmem_ctx_##N##_put_signal(ctx_new, dst, src, TN, &gsig, expect, SHMEM_SIGNAL_SET, \
                                     right);                                                 \
          shmem_ctx_quiet(ctx_new);                                                          \
          break;                                                                             \
        default:                                                                             \
          shmem_ctx_##N##_put_signal_nbi(SHMEM_CTX_DEFAULT, dst, src, TN, &gsig, 1,          \
                                         SHMEM_SIGNAL_ADD, right);                           \
          shmem_ctx_quiet(SHMEM_CTX_DEFAULT);                                                \
          break;                                                                             \
      }                                                                                      \
      uint64_t got = shmem_signal_wait_until(&gsig, SHMEM_CMP_EQ, expect);                   \
      CHECK_EQ(got, expect, #N " put_signal step %d: signal", step);                         \
      for (int i = 0; i < TN; i++) {                                                         \
        T e = VAL(T, left, i, tag);                                                          \
        CHECK_EQ(dst[i], e, #N " put_signal step %d: element %d", step, i);                  \
      }                                                                                      \
      T s = SENT(T);                                                                         \
      CHECK_EQ(dst[TN], s, #N " put_signal step %d: element past the end written", step);    \
      shmem_barrier_all();                                                                   \
    }                                                                                        \
  }
SHMEMFM_RMA_TYPES(TYPED_SIG)

/* ------------------------------------------------------------------------------------------------
 * SHMEM_SIGNAL_ADD contention on PE 0 */
#define SLOT 1024
static void add_contention(void) {
  unsigned char* region = (unsigned char*)shmem_malloc((size_t)npes * SLOT);
  uint64_t* sig = (uint64_t*)shmem_calloc(1, sizeof(uint64_t));
  unsigned char src[SLOT];
  CHECK(region != NULL && sig != NULL, "shmem_malloc");
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < SLOT; i++) src[i] = pat(me, 1000 + round, i);
    shmem_barrier_all();
    const uint64_t add = (uint64_t)(me + 1);
    if (round == 0)
      shmem_putmem_signal(region + (size_t)me * SLOT, src, SLOT, sig, add, SHMEM_SIGNAL_ADD, 0);
    else if (round == 1) {
      shmem_putmem_signal_nbi(region + (size_t)me * SLOT, src, SLOT, sig, add, SHMEM_SIGNAL_ADD, 0);
      shmem_quiet();
    } else {
      shmem_ctx_put64_signal_nbi(ctx_new, region + (size_t)me * SLOT, src, SLOT / 8, sig, add,
                                 SHMEM_SIGNAL_ADD, 0);
      shmem_ctx_quiet(ctx_new);
    }
    if (me == 0) {
      const uint64_t total = (uint64_t)(round + 1) * (uint64_t)npes * (uint64_t)(npes + 1) / 2;
      uint64_t got = shmem_signal_wait_until(sig, SHMEM_CMP_GE, total);
      CHECK_EQ(got, total, "SIGNAL_ADD contention total, round %d", round);
      for (int p = 0; p < npes; p++)
        for (size_t i = 0; i < SLOT; i++) {
          unsigned char e = pat(p, 1000 + round, i);
          if (region[(size_t)p * SLOT + i] != e)
            CHECK_EQ(region[(size_t)p * SLOT + i], e,
                     "SIGNAL_ADD contention round %d: byte %zu "
                     "from PE %d",
                     round, i, p);
        }
    }
    shmem_barrier_all();
  }
  shmem_free(sig);
  shmem_free(region);
}

/* ------------------------------------------------------------------------------------------------
 * shmem_signal_wait_until with the other comparison operators */
static void wait_ops(void) {
  uint64_t* sig = (uint64_t*)shmem_calloc(4, sizeof(uint64_t));
  uint64_t* data = (uint64_t*)shmem_calloc(4, sizeof(uint64_t));
  CHECK(sig != NULL && data != NULL, "shmem_calloc");
  sig[0] = 5;  /* wait NE 5 */
  sig[1] = 5;  /* wait GT 5 */
  sig[2] = 50; /* wait LE 9 */
  sig[3] = 50; /* wait LT 9 */
  shmem_barrier_all();
  const uint64_t src[4] = {11, 12, 13, 14};
  shmem_uint64_put_signal(&data[0], &src[0], 1, &sig[0], 6, SHMEM_SIGNAL_SET, right);
  shmem_uint64_put_signal(&data[1], &src[1], 1, &sig[1], 1, SHMEM_SIGNAL_ADD, right);
  shmem_uint64_put_signal_nbi(&data[2], &src[2], 1, &sig[2], 9, SHMEM_SIGNAL_SET, right);
  shmem_uint64_put_signal_nbi(&data[3], &src[3], 1, &sig[3], 3, SHMEM_SIGNAL_SET, right);
  shmem_quiet();
  uint64_t got = shmem_signal_wait_until(&sig[0], SHMEM_CMP_NE, 5);
  CHECK_EQ(got, (uint64_t)6, "signal_wait_until NE");
  CHECK_EQ(data[0], (uint64_t)11, "data with the NE signal");
  got = shmem_signal_wait_until(&sig[1], SHMEM_CMP_GT, 5);
  CHECK_EQ(got, (uint64_t)6, "signal_wait_until GT");
  CHECK_EQ(data[1], (uint64_t)12, "data with the GT signal");
  got = shmem_signal_wait_until(&sig[2], SHMEM_CMP_LE, 9);
  CHECK_EQ(got, (uint64_t)9, "signal_wait_until LE");
  CHECK_EQ(data[2], (uint64_t)13, "data with the LE signal");
  got = shmem_signal_wait_until(&sig[3], SHMEM_CMP_LT, 9);
  CHECK_EQ(got, (uint64_t)3, "signal_wait_until LT");
  CHECK_EQ(data[3], (uint64_t)14, "data with the LT signal");
  got = shmem_signal_fetch(&sig[1]);
  CHECK_EQ(got, (uint64_t)6, "signal_fetch");
  shmem_barrier_all();
  shmem_free(data);
  shmem_free(sig);
}

#define CALL_TYPED(T, N) typed_##N(++tid, tbuf);

int main(void) {
  shmem_init();
  shtest_require_pes(2);
  shtest_ring(&me, &npes, &left, &right);
  int rc = shmem_ctx_create(0, &ctx_new);
  CHECK_EQ(rc, 0, "shmem_ctx_create");

  ring();

  void* tbuf = shmem_malloc((TN + 1) * 16);
  CHECK(tbuf != NULL, "shmem_malloc");
  gsig = 0;
  shmem_barrier_all();
  int tid = 0;
  SHMEMFM_RMA_TYPES(CALL_TYPED)
  shmem_free(tbuf);

  add_contention();
  wait_ops();

  shmem_ctx_destroy(ctx_new);
  shtest_pass("test_signal");
  shmem_finalize();
  return 0;
}
