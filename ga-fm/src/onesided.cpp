// onesided.cpp - the ARMCI one-sided entry points: contiguous, strided and vector put, get and
// accumulate, blocking and not; values; handles; fences; read-modify-write; local strided copies.
//
// Completion: a blocking put or accumulate returns when its source may be reused (the data is
// sent, or stored when the target is on this host); a get when its data is here; remote
// completion is ARMCI_Fence / ARMCI_AllFence.  Non-blocking puts and accumulates complete at once
// (locally) as well; a non-blocking get completes at ARMCI_Wait / ARMCI_Test (or ARMCI_WaitProc,
// ARMCI_WaitAll for handle-less ones).  A handle holds the request's slot and generation, so that
// waiting on a handle whose operation is long complete, or again, does nothing.
#include <cstring>

#include <utility>

#include "api.hpp"
#include "gafm.hpp"

using namespace gafm;

namespace {

void set_handle(armci_hdl_t* hdl, int slot) {
  if (hdl == nullptr) return;
  hdl->target = slot;
  hdl->aggregate = slot >= 0 ? request_gen(slot) : 0;
}

// A contiguous transfer as a strided one of no levels.
Layout contiguous(int bytes, const char* call) {
  if (bytes < 0) error(call, "size %d is negative", bytes);
  Layout l;
  l.count[0] = bytes;
  return l;
}

// A strided call's two sides, checked (ARMCI initialized, proc in range, pointers set).
std::pair<Layout, Layout> sides(const void* src, const int* ss, const void* dst, const int* ds,
                                const int* count, int levels, int proc, const char* call) {
  require_init(call);
  check_proc(proc, call);
  if (src == nullptr || dst == nullptr) error(call, "source or destination is NULL");
  return {layout(levels, count, ss, call, "source"),
          layout(levels, count, ds, call, "destination")};
}

int put_s(void* src, int* ss, void* dst, int* ds, int* count, int levels, int proc,
          const char* call) {
  const auto [ls, ld] = sides(src, ss, dst, ds, count, levels, proc, call);
  put_strided(src, ls, dst, ld, proc, call);
  return 0;
}

int acc_s(int type, void* scale, void* src, int* ss, void* dst, int* ds, int* count, int levels,
          int proc, const char* call) {
  const auto [ls, ld] = sides(src, ss, dst, ds, count, levels, proc, call);
  acc_strided(type, scale, src, ls, dst, ld, proc, call);
  return 0;
}

int get_s(void* src, int* ss, void* dst, int* ds, int* count, int levels, int proc,
          const char* call) {
  const auto [ls, ld] = sides(src, ss, dst, ds, count, levels, proc, call);
  return get_strided(src, ls, dst, ld, proc, call);
}

}  // namespace

// --- strided
// ----------------------------------------------------------------------------------------

GAFM_API(int, ARMCI_PutS,
         (void* src_ptr, int src_stride_ar[], void* dst_ptr, int dst_stride_ar[], int count[],
          int stride_levels, int proc)) {
  return put_s(src_ptr, src_stride_ar, dst_ptr, dst_stride_ar, count, stride_levels, proc,
               "ARMCI_PutS");
}

GAFM_API(int, ARMCI_GetS,
         (void* src_ptr, int src_stride_ar[], void* dst_ptr, int dst_stride_ar[], int count[],
          int stride_levels, int proc)) {
  const int slot = get_s(src_ptr, src_stride_ar, dst_ptr, dst_stride_ar, count, stride_levels, proc,
                         "ARMCI_GetS");
  if (slot >= 0) wait_request(slot, request_gen(slot), "ARMCI_GetS");
  return 0;
}

GAFM_API(int, ARMCI_AccS,
         (int datatype, void* scale, void* src_ptr, int src_stride_ar[], void* dst_ptr,
          int dst_stride_ar[], int count[], int stride_levels, int proc)) {
  return acc_s(datatype, scale, src_ptr, src_stride_ar, dst_ptr, dst_stride_ar, count,
               stride_levels, proc, "ARMCI_AccS");
}

GAFM_API(int, ARMCI_NbPutS,
         (void* src_ptr, int src_stride_ar[], void* dst_ptr, int dst_stride_ar[], int count[],
          int stride_levels, int proc, armci_hdl_t* hdl)) {
  set_handle(hdl, -1);
  return put_s(src_ptr, src_stride_ar, dst_ptr, dst_stride_ar, count, stride_levels, proc,
               "ARMCI_NbPutS");
}

GAFM_API(int, ARMCI_NbGetS,
         (void* src_ptr, int src_stride_ar[], void* dst_ptr, int dst_stride_ar[], int count[],
          int stride_levels, int proc, armci_hdl_t* hdl)) {
  set_handle(hdl, get_s(src_ptr, src_stride_ar, dst_ptr, dst_stride_ar, count, stride_levels, proc,
                        "ARMCI_NbGetS"));
  return 0;
}

GAFM_API(int, ARMCI_NbAccS,
         (int datatype, void* scale, void* src_ptr, int src_stride_ar[], void* dst_ptr,
          int dst_stride_ar[], int count[], int stride_levels, int proc, armci_hdl_t* hdl)) {
  set_handle(hdl, -1);
  return acc_s(datatype, scale, src_ptr, src_stride_ar, dst_ptr, dst_stride_ar, count,
               stride_levels, proc, "ARMCI_NbAccS");
}

// The strided data, then (after it, in order) the flag set to value at the target.
GAFM_API(int, ARMCI_PutS_flag,
         (void* src_ptr, int src_stride_ar[], void* dst_ptr, int dst_stride_ar[], int count[],
          int stride_levels, int* flag, int value, int proc)) {
  put_s(src_ptr, src_stride_ar, dst_ptr, dst_stride_ar, count, stride_levels, proc,
        "ARMCI_PutS_flag");
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  put_flag(flag, value, proc, "ARMCI_PutS_flag");
  return 0;
}

GAFM_API(int, ARMCI_Put_flag, (void* src, void* dst, int size, int* flag, int value, int proc)) {
  int count[1] = {size};
  return PARMCI_PutS_flag(src, nullptr, dst, nullptr, count, 0, flag, value, proc);
}

// --- contiguous
// ---------------------------------------------------------------------------------------

GAFM_API(int, ARMCI_Put, (void* src, void* dst, int size, int proc)) {
  require_init("ARMCI_Put");
  check_proc(proc, "ARMCI_Put");
  const Layout l = contiguous(size, "ARMCI_Put");
  if (src == nullptr || dst == nullptr) error("ARMCI_Put", "source or destination is NULL");
  put_strided(src, l, dst, l, proc, "ARMCI_Put");
  return 0;
}

GAFM_API(int, ARMCI_Get, (void* src, void* dst, int size, int proc)) {
  require_init("ARMCI_Get");
  check_proc(proc, "ARMCI_Get");
  const Layout l = contiguous(size, "ARMCI_Get");
  if (src == nullptr || dst == nullptr) error("ARMCI_Get", "source or destination is NULL");
  const int slot = get_strided(src, l, dst, l, proc, "ARMCI_Get");
  if (slot >= 0) wait_request(slot, request_gen(slot), "ARMCI_Get");
  return 0;
}

GAFM_API(int, ARMCI_Acc, (int datatype, void* scale, void* src, void* dst, int bytes, int proc)) {
  require_init("ARMCI_Acc");
  check_proc(proc, "ARMCI_Acc");
  const Layout l = contiguous(bytes, "ARMCI_Acc");
  if (src == nullptr || dst == nullptr) error("ARMCI_Acc", "source or destination is NULL");
  acc_strided(datatype, scale, src, l, dst, l, proc, "ARMCI_Acc");
  return 0;
}

GAFM_API(int, ARMCI_NbPut, (void* src, void* dst, int bytes, int proc, armci_hdl_t* hdl)) {
  set_handle(hdl, -1);
  return PARMCI_Put(src, dst, bytes, proc);
}

GAFM_API(int, ARMCI_NbGet, (void* src, void* dst, int bytes, int proc, armci_hdl_t* hdl)) {
  require_init("ARMCI_NbGet");
  check_proc(proc, "ARMCI_NbGet");
  const Layout l = contiguous(bytes, "ARMCI_NbGet");
  if (src == nullptr || dst == nullptr) error("ARMCI_NbGet", "source or destination is NULL");
  set_handle(hdl, get_strided(src, l, dst, l, proc, "ARMCI_NbGet"));
  return 0;
}

GAFM_API(int, ARMCI_NbAcc,
         (int datatype, void* scale, void* src, void* dst, int bytes, int proc, armci_hdl_t* hdl)) {
  set_handle(hdl, -1);
  return PARMCI_Acc(datatype, scale, src, dst, bytes, proc);
}

// --- vector
// ------------------------------------------------------------------------------------------

GAFM_API(int, ARMCI_PutV, (armci_giov_t * iov, int iov_len, int proc)) {
  require_init("ARMCI_PutV");
  put_vector(iov, iov_len, proc, false, 0, nullptr, "ARMCI_PutV");
  return 0;
}

GAFM_API(int, ARMCI_GetV, (armci_giov_t * iov, int iov_len, int proc)) {
  require_init("ARMCI_GetV");
  const int slot = get_vector(iov, iov_len, proc, "ARMCI_GetV");
  if (slot >= 0) wait_request(slot, request_gen(slot), "ARMCI_GetV");
  return 0;
}

GAFM_API(int, ARMCI_AccV, (int datatype, void* scale, armci_giov_t* iov, int iov_len, int proc)) {
  require_init("ARMCI_AccV");
  put_vector(iov, iov_len, proc, true, datatype, scale, "ARMCI_AccV");
  return 0;
}

GAFM_API(int, ARMCI_NbPutV, (armci_giov_t * iov, int iov_len, int proc, armci_hdl_t* hdl)) {
  set_handle(hdl, -1);
  return PARMCI_PutV(iov, iov_len, proc);
}

GAFM_API(int, ARMCI_NbGetV, (armci_giov_t * iov, int iov_len, int proc, armci_hdl_t* hdl)) {
  require_init("ARMCI_NbGetV");
  set_handle(hdl, get_vector(iov, iov_len, proc, "ARMCI_NbGetV"));
  return 0;
}

GAFM_API(int, ARMCI_NbAccV,
         (int datatype, void* scale, armci_giov_t* iov, int iov_len, int proc, armci_hdl_t* hdl)) {
  set_handle(hdl, -1);
  return PARMCI_AccV(datatype, scale, iov, iov_len, proc);
}

// --- values
// ------------------------------------------------------------------------------------------

#define GAFM_VALUE(Name, T)                                                               \
  GAFM_API(int, ARMCI_PutValue##Name, (T src, void* dst, int proc)) {                     \
    return PARMCI_Put(&src, dst, sizeof(T), proc);                                        \
  }                                                                                       \
  GAFM_API(int, ARMCI_NbPutValue##Name, (T src, void* dst, int proc, armci_hdl_t* hdl)) { \
    set_handle(hdl, -1);                                                                  \
    return PARMCI_Put(&src, dst, sizeof(T), proc);                                        \
  }                                                                                       \
  GAFM_API(T, ARMCI_GetValue##Name, (void* src, int proc)) {                              \
    T v{};                                                                                \
    PARMCI_Get(src, &v, sizeof(T), proc);                                                 \
    return v;                                                                             \
  }
GAFM_VALUE(Int, int)
GAFM_VALUE(Long, long)
GAFM_VALUE(Float, float)
GAFM_VALUE(Double, double)
#undef GAFM_VALUE

// --- handles and completion
// ------------------------------------------------------------------------

extern "C" void ARMCI_INIT_HANDLE(armci_hdl_t* hdl) {
  if (hdl == nullptr) return;
  hdl->target = -1;
  hdl->aggregate = 0;
}
extern "C" void ARMCI_SET_AGGREGATE_HANDLE(armci_hdl_t*) {}
extern "C" void ARMCI_UNSET_AGGREGATE_HANDLE(armci_hdl_t*) {}

GAFM_API(int, ARMCI_Wait, (armci_hdl_t * hdl)) {
  require_init("ARMCI_Wait");
  if (hdl == nullptr) error("ARMCI_Wait", "handle is NULL");
  wait_request(hdl->target, hdl->aggregate, "ARMCI_Wait");
  hdl->target = -1;
  return 0;
}

// 0 when the operation is complete (the handle is then done with), 1 while it is in flight.
GAFM_API(int, ARMCI_Test, (armci_hdl_t * hdl)) {
  require_init("ARMCI_Test");
  if (hdl == nullptr) error("ARMCI_Test", "handle is NULL");
  if (hdl->target >= 0 && !request_done(hdl->target, hdl->aggregate)) {
    progress("ARMCI_Test");
    if (!request_done(hdl->target, hdl->aggregate)) return 1;
  }
  wait_request(hdl->target, hdl->aggregate, "ARMCI_Test");
  hdl->target = -1;
  return 0;
}

GAFM_API(int, ARMCI_WaitProc, (int proc)) {
  require_init("ARMCI_WaitProc");
  check_proc(proc, "ARMCI_WaitProc");
  wait_requests(proc);
  return 0;
}

GAFM_API(int, ARMCI_WaitAll, (void)) {
  require_init("ARMCI_WaitAll");
  wait_requests(-1);
  return 0;
}

GAFM_API(void, ARMCI_Fence, (int proc)) {
  require_init("ARMCI_Fence");
  check_proc(proc, "ARMCI_Fence");
  fence(proc);
}

GAFM_API(void, ARMCI_AllFence, (void)) {
  require_init("ARMCI_AllFence");
  fence(-1);
}

GAFM_API(void, ARMCI_Barrier, (void)) {
  require_init("ARMCI_Barrier");
  wait_requests(-1);
  fence(-1);
  MPI_Barrier(st().world.comm);
}

GAFM_API(int, ARMCI_Rmw, (int op, void* ploc, void* prem, int value, int proc)) {
  require_init("ARMCI_Rmw");
  return rmw(op, ploc, prem, value, proc);
}

// --- local strided copies (GA packs and unpacks ghost regions with them)
// ---------------------------

extern "C" void armci_write_strided(void* ptr, int stride_levels, int stride_arr[], int count[],
                                    char* buf) {  // strided at ptr -> contiguous buf
  const Layout l = layout(stride_levels, count, stride_arr, "armci_write_strided", "the");
  const std::size_t c0 = static_cast<std::size_t>(l.count[0]);
  std::size_t k = 0;
  l.each([&](long o) { std::memmove(buf + c0 * k++, static_cast<char*>(ptr) + o, c0); });
}

extern "C" void armci_read_strided(void* ptr, int stride_levels, int stride_arr[], int count[],
                                   char* buf) {  // contiguous buf -> strided at ptr
  const Layout l = layout(stride_levels, count, stride_arr, "armci_read_strided", "the");
  const std::size_t c0 = static_cast<std::size_t>(l.count[0]);
  std::size_t k = 0;
  l.each([&](long o) { std::memmove(static_cast<char*>(ptr) + o, buf + c0 * k++, c0); });
}
