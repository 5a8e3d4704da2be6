// gafm.hpp - GA-FM's runtime: ARMCI over FM.
//
// Memory (ARMCI_Malloc) is FM on-host segments (FM_alloc_segment): peers on this host map them and
// reach them with loads, stores and atomic instructions (direct access); peers on other hosts are
// reached with FM messages to GA-FM's handlers (strided and vector put, get, accumulate; fences;
// mutexes) and FM's atomics (ARMCI_Rmw).  Between two processes FM delivers in order, so a put,
// an accumulate and a get from one origin to one target are applied in issue order (location
// consistency without fences), and a fence is one round trip that returns once everything sent
// before it is applied.  Accumulates are atomic per element with respect to each other: the
// target applies remote ones in its handler, one at a time, under the same per-process lock that
// same-host peers take for their direct accumulates.  ARMCI's groups and armci_msg_* are MPI
// communicators and collectives.  Passive progress: FM's progress thread in its async-only mode
// runs GA-FM's handlers (and FM's one-sided ones) while the program computes; MPI-FM's handlers
// keep running only in the program's own calls.
#pragma once

#include <fm/fm.h>
#include <mpi.h>

#include <armci.h>
#include <message.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace gafm {

[[noreturn]] void error(const char* call, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
void require_init(const char* call);
void check_proc(int proc, const char* call);

// --- state ---------------------------------------------------------------------------------------

// One ARMCI_Malloc'ed allocation: a slice per member (world ranks), each an FM region.
struct Alloc {
  std::uint64_t id = 0;            // the same on every member
  MPI_Comm comm = MPI_COMM_NULL;   // the group's (not owned)
  std::vector<int> members;        // world rank of each group rank
  std::vector<FM_region> regions;  // per group rank (length 0: no slice)
  std::vector<std::byte*> local;   // per group rank: where it is mapped here, or null
  std::byte* mine = nullptr;
  std::size_t my_bytes = 0;
};

// A slice of some allocation, as the index finds it from (world rank, remote address).
struct Slice {
  std::uintptr_t base = 0, end = 0;
  Alloc* alloc = nullptr;
  int member = -1;  // group rank
};

struct Mutexes {
  struct M {
    bool held = false;
    std::vector<int> waiting;  // world ranks, FIFO
    std::size_t head = 0;
  };
  std::vector<M> local;     // the ones this rank hosts
  std::vector<int> counts;  // per world rank
  bool created = false;
};

struct State {
  int init_count = 0;
  bool own_fm = false;  // FM was initialized by us (not MPI-FM)
  int me = 0, nproc = 1;
  ARMCI_Group world{};
  ARMCI_Group dflt{};
  std::vector<int> same_host;  // per world rank: 1 when FM_same_host
  bool direct = true;          // GA_FM_DIRECT: same-host access through mappings
  int handler = -1;            // FM_LAYER_GA's handler 0 (every GA-FM message)
  // the per-process control word each process's accumulates take (in its control segment)
  std::vector<FM_region> ctl;         // per world rank
  std::vector<std::uint32_t*> locks;  // per world rank: its acc lock, mapped here, or null
  void* my_ctl = nullptr;
  FM_region my_ctl_region{};
  std::vector<std::unique_ptr<Alloc>> allocs;
  std::vector<std::vector<Slice>> index;  // per world rank, sorted by base
  std::uint64_t next_alloc = 1;
  std::vector<std::uint8_t> dirty;  // per world rank: messages since the last fence
  Mutexes mutex;
  int progress_mode = 0;  // FM progress thread started by us (0: none)
};
State& st();

// --- groups
// ----------------------------------------------------------------------------------------

void fill_translations(ARMCI_Group* g);
void free_translations(ARMCI_Group* g);
int group_to_world(const ARMCI_Group* g, int rank, const char* call);
int world_to_group(const ARMCI_Group* g, int world, const char* call);

// --- memory
// ----------------------------------------------------------------------------------------

// Where [addr, addr + len) of world rank proc lies; error naming call and what otherwise.
const Slice& find(int proc, const void* addr, std::size_t len, const char* call, const char* what);
// A local address for proc's address addr (same host, mapped), or null.
std::byte* local_address(const Slice& s, const void* addr);
// Whether [addr, addr + len) is ARMCI memory of this rank (a target checks requests).
bool mine(const void* addr, std::size_t len);
void free_all();

// --- one-sided
// ---------------------------------------------------------------------------------------

// A strided layout: count[0] bytes per chunk, count[1..levels] repetitions, byte strides.
constexpr int kMaxLevels = 16;
struct Layout {
  int levels = 0;
  int count[kMaxLevels + 1] = {0};
  long stride[kMaxLevels] = {0};  // this side's
  std::size_t chunks() const noexcept;
  std::size_t bytes() const noexcept { return chunks() * static_cast<std::size_t>(count[0]); }
  // The byte offsets of the chunks from the base, in order (the first level varies fastest).
  template <typename F>
  void each(F&& f) const;
  // [lowest, highest) byte offsets touched.
  void span(long* lo, long* hi) const noexcept;
};
template <typename F>
inline void Layout::each(F&& f) const {
  int idx[kMaxLevels] = {0};
  const std::size_t n = chunks();
  for (std::size_t c = 0; c < n; ++c) {
    long off = 0;
    for (int i = 0; i < levels; ++i) off += idx[i] * stride[i];
    f(off);
    for (int i = 0; i < levels; ++i) {
      if (++idx[i] < count[i + 1]) break;
      idx[i] = 0;
    }
  }
}

// The two sides of one strided transfer (the same count, each its own strides): f(offset in a,
// offset in b) for every chunk, in order.
template <typename F>
inline void each_pair(const Layout& a, const Layout& b, F&& f) {
  int idx[kMaxLevels] = {0};
  const std::size_t n = a.chunks();
  for (std::size_t c = 0; c < n; ++c) {
    long oa = 0, ob = 0;
    for (int i = 0; i < a.levels; ++i) {
      oa += idx[i] * a.stride[i];
      ob += idx[i] * b.stride[i];
    }
    f(oa, ob);
    for (int i = 0; i < a.levels; ++i) {
      if (++idx[i] < a.count[i + 1]) break;
      idx[i] = 0;
    }
  }
}

Layout layout(int levels, const int* count, const int* stride, const char* call, const char* side);

void put_strided(const void* src, const Layout& ls, void* dst, const Layout& ld, int proc,
                 const char* call);
void acc_strided(int type, const void* scale, const void* src, const Layout& ls, void* dst,
                 const Layout& ld, int proc, const char* call);
// A get: returns a request slot (>= 0) when it is in flight, -1 when done already.
int get_strided(const void* src, const Layout& ls, void* dst, const Layout& ld, int proc,
                const char* call);
void put_vector(const armci_giov_t* iov, int n, int proc, bool acc, int type, const void* scale,
                const char* call);
int get_vector(const armci_giov_t* iov, int n, int proc, const char* call);
void wait_request(int slot, int gen, const char* call);
bool request_done(int slot, int gen);
int request_gen(int slot);
void wait_requests(int proc);  // -1: all
void fence(int proc);          // -1: all
int rmw(int op, void* ploc, void* prem, int value, int proc);
std::size_t type_size(int acc_type, const char* call);
// dst[i] += scale * src[i] for n bytes of acc_type elements (complex scale for CPL/DCP).
void accumulate(int type, const void* scale, void* dst, const void* src, std::size_t bytes);
void acc_lock(int proc);
void acc_unlock(int proc);

// --- target side ---------------------------------------------------------------------------------

int handler(FM_stream* s, unsigned sender);
void progress(const char* call);  // one round of FM progress (ARMCI's waits)

// --- mutexes
// ----------------------------------------------------------------------------------------- op 0
// lock, 1 unlock, 2 grant
void send_mutex(int op, int mutex, int proc, bool from_handler);
void mutex_on_message(int op, int mutex, int from);
void put_flag(int* flag, int value, int proc, const char* call);

}  // namespace gafm
