// api_coll.cpp - typed team collectives, reductions and the deprecated active-set collectives,
// defined from one macro per family over the type tables of shmem.h.
#include <complex.h>

#include <vector>

#include "runtime.hpp"

using namespace shmemfm;

namespace {

// Team collectives return 0, or nonzero for an invalid team (with a warning).
bool team_ok(shmem_team_t team, const char* call) {
  require_init(call);
  if (!valid_team(team) || team->my < 0) {
    warn(call, "invalid team (SHMEM_TEAM_INVALID, destroyed, or this PE is not a member)");
    return false;
  }
  return true;
}

template <class T, class Op>
void fold(void* acc, const void* in, std::size_t n) {
  T* a = static_cast<T*>(acc);
  const T* b = static_cast<const T*>(in);
  for (std::size_t i = 0; i < n; ++i) a[i] = Op{}(a[i], b[i]);
}

struct And {
  template <class T>
  T operator()(T a, T b) const {
    return static_cast<T>(a & b);
  }
};
struct Or {
  template <class T>
  T operator()(T a, T b) const {
    return static_cast<T>(a | b);
  }
};
struct Xor {
  template <class T>
  T operator()(T a, T b) const {
    return static_cast<T>(a ^ b);
  }
};
struct Max {
  template <class T>
  T operator()(T a, T b) const {
    return a < b ? b : a;
  }
};
struct Min {
  template <class T>
  T operator()(T a, T b) const {
    return b < a ? b : a;
  }
};
struct Sum {
  template <class T>
  T operator()(T a, T b) const {
    return static_cast<T>(a + b);
  }
};
struct Prod {
  template <class T>
  T operator()(T a, T b) const {
    return static_cast<T>(a * b);
  }
};

template <class T, class Op>
int team_reduce(shmem_team_t team, T* dest, const T* source, std::size_t n, const char* call) {
  if (!team_ok(team, call)) return -1;
  reduce(team_set(team, call), dest, source, n, sizeof(T), fold<T, Op>, call);
  return 0;
}

template <class T, class Op>
void old_reduce(T* dest, const T* source, int n, int start, int log_stride, int size, long* psync,
                const char* call) {
  std::vector<int> pes;
  const Set s = active_set(start, log_stride, size, psync, &pes, call);
  if (n < 0) fatal(call, "nreduce %d is negative", n);
  reduce(s, dest, source, static_cast<std::size_t>(n), sizeof(T), fold<T, Op>, call);
}

}  // namespace

extern "C" {

#define SHMEMFM_DEF_COLL(T, N)                                                                \
  int shmem_##N##_broadcast(shmem_team_t team, T* dest, const T* source, size_t nelems,       \
                            int PE_root) {                                                    \
    if (!team_ok(team, __func__)) return -1;                                                  \
    broadcast(team_set(team, __func__), dest, source, nelems * sizeof(T), PE_root, true,      \
              __func__);                                                                      \
    return 0;                                                                                 \
  }                                                                                           \
  int shmem_##N##_collect(shmem_team_t team, T* dest, const T* source, size_t nelems) {       \
    if (!team_ok(team, __func__)) return -1;                                                  \
    collect(team_set(team, __func__), dest, source, nelems * sizeof(T), __func__);            \
    return 0;                                                                                 \
  }                                                                                           \
  int shmem_##N##_fcollect(shmem_team_t team, T* dest, const T* source, size_t nelems) {      \
    if (!team_ok(team, __func__)) return -1;                                                  \
    fcollect(team_set(team, __func__), dest, source, nelems * sizeof(T), __func__);           \
    return 0;                                                                                 \
  }                                                                                           \
  int shmem_##N##_alltoall(shmem_team_t team, T* dest, const T* source, size_t nelems) {      \
    if (!team_ok(team, __func__)) return -1;                                                  \
    alltoalls(team_set(team, __func__), dest, source, 1, 1, sizeof(T), nelems, __func__);     \
    return 0;                                                                                 \
  }                                                                                           \
  int shmem_##N##_alltoalls(shmem_team_t team, T* dest, const T* source, ptrdiff_t dst,       \
                            ptrdiff_t sst, size_t nelems) {                                   \
    if (!team_ok(team, __func__)) return -1;                                                  \
    alltoalls(team_set(team, __func__), dest, source, dst, sst, sizeof(T), nelems, __func__); \
    return 0;                                                                                 \
  }
SHMEMFM_RMA_TYPES(SHMEMFM_DEF_COLL)

int shmem_broadcastmem(shmem_team_t team, void* dest, const void* source, size_t nelems,
                       int PE_root) {
  if (!team_ok(team, __func__)) return -1;
  broadcast(team_set(team, __func__), dest, source, nelems, PE_root, true, __func__);
  return 0;
}
int shmem_collectmem(shmem_team_t team, void* dest, const void* source, size_t nelems) {
  if (!team_ok(team, __func__)) return -1;
  collect(team_set(team, __func__), dest, source, nelems, __func__);
  return 0;
}
int shmem_fcollectmem(shmem_team_t team, void* dest, const void* source, size_t nelems) {
  if (!team_ok(team, __func__)) return -1;
  fcollect(team_set(team, __func__), dest, source, nelems, __func__);
  return 0;
}
int shmem_alltoallmem(shmem_team_t team, void* dest, const void* source, size_t nelems) {
  if (!team_ok(team, __func__)) return -1;
  alltoalls(team_set(team, __func__), dest, source, 1, 1, 1, nelems, __func__);
  return 0;
}
int shmem_alltoallsmem(shmem_team_t team, void* dest, const void* source, ptrdiff_t dst,
                       ptrdiff_t sst, size_t nelems) {
  if (!team_ok(team, __func__)) return -1;
  alltoalls(team_set(team, __func__), dest, source, dst, sst, 1, nelems, __func__);
  return 0;
}

#define SHMEMFM_DEF_RED(T, N, OP, F)                                                           \
  int shmem_##N##_##OP##_reduce(shmem_team_t team, T* dest, const T* source, size_t nreduce) { \
    return team_reduce<T, F>(team, dest, source, nreduce, __func__);                           \
  }
#define SHMEMFM_DEF_BITRED(T, N) \
  SHMEMFM_DEF_RED(T, N, and, And) SHMEMFM_DEF_RED(T, N, or, Or) SHMEMFM_DEF_RED(T, N, xor, Xor)
#define SHMEMFM_DEF_ORDRED(T, N) SHMEMFM_DEF_RED(T, N, max, Max) SHMEMFM_DEF_RED(T, N, min, Min)
#define SHMEMFM_DEF_ARITHRED(T, N) SHMEMFM_DEF_RED(T, N, sum, Sum) SHMEMFM_DEF_RED(T, N, prod, Prod)
SHMEMFM_BITRED_TYPES(SHMEMFM_DEF_BITRED)
SHMEMFM_ORDRED_TYPES(SHMEMFM_DEF_ORDRED)
SHMEMFM_ARITHRED_TYPES(SHMEMFM_DEF_ARITHRED)

// --- deprecated active-set collectives
// -------------------------------------------------------------
#define SHMEMFM_DEF_OLDCOLL(S, B)                                                                  \
  void shmem_broadcast##S(void* dest, const void* source, size_t nelems, int PE_root,              \
                          int PE_start, int logPE_stride, int PE_size, long* pSync) {              \
    std::vector<int> pes;                                                                          \
    broadcast(active_set(PE_start, logPE_stride, PE_size, pSync, &pes, __func__), dest, source,    \
              nelems*(B), PE_root, false, __func__);                                               \
  }                                                                                                \
  void shmem_collect##S(void* dest, const void* source, size_t nelems, int PE_start,               \
                        int logPE_stride, int PE_size, long* pSync) {                              \
    std::vector<int> pes;                                                                          \
    collect(active_set(PE_start, logPE_stride, PE_size, pSync, &pes, __func__), dest, source,      \
            nelems*(B), __func__);                                                                 \
  }                                                                                                \
  void shmem_fcollect##S(void* dest, const void* source, size_t nelems, int PE_start,              \
                         int logPE_stride, int PE_size, long* pSync) {                             \
    std::vector<int> pes;                                                                          \
    fcollect(active_set(PE_start, logPE_stride, PE_size, pSync, &pes, __func__), dest, source,     \
             nelems*(B), __func__);                                                                \
  }                                                                                                \
  void shmem_alltoall##S(void* dest, const void* source, size_t nelems, int PE_start,              \
                         int logPE_stride, int PE_size, long* pSync) {                             \
    std::vector<int> pes;                                                                          \
    alltoalls(active_set(PE_start, logPE_stride, PE_size, pSync, &pes, __func__), dest, source, 1, \
              1, B, nelems, __func__);                                                             \
  }                                                                                                \
  void shmem_alltoalls##S(void* dest, const void* source, ptrdiff_t dst, ptrdiff_t sst,            \
                          size_t nelems, int PE_start, int logPE_stride, int PE_size,              \
                          long* pSync) {                                                           \
    std::vector<int> pes;                                                                          \
    alltoalls(active_set(PE_start, logPE_stride, PE_size, pSync, &pes, __func__), dest, source,    \
              dst, sst, B, nelems, __func__);                                                      \
  }
SHMEMFM_DEF_OLDCOLL(32, 4)
SHMEMFM_DEF_OLDCOLL(64, 8)

#define SHMEMFM_DEF_OLDRED(T, N, OP, F)                                                        \
  void shmem_##N##_##OP##_to_all(T* dest, const T* source, int nreduce, int PE_start,          \
                                 int logPE_stride, int PE_size, T* pWrk, long* pSync) {        \
    (void)pWrk; /* the slices are reduced in private memory */                                 \
    old_reduce<T, F>(dest, source, nreduce, PE_start, logPE_stride, PE_size, pSync, __func__); \
  }
#define SHMEMFM_DEF_OLDBITRED(T, N)  \
  SHMEMFM_DEF_OLDRED(T, N, and, And) \
  SHMEMFM_DEF_OLDRED(T, N, or, Or) SHMEMFM_DEF_OLDRED(T, N, xor, Xor)
#define SHMEMFM_DEF_OLDORDRED(T, N) \
  SHMEMFM_DEF_OLDRED(T, N, max, Max) SHMEMFM_DEF_OLDRED(T, N, min, Min)
#define SHMEMFM_DEF_OLDARITHRED(T, N) \
  SHMEMFM_DEF_OLDRED(T, N, sum, Sum) SHMEMFM_DEF_OLDRED(T, N, prod, Prod)
SHMEMFM_OLDBIT_TYPES(SHMEMFM_DEF_OLDBITRED)
SHMEMFM_OLDORD_TYPES(SHMEMFM_DEF_OLDORDRED)
SHMEMFM_OLDARITH_TYPES(SHMEMFM_DEF_OLDARITHRED)

}  // extern "C"
