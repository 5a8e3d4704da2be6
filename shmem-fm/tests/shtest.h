/* shtest.h - tiny common harness for the SHMEM-FM OpenSHMEM 1.5 C tests.
 *
 * Include this header FIRST in every test (it sets _POSIX_C_SOURCE for nanosleep).
 *
 *   CHECK(cond, fmt, ...)          on failure prints
 *                                  "FAIL <file>:<line>: <what> (PE x, expected <cond>, got false)"
 *   CHECK_EQ(got, expected, fmt, ...)
 *                                  on failure prints
 *                                  "FAIL <file>:<line>: <what> (PE x, expected y, got z)"
 *                                  with y and z formatted from their C type (integers, floating,
 *                                  complex).  Both value arguments are evaluated twice when the
 *                                  check fails: never pass expressions with side effects.
 *
 * Both call shmem_global_exit(1) after printing to stderr.  shtest_pass(name) does the final
 * barrier and prints "PASS <name>" on PE 0. */
#ifndef SHTEST_H
#define SHTEST_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <shmem.h>

#include <complex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__)
#define SHTEST_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SHTEST_PRINTF(a, b)
#endif

static inline void shtest_fail(const char* file, int line, const char* expected, const char* got,
                               const char* fmt, ...) SHTEST_PRINTF(5, 6);

static inline void shtest_fail(const char* file, int line, const char* expected, const char* got,
                               const char* fmt, ...) {
  char what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  fflush(stdout);
  fprintf(stderr, "FAIL %s:%d: %s (PE %d, expected %s, got %s)\n", file, line, what, shmem_my_pe(),
          expected, got);
  fflush(stderr);
  shmem_global_exit(1);
}

/* CHECK(cond, fmt, ...): fmt and its arguments describe what was checked. */
#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) shtest_fail(__FILE__, __LINE__, #cond, "false", __VA_ARGS__); \
  } while (0)

/* --- formatting of values of any arithmetic type ---------------------------------------------- */
static inline void sht_fmt_ll(char* buf, size_t n, long long v) {
  snprintf(buf, n, "%lld", v);
}
static inline void sht_fmt_ull(char* buf, size_t n, unsigned long long v) {
  snprintf(buf, n, "%llu (0x%llx)", v, v);
}
static inline void sht_fmt_ld(char* buf, size_t n, long double v) {
  snprintf(buf, n, "%.21Lg", v);
}
static inline void sht_fmt_cplx(char* buf, size_t n, long double _Complex v) {
  snprintf(buf, n, "(%.21Lg%+.21Lgi)", creall(v), cimagl(v));
}
#define SHT_FMT(buf, x)                         \
  _Generic((x), float                           \
           : sht_fmt_ld, double                 \
           : sht_fmt_ld, long double            \
           : sht_fmt_ld, float _Complex         \
           : sht_fmt_cplx, double _Complex      \
           : sht_fmt_cplx, long double _Complex \
           : sht_fmt_cplx, _Bool                \
           : sht_fmt_ull, unsigned char         \
           : sht_fmt_ull, unsigned short        \
           : sht_fmt_ull, unsigned int          \
           : sht_fmt_ull, unsigned long         \
           : sht_fmt_ull, unsigned long long    \
           : sht_fmt_ull, default               \
           : sht_fmt_ll)(buf, sizeof(buf), (x))

/* CHECK_EQ(got, expected, fmt, ...) */
#define CHECK_EQ(got, expected, ...)                                \
  do {                                                              \
    if (!((got) == (expected))) {                                   \
      char sht_e_[160], sht_g_[160];                                \
      SHT_FMT(sht_e_, (expected));                                  \
      SHT_FMT(sht_g_, (got));                                       \
      shtest_fail(__FILE__, __LINE__, sht_e_, sht_g_, __VA_ARGS__); \
    }                                                               \
  } while (0)

/* --- test values -------------------------------------------------------------------------------
 * sht_val(pe, idx, tag, size) is a value in [0, sht_mod(size)) that mixes the writing PE, the
 * element index and a tag (type number, iteration ...), so that a misplaced element, an element
 * from the wrong PE or from a previous step is detected.  The range keeps the value exact in every
 * type of its size (1-byte values < 127 even in signed char, floats < 2^24).  sht_mod(size) itself
 * is never produced, so it serves as a sentinel ("not written"). */
static inline unsigned long long sht_mod(size_t size) {
  return size == 1 ? 127ull : size == 2 ? 32749ull : 16777213ull;
}
static inline unsigned long long sht_val(int pe, size_t idx, int tag, size_t size) {
  unsigned long long h = (unsigned long long)pe * 1000003ull + (unsigned long long)idx * 7919ull +
                         (unsigned long long)tag * 104729ull + 12345ull;
  return h % sht_mod(size);
}
#define VAL(T, pe, idx, tag) ((T)sht_val((pe), (size_t)(idx), (tag), sizeof(T)))
#define SENT(T) ((T)sht_mod(sizeof(T)))

/* --- misc ------------------------------------------------------------------------------------- */
static inline void shtest_sleep_us(long us) {
  struct timespec ts;
  ts.tv_sec = us / 1000000L;
  ts.tv_nsec = (us % 1000000L) * 1000L;
  nanosleep(&ts, NULL);
}

/* Monotonic time in seconds. */
static inline double shtest_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* POLL(cond, fmt, ...): re-evaluates cond until it holds; fails after SHTEST_POLL_LIMIT seconds
 * (instead of hanging until the harness' timeout). */
#ifndef SHTEST_POLL_LIMIT
#define SHTEST_POLL_LIMIT 60.0
#endif
#define POLL(cond, ...)                                                                          \
  do {                                                                                           \
    double sht_t0_ = shtest_now();                                                               \
    while (!(cond)) {                                                                            \
      if (shtest_now() - sht_t0_ > SHTEST_POLL_LIMIT)                                            \
        shtest_fail(__FILE__, __LINE__, #cond, "still false after the poll limit", __VA_ARGS__); \
    }                                                                                            \
  } while (0)

/* Fails unless at least `min` PEs run the test. */
static inline void shtest_require_pes(int min) {
  int n = shmem_n_pes();
  if (n < min) {
    char e[32], g[32];
    snprintf(e, sizeof e, ">= %d PEs", min);
    snprintf(g, sizeof g, "%d", n);
    shtest_fail(__FILE__, __LINE__, e, g, "number of PEs");
  }
}

/* This PE, the number of PEs, and its neighbours in the ring of PEs. */
static inline void shtest_ring(int* me, int* npes, int* left, int* right) {
  *me = shmem_my_pe();
  *npes = shmem_n_pes();
  *right = (*me + 1) % *npes;
  *left = (*me + *npes - 1) % *npes;
}

/* Final barrier, then PE 0 prints "PASS <name>". */
static inline void shtest_pass(const char* name) {
  shmem_barrier_all();
  if (shmem_my_pe() == 0) {
    printf("PASS %s\n", name);
    fflush(stdout);
  }
}

#endif /* SHTEST_H */
