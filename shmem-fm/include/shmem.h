/* shmem.h - the OpenSHMEM 1.5 C API of SHMEM-FM (OpenSHMEM on Fast Messages).
 *
 * Every typed and sized family is declared from one macro per family over the type tables of the
 * specification (SHMEMFM_*_TYPES below), and defined in the library from the same tables, so the
 * header and the library cannot disagree.  `nm -D libshmem-fm.so | grep shmem_int_put` lists what
 * a macro produced; shmem-fm/api-names.txt is the full list, checked by a test.
 *
 * Deprecated interfaces of earlier versions that programs still use are declared too (start_pes,
 * shmalloc, the active-set collectives with pSync, the old atomic names ...); they are marked
 * deprecated only where SHMEMFM_WARN_DEPRECATED is defined. */
#ifndef SHMEM_H
#define SHMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- library constants ------------------------------------------------------------------------ */
#define SHMEM_MAJOR_VERSION 1
#define SHMEM_MINOR_VERSION 5
#define _SHMEM_MAJOR_VERSION SHMEM_MAJOR_VERSION
#define _SHMEM_MINOR_VERSION SHMEM_MINOR_VERSION
#define SHMEM_MAX_NAME_LEN 256
#define _SHMEM_MAX_NAME_LEN SHMEM_MAX_NAME_LEN
#define SHMEM_VENDOR_STRING "SHMEM-FM (OpenSHMEM on Fast Messages)"
#define _SHMEM_VENDOR_STRING SHMEM_VENDOR_STRING

enum {
  SHMEM_THREAD_SINGLE = 0,
  SHMEM_THREAD_FUNNELED = 1,
  SHMEM_THREAD_SERIALIZED = 2,
  SHMEM_THREAD_MULTIPLE = 3
};

#define SHMEM_CMP_EQ 0
#define SHMEM_CMP_NE 1
#define SHMEM_CMP_GT 2
#define SHMEM_CMP_GE 3
#define SHMEM_CMP_LT 4
#define SHMEM_CMP_LE 5
#define _SHMEM_CMP_EQ SHMEM_CMP_EQ
#define _SHMEM_CMP_NE SHMEM_CMP_NE
#define _SHMEM_CMP_GT SHMEM_CMP_GT
#define _SHMEM_CMP_GE SHMEM_CMP_GE
#define _SHMEM_CMP_LT SHMEM_CMP_LT
#define _SHMEM_CMP_LE SHMEM_CMP_LE

#define SHMEM_SIGNAL_SET 0
#define SHMEM_SIGNAL_ADD 1

/* Symmetric work arrays of the deprecated active-set collectives: any of these sizes serves every
 * collective (one layout: barrier round counters, then a word for collect's element counts). */
#define SHMEM_SYNC_VALUE 0L
#define _SHMEM_SYNC_VALUE SHMEM_SYNC_VALUE
#define SHMEM_SYNC_SIZE 72
#define SHMEM_BARRIER_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_BCAST_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_REDUCE_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_COLLECT_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_ALLTOALL_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_ALLTOALLS_SYNC_SIZE SHMEM_SYNC_SIZE
#define SHMEM_REDUCE_MIN_WRKDATA_SIZE 1
#define _SHMEM_BARRIER_SYNC_SIZE SHMEM_SYNC_SIZE
#define _SHMEM_BCAST_SYNC_SIZE SHMEM_SYNC_SIZE
#define _SHMEM_REDUCE_SYNC_SIZE SHMEM_SYNC_SIZE
#define _SHMEM_COLLECT_SYNC_SIZE SHMEM_SYNC_SIZE
#define _SHMEM_REDUCE_MIN_WRKDATA_SIZE SHMEM_REDUCE_MIN_WRKDATA_SIZE

/* Hints of shmem_malloc_with_hints (accepted; memory is always usable for every operation). */
#define SHMEM_MALLOC_ATOMICS_REMOTE (1L << 0)
#define SHMEM_MALLOC_SIGNAL_REMOTE (1L << 1)

/* Context options. */
#define SHMEM_CTX_SERIALIZED (1L << 0)
#define SHMEM_CTX_PRIVATE (1L << 1)
#define SHMEM_CTX_NOSTORE (1L << 2)

/* --- teams and contexts ----------------------------------------------------------------------- */
typedef struct shmemfm_team* shmem_team_t;
typedef struct shmemfm_ctx* shmem_ctx_t;
typedef struct {
  int num_contexts;
} shmem_team_config_t;
#define SHMEM_TEAM_NUM_CONTEXTS (1L << 0)

extern struct shmemfm_team shmemfm_team_world, shmemfm_team_shared;
extern struct shmemfm_ctx shmemfm_ctx_default;
#define SHMEM_TEAM_WORLD (&shmemfm_team_world)
#define SHMEM_TEAM_SHARED (&shmemfm_team_shared)
#define SHMEM_TEAM_INVALID ((shmem_team_t)0)
#define SHMEM_CTX_DEFAULT (&shmemfm_ctx_default)
#define SHMEM_CTX_INVALID ((shmem_ctx_t)0)

/* --- type tables (OpenSHMEM 1.5, Tables 5-11): X(TYPE, TYPENAME) ------------------------------ */
#define SHMEMFM_RMA_TYPES(X)       \
  X(float, float)                  \
  X(double, double)                \
  X(long double, longdouble)       \
  X(char, char)                    \
  X(signed char, schar)            \
  X(short, short)                  \
  X(int, int)                      \
  X(long, long)                    \
  X(long long, longlong)           \
  X(unsigned char, uchar)          \
  X(unsigned short, ushort)        \
  X(unsigned int, uint)            \
  X(unsigned long, ulong)          \
  X(unsigned long long, ulonglong) \
  X(int8_t, int8)                  \
  X(int16_t, int16)                \
  X(int32_t, int32)                \
  X(int64_t, int64)                \
  X(uint8_t, uint8)                \
  X(uint16_t, uint16)              \
  X(uint32_t, uint32)              \
  X(uint64_t, uint64)              \
  X(size_t, size)                  \
  X(ptrdiff_t, ptrdiff)

/* Standard AMO types. */
#define SHMEMFM_AMO_TYPES(X)       \
  X(int, int)                      \
  X(long, long)                    \
  X(long long, longlong)           \
  X(unsigned int, uint)            \
  X(unsigned long, ulong)          \
  X(unsigned long long, ulonglong) \
  X(int32_t, int32)                \
  X(int64_t, int64)                \
  X(uint32_t, uint32)              \
  X(uint64_t, uint64)              \
  X(size_t, size)                  \
  X(ptrdiff_t, ptrdiff)

/* Extended AMO types: the standard ones plus float and double. */
#define SHMEMFM_EXTAMO_TYPES(X) \
  X(float, float)               \
  X(double, double)             \
  SHMEMFM_AMO_TYPES(X)

/* Bitwise AMO types. */
#define SHMEMFM_BITAMO_TYPES(X)    \
  X(unsigned int, uint)            \
  X(unsigned long, ulong)          \
  X(unsigned long long, ulonglong) \
  X(int32_t, int32)                \
  X(int64_t, int64)                \
  X(uint32_t, uint32)              \
  X(uint64_t, uint64)

/* Point-to-point synchronization types. */
#define SHMEMFM_P2P_TYPES(X)       \
  X(short, short)                  \
  X(int, int)                      \
  X(long, long)                    \
  X(long long, longlong)           \
  X(unsigned short, ushort)        \
  X(unsigned int, uint)            \
  X(unsigned long, ulong)          \
  X(unsigned long long, ulonglong) \
  X(int32_t, int32)                \
  X(int64_t, int64)                \
  X(uint32_t, uint32)              \
  X(uint64_t, uint64)              \
  X(size_t, size)                  \
  X(ptrdiff_t, ptrdiff)

/* Reduction types: and/or/xor (bitwise), max/min (ordered), sum/prod (arithmetic). */
#define SHMEMFM_BITRED_TYPES(X)    \
  X(unsigned char, uchar)          \
  X(unsigned short, ushort)        \
  X(unsigned int, uint)            \
  X(unsigned long, ulong)          \
  X(unsigned long long, ulonglong) \
  X(int8_t, int8)                  \
  X(int16_t, int16)                \
  X(int32_t, int32)                \
  X(int64_t, int64)                \
  X(uint8_t, uint8)                \
  X(uint16_t, uint16)              \
  X(uint32_t, uint32)              \
  X(uint64_t, uint64)              \
  X(size_t, size)

#define SHMEMFM_ORDRED_TYPES(X)    \
  X(char, char)                    \
  X(signed char, schar)            \
  X(short, short)                  \
  X(int, int)                      \
  X(long, long)                    \
  X(long long, longlong)           \
  X(ptrdiff_t, ptrdiff)            \
  X(unsigned char, uchar)          \
  X(unsigned short, ushort)        \
  X(unsigned int, uint)            \
  X(unsigned long, ulong)          \
  X(unsigned long long, ulonglong) \
  X(int8_t, int8)                  \
  X(int16_t, int16)                \
  X(int32_t, int32)                \
  X(int64_t, int64)                \
  X(uint8_t, uint8)                \
  X(uint16_t, uint16)              \
  X(uint32_t, uint32)              \
  X(uint64_t, uint64)              \
  X(size_t, size)                  \
  X(float, float)                  \
  X(double, double)                \
  X(long double, longdouble)

#define SHMEMFM_ARITHRED_TYPES(X) \
  SHMEMFM_ORDRED_TYPES(X)         \
  X(double _Complex, complexd)    \
  X(float _Complex, complexf)

/* Types of the deprecated *_to_all reductions. */
#define SHMEMFM_OLDBIT_TYPES(X) \
  X(short, short)               \
  X(int, int)                   \
  X(long, long)                 \
  X(long long, longlong)
#define SHMEMFM_OLDORD_TYPES(X) \
  SHMEMFM_OLDBIT_TYPES(X)       \
  X(float, float)               \
  X(double, double)             \
  X(long double, longdouble)
#define SHMEMFM_OLDARITH_TYPES(X) \
  SHMEMFM_OLDORD_TYPES(X)         \
  X(double _Complex, complexd)    \
  X(float _Complex, complexf)

/* Sized RMA: X(BITS, BYTES). */
#define SHMEMFM_SIZES(X) \
  X(8, 1)                \
  X(16, 2)               \
  X(32, 4)               \
  X(64, 8)               \
  X(128, 16)

/* --- setup, exit, query ----------------------------------------------------------------------- */
void shmem_init(void);
int shmem_init_thread(int requested, int* provided);
void shmem_query_thread(int* provided);
void shmem_finalize(void);
void shmem_global_exit(int status) __attribute__((noreturn));
int shmem_my_pe(void);
int shmem_n_pes(void);
int shmem_pe_accessible(int pe);
int shmem_addr_accessible(const void* addr, int pe);
void* shmem_ptr(const void* dest, int pe);
void shmem_info_get_version(int* major, int* minor);
void shmem_info_get_name(char* name);
void shmem_pcontrol(const int level, ...); /* profiling control: accepted, no effect */

/* --- symmetric heap --------------------------------------------------------------------------- */
void* shmem_malloc(size_t size);
void* shmem_malloc_with_hints(size_t size, long hints);
void* shmem_calloc(size_t count, size_t size);
void* shmem_align(size_t alignment, size_t size);
void* shmem_realloc(void* ptr, size_t size);
void shmem_free(void* ptr);

/* --- teams ------------------------------------------------------------------------------------ */
int shmem_team_my_pe(shmem_team_t team);
int shmem_team_n_pes(shmem_team_t team);
int shmem_team_get_config(shmem_team_t team, long config_mask, shmem_team_config_t* config);
int shmem_team_translate_pe(shmem_team_t src_team, int src_pe, shmem_team_t dest_team);
int shmem_team_split_strided(shmem_team_t parent_team, int start, int stride, int size,
                             const shmem_team_config_t* config, long config_mask,
                             shmem_team_t* new_team);
int shmem_team_split_2d(shmem_team_t parent_team, int xrange,
                        const shmem_team_config_t* xaxis_config, long xaxis_mask,
                        shmem_team_t* xaxis_team, const shmem_team_config_t* yaxis_config,
                        long yaxis_mask, shmem_team_t* yaxis_team);
void shmem_team_destroy(shmem_team_t team);

/* --- contexts --------------------------------------------------------------------------------- */
int shmem_ctx_create(long options, shmem_ctx_t* ctx);
int shmem_team_create_ctx(shmem_team_t team, long options, shmem_ctx_t* ctx);
void shmem_ctx_destroy(shmem_ctx_t ctx);
int shmem_ctx_get_team(shmem_ctx_t ctx, shmem_team_t* team);

/* --- RMA -------------------------------------------------------------------------------------- */
#define SHMEMFM_DECL_RMA(T, N)                                                                    \
  void shmem_##N##_put(T* dest, const T* source, size_t nelems, int pe);                          \
  void shmem_ctx_##N##_put(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems, int pe);     \
  void shmem_##N##_get(T* dest, const T* source, size_t nelems, int pe);                          \
  void shmem_ctx_##N##_get(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems, int pe);     \
  void shmem_##N##_p(T* dest, T value, int pe);                                                   \
  void shmem_ctx_##N##_p(shmem_ctx_t ctx, T* dest, T value, int pe);                              \
  T shmem_##N##_g(const T* source, int pe);                                                       \
  T shmem_ctx_##N##_g(shmem_ctx_t ctx, const T* source, int pe);                                  \
  void shmem_##N##_iput(T* dest, const T* source, ptrdiff_t dst, ptrdiff_t sst, size_t nelems,    \
                        int pe);                                                                  \
  void shmem_ctx_##N##_iput(shmem_ctx_t ctx, T* dest, const T* source, ptrdiff_t dst,             \
                            ptrdiff_t sst, size_t nelems, int pe);                                \
  void shmem_##N##_iget(T* dest, const T* source, ptrdiff_t dst, ptrdiff_t sst, size_t nelems,    \
                        int pe);                                                                  \
  void shmem_ctx_##N##_iget(shmem_ctx_t ctx, T* dest, const T* source, ptrdiff_t dst,             \
                            ptrdiff_t sst, size_t nelems, int pe);                                \
  void shmem_##N##_put_nbi(T* dest, const T* source, size_t nelems, int pe);                      \
  void shmem_ctx_##N##_put_nbi(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems, int pe); \
  void shmem_##N##_get_nbi(T* dest, const T* source, size_t nelems, int pe);                      \
  void shmem_ctx_##N##_get_nbi(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems, int pe); \
  void shmem_##N##_put_signal(T* dest, const T* source, size_t nelems, uint64_t* sig_addr,        \
                              uint64_t signal, int sig_op, int pe);                               \
  void shmem_ctx_##N##_put_signal(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems,       \
                                  uint64_t* sig_addr, uint64_t signal, int sig_op, int pe);       \
  void shmem_##N##_put_signal_nbi(T* dest, const T* source, size_t nelems, uint64_t* sig_addr,    \
                                  uint64_t signal, int sig_op, int pe);                           \
  void shmem_ctx_##N##_put_signal_nbi(shmem_ctx_t ctx, T* dest, const T* source, size_t nelems,   \
                                      uint64_t* sig_addr, uint64_t signal, int sig_op, int pe);
SHMEMFM_RMA_TYPES(SHMEMFM_DECL_RMA)

/* Sized forms (and mem forms, in bytes). */
#define SHMEMFM_DECL_SIZED_CONTIG(S, B)                                                          \
  void shmem_put##S(void* dest, const void* source, size_t nelems, int pe);                      \
  void shmem_ctx_put##S(shmem_ctx_t ctx, void* dest, const void* source, size_t nelems, int pe); \
  void shmem_get##S(void* dest, const void* source, size_t nelems, int pe);                      \
  void shmem_ctx_get##S(shmem_ctx_t ctx, void* dest, const void* source, size_t nelems, int pe); \
  void shmem_put##S##_nbi(void* dest, const void* source, size_t nelems, int pe);                \
  void shmem_ctx_put##S##_nbi(shmem_ctx_t ctx, void* dest, const void* source, size_t nelems,    \
                              int pe);                                                           \
  void shmem_get##S##_nbi(void* dest, const void* source, size_t nelems, int pe);                \
  void shmem_ctx_get##S##_nbi(shmem_ctx_t ctx, void* dest, const void* source, size_t nelems,    \
                              int pe);                                                           \
  void shmem_put##S##_signal(void* dest, const void* source, size_t nelems, uint64_t* sig_addr,  \
                             uint64_t signal, int sig_op, int pe);                               \
  void shmem_ctx_put##S##_signal(shmem_ctx_t ctx, void* dest, const void* source, size_t nelems, \
                                 uint64_t* sig_addr, uint64_t signal, int sig_op, int pe);       \
  void shmem_put##S##_signal_nbi(void* dest, const void* source, size_t nelems,                  \
                                 uint64_t* sig_addr, uint64_t signal, int sig_op, int pe);       \
  void shmem_ctx_put##S##_signal_nbi(shmem_ctx_t ctx, void* dest, const void* source,            \
                                     size_t nelems, uint64_t* sig_addr, uint64_t signal,         \
                                     int sig_op, int pe);
/* Strided forms exist for the sizes only (there is no iputmem). */
#define SHMEMFM_DECL_SIZED(S, B)                                                                  \
  SHMEMFM_DECL_SIZED_CONTIG(S, B)                                                                 \
  void shmem_iput##S(void* dest, const void* source, ptrdiff_t dst, ptrdiff_t sst, size_t nelems, \
                     int pe);                                                                     \
  void shmem_ctx_iput##S(shmem_ctx_t ctx, void* dest, const void* source, ptrdiff_t dst,          \
                         ptrdiff_t sst, size_t nelems, int pe);                                   \
  void shmem_iget##S(void* dest, const void* source, ptrdiff_t dst, ptrdiff_t sst, size_t nelems, \
                     int pe);                                                                     \
  void shmem_ctx_iget##S(shmem_ctx_t ctx, void* dest, const void* source, ptrdiff_t dst,          \
                         ptrdiff_t sst, size_t nelems, int pe);
SHMEMFM_SIZES(SHMEMFM_DECL_SIZED)
SHMEMFM_DECL_SIZED_CONTIG(mem, 1)

uint64_t shmem_signal_fetch(const uint64_t* sig_addr);
uint64_t shmem_signal_wait_until(uint64_t* sig_addr, int cmp, uint64_t cmp_value);

/* --- atomic memory operations ----------------------------------------------------------------- */
#define SHMEMFM_DECL_EXTAMO(T, N)                                                            \
  T shmem_##N##_atomic_fetch(const T* source, int pe);                                       \
  T shmem_ctx_##N##_atomic_fetch(shmem_ctx_t ctx, const T* source, int pe);                  \
  void shmem_##N##_atomic_set(T* dest, T value, int pe);                                     \
  void shmem_ctx_##N##_atomic_set(shmem_ctx_t ctx, T* dest, T value, int pe);                \
  T shmem_##N##_atomic_swap(T* dest, T value, int pe);                                       \
  T shmem_ctx_##N##_atomic_swap(shmem_ctx_t ctx, T* dest, T value, int pe);                  \
  void shmem_##N##_atomic_fetch_nbi(T* fetch, const T* source, int pe);                      \
  void shmem_ctx_##N##_atomic_fetch_nbi(shmem_ctx_t ctx, T* fetch, const T* source, int pe); \
  void shmem_##N##_atomic_swap_nbi(T* fetch, T* dest, T value, int pe);                      \
  void shmem_ctx_##N##_atomic_swap_nbi(shmem_ctx_t ctx, T* fetch, T* dest, T value, int pe);
SHMEMFM_EXTAMO_TYPES(SHMEMFM_DECL_EXTAMO)

#define SHMEMFM_DECL_AMO(T, N)                                                              \
  T shmem_##N##_atomic_compare_swap(T* dest, T cond, T value, int pe);                      \
  T shmem_ctx_##N##_atomic_compare_swap(shmem_ctx_t ctx, T* dest, T cond, T value, int pe); \
  T shmem_##N##_atomic_fetch_inc(T* dest, int pe);                                          \
  T shmem_ctx_##N##_atomic_fetch_inc(shmem_ctx_t ctx, T* dest, int pe);                     \
  void shmem_##N##_atomic_inc(T* dest, int pe);                                             \
  void shmem_ctx_##N##_atomic_inc(shmem_ctx_t ctx, T* dest, int pe);                        \
  T shmem_##N##_atomic_fetch_add(T* dest, T value, int pe);                                 \
  T shmem_ctx_##N##_atomic_fetch_add(shmem_ctx_t ctx, T* dest, T value, int pe);            \
  void shmem_##N##_atomic_add(T* dest, T value, int pe);                                    \
  void shmem_ctx_##N##_atomic_add(shmem_ctx_t ctx, T* dest, T value, int pe);               \
  void shmem_##N##_atomic_compare_swap_nbi(T* fetch, T* dest, T cond, T value, int pe);     \
  void shmem_ctx_##N##_atomic_compare_swap_nbi(shmem_ctx_t ctx, T* fetch, T* dest, T cond,  \
                                               T value, int pe);                            \
  void shmem_##N##_atomic_fetch_inc_nbi(T* fetch, T* dest, int pe);                         \
  void shmem_ctx_##N##_atomic_fetch_inc_nbi(shmem_ctx_t ctx, T* fetch, T* dest, int pe);    \
  void shmem_##N##_atomic_fetch_add_nbi(T* fetch, T* dest, T value, int pe);                \
  void shmem_ctx_##N##_atomic_fetch_add_nbi(shmem_ctx_t ctx, T* fetch, T* dest, T value, int pe);
SHMEMFM_AMO_TYPES(SHMEMFM_DECL_AMO)

#define SHMEMFM_DECL_BITAMO1(T, N, OP)                                            \
  T shmem_##N##_atomic_fetch_##OP(T* dest, T value, int pe);                      \
  T shmem_ctx_##N##_atomic_fetch_##OP(shmem_ctx_t ctx, T* dest, T value, int pe); \
  void shmem_##N##_atomic_##OP(T* dest, T value, int pe);                         \
  void shmem_ctx_##N##_atomic_##OP(shmem_ctx_t ctx, T* dest, T value, int pe);    \
  void shmem_##N##_atomic_fetch_##OP##_nbi(T* fetch, T* dest, T value, int pe);   \
  void shmem_ctx_##N##_atomic_fetch_##OP##_nbi(shmem_ctx_t ctx, T* fetch, T* dest, T value, int pe);
#define SHMEMFM_DECL_BITAMO(T, N) \
  SHMEMFM_DECL_BITAMO1(T, N, and) SHMEMFM_DECL_BITAMO1(T, N, or) SHMEMFM_DECL_BITAMO1(T, N, xor)
SHMEMFM_BITAMO_TYPES(SHMEMFM_DECL_BITAMO)

/* Deprecated AMO names (OpenSHMEM 1.3 and earlier). */
#define SHMEMFM_DECL_OLDAMO(T, N)                        \
  T shmem_##N##_cswap(T* dest, T cond, T value, int pe); \
  T shmem_##N##_finc(T* dest, int pe);                   \
  void shmem_##N##_inc(T* dest, int pe);                 \
  T shmem_##N##_fadd(T* dest, T value, int pe);          \
  void shmem_##N##_add(T* dest, T value, int pe);
#define SHMEMFM_DECL_OLDEXTAMO(T, N)              \
  T shmem_##N##_fetch(const T* source, int pe);   \
  void shmem_##N##_set(T* dest, T value, int pe); \
  T shmem_##N##_swap(T* dest, T value, int pe);
#define SHMEMFM_OLDAMO_TYPES(X) \
  X(int, int)                   \
  X(long, long)                 \
  X(long long, longlong)
#define SHMEMFM_OLDEXTAMO_TYPES(X) \
  SHMEMFM_OLDAMO_TYPES(X)          \
  X(float, float)                  \
  X(double, double)
SHMEMFM_OLDAMO_TYPES(SHMEMFM_DECL_OLDAMO)
SHMEMFM_OLDEXTAMO_TYPES(SHMEMFM_DECL_OLDEXTAMO)
long shmem_swap(long* dest, long value, int pe);

/* --- memory ordering, locks ------------------------------------------------------------------- */
void shmem_fence(void);
void shmem_ctx_fence(shmem_ctx_t ctx);
void shmem_quiet(void);
void shmem_ctx_quiet(shmem_ctx_t ctx);
void shmem_set_lock(long* lock);
void shmem_clear_lock(long* lock);
int shmem_test_lock(long* lock);

/* --- point-to-point synchronization ----------------------------------------------------------- */
#define SHMEMFM_DECL_P2P(T, N)                                                                     \
  void shmem_##N##_wait_until(T* ivar, int cmp, T cmp_value);                                      \
  void shmem_##N##_wait_until_all(T* ivars, size_t nelems, const int* status, int cmp,             \
                                  T cmp_value);                                                    \
  size_t shmem_##N##_wait_until_any(T* ivars, size_t nelems, const int* status, int cmp,           \
                                    T cmp_value);                                                  \
  size_t shmem_##N##_wait_until_some(T* ivars, size_t nelems, size_t* indices, const int* status,  \
                                     int cmp, T cmp_value);                                        \
  void shmem_##N##_wait_until_all_vector(T* ivars, size_t nelems, const int* status, int cmp,      \
                                         T* cmp_values);                                           \
  size_t shmem_##N##_wait_until_any_vector(T* ivars, size_t nelems, const int* status, int cmp,    \
                                           T* cmp_values);                                         \
  size_t shmem_##N##_wait_until_some_vector(T* ivars, size_t nelems, size_t* indices,              \
                                            const int* status, int cmp, T* cmp_values);            \
  int shmem_##N##_test(T* ivar, int cmp, T cmp_value);                                             \
  int shmem_##N##_test_all(T* ivars, size_t nelems, const int* status, int cmp, T cmp_value);      \
  size_t shmem_##N##_test_any(T* ivars, size_t nelems, const int* status, int cmp, T cmp_value);   \
  size_t shmem_##N##_test_some(T* ivars, size_t nelems, size_t* indices, const int* status,        \
                               int cmp, T cmp_value);                                              \
  int shmem_##N##_test_all_vector(T* ivars, size_t nelems, const int* status, int cmp,             \
                                  T* cmp_values);                                                  \
  size_t shmem_##N##_test_any_vector(T* ivars, size_t nelems, const int* status, int cmp,          \
                                     T* cmp_values);                                               \
  size_t shmem_##N##_test_some_vector(T* ivars, size_t nelems, size_t* indices, const int* status, \
                                      int cmp, T* cmp_values);
SHMEMFM_P2P_TYPES(SHMEMFM_DECL_P2P)
/* Deprecated wait forms. */
#define SHMEMFM_DECL_OLDWAIT(T, N) void shmem_##N##_wait(T* ivar, T cmp_value);
SHMEMFM_OLDBIT_TYPES(SHMEMFM_DECL_OLDWAIT)
void shmem_wait(long* ivar, long cmp_value);
void shmem_wait_until(long* ivar, int cmp, long cmp_value);

/* --- collectives ------------------------------------------------------------------------------ */
void shmem_barrier_all(void);
void shmem_sync_all(void);
int shmem_team_sync(shmem_team_t team);

#define SHMEMFM_DECL_COLL(T, N)                                                         \
  int shmem_##N##_broadcast(shmem_team_t team, T* dest, const T* source, size_t nelems, \
                            int PE_root);                                               \
  int shmem_##N##_collect(shmem_team_t team, T* dest, const T* source, size_t nelems);  \
  int shmem_##N##_fcollect(shmem_team_t team, T* dest, const T* source, size_t nelems); \
  int shmem_##N##_alltoall(shmem_team_t team, T* dest, const T* source, size_t nelems); \
  int shmem_##N##_alltoalls(shmem_team_t team, T* dest, const T* source, ptrdiff_t dst, \
                            ptrdiff_t sst, size_t nelems);
SHMEMFM_RMA_TYPES(SHMEMFM_DECL_COLL)
int shmem_broadcastmem(shmem_team_t team, void* dest, const void* source, size_t nelems,
                       int PE_root);
int shmem_collectmem(shmem_team_t team, void* dest, const void* source, size_t nelems);
int shmem_fcollectmem(shmem_team_t team, void* dest, const void* source, size_t nelems);
int shmem_alltoallmem(shmem_team_t team, void* dest, const void* source, size_t nelems);
int shmem_alltoallsmem(shmem_team_t team, void* dest, const void* source, ptrdiff_t dst,
                       ptrdiff_t sst, size_t nelems);

#define SHMEMFM_DECL_RED(T, N, OP) \
  int shmem_##N##_##OP##_reduce(shmem_team_t team, T* dest, const T* source, size_t nreduce);
#define SHMEMFM_DECL_BITRED(T, N) \
  SHMEMFM_DECL_RED(T, N, and) SHMEMFM_DECL_RED(T, N, or) SHMEMFM_DECL_RED(T, N, xor)
#define SHMEMFM_DECL_ORDRED(T, N) SHMEMFM_DECL_RED(T, N, max) SHMEMFM_DECL_RED(T, N, min)
#define SHMEMFM_DECL_ARITHRED(T, N) SHMEMFM_DECL_RED(T, N, sum) SHMEMFM_DECL_RED(T, N, prod)
SHMEMFM_BITRED_TYPES(SHMEMFM_DECL_BITRED)
SHMEMFM_ORDRED_TYPES(SHMEMFM_DECL_ORDRED)
SHMEMFM_ARITHRED_TYPES(SHMEMFM_DECL_ARITHRED)

/* Deprecated active-set collectives (PE_start, logPE_stride, PE_size, pSync). */
void shmem_barrier(int PE_start, int logPE_stride, int PE_size, long* pSync);
void shmem_sync(int PE_start, int logPE_stride, int PE_size, long* pSync);
#define SHMEMFM_DECL_OLDCOLL(S, B)                                                      \
  void shmem_broadcast##S(void* dest, const void* source, size_t nelems, int PE_root,   \
                          int PE_start, int logPE_stride, int PE_size, long* pSync);    \
  void shmem_collect##S(void* dest, const void* source, size_t nelems, int PE_start,    \
                        int logPE_stride, int PE_size, long* pSync);                    \
  void shmem_fcollect##S(void* dest, const void* source, size_t nelems, int PE_start,   \
                         int logPE_stride, int PE_size, long* pSync);                   \
  void shmem_alltoall##S(void* dest, const void* source, size_t nelems, int PE_start,   \
                         int logPE_stride, int PE_size, long* pSync);                   \
  void shmem_alltoalls##S(void* dest, const void* source, ptrdiff_t dst, ptrdiff_t sst, \
                          size_t nelems, int PE_start, int logPE_stride, int PE_size,   \
                          long* pSync);
SHMEMFM_DECL_OLDCOLL(32, 4)
SHMEMFM_DECL_OLDCOLL(64, 8)
#define SHMEMFM_DECL_OLDRED(T, N, OP)                                                 \
  void shmem_##N##_##OP##_to_all(T* dest, const T* source, int nreduce, int PE_start, \
                                 int logPE_stride, int PE_size, T* pWrk, long* pSync);
#define SHMEMFM_DECL_OLDBITRED(T, N) \
  SHMEMFM_DECL_OLDRED(T, N, and) SHMEMFM_DECL_OLDRED(T, N, or) SHMEMFM_DECL_OLDRED(T, N, xor)
#define SHMEMFM_DECL_OLDORDRED(T, N) SHMEMFM_DECL_OLDRED(T, N, max) SHMEMFM_DECL_OLDRED(T, N, min)
#define SHMEMFM_DECL_OLDARITHRED(T, N) \
  SHMEMFM_DECL_OLDRED(T, N, sum) SHMEMFM_DECL_OLDRED(T, N, prod)
SHMEMFM_OLDBIT_TYPES(SHMEMFM_DECL_OLDBITRED)
SHMEMFM_OLDORD_TYPES(SHMEMFM_DECL_OLDORDRED)
SHMEMFM_OLDARITH_TYPES(SHMEMFM_DECL_OLDARITHRED)

/* --- deprecated setup and memory -------------------------------------------------------------- */
void start_pes(int npes);
int _my_pe(void);
int _num_pes(void);
void* shmalloc(size_t size);
void shfree(void* ptr);
void* shrealloc(void* ptr, size_t size);
void* shmemalign(size_t alignment, size_t size);
void shmem_clear_cache_inv(void);
void shmem_set_cache_inv(void);
void shmem_clear_cache_line_inv(void* dest);
void shmem_set_cache_line_inv(void* dest);
void shmem_udcflush(void);
void shmem_udcflush_line(void* dest);

#ifdef __cplusplus
}
#endif

/* --- C11 generic interfaces over the 14 base C types ------------------------------------------ */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__cplusplus)
#include "shmem-generic.h"
#endif

#endif /* SHMEM_H */
