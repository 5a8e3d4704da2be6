// memory.cpp - ARMCI_Malloc and friends: collective allocations of FM on-host segments, and the
// index that turns (process, remote address) into (allocation, slice).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "api.hpp"
#include "gafm.hpp"

namespace gafm {

namespace {

std::mutex g_index_mu;  // the index is read by handlers on FM's progress thread

struct Record {  // what every member tells the others
  FM_region region;
  std::uint64_t base;
  std::uint64_t bytes;
  std::uint64_t id;
};

void index_add(Alloc* a) {
  std::lock_guard<std::mutex> lk(g_index_mu);
  for (std::size_t m = 0; m < a->members.size(); ++m) {
    if (a->regions[m].length == 0) continue;
    auto& v = st().index[static_cast<std::size_t>(a->members[m])];
    Slice s{a->regions[m].base, a->regions[m].base + a->regions[m].length, a, static_cast<int>(m)};
    v.insert(std::upper_bound(v.begin(), v.end(), s.base,
                              [](std::uintptr_t b, const Slice& x) { return b < x.base; }),
             s);
  }
}

void index_remove(Alloc* a) {
  std::lock_guard<std::mutex> lk(g_index_mu);
  for (int w : a->members) {
    auto& v = st().index[static_cast<std::size_t>(w)];
    v.erase(std::remove_if(v.begin(), v.end(), [a](const Slice& s) { return s.alloc == a; }),
            v.end());
  }
}

const Slice* lookup(int proc, std::uintptr_t addr) {
  const auto& v = st().index[static_cast<std::size_t>(proc)];
  auto it = std::upper_bound(v.begin(), v.end(), addr,
                             [](std::uintptr_t a, const Slice& x) { return a < x.base; });
  if (it == v.begin()) return nullptr;
  --it;
  return addr < it->end ? &*it : nullptr;
}

void release(Alloc* a) {
  index_remove(a);
  State& s = st();
  const int me_in = [&] {
    for (std::size_t m = 0; m < a->members.size(); ++m)
      if (a->members[m] == s.me) return static_cast<int>(m);
    return -1;
  }();
  for (std::size_t m = 0; m < a->members.size(); ++m) {
    if (static_cast<int>(m) == me_in || a->regions[m].length == 0) continue;
    if (a->local[m] != nullptr) FM_unmap_region(&a->regions[m]);
  }
  if (me_in >= 0 && a->regions[static_cast<std::size_t>(me_in)].length != 0)
    FM_free_segment(&a->regions[static_cast<std::size_t>(me_in)]);
}

}  // namespace

const Slice& find(int proc, const void* addr, std::size_t len, const char* call, const char* what) {
  check_proc(proc, call);
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  const Slice* s = lookup(proc, a);
  if (s == nullptr)
    error(call, "%s %p on process %d is not in memory ARMCI_Malloc allocated there", what, addr,
          proc);
  if (len > s->end - a)
    error(call, "%s [%p, +%zu) on process %d runs past its allocation's end (%zu bytes left)", what,
          addr, len, proc, static_cast<std::size_t>(s->end - a));
  return *s;
}

std::byte* local_address(const Slice& s, const void* addr) {
  std::byte* base = s.alloc->local[static_cast<std::size_t>(s.member)];
  return base != nullptr ? base + (reinterpret_cast<std::uintptr_t>(addr) - s.base) : nullptr;
}

bool mine(const void* addr, std::size_t len) {
  std::lock_guard<std::mutex> lk(g_index_mu);
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  const Slice* s = lookup(st().me, a);
  return s != nullptr && len <= s->end - a;
}

void free_all() {
  for (auto& a : st().allocs) release(a.get());
  st().allocs.clear();
}

// Collective over group: each member's slice of `bytes` (0: none), the others' mapped when they
// are on this host.
int malloc_group(void** ptr_arr, armci_size_t bytes, const ARMCI_Group* g, const char* call) {
  require_init(call);
  State& s = st();
  if (ptr_arr == nullptr) error(call, "ptr_arr is NULL");
  if (bytes < 0) error(call, "size %ld is negative", static_cast<long>(bytes));
  if (g == nullptr || g->comm == MPI_COMM_NULL) error(call, "not a member of the group");
  auto a = std::make_unique<Alloc>();
  a->comm = g->comm;
  int n = 0, gme = 0;
  MPI_Comm_size(g->comm, &n);
  MPI_Comm_rank(g->comm, &gme);
  Record mine{};
  if (bytes > 0) {
    void* base = nullptr;
    if (FM_alloc_segment(static_cast<std::size_t>(bytes), FM_ACCESS_ALL, &base, &mine.region) !=
        FM_SUCCESS)
      error(call, "cannot allocate %ld bytes: %s", static_cast<long>(bytes), FM_last_error());
    mine.base = reinterpret_cast<std::uint64_t>(base);
    mine.bytes = static_cast<std::uint64_t>(bytes);
    a->mine = static_cast<std::byte*>(base);
    a->my_bytes = static_cast<std::size_t>(bytes);
  }
  // the allocation's name: group rank 0's world rank and its count of allocations
  mine.id = (static_cast<std::uint64_t>(s.me) << 40) | s.next_alloc++;
  std::vector<Record> all(static_cast<std::size_t>(n));
  MPI_Allgather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, g->comm);
  int me_world = s.me;
  a->members.resize(static_cast<std::size_t>(n));
  MPI_Allgather(&me_world, 1, MPI_INT, a->members.data(), 1, MPI_INT, g->comm);
  a->id = all[0].id;
  a->regions.resize(static_cast<std::size_t>(n));
  a->local.assign(static_cast<std::size_t>(n), nullptr);
  for (int m = 0; m < n; ++m) {
    const Record& r = all[static_cast<std::size_t>(m)];
    ptr_arr[m] = r.bytes != 0 ? reinterpret_cast<void*>(r.base) : nullptr;
    if (r.bytes == 0) continue;
    a->regions[static_cast<std::size_t>(m)] = r.region;
    const int w = a->members[static_cast<std::size_t>(m)];
    if (m == gme)
      a->local[static_cast<std::size_t>(m)] = a->mine;
    else if (s.same_host[static_cast<std::size_t>(w)])
      a->local[static_cast<std::size_t>(m)] =
          static_cast<std::byte*>(FM_region_ptr(&a->regions[static_cast<std::size_t>(m)]));
  }
  Alloc* raw = a.get();
  s.allocs.push_back(std::move(a));
  index_add(raw);
  // Nobody returns before everybody has indexed the allocation: the allgathers above let a
  // member leave early, and a put it then sent through FM would reach a handler that does not
  // know the memory yet (and refuses it).  ARMCI's own ARMCI_Malloc ends in a barrier too.
  MPI_Barrier(g->comm);
  return 0;
}

int free_group(void* ptr, const ARMCI_Group* g, const char* call) {
  require_init(call);
  State& s = st();
  if (g == nullptr || g->comm == MPI_COMM_NULL) error(call, "not a member of the group");
  std::uint64_t id = 0;
  if (ptr != nullptr) {
    const Slice* sl = lookup(s.me, reinterpret_cast<std::uintptr_t>(ptr));
    if (sl == nullptr) error(call, "%p is not memory ARMCI_Malloc allocated on this process", ptr);
    id = sl->alloc->id;
  }
  std::uint64_t any = 0;
  MPI_Allreduce(&id, &any, 1, MPI_UINT64_T, MPI_MAX, g->comm);
  if (any == 0) return 0;  // everybody passed NULL: nothing was allocated
  if (id != 0 && id != any)
    error(call, "the processes of the group free different allocations (collective call)");
  auto it = std::find_if(s.allocs.begin(), s.allocs.end(),
                         [any](const std::unique_ptr<Alloc>& a) { return a->id == any; });
  if (it == s.allocs.end()) error(call, "allocation %#llx unknown here", (unsigned long long)any);
  PARMCI_AllFence();
  MPI_Barrier(g->comm);  // nobody reaches into it any more
  release(it->get());
  s.allocs.erase(it);
  return 0;
}

}  // namespace gafm

using namespace gafm;

GAFM_API(int, ARMCI_Malloc, (void** base_ptrs, armci_size_t size)) {
  return malloc_group(base_ptrs, size, &st().world, "ARMCI_Malloc");
}

extern "C" int ARMCI_Malloc_group(void** ptr_arr, armci_size_t bytes, ARMCI_Group* group) {
  return malloc_group(ptr_arr, bytes, group, "ARMCI_Malloc_group");
}

GAFM_API(int, ARMCI_Free, (void* ptr)) {
  return free_group(ptr, &st().world, "ARMCI_Free");
}

extern "C" int ARMCI_Free_group(void* ptr, ARMCI_Group* group) {
  return free_group(ptr, group, "ARMCI_Free_group");
}

GAFM_API(int, ARMCI_Malloc_memdev, (void** ptr_arr, armci_size_t bytes, const char*)) {
  return malloc_group(ptr_arr, bytes, &st().world, "ARMCI_Malloc_memdev");
}
GAFM_API(int, ARMCI_Malloc_group_memdev,
         (void** ptr_arr, armci_size_t bytes, ARMCI_Group* group, const char*)) {
  return malloc_group(ptr_arr, bytes, group, "ARMCI_Malloc_group_memdev");
}
GAFM_API(int, ARMCI_Free_memdev, (void* ptr)) {
  return free_group(ptr, &st().world, "ARMCI_Free_memdev");
}

// Local memory (may be called before ARMCI_Init: MA_init with MA_USE_ARMCI_MEM).
GAFM_API(void*, ARMCI_Malloc_local, (armci_size_t size)) {
  void* p = nullptr;
  if (size < 0 || posix_memalign(&p, 64, size == 0 ? 64 : static_cast<std::size_t>(size)) != 0)
    return nullptr;
  return p;
}
GAFM_API(int, ARMCI_Free_local, (void* ptr)) {
  std::free(ptr);
  return 0;
}

GAFM_API(void, ARMCI_Access_begin, (void*)) {}
GAFM_API(void, ARMCI_Access_end, (void*)) {}
extern "C" void ARMCI_Copy(void* src, void* dst, int size) {
  if (size > 0) std::memmove(dst, src, static_cast<std::size_t>(size));
}
