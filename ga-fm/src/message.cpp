// message.cpp - armci_msg_*: ARMCI's message passing and collectives, over MPI on the world
// group's communicator (or the given group's).  Scopes: SCOPE_NODE is this process alone (ARMCI
// reports one process per node), SCOPE_MASTERS the same as SCOPE_ALL.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gafm.hpp"

using namespace gafm;

namespace {

MPI_Comm world(const char* call) {
  require_init(call);
  return st().world.comm;
}

MPI_Comm group_comm(const ARMCI_Group* g, const char* call) {
  require_init(call);
  if (g == nullptr) error(call, "group is NULL");
  if (g->comm == MPI_COMM_NULL) error(call, "this process is not a member of the group");
  return g->comm;
}

void check_scope(int scope, const char* call) {
  if (scope != SCOPE_ALL && scope != SCOPE_NODE && scope != SCOPE_MASTERS)
    error(call, "scope %d is not SCOPE_ALL, SCOPE_NODE or SCOPE_MASTERS", scope);
}

struct Type {
  MPI_Datatype mpi;
  std::size_t size;
  bool integer;
};

Type type_of(int type, const char* call) {
  switch (type) {
    case ARMCI_INT:
      return {MPI_INT, sizeof(int), true};
    case ARMCI_LONG:
      return {MPI_LONG, sizeof(long), true};
    case ARMCI_LONG_LONG:
      return {MPI_LONG_LONG, sizeof(long long), true};
    case ARMCI_FLOAT:
      return {MPI_FLOAT, sizeof(float), false};
    case ARMCI_DOUBLE:
      return {MPI_DOUBLE, sizeof(double), false};
    default:
      error(call,
            "type %d is not ARMCI_INT, ARMCI_LONG, ARMCI_LONG_LONG, ARMCI_FLOAT or ARMCI_DOUBLE",
            type);
  }
}

enum class Abs { none, yes };

// The MPI operation for one of ARMCI's operation strings ("absmax" and "absmin": |x| first).
MPI_Op op_of(const char* op, const Type& t, Abs* abs, const char* call) {
  *abs = Abs::none;
  if (op == nullptr) error(call, "operation is NULL");
  if (op[0] == '+') return MPI_SUM;
  if (op[0] == '*') return MPI_PROD;
  if (std::strcmp(op, "max") == 0) return MPI_MAX;
  if (std::strcmp(op, "min") == 0) return MPI_MIN;
  if (std::strcmp(op, "absmax") == 0 || std::strcmp(op, "absmin") == 0) {
    *abs = Abs::yes;
    return op[3] == 'm' && op[4] == 'a' ? MPI_MAX : MPI_MIN;
  }
  MPI_Op bit = MPI_OP_NULL;
  if (std::strcmp(op, "land") == 0 || std::strcmp(op, "&&") == 0) bit = MPI_LAND;
  if (std::strcmp(op, "lor") == 0 || std::strcmp(op, "||") == 0) bit = MPI_LOR;
  if (std::strcmp(op, "band") == 0 || std::strcmp(op, "&") == 0) bit = MPI_BAND;
  if (std::strcmp(op, "bor") == 0 || std::strcmp(op, "|") == 0 || std::strcmp(op, "or") == 0)
    bit = MPI_BOR;
  if (bit == MPI_OP_NULL)
    error(
        call,
        "unknown operation '%s' (+, *, max, min, absmax, absmin, land or &&, lor or ||, band or &, "
        "bor or | or or)",
        op);
  if (!t.integer) error(call, "operation '%s' needs an integer type", op);
  return bit;
}

template <typename T>
void absolute(void* x, int n) {
  auto* v = static_cast<T*>(x);
  for (int i = 0; i < n; ++i) v[i] = v[i] < 0 ? static_cast<T>(-v[i]) : v[i];
}

void make_absolute(int type, void* x, int n) {
  switch (type) {
    case ARMCI_INT:
      absolute<int>(x, n);
      break;
    case ARMCI_LONG:
      absolute<long>(x, n);
      break;
    case ARMCI_LONG_LONG:
      absolute<long long>(x, n);
      break;
    case ARMCI_FLOAT:
      absolute<float>(x, n);
      break;
    default:
      absolute<double>(x, n);
      break;
  }
}

// In-place reduction of n elements of type over comm (every member gets the result, or, with
// root >= 0, only root).
void gop(int scope, void* x, int n, const char* op, int type, MPI_Comm comm, int root,
         const char* call) {
  check_scope(scope, call);
  const Type t = type_of(type, call);
  Abs abs = Abs::none;
  const MPI_Op mop = op_of(op, t, &abs, call);
  if (n < 0) error(call, "count %d is negative", n);
  if (n == 0) return;
  if (x == nullptr) error(call, "buffer is NULL");
  if (abs == Abs::yes) make_absolute(type, x, n);
  if (scope == SCOPE_NODE) return;  // this process alone
  int rc = MPI_SUCCESS;
  if (root < 0) {
    rc = MPI_Allreduce(MPI_IN_PLACE, x, n, t.mpi, mop, comm);
  } else {
    int me = 0;
    MPI_Comm_rank(comm, &me);
    rc = MPI_Reduce(me == root ? MPI_IN_PLACE : x, me == root ? x : nullptr, n, t.mpi, mop, root,
                    comm);
  }
  if (rc != MPI_SUCCESS) error(call, "the MPI reduction failed (error %d)", rc);
}

// --- select: the record with the least or greatest value, whole, to every process -------------

struct SelHead {
  int contribute;
  int type;
  int max;  // 1 max, 0 min
  int pad;
};

template <typename T>
bool better(const void* a, const void* b, bool max) {  // a strictly better than b
  T x, y;
  std::memcpy(&x, a, sizeof x);
  std::memcpy(&y, b, sizeof y);
  return max ? x > y : x < y;
}

bool sel_better(int type, const void* a, const void* b, bool max) {
  switch (type) {
    case ARMCI_INT:
      return better<int>(a, b, max);
    case ARMCI_LONG:
      return better<long>(a, b, max);
    case ARMCI_LONG_LONG:
      return better<long long>(a, b, max);
    case ARMCI_FLOAT:
      return better<float>(a, b, max);
    default:
      return better<double>(a, b, max);
  }
}

int g_sel_bytes = 0;  // the record size of the select in progress (MPI user ops take no context)

// Not commutative: MPI applies it in rank order (in: lower ranks), so ties go to the lowest rank.
void sel_op(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto stride = sizeof(SelHead) + static_cast<std::size_t>(g_sel_bytes);
  for (int i = 0; i < *len; ++i) {
    auto* a = static_cast<std::byte*>(in) + static_cast<std::size_t>(i) * stride;
    auto* b = static_cast<std::byte*>(inout) + static_cast<std::size_t>(i) * stride;
    SelHead ha, hb;
    std::memcpy(&ha, a, sizeof ha);
    std::memcpy(&hb, b, sizeof hb);
    if (!ha.contribute) continue;
    if (!hb.contribute ||
        !sel_better(hb.type, b + sizeof hb, a + sizeof ha, hb.max != 0))  // keep b only if better
      std::memcpy(b, a, stride);
  }
}

void sel(int scope, void* x, int n, const char* op, int type, int contribute, MPI_Comm comm,
         const char* call) {
  check_scope(scope, call);
  const Type t = type_of(type, call);
  if (op == nullptr || (std::strncmp(op, "min", 3) != 0 && std::strncmp(op, "max", 3) != 0))
    error(call, "operation '%s' is not min or max", op != nullptr ? op : "(null)");
  if (n < static_cast<int>(t.size))
    error(call, "record of %d bytes cannot hold its value (%zu bytes)", n, t.size);
  if (x == nullptr) error(call, "buffer is NULL");
  if (scope == SCOPE_NODE) return;
  // every process must pass the same n: agree first, so a mismatch is an error, not corruption
  int lo = n, hi = n;
  MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, comm);
  MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, comm);
  if (lo != hi) error(call, "processes pass records of different sizes (%d and %d bytes)", lo, hi);
  std::vector<std::byte> pkt(sizeof(SelHead) + static_cast<std::size_t>(n));
  const SelHead h{contribute != 0 ? 1 : 0, type, std::strncmp(op, "max", 3) == 0 ? 1 : 0, 0};
  std::memcpy(pkt.data(), &h, sizeof h);
  std::memcpy(pkt.data() + sizeof h, x, static_cast<std::size_t>(n));
  MPI_Datatype dt;
  MPI_Type_contiguous(static_cast<int>(pkt.size()), MPI_BYTE, &dt);
  MPI_Type_commit(&dt);
  MPI_Op mop;
  MPI_Op_create(sel_op, 0, &mop);
  g_sel_bytes = n;
  const int rc = MPI_Allreduce(MPI_IN_PLACE, pkt.data(), 1, dt, mop, comm);
  MPI_Op_free(&mop);
  MPI_Type_free(&dt);
  if (rc != MPI_SUCCESS) error(call, "the MPI reduction failed (error %d)", rc);
  SelHead r;
  std::memcpy(&r, pkt.data(), sizeof r);
  if (r.contribute) std::memcpy(x, pkt.data() + sizeof r, static_cast<std::size_t>(n));
}

void bcast(void* buf, int len, int root, MPI_Comm comm, const char* call) {
  if (len < 0) error(call, "length %d is negative", len);
  if (len > 0 && buf == nullptr) error(call, "buffer is NULL");
  int n = 0;
  MPI_Comm_size(comm, &n);
  if (root < 0 || root >= n) error(call, "root %d out of range (%d processes)", root, n);
  if (MPI_Bcast(buf, len, MPI_BYTE, root, comm) != MPI_SUCCESS) error(call, "MPI_Bcast failed");
}

}  // namespace

extern "C" {

int armci_msg_me(void) {
  return st().init_count > 0 ? st().me : [] {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
  }();
}

int armci_msg_nproc(void) {
  return st().init_count > 0 ? st().nproc : [] {
    int n = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
  }();
}

void armci_msg_snd(int tag, void* buffer, int len, int to) {
  const MPI_Comm c = world("armci_msg_snd");
  check_proc(to, "armci_msg_snd");
  if (len < 0) error("armci_msg_snd", "length %d is negative", len);
  if (MPI_Send(buffer, len, MPI_BYTE, to, tag, c) != MPI_SUCCESS)
    error("armci_msg_snd", "MPI_Send of %d bytes to %d failed", len, to);
}

void armci_msg_rcv(int tag, void* buffer, int buflen, int* msglen, int from) {
  const MPI_Comm c = world("armci_msg_rcv");
  check_proc(from, "armci_msg_rcv");
  MPI_Status status;
  if (MPI_Recv(buffer, buflen, MPI_BYTE, from, tag, c, &status) != MPI_SUCCESS)
    error("armci_msg_rcv", "MPI_Recv from %d failed (a message longer than %d bytes?)", from,
          buflen);
  if (msglen != nullptr) MPI_Get_count(&status, MPI_BYTE, msglen);
}

int armci_msg_rcvany(int tag, void* buffer, int buflen, int* msglen) {
  const MPI_Comm c = world("armci_msg_rcvany");
  MPI_Status status;
  if (MPI_Recv(buffer, buflen, MPI_BYTE, MPI_ANY_SOURCE, tag, c, &status) != MPI_SUCCESS)
    error("armci_msg_rcvany", "MPI_Recv failed (a message longer than %d bytes?)", buflen);
  if (msglen != nullptr) MPI_Get_count(&status, MPI_BYTE, msglen);
  return status.MPI_SOURCE;
}

void parmci_msg_barrier(void) {
  MPI_Barrier(world("armci_msg_barrier"));
}
void armci_msg_barrier(void) __attribute__((weak, alias("parmci_msg_barrier")));

void parmci_msg_group_barrier(ARMCI_Group* group) {
  MPI_Barrier(group_comm(group, "armci_msg_group_barrier"));
}
void armci_msg_group_barrier(ARMCI_Group* group)
    __attribute__((weak, alias("parmci_msg_group_barrier")));

void armci_msg_bintree(int scope, int* root, int* up, int* left, int* right) {
  require_init("armci_msg_bintree");
  check_scope(scope, "armci_msg_bintree");
  if (root == nullptr || up == nullptr || left == nullptr || right == nullptr)
    error("armci_msg_bintree", "an output argument is NULL");
  *root = 0;
  *left = *right = -1;
  if (scope == SCOPE_NODE) return;  // as ARMCI-MPI: *up untouched
  const int me = st().me, n = st().nproc;
  *up = me == 0 ? -1 : (me - 1) / 2;
  if (2 * me + 1 < n) *left = 2 * me + 1;
  if (2 * me + 2 < n) *right = 2 * me + 2;
}

void armci_msg_bcast(void* buffer, int len, int root) {
  bcast(buffer, len, root, world("armci_msg_bcast"), "armci_msg_bcast");
}
void armci_msg_brdcst(void* buffer, int len, int root) {
  bcast(buffer, len, root, world("armci_msg_brdcst"), "armci_msg_brdcst");
}
void armci_msg_bcast_scope(int scope, void* buffer, int len, int root) {
  const MPI_Comm c = world("armci_msg_bcast_scope");
  check_scope(scope, "armci_msg_bcast_scope");
  if (scope != SCOPE_NODE) bcast(buffer, len, root, c, "armci_msg_bcast_scope");
}
// root is a world rank
void armci_msg_group_bcast_scope(int scope, void* buf, int len, int root, ARMCI_Group* group) {
  const char* call = "armci_msg_group_bcast_scope";
  const MPI_Comm c = group_comm(group, call);
  check_scope(scope, call);
  const int groot = world_to_group(group, root, call);
  if (groot < 0) error(call, "root %d is not a member of the group", root);
  if (scope != SCOPE_NODE) bcast(buf, len, groot, c, call);
}

void armci_msg_reduce(void* x, int n, char* op, int type) {
  gop(SCOPE_ALL, x, n, op, type, world("armci_msg_reduce"), 0, "armci_msg_reduce");
}
void armci_msg_reduce_scope(int scope, void* x, int n, char* op, int type) {
  gop(scope, x, n, op, type, world("armci_msg_reduce_scope"), 0, "armci_msg_reduce_scope");
}

void armci_msg_sel(void* x, int n, char* op, int type, int contribute) {
  sel(SCOPE_ALL, x, n, op, type, contribute, world("armci_msg_sel"), "armci_msg_sel");
}
void armci_msg_sel_scope(int scope, void* x, int n, char* op, int type, int contribute) {
  sel(scope, x, n, op, type, contribute, world("armci_msg_sel_scope"), "armci_msg_sel_scope");
}

// Every process's ptr_ar[me] to every process.
void armci_exchange_address(void* ptr_ar[], int n) {
  const MPI_Comm c = world("armci_exchange_address");
  if (n != st().nproc)
    error("armci_exchange_address", "n %d is not the number of processes (%d)", n, st().nproc);
  if (ptr_ar == nullptr) error("armci_exchange_address", "ptr_ar is NULL");
  MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ptr_ar, sizeof(void*), MPI_BYTE, c);
}
void armci_exchange_address_grp(void* ptr_arr[], int n, ARMCI_Group* group) {
  const MPI_Comm c = group_comm(group, "armci_exchange_address_grp");
  if (n != group->size)
    error("armci_exchange_address_grp", "n %d is not the group's size (%d)", n, group->size);
  if (ptr_arr == nullptr) error("armci_exchange_address_grp", "ptr_arr is NULL");
  MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ptr_arr, sizeof(void*), MPI_BYTE, c);
}

// "Cluster" operations: among the processes of this node (this process alone), or among the
// nodes' masters (every process).
void armci_msg_clus_brdcst(void*, int len) {
  require_init("armci_msg_clus_brdcst");
  if (len < 0) error("armci_msg_clus_brdcst", "length %d is negative", len);
}
void armci_grp_clus_brdcst(void*, int len, int, int, ARMCI_Group*) {
  require_init("armci_grp_clus_brdcst");
  if (len < 0) error("armci_grp_clus_brdcst", "length %d is negative", len);
}

void armci_msg_gop_scope(int scope, void* x, int n, char* op, int type) {
  gop(scope, x, n, op, type, world("armci_msg_gop_scope"), -1, "armci_msg_gop_scope");
}
void armci_msg_group_gop_scope(int scope, void* x, int n, char* op, int type, ARMCI_Group* group) {
  gop(scope, x, n, op, type, group_comm(group, "armci_msg_group_gop_scope"), -1,
      "armci_msg_group_gop_scope");
}

#define GAFM_GOPS(suffix, T, type_id)                                                         \
  void armci_msg_##suffix(T* x, int n, char* op) {                                            \
    gop(SCOPE_ALL, x, n, op, type_id, world("armci_msg_" #suffix), -1, "armci_msg_" #suffix); \
  }                                                                                           \
  void armci_msg_clus_##suffix(T* x, int n, char* op) {                                       \
    gop(SCOPE_MASTERS, x, n, op, type_id, world("armci_msg_clus_" #suffix), -1,               \
        "armci_msg_clus_" #suffix);                                                           \
  }                                                                                           \
  void armci_msg_group_##suffix(T* x, int n, char* op, ARMCI_Group* group) {                  \
    gop(SCOPE_ALL, x, n, op, type_id, group_comm(group, "armci_msg_group_" #suffix), -1,      \
        "armci_msg_group_" #suffix);                                                          \
  }
GAFM_GOPS(igop, int, ARMCI_INT)
GAFM_GOPS(lgop, long, ARMCI_LONG)
GAFM_GOPS(llgop, long long, ARMCI_LONG_LONG)
GAFM_GOPS(fgop, float, ARMCI_FLOAT)
GAFM_GOPS(dgop, double, ARMCI_DOUBLE)
#undef GAFM_GOPS

}  // extern "C"
