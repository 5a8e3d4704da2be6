// api_rma.cpp - the typed, sized and context forms of RMA, put-with-signal and AMOs, each defined
// from one macro per family over the type tables of shmem.h.
#include <cstring>
#include <type_traits>

#include "runtime.hpp"

using namespace shmemfm;

namespace {

template <class T>
std::uint64_t bits(T v) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "AMO types are 4 or 8 bytes");
  if constexpr (sizeof(T) == 4) {
    std::uint32_t u;
    std::memcpy(&u, &v, 4);
    return u;
  } else {
    std::uint64_t u;
    std::memcpy(&u, &v, 8);
    return u;
  }
}

template <class T>
T from_bits(std::uint64_t b) {
  T v;
  if constexpr (sizeof(T) == 4) {
    const auto u = static_cast<std::uint32_t>(b);
    std::memcpy(&v, &u, 4);
  } else {
    std::memcpy(&v, &b, 8);
  }
  return v;
}

template <class T>
T amo_t(shmem_ctx_t ctx, T* dst, int op, T operand, T compare, int pe, bool fetch,
        const char* call) {
  const int w = world_pe(ctx, pe, call);
  return from_bits<T>(
      amo(dst, op, sizeof(T), bits(operand), bits(compare), w, fetch, nullptr, call));
}

template <class T>
void amo_nbi_t(shmem_ctx_t ctx, T* fetch, T* dst, int op, T operand, T compare, int pe,
               const char* call) {
  const int w = world_pe(ctx, pe, call);
  if (fetch == nullptr) fatal(call, "fetch is NULL");
  amo(dst, op, sizeof(T), bits(operand), bits(compare), w, true, fetch, call);
}

void put_c(shmem_ctx_t ctx, void* d, const void* s, std::size_t n, int pe, bool nbi,
           const char* call) {
  put(d, s, n, world_pe(ctx, pe, call), nbi, call);
}
void get_c(shmem_ctx_t ctx, void* d, const void* s, std::size_t n, int pe, bool nbi,
           const char* call) {
  get(d, s, n, world_pe(ctx, pe, call), nbi, call);
}
void iput_c(shmem_ctx_t ctx, void* d, const void* s, std::ptrdiff_t dst, std::ptrdiff_t sst,
            std::size_t elem, std::size_t n, int pe, const char* call) {
  iput(d, s, dst, sst, elem, n, world_pe(ctx, pe, call), call);
}
void iget_c(shmem_ctx_t ctx, void* d, const void* s, std::ptrdiff_t dst, std::ptrdiff_t sst,
            std::size_t elem, std::size_t n, int pe, const char* call) {
  iget(d, s, dst, sst, elem, n, world_pe(ctx, pe, call), call);
}
void put_signal_c(shmem_ctx_t ctx, void* d, const void* s, std::size_t n, std::uint64_t* sig,
                  std::uint64_t signal, int sig_op, int pe, bool nbi, const char* call) {
  put_signal(d, s, n, sig, signal, sig_op, world_pe(ctx, pe, call), nbi, call);
}

}  // namespace

#define D SHMEM_CTX_DEFAULT

extern "C" {

// --- RMA, typed
// -------------------------------------------------------------------------------------
#define SHMEMFM_DEF_RMA(T, N)                                                                   \
  void shmem_##N##_put(T* d, const T* s, size_t n, int pe) {                                    \
    put_c(D, d, s, n * sizeof(T), pe, false, __func__);                                         \
  }                                                                                             \
  void shmem_ctx_##N##_put(shmem_ctx_t c, T* d, const T* s, size_t n, int pe) {                 \
    put_c(c, d, s, n * sizeof(T), pe, false, __func__);                                         \
  }                                                                                             \
  void shmem_##N##_get(T* d, const T* s, size_t n, int pe) {                                    \
    get_c(D, d, s, n * sizeof(T), pe, false, __func__);                                         \
  }                                                                                             \
  void shmem_ctx_##N##_get(shmem_ctx_t c, T* d, const T* s, size_t n, int pe) {                 \
    get_c(c, d, s, n * sizeof(T), pe, false, __func__);                                         \
  }                                                                                             \
  void shmem_##N##_p(T* d, T v, int pe) {                                                       \
    put_c(D, d, &v, sizeof(T), pe, false, __func__);                                            \
  }                                                                                             \
  void shmem_ctx_##N##_p(shmem_ctx_t c, T* d, T v, int pe) {                                    \
    put_c(c, d, &v, sizeof(T), pe, false, __func__);                                            \
  }                                                                                             \
  T shmem_##N##_g(const T* s, int pe) {                                                         \
    T v;                                                                                        \
    get_c(D, &v, s, sizeof(T), pe, false, __func__);                                            \
    return v;                                                                                   \
  }                                                                                             \
  T shmem_ctx_##N##_g(shmem_ctx_t c, const T* s, int pe) {                                      \
    T v;                                                                                        \
    get_c(c, &v, s, sizeof(T), pe, false, __func__);                                            \
    return v;                                                                                   \
  }                                                                                             \
  void shmem_##N##_iput(T* d, const T* s, ptrdiff_t dst, ptrdiff_t sst, size_t n, int pe) {     \
    iput_c(D, d, s, dst, sst, sizeof(T), n, pe, __func__);                                      \
  }                                                                                             \
  void shmem_ctx_##N##_iput(shmem_ctx_t c, T* d, const T* s, ptrdiff_t dst, ptrdiff_t sst,      \
                            size_t n, int pe) {                                                 \
    iput_c(c, d, s, dst, sst, sizeof(T), n, pe, __func__);                                      \
  }                                                                                             \
  void shmem_##N##_iget(T* d, const T* s, ptrdiff_t dst, ptrdiff_t sst, size_t n, int pe) {     \
    iget_c(D, d, s, dst, sst, sizeof(T), n, pe, __func__);                                      \
  }                                                                                             \
  void shmem_ctx_##N##_iget(shmem_ctx_t c, T* d, const T* s, ptrdiff_t dst, ptrdiff_t sst,      \
                            size_t n, int pe) {                                                 \
    iget_c(c, d, s, dst, sst, sizeof(T), n, pe, __func__);                                      \
  }                                                                                             \
  void shmem_##N##_put_nbi(T* d, const T* s, size_t n, int pe) {                                \
    put_c(D, d, s, n * sizeof(T), pe, true, __func__);                                          \
  }                                                                                             \
  void shmem_ctx_##N##_put_nbi(shmem_ctx_t c, T* d, const T* s, size_t n, int pe) {             \
    put_c(c, d, s, n * sizeof(T), pe, true, __func__);                                          \
  }                                                                                             \
  void shmem_##N##_get_nbi(T* d, const T* s, size_t n, int pe) {                                \
    get_c(D, d, s, n * sizeof(T), pe, true, __func__);                                          \
  }                                                                                             \
  void shmem_ctx_##N##_get_nbi(shmem_ctx_t c, T* d, const T* s, size_t n, int pe) {             \
    get_c(c, d, s, n * sizeof(T), pe, true, __func__);                                          \
  }                                                                                             \
  void shmem_##N##_put_signal(T* d, const T* s, size_t n, uint64_t* sig, uint64_t signal,       \
                              int sig_op, int pe) {                                             \
    put_signal_c(D, d, s, n * sizeof(T), sig, signal, sig_op, pe, false, __func__);             \
  }                                                                                             \
  void shmem_ctx_##N##_put_signal(shmem_ctx_t c, T* d, const T* s, size_t n, uint64_t* sig,     \
                                  uint64_t signal, int sig_op, int pe) {                        \
    put_signal_c(c, d, s, n * sizeof(T), sig, signal, sig_op, pe, false, __func__);             \
  }                                                                                             \
  void shmem_##N##_put_signal_nbi(T* d, const T* s, size_t n, uint64_t* sig, uint64_t signal,   \
                                  int sig_op, int pe) {                                         \
    put_signal_c(D, d, s, n * sizeof(T), sig, signal, sig_op, pe, true, __func__);              \
  }                                                                                             \
  void shmem_ctx_##N##_put_signal_nbi(shmem_ctx_t c, T* d, const T* s, size_t n, uint64_t* sig, \
                                      uint64_t signal, int sig_op, int pe) {                    \
    put_signal_c(c, d, s, n * sizeof(T), sig, signal, sig_op, pe, true, __func__);              \
  }
SHMEMFM_RMA_TYPES(SHMEMFM_DEF_RMA)

// --- RMA, sized and mem
// ---------------------------------------------------------------------------
#define SHMEMFM_DEF_SIZED_CONTIG(S, B)                                                             \
  void shmem_put##S(void* d, const void* s, size_t n, int pe) {                                    \
    put_c(D, d, s, n*(B), pe, false, __func__);                                                    \
  }                                                                                                \
  void shmem_ctx_put##S(shmem_ctx_t c, void* d, const void* s, size_t n, int pe) {                 \
    put_c(c, d, s, n*(B), pe, false, __func__);                                                    \
  }                                                                                                \
  void shmem_get##S(void* d, const void* s, size_t n, int pe) {                                    \
    get_c(D, d, s, n*(B), pe, false, __func__);                                                    \
  }                                                                                                \
  void shmem_ctx_get##S(shmem_ctx_t c, void* d, const void* s, size_t n, int pe) {                 \
    get_c(c, d, s, n*(B), pe, false, __func__);                                                    \
  }                                                                                                \
  void shmem_put##S##_nbi(void* d, const void* s, size_t n, int pe) {                              \
    put_c(D, d, s, n*(B), pe, true, __func__);                                                     \
  }                                                                                                \
  void shmem_ctx_put##S##_nbi(shmem_ctx_t c, void* d, const void* s, size_t n, int pe) {           \
    put_c(c, d, s, n*(B), pe, true, __func__);                                                     \
  }                                                                                                \
  void shmem_get##S##_nbi(void* d, const void* s, size_t n, int pe) {                              \
    get_c(D, d, s, n*(B), pe, true, __func__);                                                     \
  }                                                                                                \
  void shmem_ctx_get##S##_nbi(shmem_ctx_t c, void* d, const void* s, size_t n, int pe) {           \
    get_c(c, d, s, n*(B), pe, true, __func__);                                                     \
  }                                                                                                \
  void shmem_put##S##_signal(void* d, const void* s, size_t n, uint64_t* sig, uint64_t signal,     \
                             int sig_op, int pe) {                                                 \
    put_signal_c(D, d, s, n*(B), sig, signal, sig_op, pe, false, __func__);                        \
  }                                                                                                \
  void shmem_ctx_put##S##_signal(shmem_ctx_t c, void* d, const void* s, size_t n, uint64_t* sig,   \
                                 uint64_t signal, int sig_op, int pe) {                            \
    put_signal_c(c, d, s, n*(B), sig, signal, sig_op, pe, false, __func__);                        \
  }                                                                                                \
  void shmem_put##S##_signal_nbi(void* d, const void* s, size_t n, uint64_t* sig, uint64_t signal, \
                                 int sig_op, int pe) {                                             \
    put_signal_c(D, d, s, n*(B), sig, signal, sig_op, pe, true, __func__);                         \
  }                                                                                                \
  void shmem_ctx_put##S##_signal_nbi(shmem_ctx_t c, void* d, const void* s, size_t n,              \
                                     uint64_t* sig, uint64_t signal, int sig_op, int pe) {         \
    put_signal_c(c, d, s, n*(B), sig, signal, sig_op, pe, true, __func__);                         \
  }
#define SHMEMFM_DEF_SIZED(S, B)                                                                \
  SHMEMFM_DEF_SIZED_CONTIG(S, B)                                                               \
  void shmem_iput##S(void* d, const void* s, ptrdiff_t dst, ptrdiff_t sst, size_t n, int pe) { \
    iput_c(D, d, s, dst, sst, B, n, pe, __func__);                                             \
  }                                                                                            \
  void shmem_ctx_iput##S(shmem_ctx_t c, void* d, const void* s, ptrdiff_t dst, ptrdiff_t sst,  \
                         size_t n, int pe) {                                                   \
    iput_c(c, d, s, dst, sst, B, n, pe, __func__);                                             \
  }                                                                                            \
  void shmem_iget##S(void* d, const void* s, ptrdiff_t dst, ptrdiff_t sst, size_t n, int pe) { \
    iget_c(D, d, s, dst, sst, B, n, pe, __func__);                                             \
  }                                                                                            \
  void shmem_ctx_iget##S(shmem_ctx_t c, void* d, const void* s, ptrdiff_t dst, ptrdiff_t sst,  \
                         size_t n, int pe) {                                                   \
    iget_c(c, d, s, dst, sst, B, n, pe, __func__);                                             \
  }
SHMEMFM_SIZES(SHMEMFM_DEF_SIZED)
SHMEMFM_DEF_SIZED_CONTIG(mem, 1)

// --- AMOs
// ------------------------------------------------------------------------------------------
#define SHMEMFM_DEF_EXTAMO(T, N)                                                                \
  T shmem_##N##_atomic_fetch(const T* s, int pe) {                                              \
    return amo_t<T>(D, const_cast<T*>(s), FM_ATOMIC_READ, static_cast<T>(0), static_cast<T>(0), \
                    pe, true, __func__);                                                        \
  }                                                                                             \
  T shmem_ctx_##N##_atomic_fetch(shmem_ctx_t c, const T* s, int pe) {                           \
    return amo_t<T>(c, const_cast<T*>(s), FM_ATOMIC_READ, static_cast<T>(0), static_cast<T>(0), \
                    pe, true, __func__);                                                        \
  }                                                                                             \
  void shmem_##N##_atomic_set(T* d, T v, int pe) {                                              \
    amo_t<T>(D, d, FM_ATOMIC_SWAP, v, static_cast<T>(0), pe, false, __func__);                  \
  }                                                                                             \
  void shmem_ctx_##N##_atomic_set(shmem_ctx_t c, T* d, T v, int pe) {                           \
    amo_t<T>(c, d, FM_ATOMIC_SWAP, v, static_cast<T>(0), pe, false, __func__);                  \
  }                                                                                             \
  T shmem_##N##_atomic_swap(T* d, T v, int pe) {                                                \
    return amo_t<T>(D, d, FM_ATOMIC_SWAP, v, static_cast<T>(0), pe, true, __func__);            \
  }                                                                                             \
  T shmem_ctx_##N##_atomic_swap(shmem_ctx_t c, T* d, T v, int pe) {                             \
    return amo_t<T>(c, d, FM_ATOMIC_SWAP, v, static_cast<T>(0), pe, true, __func__);            \
  }                                                                                             \
  void shmem_##N##_atomic_fetch_nbi(T* f, const T* s, int pe) {                                 \
    amo_nbi_t<T>(D, f, const_cast<T*>(s), FM_ATOMIC_READ, static_cast<T>(0), static_cast<T>(0), \
                 pe, __func__);                                                                 \
  }                                                                                             \
  void shmem_ctx_##N##_atomic_fetch_nbi(shmem_ctx_t c, T* f, const T* s, int pe) {              \
    amo_nbi_t<T>(c, f, const_cast<T*>(s), FM_ATOMIC_READ, static_cast<T>(0), static_cast<T>(0), \
                 pe, __func__);                                                                 \
  }                                                                                             \
  void shmem_##N##_atomic_swap_nbi(T* f, T* d, T v, int pe) {                                   \
    amo_nbi_t<T>(D, f, d, FM_ATOMIC_SWAP, v, static_cast<T>(0), pe, __func__);                  \
  }                                                                                             \
  void shmem_ctx_##N##_atomic_swap_nbi(shmem_ctx_t c, T* f, T* d, T v, int pe) {                \
    amo_nbi_t<T>(c, f, d, FM_ATOMIC_SWAP, v, static_cast<T>(0), pe, __func__);                  \
  }
SHMEMFM_EXTAMO_TYPES(SHMEMFM_DEF_EXTAMO)

#define SHMEMFM_DEF_AMO(T, N)                                                                    \
  T shmem_##N##_atomic_compare_swap(T* d, T cond, T v, int pe) {                                 \
    return amo_t<T>(D, d, FM_ATOMIC_CSWAP, v, cond, pe, true, __func__);                         \
  }                                                                                              \
  T shmem_ctx_##N##_atomic_compare_swap(shmem_ctx_t c, T* d, T cond, T v, int pe) {              \
    return amo_t<T>(c, d, FM_ATOMIC_CSWAP, v, cond, pe, true, __func__);                         \
  }                                                                                              \
  T shmem_##N##_atomic_fetch_inc(T* d, int pe) {                                                 \
    return amo_t<T>(D, d, FM_ATOMIC_ADD, static_cast<T>(1), static_cast<T>(0), pe, true,         \
                    __func__);                                                                   \
  }                                                                                              \
  T shmem_ctx_##N##_atomic_fetch_inc(shmem_ctx_t c, T* d, int pe) {                              \
    return amo_t<T>(c, d, FM_ATOMIC_ADD, static_cast<T>(1), static_cast<T>(0), pe, true,         \
                    __func__);                                                                   \
  }                                                                                              \
  void shmem_##N##_atomic_inc(T* d, int pe) {                                                    \
    amo_t<T>(D, d, FM_ATOMIC_ADD, static_cast<T>(1), static_cast<T>(0), pe, false, __func__);    \
  }                                                                                              \
  void shmem_ctx_##N##_atomic_inc(shmem_ctx_t c, T* d, int pe) {                                 \
    amo_t<T>(c, d, FM_ATOMIC_ADD, static_cast<T>(1), static_cast<T>(0), pe, false, __func__);    \
  }                                                                                              \
  T shmem_##N##_atomic_fetch_add(T* d, T v, int pe) {                                            \
    return amo_t<T>(D, d, FM_ATOMIC_ADD, v, static_cast<T>(0), pe, true, __func__);              \
  }                                                                                              \
  T shmem_ctx_##N##_atomic_fetch_add(shmem_ctx_t c, T* d, T v, int pe) {                         \
    return amo_t<T>(c, d, FM_ATOMIC_ADD, v, static_cast<T>(0), pe, true, __func__);              \
  }                                                                                              \
  void shmem_##N##_atomic_add(T* d, T v, int pe) {                                               \
    amo_t<T>(D, d, FM_ATOMIC_ADD, v, static_cast<T>(0), pe, false, __func__);                    \
  }                                                                                              \
  void shmem_ctx_##N##_atomic_add(shmem_ctx_t c, T* d, T v, int pe) {                            \
    amo_t<T>(c, d, FM_ATOMIC_ADD, v, static_cast<T>(0), pe, false, __func__);                    \
  }                                                                                              \
  void shmem_##N##_atomic_compare_swap_nbi(T* f, T* d, T cond, T v, int pe) {                    \
    amo_nbi_t<T>(D, f, d, FM_ATOMIC_CSWAP, v, cond, pe, __func__);                               \
  }                                                                                              \
  void shmem_ctx_##N##_atomic_compare_swap_nbi(shmem_ctx_t c, T* f, T* d, T cond, T v, int pe) { \
    amo_nbi_t<T>(c, f, d, FM_ATOMIC_CSWAP, v, cond, pe, __func__);                               \
  }                                                                                              \
  void shmem_##N##_atomic_fetch_inc_nbi(T* f, T* d, int pe) {                                    \
    amo_nbi_t<T>(D, f, d, FM_ATOMIC_ADD, static_cast<T>(1), static_cast<T>(0), pe, __func__);    \
  }                                                                                              \
  void shmem_ctx_##N##_atomic_fetch_inc_nbi(shmem_ctx_t c, T* f, T* d, int pe) {                 \
    amo_nbi_t<T>(c, f, d, FM_ATOMIC_ADD, static_cast<T>(1), static_cast<T>(0), pe, __func__);    \
  }                                                                                              \
  void shmem_##N##_atomic_fetch_add_nbi(T* f, T* d, T v, int pe) {                               \
    amo_nbi_t<T>(D, f, d, FM_ATOMIC_ADD, v, static_cast<T>(0), pe, __func__);                    \
  }                                                                                              \
  void shmem_ctx_##N##_atomic_fetch_add_nbi(shmem_ctx_t c, T* f, T* d, T v, int pe) {            \
    amo_nbi_t<T>(c, f, d, FM_ATOMIC_ADD, v, static_cast<T>(0), pe, __func__);                    \
  }
SHMEMFM_AMO_TYPES(SHMEMFM_DEF_AMO)

#define SHMEMFM_DEF_BITAMO1(T, N, OP, FMOP)                                              \
  T shmem_##N##_atomic_fetch_##OP(T* d, T v, int pe) {                                   \
    return amo_t<T>(D, d, FMOP, v, static_cast<T>(0), pe, true, __func__);               \
  }                                                                                      \
  T shmem_ctx_##N##_atomic_fetch_##OP(shmem_ctx_t c, T* d, T v, int pe) {                \
    return amo_t<T>(c, d, FMOP, v, static_cast<T>(0), pe, true, __func__);               \
  }                                                                                      \
  void shmem_##N##_atomic_##OP(T* d, T v, int pe) {                                      \
    amo_t<T>(D, d, FMOP, v, static_cast<T>(0), pe, false, __func__);                     \
  }                                                                                      \
  void shmem_ctx_##N##_atomic_##OP(shmem_ctx_t c, T* d, T v, int pe) {                   \
    amo_t<T>(c, d, FMOP, v, static_cast<T>(0), pe, false, __func__);                     \
  }                                                                                      \
  void shmem_##N##_atomic_fetch_##OP##_nbi(T* f, T* d, T v, int pe) {                    \
    amo_nbi_t<T>(D, f, d, FMOP, v, static_cast<T>(0), pe, __func__);                     \
  }                                                                                      \
  void shmem_ctx_##N##_atomic_fetch_##OP##_nbi(shmem_ctx_t c, T* f, T* d, T v, int pe) { \
    amo_nbi_t<T>(c, f, d, FMOP, v, static_cast<T>(0), pe, __func__);                     \
  }
#define SHMEMFM_DEF_BITAMO(T, N)                \
  SHMEMFM_DEF_BITAMO1(T, N, and, FM_ATOMIC_AND) \
  SHMEMFM_DEF_BITAMO1(T, N, or, FM_ATOMIC_OR)   \
  SHMEMFM_DEF_BITAMO1(T, N, xor, FM_ATOMIC_XOR)
SHMEMFM_BITAMO_TYPES(SHMEMFM_DEF_BITAMO)

// Deprecated names.
#define SHMEMFM_DEF_OLDAMO(T, N)                                                              \
  T shmem_##N##_cswap(T* d, T cond, T v, int pe) {                                            \
    return amo_t<T>(D, d, FM_ATOMIC_CSWAP, v, cond, pe, true, __func__);                      \
  }                                                                                           \
  T shmem_##N##_finc(T* d, int pe) {                                                          \
    return amo_t<T>(D, d, FM_ATOMIC_ADD, static_cast<T>(1), static_cast<T>(0), pe, true,      \
                    __func__);                                                                \
  }                                                                                           \
  void shmem_##N##_inc(T* d, int pe) {                                                        \
    amo_t<T>(D, d, FM_ATOMIC_ADD, static_cast<T>(1), static_cast<T>(0), pe, false, __func__); \
  }                                                                                           \
  T shmem_##N##_fadd(T* d, T v, int pe) {                                                     \
    return amo_t<T>(D, d, FM_ATOMIC_ADD, v, static_cast<T>(0), pe, true, __func__);           \
  }                                                                                           \
  void shmem_##N##_add(T* d, T v, int pe) {                                                   \
    amo_t<T>(D, d, FM_ATOMIC_ADD, v, static_cast<T>(0), pe, false, __func__);                 \
  }
#define SHMEMFM_DEF_OLDEXTAMO(T, N)                                                             \
  T shmem_##N##_fetch(const T* s, int pe) {                                                     \
    return amo_t<T>(D, const_cast<T*>(s), FM_ATOMIC_READ, static_cast<T>(0), static_cast<T>(0), \
                    pe, true, __func__);                                                        \
  }                                                                                             \
  void shmem_##N##_set(T* d, T v, int pe) {                                                     \
    amo_t<T>(D, d, FM_ATOMIC_SWAP, v, static_cast<T>(0), pe, false, __func__);                  \
  }                                                                                             \
  T shmem_##N##_swap(T* d, T v, int pe) {                                                       \
    return amo_t<T>(D, d, FM_ATOMIC_SWAP, v, static_cast<T>(0), pe, true, __func__);            \
  }
SHMEMFM_OLDAMO_TYPES(SHMEMFM_DEF_OLDAMO)
SHMEMFM_OLDEXTAMO_TYPES(SHMEMFM_DEF_OLDEXTAMO)

long shmem_swap(long* d, long v, int pe) {
  return amo_t<long>(D, d, FM_ATOMIC_SWAP, v, 0L, pe, true, __func__);
}

}  // extern "C"
