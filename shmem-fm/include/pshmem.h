/* pshmem.h - the OpenSHMEM 1.5 profiling interface of SHMEM-FM: every routine of shmem.h with
 * the pshmem_ prefix (the deprecated start_pes, _my_pe, shmalloc ... with a plain p prefix).
 * A tool defines shmem_X to intercept the program's calls and calls pshmem_X for the real
 * work; calls SHMEM-FM makes to itself are not intercepted.  Generated from shmem.h by
 * tools/make-pshmem.sh: do not edit. */
/* clang-format off */
#ifndef PSHMEM_H
#define PSHMEM_H

#include <shmem.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- setup, exit, query ----------------------------------------------------------------------- */
void pshmem_init(void);
int pshmem_init_thread(int requested, int* provided);
void pshmem_query_thread(int* provided);
void pshmem_finalize(void);
void pshmem_global_exit(int status) __attribute__((noreturn));
int pshmem_my_pe(void);
int pshmem_n_pes(void);
int pshmem_pe_accessible(int pe);
int pshmem_addr_accessible(const void* addr, int pe);
void* pshmem_ptr(const void* dest, int pe);
void pshmem_info_get_version(int* major, int* minor);
void pshmem_info_get_name(char* name);
void pshmem_pcontrol(const int level, ...);

/* --- symmetric heap --------------------------------------------------------------------------- */
void* pshmem_malloc(size_t size);
void* pshmem_malloc_with_hints(size_t size, long hints);
void* pshmem_calloc(size_t count, size_t size);
void* pshmem_align(size_t alignment, size_t size);
void* pshmem_realloc(void* ptr, size_t size);
void pshmem_free(void* ptr);

/* --- teams ------------------------------------------------------------------------------------ */
int pshmem_team_my_pe(shmem_team_t team);
int pshmem_team_n_pes(shmem_team_t team);
int pshmem_team_get_config(shmem_team_t team, long config_mask, shmem_team_config_t* config);
int pshmem_team_translate_pe(shmem_team_t src_team, int src_pe, shmem_team_t dest_team);
int pshmem_team_split_strided(shmem_team_t parent_team, int start, int stride, int size,
                             const shmem_team_config_t* config, long config_mask,
                             shmem_team_t* new_team);
int pshmem_team_split_2d(shmem_team_t parent_team, int xrange,
                        const shmem_team_config_t* xaxis_config, long xaxis_mask,
                        shmem_team_t* xaxis_team, const shmem_team_config_t* yaxis_config,
                        long yaxis_mask, shmem_team_t* yaxis_team);
void pshmem_team_destroy(shmem_team_t team);

/* --- contexts --------------------------------------------------------------------------------- */
int pshmem_ctx_create(long options, shmem_ctx_t* ctx);
int pshmem_team_create_ctx(shmem_team_t team, long options, shmem_ctx_t* ctx);
void pshmem_ctx_destroy(shmem_ctx_t ctx);
int pshmem_ctx_get_team(shmem_ctx_t ctx, shmem_team_t* team);

/* --- RMA -------------------------------------------------------------------------------------- */
#define PSHMEMFM_DECL_RMA(T, N)                                                                    \
  void pshmem_##N##_put(T* dest, const T* source, size_t nelems, int pe);                          \
  void pshmem_ctx_##N##_put(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems, int pe);     \
  void pshmem_##N##_get(T* dest, const T* source, size_t nelems, int pe);                          \
  void pshmem_ctx_##N##_get(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems, int pe);     \
  void pshmem_##N##_p(T* dest, T value, int pe);                                                   \
  void pshmem_ctx_##N##_p(shmem_ctx_t ctx, T* dest, T value, int pe);                              \
  T pshmem_##N##_g(const T* source, int pe);                                                       \
  T pshmem_ctx_##N##_g(shmem_ctx_t ctx, const T* source, int pe);                                  \
  void pshmem_##N##_iput(T* dest, const T* source, ptrdiff_t dst, ptrdiff_t sst, size_t nelems,    \
                        int pe);                                                                  \
  void pshmem_ctx_##N##_iput(shmem_ctx_t ctx, T* dest, const T* source, ptrdiff_t dst,             \
                            ptrdiff_t sst, size_t nelems, int pe);                                \
  void pshmem_##N##_iget(T* dest, const T* source, ptrdiff_t dst, ptrdiff_t sst, size_t nelems,    \
                        int pe);                                                                  \
  void pshmem_ctx_##N##_iget(shmem_ctx_t ctx, T* dest, const T* source, ptrdiff_t dst,             \
                            ptrdiff_t sst, size_t nelems, int pe);                                \
  void pshmem_##N##_put_nbi(T* dest, const T* source, size_t nelems, int pe);                      \
  void pshmem_ctx_##N##_put_nbi(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems, int pe); \
  void pshmem_##N##_get_nbi(T* dest, const T* source, size_t nelems, int pe);                      \
  void pshmem_ctx_##N##_get_nbi(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems, int pe); \
  void pshmem_##N##_put_signal(T* dest, const T* source, size_t nelems, uint64_t* sig_addr,        \
                              uint64_t signal, int sig_op, int pe);                               \
  void pshmem_ctx_##N##_put_signal(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems,       \
                                  uint64_t* sig_addr, uint64_t signal, int sig_op, int pe);       \
  void pshmem_##N##_put_signal_nbi(T* dest, const T* source, size_t nelems, uint64_t* sig_addr,    \
                                  uint64_t signal, int sig_op, int pe);                           \
  void pshmem_ctx_##N##_put_signal_nbi(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems,   \
                                      uint64_t* sig_addr, uint64_t signal, int sig_op, int pe);
SHMEMFM_RMA_TYPES(PSHMEMFM_DECL_RMA)

/* Sized forms (and mem forms, in bytes). */
#define PSHMEMFM_DECL_SIZED_CONTIG(S, B)                                                          \
  void pshmem_put##S(void* dest, const void* source, size_t nelems, int pe);                      \
  void pshmem_ctx_put##S(shmem_ctx_t ctx, void* dest, const void* source, size_t nelems, int pe); \
  void pshmem_get##S(void* dest, const void* source, size_t nelems, int pe);                      \
  void pshmem_ctx_get##S(shmem_ctx_t ctx, void* dest, const void* source, size_t nelems, int pe); \
  void pshmem_put##S##_nbi(void* dest, const void* source, size_t nelems, int pe);                \
  void pshmem_ctx_put##S##_nbi(shmem_ctx_t ctx, void* dest, const void* source, size_t nelems,    \
                              int pe);                                                           \
  void pshmem_get##S##_nbi(void* dest, const void* source, size_t nelems, int pe);                \
  void pshmem_ctx_get##S##_nbi(shmem_ctx_t ctx, void* dest, const void* source, size_t nelems,    \
                              int pe);                                                           \
  void pshmem_put##S##_signal(void* dest, const void* source, size_t nelems, uint64_t* sig_addr,  \
                             uint64_t signal, int sig_op, int pe);                               \
  void pshmem_ctx_put##S##_signal(shmem_ctx_t ctx, void* dest, const void* source, size_t nelems, \
                                 uint64_t* sig_addr, uint64_t signal, int sig_op, int pe);       \
  void pshmem_put##S##_signal_nbi(void* dest, const void* source, size_t nelems,                  \
                                 uint64_t* sig_addr, uint64_t signal, int sig_op, int pe);       \
  void pshmem_ctx_put##S##_signal_nbi(shmem_ctx_t ctx, void* dest, const void* source,            \
                                     size_t nelems, uint64_t* sig_addr, uint64_t signal,         \
                                     int sig_op, int pe);
/* Strided forms exist for the sizes only (there is no iputmem). */
#define PSHMEMFM_DECL_SIZED(S, B)                                                                  \
  PSHMEMFM_DECL_SIZED_CONTIG(S, B)                                                                 \
  void pshmem_iput##S(void* dest, const void* source, ptrdiff_t dst, ptrdiff_t sst, size_t nelems, \
                     int pe);                                                                     \
  void pshmem_ctx_iput##S(shmem_ctx_t ctx, void* dest, const void* source, ptrdiff_t dst,          \
                         ptrdiff_t sst, size_t nelems, int pe);                                   \
  void pshmem_iget##S(void* dest, const void* source, ptrdiff_t dst, ptrdiff_t sst, size_t nelems, \
                     int pe);                                                                     \
  void pshmem_ctx_iget##S(shmem_ctx_t ctx, void* dest, const void* source, ptrdiff_t dst,          \
                         ptrdiff_t sst, size_t nelems, int pe);
SHMEMFM_SIZES(PSHMEMFM_DECL_SIZED)
PSHMEMFM_DECL_SIZED_CONTIG(mem, 1)

uint64_t pshmem_signal_fetch(const uint64_t* sig_addr);
uint64_t pshmem_signal_wait_until(uint64_t* sig_addr, int cmp, uint64_t cmp_value);

/* --- atomic memory operations ----------------------------------------------------------------- */
#define PSHMEMFM_DECL_EXTAMO(T, N)                                                            \
  T pshmem_##N##_atomic_fetch(const T* source, int pe);                                       \
  T pshmem_ctx_##N##_atomic_fetch(shmem_ctx_t ctx, const T* source, int pe);                  \
  void pshmem_##N##_atomic_set(T* dest, T value, int pe);                                     \
  void pshmem_ctx_##N##_atomic_set(shmem_ctx_t ctx, T* dest, T value, int pe);                \
  T pshmem_##N##_atomic_swap(T* dest, T value, int pe);                                       \
  T pshmem_ctx_##N##_atomic_swap(shmem_ctx_t ctx, T* dest, T value, int pe);                  \
  void pshmem_##N##_atomic_fetch_nbi(T* fetch, const T* source, int pe);                      \
  void pshmem_ctx_##N##_atomic_fetch_nbi(shmem_ctx_t ctx, T* fetch, const T* source, int pe); \
  void pshmem_##N##_atomic_swap_nbi(T* fetch, T* dest, T value, int pe);                      \
  void pshmem_ctx_##N##_atomic_swap_nbi(shmem_ctx_t ctx, T* fetch, T* dest, T value, int pe);
SHMEMFM_EXTAMO_TYPES(PSHMEMFM_DECL_EXTAMO)

#define PSHMEMFM_DECL_AMO(T, N)                                                              \
  T pshmem_##N##_atomic_compare_swap(T* dest, T cond, T value, int pe);                      \
  T pshmem_ctx_##N##_atomic_compare_swap(shmem_ctx_t ctx, T* dest, T cond, T value, int pe); \
  T pshmem_##N##_atomic_fetch_inc(T* dest, int pe);                                          \
  T pshmem_ctx_##N##_atomic_fetch_inc(shmem_ctx_t ctx, T* dest, int pe);                     \
  void pshmem_##N##_atomic_inc(T* dest, int pe);                                             \
  void pshmem_ctx_##N##_atomic_inc(shmem_ctx_t ctx, T* dest, int pe);                        \
  T pshmem_##N##_atomic_fetch_add(T* dest, T value, int pe);                                 \
  T pshmem_ctx_##N##_atomic_fetch_add(shmem_ctx_t ctx, T* dest, T value, int pe);            \
  void pshmem_##N##_atomic_add(T* dest, T value, int pe);                                    \
  void pshmem_ctx_##N##_atomic_add(shmem_ctx_t ctx, T* dest, T value, int pe);               \
  void pshmem_##N##_atomic_compare_swap_nbi(T* fetch, T* dest, T cond, T value, int pe);     \
  void pshmem_ctx_##N##_atomic_compare_swap_nbi(shmem_ctx_t ctx, T* fetch, T* dest, T cond,  \
                                               T value, int pe);                            \
  void pshmem_##N##_atomic_fetch_inc_nbi(T* fetch, T* dest, int pe);                         \
  void pshmem_ctx_##N##_atomic_fetch_inc_nbi(shmem_ctx_t ctx, T* fetch, T* dest, int pe);    \
  void pshmem_##N##_atomic_fetch_add_nbi(T* fetch, T* dest, T value, int pe);                \
  void pshmem_ctx_##N##_atomic_fetch_add_nbi(shmem_ctx_t ctx, T* fetch, T* dest, T value, int pe);
SHMEMFM_AMO_TYPES(PSHMEMFM_DECL_AMO)

#define PSHMEMFM_DECL_BITAMO1(T, N, OP)                                            \
  T pshmem_##N##_atomic_fetch_##OP(T* dest, T value, int pe);                      \
  T pshmem_ctx_##N##_atomic_fetch_##OP(shmem_ctx_t ctx, T* dest, T value, int pe); \
  void pshmem_##N##_atomic_##OP(T* dest, T value, int pe);                         \
  void pshmem_ctx_##N##_atomic_##OP(shmem_ctx_t ctx, T* dest, T value, int pe);    \
  void pshmem_##N##_atomic_fetch_##OP##_nbi(T* fetch, T* dest, T value, int pe);   \
  void pshmem_ctx_##N##_atomic_fetch_##OP##_nbi(shmem_ctx_t ctx, T* fetch, T* dest, T value, int pe);
#define PSHMEMFM_DECL_BITAMO(T, N) \
  PSHMEMFM_DECL_BITAMO1(T, N, and) PSHMEMFM_DECL_BITAMO1(T, N, or) PSHMEMFM_DECL_BITAMO1(T, N, xor)
SHMEMFM_BITAMO_TYPES(PSHMEMFM_DECL_BITAMO)

/* Deprecated AMO names (OpenSHMEM 1.3 and earlier). */
#define PSHMEMFM_DECL_OLDAMO(T, N)                        \
  T pshmem_##N##_cswap(T* dest, T cond, T value, int pe); \
  T pshmem_##N##_finc(T* dest, int pe);                   \
  void pshmem_##N##_inc(T* dest, int pe);                 \
  T pshmem_##N##_fadd(T* dest, T value, int pe);          \
  void pshmem_##N##_add(T* dest, T value, int pe);
#define PSHMEMFM_DECL_OLDEXTAMO(T, N)              \
  T pshmem_##N##_fetch(const T* source, int pe);   \
  void pshmem_##N##_set(T* dest, T value, int pe); \
  T pshmem_##N##_swap(T* dest, T value, int pe);
#define SHMEMFM_OLDAMO_TYPES(X) \
  X(int, int)                   \
  X(long, long)                 \
  X(long long, longlong)
#define SHMEMFM_OLDEXTAMO_TYPES(X) \
  SHMEMFM_OLDAMO_TYPES(X)          \
  X(float, float)                  \
  X(double, double)
SHMEMFM_OLDAMO_TYPES(PSHMEMFM_DECL_OLDAMO)
SHMEMFM_OLDEXTAMO_TYPES(PSHMEMFM_DECL_OLDEXTAMO)
long pshmem_swap(long* dest, long value, int pe);

/* --- memory ordering, locks ------------------------------------------------------------------- */
void pshmem_fence(void);
void pshmem_ctx_fence(shmem_ctx_t ctx);
void pshmem_quiet(void);
void pshmem_ctx_quiet(shmem_ctx_t ctx);
void pshmem_set_lock(long* lock);
void pshmem_clear_lock(long* lock);
int pshmem_test_lock(long* lock);

/* --- point-to-point synchronization ----------------------------------------------------------- */
#define PSHMEMFM_DECL_P2P(T, N)                                                                     \
  void pshmem_##N##_wait_until(T* ivar, int cmp, T cmp_value);                                      \
  void pshmem_##N##_wait_until_all(T* ivars, size_t nelems, const int* status, int cmp,             \
                                  T cmp_value);                                                    \
  size_t pshmem_##N##_wait_until_any(T* ivars, size_t nelems, const int* status, int cmp,           \
                                    T cmp_value);                                                  \
  size_t pshmem_##N##_wait_until_some(T* ivars, size_t nelems, size_t* indices, const int* status,  \
                                     int cmp, T cmp_value);                                        \
  void pshmem_##N##_wait_until_all_vector(T* ivars, size_t nelems, const int* status, int cmp,      \
                                         T* cmp_values);                                           \
  size_t pshmem_##N##_wait_until_any_vector(T* ivars, size_t nelems, const int* status, int cmp,    \
                                           T* cmp_values);                                         \
  size_t pshmem_##N##_wait_until_some_vector(T* ivars, size_t nelems, size_t* indices,              \
                                            const int* status, int cmp, T* cmp_values);            \
  int pshmem_##N##_test(T* ivar, int cmp, T cmp_value);                                             \
  int pshmem_##N##_test_all(T* ivars, size_t nelems, const int* status, int cmp, T cmp_value);      \
  size_t pshmem_##N##_test_any(T* ivars, size_t nelems, const int* status, int cmp, T cmp_value);   \
  size_t pshmem_##N##_test_some(T* ivars, size_t nelems, size_t* indices, const int* status,        \
                               int cmp, T cmp_value);                                              \
  int pshmem_##N##_test_all_vector(T* ivars, size_t nelems, const int* status, int cmp,             \
                                  T* cmp_values);                                                  \
  size_t pshmem_##N##_test_any_vector(T* ivars, size_t nelems, const int* status, int cmp,          \
                                     T* cmp_values);                                               \
  size_t pshmem_##N##_test_some_vector(T* ivars, size_t nelems, size_t* indices, const int* status, \
                                      int cmp, T* cmp_values);
SHMEMFM_P2P_TYPES(PSHMEMFM_DECL_P2P)
/* Deprecated wait forms. */
#define PSHMEMFM_DECL_OLDWAIT(T, N) void pshmem_##N##_wait(T* ivar, T cmp_value);
SHMEMFM_OLDBIT_TYPES(PSHMEMFM_DECL_OLDWAIT)
void pshmem_wait(long* ivar, long cmp_value);
void pshmem_wait_until(long* ivar, int cmp, long cmp_value);

/* --- collectives ------------------------------------------------------------------------------ */
void pshmem_barrier_all(void);
void pshmem_sync_all(void);
int pshmem_team_sync(shmem_team_t team);

#define PSHMEMFM_DECL_COLL(T, N)                                                         \
  int pshmem_##N##_broadcast(shmem_team_t team, T* dest, const T* source, size_t nelems, \
                            int PE_root);                                               \
  int pshmem_##N##_collect(shmem_team_t team, T* dest, const T* source, size_t nelems);  \
  int pshmem_##N##_fcollect(shmem_team_t team, T* dest, const T* source, size_t nelems); \
  int pshmem_##N##_alltoall(shmem_team_t team, T* dest, const T* source, size_t nelems); \
  int pshmem_##N##_alltoalls(shmem_team_t team, T* dest, const T* source, ptrdiff_t dst, \
                            ptrdiff_t sst, size_t nelems);
SHMEMFM_RMA_TYPES(PSHMEMFM_DECL_COLL)
int pshmem_broadcastmem(shmem_team_t team, void* dest, const void* source, size_t nelems,
                       int PE_root);
int pshmem_collectmem(shmem_team_t team, void* dest, const void* source, size_t nelems);
int pshmem_fcollectmem(shmem_team_t team, void* dest, const void* source, size_t nelems);
int pshmem_alltoallmem(shmem_team_t team, void* dest, const void* source, size_t nelems);
int pshmem_alltoallsmem(shmem_team_t team, void* dest, const void* source, ptrdiff_t dst,
                       ptrdiff_t sst, size_t nelems);

#define PSHMEMFM_DECL_RED(T, N, OP) \
  int pshmem_##N##_##OP##_reduce(shmem_team_t team, T* dest, const T* source, size_t nreduce);
#define PSHMEMFM_DECL_BITRED(T, N) \
  PSHMEMFM_DECL_RED(T, N, and) PSHMEMFM_DECL_RED(T, N, or) PSHMEMFM_DECL_RED(T, N, xor)
#define PSHMEMFM_DECL_ORDRED(T, N) PSHMEMFM_DECL_RED(T, N, max) PSHMEMFM_DECL_RED(T, N, min)
#define PSHMEMFM_DECL_ARITHRED(T, N) PSHMEMFM_DECL_RED(T, N, sum) PSHMEMFM_DECL_RED(T, N, prod)
SHMEMFM_BITRED_TYPES(PSHMEMFM_DECL_BITRED)
SHMEMFM_ORDRED_TYPES(PSHMEMFM_DECL_ORDRED)
SHMEMFM_ARITHRED_TYPES(PSHMEMFM_DECL_ARITHRED)

/* Deprecated active-set collectives (PE_start, logPE_stride, PE_size, pSync). */
void pshmem_barrier(int PE_start, int logPE_stride, int PE_size, long* pSync);
void pshmem_sync(int PE_start, int logPE_stride, int PE_size, long* pSync);
#define PSHMEMFM_DECL_OLDCOLL(S, B)                                                      \
  void pshmem_broadcast##S(void* dest, const void* source, size_t nelems, int PE_root,   \
                          int PE_start, int logPE_stride, int PE_size, long* pSync);    \
  void pshmem_collect##S(void* dest, const void* source, size_t nelems, int PE_start,    \
                        int logPE_stride, int PE_size, long* pSync);                    \
  void pshmem_fcollect##S(void* dest, const void* source, size_t nelems, int PE_start,   \
                         int logPE_stride, int PE_size, long* pSync);                   \
  void pshmem_alltoall##S(void* dest, const void* source, size_t nelems, int PE_start,   \
                         int logPE_stride, int PE_size, long* pSync);                   \
  void pshmem_alltoalls##S(void* dest, const void* source, ptrdiff_t dst, ptrdiff_t sst, \
                          size_t nelems, int PE_start, int logPE_stride, int PE_size,   \
                          long* pSync);
PSHMEMFM_DECL_OLDCOLL(32, 4)
PSHMEMFM_DECL_OLDCOLL(64, 8)
#define PSHMEMFM_DECL_OLDRED(T, N, OP)                                                 \
  void pshmem_##N##_##OP##_to_all(T* dest, const T* source, int nreduce, int PE_start, \
                                 int logPE_stride, int PE_size, T* pWrk, long* pSync);
#define PSHMEMFM_DECL_OLDBITRED(T, N) \
  PSHMEMFM_DECL_OLDRED(T, N, and) PSHMEMFM_DECL_OLDRED(T, N, or) PSHMEMFM_DECL_OLDRED(T, N, xor)
#define PSHMEMFM_DECL_OLDORDRED(T, N) PSHMEMFM_DECL_OLDRED(T, N, max) PSHMEMFM_DECL_OLDRED(T, N, min)
#define PSHMEMFM_DECL_OLDARITHRED(T, N) \
  PSHMEMFM_DECL_OLDRED(T, N, sum) PSHMEMFM_DECL_OLDRED(T, N, prod)
SHMEMFM_OLDBIT_TYPES(PSHMEMFM_DECL_OLDBITRED)
SHMEMFM_OLDORD_TYPES(PSHMEMFM_DECL_OLDORDRED)
SHMEMFM_OLDARITH_TYPES(PSHMEMFM_DECL_OLDARITHRED)

/* --- deprecated setup and memory -------------------------------------------------------------- */
void pstart_pes(int npes);
int p_my_pe(void);
int p_num_pes(void);
void* pshmalloc(size_t size);
void pshfree(void* ptr);
void* pshrealloc(void* ptr, size_t size);
void* pshmemalign(size_t alignment, size_t size);
void pshmem_clear_cache_inv(void);
void pshmem_set_cache_inv(void);
void pshmem_clear_cache_line_inv(void* dest);
void pshmem_set_cache_line_inv(void* dest);
void pshmem_udcflush(void);
void pshmem_udcflush_line(void* dest);

#ifdef __cplusplus
}
#endif

#endif /* PSHMEM_H */
