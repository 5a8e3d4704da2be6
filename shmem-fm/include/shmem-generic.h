/* shmem-generic.h - the C11 type-generic interfaces of OpenSHMEM 1.5 (included by shmem.h when
 * compiling C11 or later).  Each generic name selects the typed routine from the type of its
 * destination (or source) pointer over the 14 base C types of the family's table; a call whose
 * first argument is a shmem_ctx_t selects the context form.  A type outside the table does not
 * compile. */
#ifndef SHMEM_GENERIC_H
#define SHMEM_GENERIC_H

#define SHMEMFM_FIRST(a, ...) a
#define SHMEMFM_SECOND(a, b, ...) b
#define SHMEMFM_PICK5(a, b, c, d, e, ...) e
/* Chosen only when a context is followed by a pointer outside the type table: then the call fails
 * to compile with this message.  (The default keeps the unused context branch valid C.) */
void shmemfm_type_error(shmem_ctx_t ctx, ...) __attribute__((
    error("OpenSHMEM generic call: the pointer type is not in the routine's table")));

/* Association lists: , TYPE*: shmem_[ctx_]TYPENAME_<fam> */
#define SHMEMFM_GA(T, N, fam) , T* : shmem_##N##_##fam
#define SHMEMFM_GCA(T, N, fam) , T* : shmem_ctx_##N##_##fam
#define SHMEMFM_GA_C(T, N, fam) , T* : shmem_##N##_##fam, const T* : shmem_##N##_##fam
#define SHMEMFM_GCA_C(T, N, fam) , T* : shmem_ctx_##N##_##fam, const T* : shmem_ctx_##N##_##fam

/* clang-format off */
/* Tables with fixed-width types name them by the base type they are on LP64 (int32_t is int,
 * int64_t is long, int8_t signed char, int16_t short). */
#define SHMEMFM_C11_RMA(X, fam)                                                                    \
  X(float, float, fam)                                                                             \
  X(double, double, fam)                                                                           \
  X(long double, longdouble, fam)                                                                  \
  X(char, char, fam)                                                                               \
  X(signed char, schar, fam)                                                                       \
  X(short, short, fam)                                                                             \
  X(int, int, fam)                                                                                 \
  X(long, long, fam)                                                                               \
  X(long long, longlong, fam)                                                                      \
  X(unsigned char, uchar, fam)                                                                     \
  X(unsigned short, ushort, fam)                                                                   \
  X(unsigned int, uint, fam)                                                                       \
  X(unsigned long, ulong, fam)                                                                     \
  X(unsigned long long, ulonglong, fam)
#define SHMEMFM_C11_AMO(X, fam)                                                                    \
  X(int, int, fam)                                                                                 \
  X(long, long, fam)                                                                               \
  X(long long, longlong, fam)                                                                      \
  X(unsigned int, uint, fam)                                                                       \
  X(unsigned long, ulong, fam)                                                                     \
  X(unsigned long long, ulonglong, fam)
#define SHMEMFM_C11_EXTAMO(X, fam)                                                                 \
  X(float, float, fam)                                                                             \
  X(double, double, fam)                                                                           \
  SHMEMFM_C11_AMO(X, fam)
#define SHMEMFM_C11_BITAMO(X, fam)                                                                 \
  X(unsigned int, uint, fam)                                                                       \
  X(unsigned long, ulong, fam)                                                                     \
  X(unsigned long long, ulonglong, fam)                                                            \
  X(int, int32, fam)                                                                               \
  X(long, int64, fam)
#define SHMEMFM_C11_P2P(X, fam)                                                                    \
  X(short, short, fam)                                                                             \
  X(int, int, fam)                                                                                 \
  X(long, long, fam)                                                                               \
  X(long long, longlong, fam)                                                                      \
  X(unsigned short, ushort, fam)                                                                   \
  X(unsigned int, uint, fam)                                                                       \
  X(unsigned long, ulong, fam)                                                                     \
  X(unsigned long long, ulonglong, fam)
#define SHMEMFM_C11_BITRED(X, fam)                                                                 \
  X(unsigned char, uchar, fam)                                                                     \
  X(unsigned short, ushort, fam)                                                                   \
  X(unsigned int, uint, fam)                                                                       \
  X(unsigned long, ulong, fam)                                                                     \
  X(unsigned long long, ulonglong, fam)                                                            \
  X(signed char, int8, fam)                                                                        \
  X(short, int16, fam)                                                                             \
  X(int, int32, fam)                                                                               \
  X(long, int64, fam)
#define SHMEMFM_C11_ORDRED(X, fam)                                                                 \
  X(char, char, fam)                                                                               \
  X(signed char, schar, fam)                                                                       \
  X(short, short, fam)                                                                             \
  X(int, int, fam)                                                                                 \
  X(long, long, fam)                                                                               \
  X(long long, longlong, fam)                                                                      \
  X(unsigned char, uchar, fam)                                                                     \
  X(unsigned short, ushort, fam)                                                                   \
  X(unsigned int, uint, fam)                                                                       \
  X(unsigned long, ulong, fam)                                                                     \
  X(unsigned long long, ulonglong, fam)                                                            \
  X(float, float, fam)                                                                             \
  X(double, double, fam)                                                                           \
  X(long double, longdouble, fam)
#define SHMEMFM_C11_ARITHRED(X, fam)                                                               \
  X(float _Complex, complexf, fam)                                                                 \
  X(double _Complex, complexd, fam)                                                                \
  SHMEMFM_C11_ORDRED(X, fam)
#define SHMEMFM_C11_OLDAMO(X, fam)                                                                 \
  X(int, int, fam)                                                                                 \
  X(long, long, fam)                                                                               \
  X(long long, longlong, fam)
#define SHMEMFM_C11_OLDEXTAMO(X, fam)                                                              \
  X(float, float, fam)                                                                             \
  X(double, double, fam)                                                                           \
  SHMEMFM_C11_OLDAMO(X, fam)
#define SHMEMFM_C11_OLDWAIT(X, fam)                                                                \
  X(short, short, fam)                                                                             \
  X(int, int, fam)                                                                                 \
  X(long, long, fam)                                                                               \
  X(long long, longlong, fam)
/* clang-format on */

/* A generic with context forms, dispatched on the destination (or with _C, also const) pointer,
 * which is the first argument, or the second after a context. */
#define SHMEMFM_GEN_CTX(TABLE, fam, ...)                                                 \
  _Generic(SHMEMFM_FIRST(__VA_ARGS__, 0), shmem_ctx_t                                    \
           : _Generic(SHMEMFM_SECOND(__VA_ARGS__, 0, 0) TABLE(SHMEMFM_GCA, fam), default \
                      : shmemfm_type_error) TABLE(SHMEMFM_GA, fam))(__VA_ARGS__)
#define SHMEMFM_GEN_CTX_C(TABLE, fam, ...)                                                 \
  _Generic(SHMEMFM_FIRST(__VA_ARGS__, 0), shmem_ctx_t                                      \
           : _Generic(SHMEMFM_SECOND(__VA_ARGS__, 0, 0) TABLE(SHMEMFM_GCA_C, fam), default \
                      : shmemfm_type_error) TABLE(SHMEMFM_GA_C, fam))(__VA_ARGS__)
/* Without context forms, dispatched on argument 1 (first) or 2 (after a team). */
#define SHMEMFM_GEN1(TABLE, fam, ...) \
  _Generic(SHMEMFM_FIRST(__VA_ARGS__, 0) TABLE(SHMEMFM_GA, fam))(__VA_ARGS__)
#define SHMEMFM_GEN2(TABLE, fam, ...) \
  _Generic(SHMEMFM_SECOND(__VA_ARGS__, 0, 0) TABLE(SHMEMFM_GA, fam))(__VA_ARGS__)

/* RMA */
#define shmem_put(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_RMA, put, __VA_ARGS__)
#define shmem_get(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_RMA, get, __VA_ARGS__)
#define shmem_p(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_RMA, p, __VA_ARGS__)
#define shmem_g(...) SHMEMFM_GEN_CTX_C(SHMEMFM_C11_RMA, g, __VA_ARGS__)
#define shmem_iput(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_RMA, iput, __VA_ARGS__)
#define shmem_iget(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_RMA, iget, __VA_ARGS__)
#define shmem_put_nbi(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_RMA, put_nbi, __VA_ARGS__)
#define shmem_get_nbi(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_RMA, get_nbi, __VA_ARGS__)
#define shmem_put_signal(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_RMA, put_signal, __VA_ARGS__)
#define shmem_put_signal_nbi(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_RMA, put_signal_nbi, __VA_ARGS__)

/* AMOs */
#define shmem_atomic_fetch(...) SHMEMFM_GEN_CTX_C(SHMEMFM_C11_EXTAMO, atomic_fetch, __VA_ARGS__)
#define shmem_atomic_set(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_EXTAMO, atomic_set, __VA_ARGS__)
#define shmem_atomic_swap(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_EXTAMO, atomic_swap, __VA_ARGS__)
#define shmem_atomic_fetch_nbi(...) \
  SHMEMFM_GEN_CTX(SHMEMFM_C11_EXTAMO, atomic_fetch_nbi, __VA_ARGS__)
#define shmem_atomic_swap_nbi(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_EXTAMO, atomic_swap_nbi, __VA_ARGS__)
#define shmem_atomic_compare_swap(...) \
  SHMEMFM_GEN_CTX(SHMEMFM_C11_AMO, atomic_compare_swap, __VA_ARGS__)
#define shmem_atomic_fetch_inc(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_AMO, atomic_fetch_inc, __VA_ARGS__)
#define shmem_atomic_inc(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_AMO, atomic_inc, __VA_ARGS__)
#define shmem_atomic_fetch_add(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_AMO, atomic_fetch_add, __VA_ARGS__)
#define shmem_atomic_add(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_AMO, atomic_add, __VA_ARGS__)
#define shmem_atomic_compare_swap_nbi(...) \
  SHMEMFM_GEN_CTX(SHMEMFM_C11_AMO, atomic_compare_swap_nbi, __VA_ARGS__)
#define shmem_atomic_fetch_inc_nbi(...) \
  SHMEMFM_GEN_CTX(SHMEMFM_C11_AMO, atomic_fetch_inc_nbi, __VA_ARGS__)
#define shmem_atomic_fetch_add_nbi(...) \
  SHMEMFM_GEN_CTX(SHMEMFM_C11_AMO, atomic_fetch_add_nbi, __VA_ARGS__)
#define shmem_atomic_fetch_and(...) \
  SHMEMFM_GEN_CTX(SHMEMFM_C11_BITAMO, atomic_fetch_and, __VA_ARGS__)
#define shmem_atomic_and(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_BITAMO, atomic_and, __VA_ARGS__)
#define shmem_atomic_fetch_or(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_BITAMO, atomic_fetch_or, __VA_ARGS__)
#define shmem_atomic_or(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_BITAMO, atomic_or, __VA_ARGS__)
#define shmem_atomic_fetch_xor(...) \
  SHMEMFM_GEN_CTX(SHMEMFM_C11_BITAMO, atomic_fetch_xor, __VA_ARGS__)
#define shmem_atomic_xor(...) SHMEMFM_GEN_CTX(SHMEMFM_C11_BITAMO, atomic_xor, __VA_ARGS__)
#define shmem_atomic_fetch_and_nbi(...) \
  SHMEMFM_GEN_CTX(SHMEMFM_C11_BITAMO, atomic_fetch_and_nbi, __VA_ARGS__)
#define shmem_atomic_fetch_or_nbi(...) \
  SHMEMFM_GEN_CTX(SHMEMFM_C11_BITAMO, atomic_fetch_or_nbi, __VA_ARGS__)
#define shmem_atomic_fetch_xor_nbi(...) \
  SHMEMFM_GEN_CTX(SHMEMFM_C11_BITAMO, atomic_fetch_xor_nbi, __VA_ARGS__)
/* Deprecated generic AMO names. */
#define shmem_cswap(...) SHMEMFM_GEN1(SHMEMFM_C11_OLDAMO, cswap, __VA_ARGS__)
#define shmem_finc(...) SHMEMFM_GEN1(SHMEMFM_C11_OLDAMO, finc, __VA_ARGS__)
#define shmem_inc(...) SHMEMFM_GEN1(SHMEMFM_C11_OLDAMO, inc, __VA_ARGS__)
#define shmem_fadd(...) SHMEMFM_GEN1(SHMEMFM_C11_OLDAMO, fadd, __VA_ARGS__)
#define shmem_add(...) SHMEMFM_GEN1(SHMEMFM_C11_OLDAMO, add, __VA_ARGS__)
#define shmem_fetch(...) \
  _Generic(SHMEMFM_FIRST(__VA_ARGS__, 0) SHMEMFM_C11_OLDEXTAMO(SHMEMFM_GA_C, fetch))(__VA_ARGS__)
#define shmem_set(...) SHMEMFM_GEN1(SHMEMFM_C11_OLDEXTAMO, set, __VA_ARGS__)
#define shmem_swap(...) SHMEMFM_GEN1(SHMEMFM_C11_OLDEXTAMO, swap, __VA_ARGS__)

/* Point-to-point synchronization */
#define shmem_wait_until(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, wait_until, __VA_ARGS__)
#define shmem_wait_until_all(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, wait_until_all, __VA_ARGS__)
#define shmem_wait_until_any(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, wait_until_any, __VA_ARGS__)
#define shmem_wait_until_some(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, wait_until_some, __VA_ARGS__)
#define shmem_wait_until_all_vector(...) \
  SHMEMFM_GEN1(SHMEMFM_C11_P2P, wait_until_all_vector, __VA_ARGS__)
#define shmem_wait_until_any_vector(...) \
  SHMEMFM_GEN1(SHMEMFM_C11_P2P, wait_until_any_vector, __VA_ARGS__)
#define shmem_wait_until_some_vector(...) \
  SHMEMFM_GEN1(SHMEMFM_C11_P2P, wait_until_some_vector, __VA_ARGS__)
#define shmem_test(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, test, __VA_ARGS__)
#define shmem_test_all(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, test_all, __VA_ARGS__)
#define shmem_test_any(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, test_any, __VA_ARGS__)
#define shmem_test_some(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, test_some, __VA_ARGS__)
#define shmem_test_all_vector(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, test_all_vector, __VA_ARGS__)
#define shmem_test_any_vector(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, test_any_vector, __VA_ARGS__)
#define shmem_test_some_vector(...) SHMEMFM_GEN1(SHMEMFM_C11_P2P, test_some_vector, __VA_ARGS__)
#define shmem_wait(...) SHMEMFM_GEN1(SHMEMFM_C11_OLDWAIT, wait, __VA_ARGS__)

/* Collectives (team first, dispatched on dest) */
#define shmem_broadcast(...) SHMEMFM_GEN2(SHMEMFM_C11_RMA, broadcast, __VA_ARGS__)
#define shmem_collect(...) SHMEMFM_GEN2(SHMEMFM_C11_RMA, collect, __VA_ARGS__)
#define shmem_fcollect(...) SHMEMFM_GEN2(SHMEMFM_C11_RMA, fcollect, __VA_ARGS__)
#define shmem_alltoall(...) SHMEMFM_GEN2(SHMEMFM_C11_RMA, alltoall, __VA_ARGS__)
#define shmem_alltoalls(...) SHMEMFM_GEN2(SHMEMFM_C11_RMA, alltoalls, __VA_ARGS__)
#define shmem_and_reduce(...) SHMEMFM_GEN2(SHMEMFM_C11_BITRED, and_reduce, __VA_ARGS__)
#define shmem_or_reduce(...) SHMEMFM_GEN2(SHMEMFM_C11_BITRED, or_reduce, __VA_ARGS__)
#define shmem_xor_reduce(...) SHMEMFM_GEN2(SHMEMFM_C11_BITRED, xor_reduce, __VA_ARGS__)
#define shmem_max_reduce(...) SHMEMFM_GEN2(SHMEMFM_C11_ORDRED, max_reduce, __VA_ARGS__)
#define shmem_min_reduce(...) SHMEMFM_GEN2(SHMEMFM_C11_ORDRED, min_reduce, __VA_ARGS__)
#define shmem_sum_reduce(...) SHMEMFM_GEN2(SHMEMFM_C11_ARITHRED, sum_reduce, __VA_ARGS__)
#define shmem_prod_reduce(...) SHMEMFM_GEN2(SHMEMFM_C11_ARITHRED, prod_reduce, __VA_ARGS__)
/* shmem_sync(team) is the team form; shmem_sync(PE_start, logPE_stride, PE_size, pSync) the
 * deprecated active-set one. */
#define shmem_sync(...) \
  SHMEMFM_PICK5(__VA_ARGS__, shmem_sync, shmem_sync, shmem_sync, shmem_team_sync, )(__VA_ARGS__)

#endif /* SHMEM_GENERIC_H */
