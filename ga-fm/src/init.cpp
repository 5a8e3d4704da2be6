// init.cpp - ARMCI_Init/Finalize, errors, the world group, topology.
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>

#include "api.hpp"
#include "gafm.hpp"

namespace gafm {

State& st() {
  static State s;
  return s;
}

namespace {
// Ends the job after an error message: flushed, then MPI_Abort on comm when MPI runs, else exit.
[[noreturn]] void abort_job(MPI_Comm comm, int code) {
  std::fflush(nullptr);
  int mpi_up = 0, mpi_down = 0;
  MPI_Initialized(&mpi_up);
  MPI_Finalized(&mpi_down);
  if (mpi_up && !mpi_down) {
    // Hydra's proxy may act on the abort before it forwards what the process wrote just before
    // (the whole output lost in about 1 run in 10, with any MPICH): give it time to forward, as
    // FM's own PMI abort does.
    const timespec pause{0, 200'000'000};
    nanosleep(&pause, nullptr);
    MPI_Abort(comm, code);
  }
  std::_Exit(code);
}
}  // namespace

void error(const char* call, const char* fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "[%d] ARMCI Error: %s: %s\n", st().me, call, msg);
  abort_job(MPI_COMM_WORLD, 1);
}

void require_init(const char* call) {
  if (st().init_count == 0)
    error(call, "ARMCI is not initialized (call ARMCI_Init after MPI_Init)");
}

void check_proc(int proc, const char* call) {
  if (proc < 0 || proc >= st().nproc)
    error(call, "process %d out of range (%d processes)", proc, st().nproc);
}

namespace {

// FM's launcher interface over MPI, for an ARMCI-FM running under an MPI that is not MPI-FM:
// puts are kept here; a fence all-gathers every process's; a barrier is MPI_Barrier.
struct MpiKvs {
  MPI_Comm comm = MPI_COMM_NULL;
  std::map<std::string, std::string> mine, all;
};
MpiKvs g_kvs;

int kvs_put(void*, const char* key, const char* value) {
  g_kvs.mine[key] = value;
  return 0;
}
int kvs_fence(void*) {
  std::string blob;
  for (const auto& [k, v] : g_kvs.mine) blob += k + '\n' + v + '\n';
  g_kvs.mine.clear();
  int n = 0;
  MPI_Comm_size(g_kvs.comm, &n);
  int len = static_cast<int>(blob.size());
  std::vector<int> lens(static_cast<std::size_t>(n)), displs(static_cast<std::size_t>(n));
  if (MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, g_kvs.comm) != MPI_SUCCESS) return 1;
  int total = 0;
  for (int i = 0; i < n; ++i) {
    displs[static_cast<std::size_t>(i)] = total;
    total += lens[static_cast<std::size_t>(i)];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  if (MPI_Allgatherv(blob.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR,
                     g_kvs.comm) != MPI_SUCCESS)
    return 1;
  for (std::size_t pos = 0; pos < all.size();) {
    const std::size_t k_end = all.find('\n', pos), v_end = all.find('\n', k_end + 1);
    if (k_end == std::string::npos || v_end == std::string::npos) return 1;
    g_kvs.all[all.substr(pos, k_end - pos)] = all.substr(k_end + 1, v_end - k_end - 1);
    pos = v_end + 1;
  }
  return 0;
}
int kvs_get(void*, const char* key, char* value, std::size_t len) {
  const auto it = g_kvs.all.find(key);
  if (it == g_kvs.all.end() || it->second.size() + 1 > len) return 1;
  std::memcpy(value, it->second.c_str(), it->second.size() + 1);
  return 0;
}
int kvs_barrier(void*) {
  return MPI_Barrier(g_kvs.comm) != MPI_SUCCESS;
}
void kvs_abort(void*, int code, const char* msg) {
  std::fprintf(stderr, "%s\n", msg);
  abort_job(g_kvs.comm, code);
}

void make_world() {
  State& s = st();
  MPI_Comm_dup(MPI_COMM_WORLD, &s.world.comm);
  s.world.noncoll_pgroup_comm = MPI_COMM_NULL;
  MPI_Comm_rank(s.world.comm, &s.world.rank);
  MPI_Comm_size(s.world.comm, &s.world.size);
  s.world.grp_to_abs = nullptr;  // world: the identity
  s.world.abs_to_grp = nullptr;
  s.dflt = s.world;
}

}  // namespace

// The handler's layer index and the control segment (acc lock) of every process.
void start_runtime() {
  State& s = st();
  if (!FM_initialized()) {  // under an MPI that is not MPI-FM: FM joins through MPI
    g_kvs.comm = s.world.comm;
    FM_bootstrap b{};
    b.rank = static_cast<unsigned>(s.me);
    b.size = static_cast<unsigned>(s.nproc);
    b.max_value_len = 1u << 20;
    b.put = kvs_put;
    b.fence = kvs_fence;
    b.get = kvs_get;
    b.barrier = kvs_barrier;
    b.abort = kvs_abort;
    if (FM_initialize_with(&b) != FM_SUCCESS)
      error("ARMCI_Init", "FM_initialize_with failed: %s", FM_last_error());
    s.own_fm = true;
  }
  if (FM_numnodes() != static_cast<unsigned>(s.nproc) || FM_nodeid() != static_cast<unsigned>(s.me))
    error("ARMCI_Init", "FM's job (node %u of %u) is not MPI_COMM_WORLD (rank %d of %d)",
          FM_nodeid(), FM_numnodes(), s.me, s.nproc);
  s.handler = FM_register_layer_handler(FM_LAYER_GA, 0, handler);
  if (s.handler < 0) error("ARMCI_Init", "cannot register GA-FM's FM handler: %s", FM_last_error());
  FM_handler_async(s.handler, 1);
  if (const char* v = std::getenv("GA_FM_DIRECT"); v != nullptr) s.direct = std::atoi(v) != 0;
  const auto n = static_cast<std::size_t>(s.nproc);
  s.same_host.assign(n, 0);
  s.dirty.assign(n, 0);
  s.index.assign(n, {});
  s.locks.assign(n, nullptr);
  s.ctl.assign(n, FM_region{});
  for (std::size_t p = 0; p < n; ++p) s.same_host[p] = FM_same_host(static_cast<unsigned>(p)) == 1;
  // every process's control segment: its accumulate lock, mapped by its same-host peers
  if (FM_alloc_segment(64, FM_ACCESS_ALL, &s.my_ctl, &s.my_ctl_region) != FM_SUCCESS)
    error("ARMCI_Init", "cannot allocate a control segment: %s", FM_last_error());
  MPI_Allgather(&s.my_ctl_region, sizeof(FM_region), MPI_BYTE, s.ctl.data(), sizeof(FM_region),
                MPI_BYTE, s.world.comm);
  for (std::size_t p = 0; p < n; ++p) {
    if (static_cast<int>(p) == s.me) {
      s.locks[p] = static_cast<std::uint32_t*>(s.my_ctl);
    } else if (s.direct && s.same_host[p]) {
      s.locks[p] = static_cast<std::uint32_t*>(FM_region_ptr(&s.ctl[p]));
      if (s.locks[p] == nullptr)  // e.g. another pid namespace: that peer through FM
        s.same_host[p] = 0;
    }
    if (!s.direct) s.same_host[p] = 0;
  }
  // Passive progress: a process that computes still serves others' gets, accumulates and
  // read-increments when some peer reaches it through FM (not directly); and under an MPI other
  // than MPI-FM, whose calls do not drive FM, it serves mutexes and fences while inside MPI.
  bool remote = false;
  for (std::size_t p = 0; p < n; ++p)
    remote = remote || (!s.same_host[p] && static_cast<int>(p) != s.me);
  const char* pv = std::getenv("GA_FM_PROGRESS");
  const bool want =
      pv != nullptr ? std::strcmp(pv, "0") != 0 && std::strcmp(pv, "off") != 0 : remote || s.own_fm;
  if (want && FM_progress_thread(2) >= 0) s.progress_mode = 2;
  MPI_Barrier(s.world.comm);
}

void stop_runtime() {
  State& s = st();
  MPI_Barrier(s.world.comm);
  if (s.progress_mode != 0) FM_progress_thread(0);
  s.progress_mode = 0;
  free_all();
  if (s.my_ctl != nullptr) FM_free_segment(&s.my_ctl_region);
  for (std::size_t p = 0; p < s.ctl.size(); ++p)
    if (static_cast<int>(p) != s.me && s.locks[p] != nullptr) FM_unmap_region(&s.ctl[p]);
  s.my_ctl = nullptr;
  s.locks.clear();
  FM_unregister_handler(s.handler);
  s.handler = -1;
  if (s.own_fm) FM_finalize();
  s.own_fm = false;
}

}  // namespace gafm

using namespace gafm;

GAFM_API(int, ARMCI_Init_thread_comm, (int requested, MPI_Comm comm)) {
  (void)requested;  // GA-FM is thread-safe to MPI's level (see ga-fm/README.md)
  State& s = st();
  if (s.init_count++ > 0) return 0;  // reference counted: GA and TCGMSG both initialize
  int up = 0;
  MPI_Initialized(&up);
  if (!up) error("ARMCI_Init", "MPI must be initialized before ARMCI_Init");
  int world_size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  int n = 0;
  MPI_Comm_size(comm, &n);
  if (n != world_size)
    error("ARMCI_Init_thread_comm", "GA-FM runs on MPI_COMM_WORLD only (comm has %d of %d ranks)",
          n, world_size);
  make_world();
  s.me = s.world.rank;
  s.nproc = s.world.size;
  start_runtime();
  return 0;
}

GAFM_API(int, ARMCI_Init, (void)) {
  return PARMCI_Init_thread_comm(MPI_THREAD_SINGLE, MPI_COMM_WORLD);
}
GAFM_API(int, ARMCI_Init_args, (int*, char***)) {
  return PARMCI_Init();
}
GAFM_API(int, ARMCI_Init_thread, (int requested)) {
  return PARMCI_Init_thread_comm(requested, MPI_COMM_WORLD);
}
GAFM_API(int, ARMCI_Initialized, (void)) {
  return st().init_count > 0 ? 1 : 0;
}

GAFM_API(int, ARMCI_Finalize, (void)) {
  State& s = st();
  if (s.init_count == 0) return 0;
  if (s.init_count > 1) {
    --s.init_count;
    return 0;
  }
  fence(-1);
  s.init_count = 0;
  stop_runtime();
  if (s.world.comm != MPI_COMM_NULL) MPI_Comm_free(&s.world.comm);
  s.dflt = s.world = ARMCI_Group{};
  return 0;
}

extern "C" {

void ARMCI_Cleanup(void) {}

void ARMCI_Error(const char* msg, int code) {
  std::fprintf(stderr, "[%d] ARMCI Error: %s\n", st().me, msg != nullptr ? msg : "");
  abort_job(MPI_COMM_WORLD, code);
}

void armci_msg_abort(int code) {
  abort_job(MPI_COMM_WORLD, code);
}

double armci_timer(void) {
  return MPI_Wtime();
}

// --- topology: one process per node, as GA expects of an ARMCI whose ptr_arr entries are the
// owners' addresses (GA would load and store through them for processes of its node) ----------

int armci_domain_nprocs(armci_domain_t, int) {
  return 1;
}
int armci_domain_id(armci_domain_t, int glob_proc_id) {
  return glob_proc_id;
}
int armci_domain_glob_proc_id(armci_domain_t, int id, int loc_proc_id) {
  if (loc_proc_id != 0)
    error("armci_domain_glob_proc_id", "local process %d of domain %d: domains have one process",
          loc_proc_id, id);
  return id;
}
int armci_domain_my_id(armci_domain_t) {
  return st().me;
}
int armci_domain_count(armci_domain_t) {
  return st().nproc;
}
int armci_domain_same_id(armci_domain_t, int proc) {
  return proc == st().me;
}
int ARMCI_Same_node(int proc) {
  return proc == st().me;
}
int ARMCI_Uses_shm(void) {
  return 0;
}
int ARMCI_Uses_shm_grp(ARMCI_Group*) {
  return 0;
}
void ARMCI_Set_shm_limit(unsigned long) {}

}  // extern "C"
