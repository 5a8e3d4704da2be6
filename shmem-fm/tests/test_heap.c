/* test_heap.c - symmetric heap, accessibility queries and library information of OpenSHMEM 1.5.
 *
 *  - shmem_malloc, shmem_calloc (zeroed, even on reused memory), shmem_align (alignments 64 to
 *    4096 honoured), shmem_realloc (contents kept when growing and shrinking; NULL pointer acts as
 *    malloc), shmem_free (NULL is a no-op), shmem_malloc_with_hints (each hint; memory usable
 *    for AMOs and signals);
 *  - hundreds of allocate / free steps with sizes from one deterministic sequence (the same on
 *    every PE): every object, allocated in the same order everywhere, is used as a symmetric put
 *    target by the left neighbour (addresses need not be equal across PEs);
 *  - shmem_addr_accessible: 1 for heap and global objects on every PE, 0 for stack and private
 *    malloc memory; shmem_pe_accessible: 1 for every PE, 0 out of range;
 *  - shmem_ptr: the same address for my own PE; for members of SHMEM_TEAM_SHARED a usable
 *    pointer (stores through it are seen by the owner after a barrier, loads see the owner's
 *    data); NULL for PEs outside SHMEM_TEAM_SHARED;
 *  - shmem_info_get_version = (1, 5) = SHMEM_MAJOR/MINOR_VERSION; shmem_info_get_name =
 *    SHMEM_VENDOR_STRING;
 *  - heap exhaustion: a request larger than the heap returns NULL on every PE without crashing,
 *    and the heap stays usable. */
#include "shtest.h"

static int me, npes, right, left;
static long global_arr[64];

/* The left neighbour writes the first and the last byte of my copy of p (size bytes), which
 * are checked after a barrier.  Collective; local writes to p must precede the call. */
static void use_as_target(unsigned char* p, size_t size, int tag, const char* what) {
  shmem_barrier_all(); /* everybody's local initialisation of p is done */
  shmem_uint8_p(&p[0], (uint8_t)(tag + me), right);
  if (size > 1) shmem_uint8_p(&p[size - 1], (uint8_t)(tag + 2 * me + 1), right);
  shmem_barrier_all();
  CHECK_EQ(p[0], (unsigned char)(tag + left), "%s: first byte written by the left neighbour", what);
  if (size > 1)
    CHECK_EQ(p[size - 1], (unsigned char)(tag + 2 * left + 1),
             "%s: last byte written by the left neighbour", what);
  shmem_barrier_all();
}

static void basic(void) {
  /* malloc / free */
  unsigned char* a = (unsigned char*)shmem_malloc(4096);
  CHECK(a != NULL, "shmem_malloc(4096)");
  use_as_target(a, 4096, 10, "shmem_malloc(4096)");
  memset(a, 0xAB, 4096);
  shmem_free(a);
  shmem_free(NULL);
  /* calloc is zeroed (likely on the memory just freed and dirtied) */
  unsigned long long* z = (unsigned long long*)shmem_calloc(512, sizeof(unsigned long long));
  CHECK(z != NULL, "shmem_calloc(512, 8)");
  for (int i = 0; i < 512; i++) CHECK_EQ(z[i], 0ULL, "shmem_calloc element %d", i);
  use_as_target((unsigned char*)z, 4096, 20, "shmem_calloc");
  shmem_free(z);
  /* align */
  for (size_t al = 64; al <= 4096; al *= 2) {
    unsigned char* p = (unsigned char*)shmem_align(al, 100 + al);
    CHECK(p != NULL, "shmem_align(%zu)", al);
    CHECK(((uintptr_t)p % al) == 0, "shmem_align(%zu) returned %p", al, (void*)p);
    use_as_target(p, 100 + al, 30, "shmem_align");
    unsigned char* q = (unsigned char*)shmem_align(al, 1); /* after an odd-sized block */
    CHECK(q != NULL && ((uintptr_t)q % al) == 0, "second shmem_align(%zu, 1)", al);
    use_as_target(q, 1, 40, "shmem_align(al, 1)");
    shmem_free(q);
    shmem_free(p);
  }
  /* realloc: grow, shrink, NULL acts as malloc */
  unsigned char* r = (unsigned char*)shmem_realloc(NULL, 256);
  CHECK(r != NULL, "shmem_realloc(NULL, 256)");
  unsigned char* blocker = (unsigned char*)shmem_malloc(64); /* makes in-place growth harder */
  CHECK(blocker != NULL, "shmem_malloc(64)");
  for (int i = 0; i < 256; i++) r[i] = (unsigned char)(i ^ me);
  r = (unsigned char*)shmem_realloc(r, 65536);
  CHECK(r != NULL, "shmem_realloc(256 -> 65536)");
  for (int i = 0; i < 256; i++)
    CHECK_EQ(r[i], (unsigned char)(i ^ me), "shmem_realloc(grow) keeps byte %d", i);
  use_as_target(r, 65536, 50, "shmem_realloc(grow)");
  r[100] = 77;
  r = (unsigned char*)shmem_realloc(r, 128);
  CHECK(r != NULL, "shmem_realloc(65536 -> 128)");
  CHECK_EQ(r[100], (unsigned char)77, "shmem_realloc(shrink) keeps byte 100");
  for (int i = 1; i < 100; i++)
    CHECK_EQ(r[i], (unsigned char)(i ^ me), "shmem_realloc(shrink) keeps byte %d", i);
  use_as_target(r, 128, 60, "shmem_realloc(shrink)");
  shmem_free(r);
  shmem_free(blocker);
  /* malloc_with_hints */
  static const long hints[] = {0, SHMEM_MALLOC_ATOMICS_REMOTE, SHMEM_MALLOC_SIGNAL_REMOTE,
                               SHMEM_MALLOC_ATOMICS_REMOTE | SHMEM_MALLOC_SIGNAL_REMOTE};
  for (size_t h = 0; h < sizeof hints / sizeof hints[0]; h++) {
    uint64_t* w = (uint64_t*)shmem_malloc_with_hints(4 * sizeof(uint64_t), hints[h]);
    CHECK(w != NULL, "shmem_malloc_with_hints(32, %ld)", hints[h]);
    w[0] = 0;
    w[1] = 0;
    shmem_barrier_all();
    shmem_uint64_atomic_add(&w[0], (uint64_t)me + 1, 0);
    const uint64_t v = 0x1234ULL + (uint64_t)me;
    shmem_uint64_put_signal(&w[2], &v, 1, &w[1], 1, SHMEM_SIGNAL_ADD, right);
    shmem_signal_wait_until(&w[1], SHMEM_CMP_EQ, 1);
    CHECK_EQ(w[2], 0x1234ULL + (uint64_t)left, "put_signal into malloc_with_hints(%ld) memory",
             hints[h]);
    shmem_barrier_all();
    if (me == 0)
      CHECK_EQ(w[0], (uint64_t)npes * (uint64_t)(npes + 1) / 2,
               "atomic_add into malloc_with_hints(%ld) memory", hints[h]);
    shmem_barrier_all();
    shmem_free(w);
  }
}

/* Deterministic allocate / free sequence, the same on every PE. */
static void cycles(void) {
  enum { SLOTS = 16, STEPS = 300 };
  unsigned char* obj[SLOTS] = {0};
  size_t sz[SLOTS] = {0};
  unsigned long long lcg = 12345;
  for (int step = 0; step < STEPS; step++) {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    const int slot = (int)((lcg >> 33) % SLOTS);
    if (obj[slot] != NULL) {
      shmem_free(obj[slot]);
      obj[slot] = NULL;
    } else {
      const unsigned kind = (unsigned)((lcg >> 20) % 8);
      size_t size = (size_t)((lcg >> 40) % (kind == 0 ? 200000 : 3000)) + 1;
      if (kind == 1) {
        obj[slot] = (unsigned char*)shmem_align(256, size);
        CHECK(obj[slot] != NULL && (uintptr_t)obj[slot] % 256 == 0, "step %d: shmem_align", step);
      } else if (kind == 2) {
        obj[slot] = (unsigned char*)shmem_calloc(1, size);
        CHECK(obj[slot] != NULL, "step %d: shmem_calloc(1, %zu)", step, size);
        for (size_t i = 0; i < size; i++)
          if (obj[slot][i] != 0) CHECK_EQ(obj[slot][i], 0, "step %d: calloc byte %zu", step, i);
      } else {
        obj[slot] = (unsigned char*)shmem_malloc(size);
        CHECK(obj[slot] != NULL, "step %d: shmem_malloc(%zu)", step, size);
      }
      sz[slot] = size;
      /* fill locally with my pattern, the left neighbour then overwrites the ends */
      memset(obj[slot], (unsigned char)(me + step), size);
      use_as_target(obj[slot], size, step % 200, "allocate/free cycle");
    }
    /* every 25 steps all live objects are targets again (nothing was overwritten by others) */
    if (step % 25 == 24) {
      for (int s = 0; s < SLOTS; s++)
        if (obj[s] != NULL) {
          shmem_putmem(obj[s], &sz[s], sz[s] < sizeof sz[s] ? sz[s] : sizeof sz[s], right);
        }
      shmem_barrier_all();
      for (int s = 0; s < SLOTS; s++)
        if (obj[s] != NULL) {
          size_t v = 0;
          const size_t nb = sz[s] < sizeof v ? sz[s] : sizeof v;
          memcpy(&v, obj[s], nb);
          size_t e = 0;
          memcpy(&e, &sz[s], nb);
          CHECK_EQ(v, e, "step %d: live object %d (size %zu) written by the left neighbour", step,
                   s, sz[s]);
        }
      shmem_barrier_all();
    }
  }
  for (int s = 0; s < SLOTS; s++) shmem_free(obj[s]);
}

static void accessible(void) {
  long* h = (long*)shmem_malloc(8 * sizeof(long));
  CHECK(h != NULL, "shmem_malloc");
  long stack_var = 1;
  long* priv = (long*)malloc(64);
  CHECK(priv != NULL, "malloc");
  for (int p = 0; p < npes; p++) {
    int v = shmem_addr_accessible(h, p);
    CHECK_EQ(v, 1, "shmem_addr_accessible(heap object, PE %d)", p);
    v = shmem_addr_accessible(&h[7], p);
    CHECK_EQ(v, 1, "shmem_addr_accessible(inside a heap object, PE %d)", p);
    v = shmem_addr_accessible(global_arr, p);
    CHECK_EQ(v, 1, "shmem_addr_accessible(global array, PE %d)", p);
    v = shmem_addr_accessible(&stack_var, p);
    CHECK_EQ(v, 0, "shmem_addr_accessible(stack variable, PE %d)", p);
    v = shmem_addr_accessible(priv, p);
    CHECK_EQ(v, 0, "shmem_addr_accessible(private malloc memory, PE %d)", p);
    v = shmem_pe_accessible(p);
    CHECK_EQ(v, 1, "shmem_pe_accessible(%d)", p);
  }
  int v = shmem_pe_accessible(npes);
  CHECK_EQ(v, 0, "shmem_pe_accessible(n_pes) (out of range)");
  v = shmem_pe_accessible(-1);
  CHECK_EQ(v, 0, "shmem_pe_accessible(-1)");
  free(priv);
  shmem_barrier_all();
  shmem_free(h);
}

static void pointers(void) {
  long* buf = (long*)shmem_calloc((size_t)npes + 1, sizeof(long));
  CHECK(buf != NULL, "shmem_calloc");
  buf[npes] = 1000 + me; /* read by the other members through shmem_ptr */
  void* self = shmem_ptr(buf, me);
  CHECK(self == (void*)buf, "shmem_ptr(heap, my PE) is the same address (%p vs %p)", self,
        (void*)buf);
  void* gself = shmem_ptr(global_arr, me);
  CHECK(gself == NULL || gself == (void*)global_arr,
        "shmem_ptr(global, my PE) is NULL or the same address");
  shmem_barrier_all();
  int nshared = 0;
  for (int p = 0; p < npes; p++) {
    const int sp = shmem_team_translate_pe(SHMEM_TEAM_WORLD, p, SHMEM_TEAM_SHARED);
    long* rp = (long*)shmem_ptr(buf, p);
    if (sp < 0) {
      CHECK(rp == NULL, "shmem_ptr to PE %d, not in SHMEM_TEAM_SHARED, must be NULL", p);
      continue;
    }
    nshared++;
    CHECK(rp != NULL, "shmem_ptr to PE %d of SHMEM_TEAM_SHARED is NULL", p);
    CHECK_EQ(rp[npes], 1000L + p, "load through shmem_ptr from PE %d", p);
    rp[me] = 500 + me; /* store through the pointer */
  }
  CHECK(nshared >= 1, "SHMEM_TEAM_SHARED contains at least my PE");
  shmem_barrier_all();
  for (int p = 0; p < npes; p++) {
    const int sp = shmem_team_translate_pe(SHMEM_TEAM_WORLD, p, SHMEM_TEAM_SHARED);
    const long e = sp < 0 ? 0 : 500 + p;
    CHECK_EQ(buf[p], e, "slot of PE %d (%s SHMEM_TEAM_SHARED) after stores through shmem_ptr", p,
             sp < 0 ? "not in" : "in");
  }
  shmem_barrier_all();
  shmem_free(buf);
}

static void info(void) {
  int major = -1, minor = -1;
  shmem_info_get_version(&major, &minor);
  CHECK_EQ(major, 1, "shmem_info_get_version major");
  CHECK_EQ(minor, 5, "shmem_info_get_version minor");
  CHECK(SHMEM_MAJOR_VERSION == 1 && SHMEM_MINOR_VERSION == 5, "SHMEM_MAJOR/MINOR_VERSION");
  char name[SHMEM_MAX_NAME_LEN];
  memset(name, 'x', sizeof name);
  shmem_info_get_name(name);
  CHECK(memchr(name, 0, sizeof name) != NULL, "shmem_info_get_name is NUL-terminated");
  CHECK(strcmp(name, SHMEM_VENDOR_STRING) == 0, "shmem_info_get_name \"%s\" is SHMEM_VENDOR_STRING",
        name);
}

static void exhaustion(void) {
  void* p = shmem_malloc((size_t)1 << 50);
  CHECK(p == NULL, "shmem_malloc(1 PiB) returns NULL");
  p = shmem_align(4096, (size_t)1 << 50);
  CHECK(p == NULL, "shmem_align(4096, 1 PiB) returns NULL");
  p = shmem_calloc((size_t)1 << 30, (size_t)1 << 20);
  CHECK(p == NULL, "shmem_calloc(2^30, 2^20) returns NULL");
  p = shmem_calloc(SIZE_MAX / 2, 4); /* the product overflows */
  CHECK(p == NULL, "shmem_calloc with an overflowing size returns NULL");
  p = shmem_malloc(SIZE_MAX - 64);
  CHECK(p == NULL, "shmem_malloc(SIZE_MAX - 64) returns NULL");
  unsigned char* ok = (unsigned char*)shmem_malloc(1000);
  CHECK(ok != NULL, "shmem_malloc(1000) after failed requests");
  unsigned char* g = (unsigned char*)shmem_realloc(ok, (size_t)1 << 50);
  CHECK(g == NULL, "shmem_realloc to 1 PiB returns NULL");
  use_as_target(ok, 1000, 90, "block kept by a failed shmem_realloc");
  shmem_free(ok);
}

int main(void) {
  shmem_init();
  shtest_require_pes(2);
  shtest_ring(&me, &npes, &left, &right);

  basic();
  cycles();
  accessible();
  pointers();
  info();
  exhaustion();

  shtest_pass("test_heap");
  shmem_finalize();
  return 0;
}
