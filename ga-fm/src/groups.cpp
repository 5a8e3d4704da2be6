// groups.cpp - ARMCI's process groups: MPI communicators, with the rank translations cached.
//
// A group is copied by value (GA keeps them in its own tables), so everything it owns hangs off
// its pointers: grp_to_abs[size] (world rank of each group rank) and abs_to_grp[world size]
// (group rank of each world rank, -1 outside).  Creating one is collective over the parent
// (MPI_Comm_create), as in ARMCI-MPI; a process outside the new group gets comm MPI_COMM_NULL,
// rank -1 and size 0.
#include <cstdlib>
#include <vector>

#include "gafm.hpp"

using namespace gafm;

namespace {

void check_group(const ARMCI_Group* g, const char* call) {
  require_init(call);
  if (g == nullptr) error(call, "group is NULL");
}

int* ints(std::size_t n, int fill) {
  auto* p = static_cast<int*>(std::malloc((n == 0 ? 1 : n) * sizeof(int)));
  if (p == nullptr) error("ARMCI_Group_create", "out of memory");
  for (std::size_t i = 0; i < n; ++i) p[i] = fill;
  return p;
}

}  // namespace

namespace gafm {

// The translations of a group whose comm is set (a member).
void fill_translations(ARMCI_Group* g) {
  State& s = st();
  MPI_Comm_rank(g->comm, &g->rank);
  MPI_Comm_size(g->comm, &g->size);
  g->grp_to_abs = ints(static_cast<std::size_t>(g->size), -1);
  g->abs_to_grp = ints(static_cast<std::size_t>(s.nproc), -1);
  const int me = s.me;
  MPI_Allgather(&me, 1, MPI_INT, g->grp_to_abs, 1, MPI_INT, g->comm);
  for (int r = 0; r < g->size; ++r) g->abs_to_grp[g->grp_to_abs[r]] = r;
}

void free_translations(ARMCI_Group* g) {
  std::free(g->grp_to_abs);
  std::free(g->abs_to_grp);
  g->grp_to_abs = g->abs_to_grp = nullptr;
}

int group_to_world(const ARMCI_Group* g, int rank, const char* call) {
  if (g->comm == MPI_COMM_NULL) error(call, "this process is not a member of the group");
  if (rank < 0 || rank >= g->size)
    error(call, "group rank %d out of range (the group has %d processes)", rank, g->size);
  return g->grp_to_abs != nullptr ? g->grp_to_abs[rank] : rank;
}

int world_to_group(const ARMCI_Group* g, int world, const char* call) {
  check_proc(world, call);
  if (g->comm == MPI_COMM_NULL) error(call, "this process is not a member of the group");
  return g->abs_to_grp != nullptr ? g->abs_to_grp[world] : world;
}

}  // namespace gafm

extern "C" {

void ARMCI_Group_create_child(int n, int* pid_list, ARMCI_Group* out, ARMCI_Group* parent) {
  const char* call = "ARMCI_Group_create";
  check_group(parent, call);
  if (out == nullptr) error(call, "group_out is NULL");
  if (parent->comm == MPI_COMM_NULL)
    error(call, "this process is not a member of the parent group (the collective runs over it)");
  if (n < 0 || n > parent->size)
    error(call, "grp_size %d out of range (the parent group has %d processes)", n, parent->size);
  if (n > 0 && pid_list == nullptr) error(call, "pid_list is NULL");
  std::vector<char> seen(static_cast<std::size_t>(parent->size), 0);
  for (int i = 0; i < n; ++i) {
    const int r = pid_list[i];
    if (r < 0 || r >= parent->size)
      error(call, "pid_list[%d] = %d is not a rank of the parent group (0..%d)", i, r,
            parent->size - 1);
    if (seen[static_cast<std::size_t>(r)]++ != 0)
      error(call, "pid_list[%d] = %d appears twice", i, r);
  }
  MPI_Group pg = MPI_GROUP_NULL, ng = MPI_GROUP_NULL;
  MPI_Comm_group(parent->comm, &pg);
  MPI_Group_incl(pg, n, pid_list, &ng);
  ARMCI_Group g{};
  g.noncoll_pgroup_comm = MPI_COMM_NULL;
  if (MPI_Comm_create(parent->comm, ng, &g.comm) != MPI_SUCCESS)
    error(call, "MPI_Comm_create failed over the parent group");
  MPI_Group_free(&ng);
  MPI_Group_free(&pg);
  if (g.comm != MPI_COMM_NULL) {
    fill_translations(&g);
  } else {
    g.rank = -1;
    g.size = 0;
  }
  *out = g;
}

void ARMCI_Group_create(int n, int* pid_list, ARMCI_Group* out) {
  ARMCI_Group_create_child(n, pid_list, out, &st().dflt);
}

void ARMCI_Group_free(ARMCI_Group* g) {
  check_group(g, "ARMCI_Group_free");
  if (g->comm != MPI_COMM_NULL && g->comm == st().world.comm)
    error("ARMCI_Group_free", "the world group cannot be freed");
  if (g->comm != MPI_COMM_NULL) MPI_Comm_free(&g->comm);
  free_translations(g);
  g->comm = MPI_COMM_NULL;
  g->rank = -1;
  g->size = 0;
}

int ARMCI_Group_rank(ARMCI_Group* g, int* rank) {
  check_group(g, "ARMCI_Group_rank");
  if (rank == nullptr) error("ARMCI_Group_rank", "rank is NULL");
  *rank = g->comm != MPI_COMM_NULL ? g->rank : -1;
  return 0;
}

void ARMCI_Group_size(ARMCI_Group* g, int* size) {
  check_group(g, "ARMCI_Group_size");
  if (size == nullptr) error("ARMCI_Group_size", "size is NULL");
  *size = g->comm != MPI_COMM_NULL ? g->size : 0;
}

void ARMCI_Group_set_default(ARMCI_Group* g) {
  check_group(g, "ARMCI_Group_set_default");
  st().dflt = *g;
}

void ARMCI_Group_get_default(ARMCI_Group* out) {
  require_init("ARMCI_Group_get_default");
  if (out == nullptr) error("ARMCI_Group_get_default", "group_out is NULL");
  *out = st().dflt;
}

void ARMCI_Group_get_world(ARMCI_Group* out) {
  require_init("ARMCI_Group_get_world");
  if (out == nullptr) error("ARMCI_Group_get_world", "group_out is NULL");
  *out = st().world;
}

int ARMCI_Absolute_id(ARMCI_Group* g, int group_rank) {
  check_group(g, "ARMCI_Absolute_id");
  return group_to_world(g, group_rank, "ARMCI_Absolute_id");
}

}  // extern "C"
