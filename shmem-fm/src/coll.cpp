// coll.cpp - teams and the collective engine.
//
// Every collective is written once over a Set (a team or a deprecated active set) and over the
// one-sided primitives, so it takes the direct path (loads and stores in the mapped heaps) between
// PEs of one host and FM RMA between hosts:
//  * barrier: dissemination; round r adds 1 to word r of partner (me + 2^r)'s synchronization
//    words and waits for its own word r, then takes 1 back (counts carry over between barriers,
//    so a fast PE may enter the next barrier early);
//  * data movement pulls: after a barrier each PE reads what it needs from the others' symmetric
//    source, then a barrier says the sources may be reused;
//  * reductions: each PE reduces its own slice of the array (reading that slice from every member)
//    and writes the result slice to every member: on one host, PEs reduce in parallel with loads.
#include <algorithm>
#include <cstring>

#include "runtime.hpp"

namespace shmemfm {

namespace {

std::uint64_t g_used_slots = 0;  // synchronization slots of this PE's live teams (__atomic)

std::uint64_t* slot_words(int slot) {
  return reinterpret_cast<std::uint64_t*>(sys_area()) +
         static_cast<std::size_t>(slot) * static_cast<std::size_t>(kSyncWords);
}

void and_u64(void* acc, const void* in, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    static_cast<std::uint64_t*>(acc)[i] &= static_cast<const std::uint64_t*>(in)[i];
}

// Lowest `want` slots free on every member of the parent set, or 0 if there are not enough (every
// member computes the same answer, so a split fails on all PEs of the parent alike).
std::uint64_t agree_slots(const Set& parent, int want, const char* call) {
  std::uint64_t* w = parent.sync + kScratch;
  __atomic_store_n(&w[0], ~__atomic_load_n(&g_used_slots, __ATOMIC_RELAXED), __ATOMIC_SEQ_CST);
  reduce(parent, &w[1], &w[0], 1, 8, and_u64, call);
  std::uint64_t free = __atomic_load_n(&w[1], __ATOMIC_SEQ_CST);
  // The reduction ended with a barrier: nobody reads these words any more.
  w[0] = 0;
  w[1] = 0;
  std::uint64_t chosen = 0;
  for (int k = 0; k < want; ++k) {
    if (free == 0) return 0;  // more than kSlots teams alive at once on some member
    const std::uint64_t bit = free & -free;
    chosen |= bit;
    free &= ~bit;
  }
  return chosen;
}

int slot_of(std::uint64_t bit) {
  return __builtin_ctzll(bit);
}

shmem_team_t make_team(std::vector<int> pes, int slot, const shmem_team_config_t* config,
                       long mask) {
  auto* t = new shmemfm_team{kTeamMagic, std::move(pes), -1, slot, {}, mask, 0, false};
  const auto it = std::find(t->pes.begin(), t->pes.end(), my_pe());
  t->my = static_cast<int>(it - t->pes.begin());
  if (config != nullptr && (mask & SHMEM_TEAM_NUM_CONTEXTS) != 0) t->config = *config;
  __atomic_fetch_or(&g_used_slots, std::uint64_t{1} << slot, __ATOMIC_RELAXED);
  return t;
}

}  // namespace

void teams_init(int npes, int me, std::vector<int> shared) {
  shmemfm_team_world.pes.resize(static_cast<std::size_t>(npes));
  for (int i = 0; i < npes; ++i) shmemfm_team_world.pes[static_cast<std::size_t>(i)] = i;
  shmemfm_team_world.my = me;
  std::sort(shared.begin(), shared.end());
  shmemfm_team_shared.my =
      static_cast<int>(std::find(shared.begin(), shared.end(), me) - shared.begin());
  shmemfm_team_shared.pes = std::move(shared);
  g_used_slots = 0x3;  // world, shared
}

void teams_fini() {
  g_used_slots = 0;
}

shmem_team_t team_world() noexcept {
  return SHMEM_TEAM_WORLD;
}

bool valid_team(shmem_team_t t) noexcept {
  return t != SHMEM_TEAM_INVALID && t->magic == kTeamMagic && initialized();
}

Set team_set(shmem_team_t t, const char* call) {
  require_init(call);
  if (t == SHMEM_TEAM_INVALID) fatal(call, "the team is SHMEM_TEAM_INVALID");
  if (t->magic != kTeamMagic) fatal(call, "team %p is not a live team", static_cast<void*>(t));
  if (t->my < 0 || t->my >= static_cast<int>(t->pes.size()))
    fatal(call, "this PE is not a member of the team");
  return Set{t->pes.data(), static_cast<int>(t->pes.size()), t->my, slot_words(t->slot)};
}

Set active_set(int start, int log_stride, int size, long* psync, std::vector<int>* storage,
               const char* call) {
  require_init(call);
  const int n = n_pes();
  if (log_stride < 0 || log_stride > 30)
    fatal(call, "logPE_stride %d is out of range (0..30)", log_stride);
  const long stride = 1L << log_stride;
  if (start < 0 || size < 1 || start + (size - 1) * stride >= n)
    fatal(call, "the active set (PE_start %d, logPE_stride %d, PE_size %d) does not fit in %d PEs",
          start, log_stride, size, n);
  const int me = my_pe();
  if (me < start || (me - start) % stride != 0 || (me - start) / stride >= size)
    fatal(call, "PE %d is not in the active set (PE_start %d, logPE_stride %d, PE_size %d)", me,
          start, log_stride, size);
  if (psync == nullptr || !is_symmetric(psync))
    fatal(call, "pSync %p is not a symmetric array", static_cast<void*>(psync));
  storage->resize(static_cast<std::size_t>(size));
  for (int i = 0; i < size; ++i)
    (*storage)[static_cast<std::size_t>(i)] = start + static_cast<int>(i * stride);
  return Set{storage->data(), size, static_cast<int>((me - start) / stride),
             reinterpret_cast<std::uint64_t*>(psync)};
}

void barrier(const Set& s, const char* call) {
  for (int r = 0, d = 1; d < s.n; ++r, d <<= 1) {
    const int partner = s.pes[(s.me + d) % s.n];
    amo(&s.sync[r], FM_ATOMIC_ADD, 8, 1, 0, partner, false, nullptr, call);
    wait_until_true([&] { return __atomic_load_n(&s.sync[r], __ATOMIC_ACQUIRE) != 0; }, call);
    __atomic_fetch_sub(&s.sync[r], 1, __ATOMIC_ACQ_REL);
  }
}

void broadcast(const Set& s, void* dst, const void* src, std::size_t n, int root, bool to_root,
               const char* call) {
  if (root < 0 || root >= s.n) fatal(call, "PE_root %d is out of range (0..%d)", root, s.n - 1);
  barrier(s, call);
  if (s.me != root)
    get(dst, src, n, s.pes[root], false, call);
  else if (to_root && dst != src)
    std::memmove(dst, src, n);
  barrier(s, call);
}

void fcollect(const Set& s, void* dst, const void* src, std::size_t n, const char* call) {
  barrier(s, call);
  auto* d = static_cast<std::byte*>(dst);
  for (int k = 0; k < s.n; ++k) {
    const int j = (s.me + k) % s.n;
    get(d + static_cast<std::size_t>(j) * n, src, n, s.pes[j], true, call);
  }
  quiet(call);
  barrier(s, call);
}

void collect(const Set& s, void* dst, const void* src, std::size_t n, const char* call) {
  __atomic_store_n(&s.sync[kCollectWord], std::uint64_t{n}, __ATOMIC_SEQ_CST);
  barrier(s, call);
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(s.n));
  for (int j = 0; j < s.n; ++j)
    get(&counts[static_cast<std::size_t>(j)], &s.sync[kCollectWord], 8, s.pes[j], true, call);
  quiet(call);
  auto* d = static_cast<std::byte*>(dst);
  std::size_t off = 0;
  for (int j = 0; j < s.n; ++j) {
    const std::size_t c = counts[static_cast<std::size_t>(j)];
    get(d + off, src, c, s.pes[j], true, call);
    off += c;
  }
  quiet(call);
  barrier(s, call);
  __atomic_store_n(&s.sync[kCollectWord], std::uint64_t{0}, __ATOMIC_SEQ_CST);
}

void alltoalls(const Set& s, void* dst, const void* src, std::ptrdiff_t dst_stride,
               std::ptrdiff_t src_stride, std::size_t elem, std::size_t nelems, const char* call) {
  if (dst_stride < 1 || src_stride < 1)
    fatal(call, "strides must be positive (dst %td, sst %td)", dst_stride, src_stride);
  barrier(s, call);
  auto* d = static_cast<std::byte*>(dst);
  const auto* sp = static_cast<const std::byte*>(src);
  const std::size_t dblock = nelems * static_cast<std::size_t>(dst_stride) * elem;
  const std::size_t sblock = nelems * static_cast<std::size_t>(src_stride) * elem;
  for (int k = 0; k < s.n; ++k) {
    const int j = (s.me + k) % s.n;
    std::byte* to = d + static_cast<std::size_t>(j) * dblock;
    const std::byte* from = sp + static_cast<std::size_t>(s.me) * sblock;
    if (dst_stride == 1 && src_stride == 1)
      get(to, from, nelems * elem, s.pes[j], true, call);
    else
      iget(to, from, dst_stride, src_stride, elem, nelems, s.pes[j], call);
  }
  quiet(call);
  barrier(s, call);
}

void reduce(const Set& s, void* dst, const void* src, std::size_t count, std::size_t elem,
            Combine combine, const char* call) {
  const std::size_t n = static_cast<std::size_t>(s.n);
  const std::size_t chunk = (count + n - 1) / n;
  const std::size_t lo = std::min(count, static_cast<std::size_t>(s.me) * chunk);
  const std::size_t hi = std::min(count, lo + chunk);
  const std::size_t len = hi - lo, bytes = len * elem;
  barrier(s, call);
  std::vector<std::byte> all;
  if (len > 0) {
    all.resize(n * bytes);
    const auto* sp = static_cast<const std::byte*>(src) + lo * elem;
    for (std::size_t j = 0; j < n; ++j)
      get(all.data() + j * bytes, sp, bytes, s.pes[j], true, call);
    quiet(call);
    for (std::size_t j = 1; j < n; ++j) combine(all.data(), all.data() + j * bytes, len);
    auto* dp = static_cast<std::byte*>(dst) + lo * elem;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t j = (static_cast<std::size_t>(s.me) + k) % n;
      put(dp, all.data(), bytes, s.pes[j], true, call);
    }
    quiet(call);
  }
  barrier(s, call);
}

}  // namespace shmemfm

// --- team routines ------------------------------------------------------------------------------
using namespace shmemfm;

extern "C" {

int shmem_team_my_pe(shmem_team_t team) {
  return valid_team(team) ? team->my : -1;
}

int shmem_team_n_pes(shmem_team_t team) {
  return valid_team(team) ? static_cast<int>(team->pes.size()) : -1;
}

int shmem_team_get_config(shmem_team_t team, long config_mask, shmem_team_config_t* config) {
  if (!valid_team(team) || config == nullptr) return -1;
  if ((config_mask & SHMEM_TEAM_NUM_CONTEXTS) != 0)
    config->num_contexts = team->config.num_contexts;
  return 0;
}

int shmem_team_translate_pe(shmem_team_t src_team, int src_pe, shmem_team_t dest_team) {
  if (!valid_team(src_team) || !valid_team(dest_team)) return -1;
  if (src_pe < 0 || src_pe >= static_cast<int>(src_team->pes.size())) return -1;
  const int w = src_team->pes[static_cast<std::size_t>(src_pe)];
  const auto it = std::find(dest_team->pes.begin(), dest_team->pes.end(), w);
  return it == dest_team->pes.end() ? -1 : static_cast<int>(it - dest_team->pes.begin());
}

int shmem_team_split_strided(shmem_team_t parent, int start, int stride, int size,
                             const shmem_team_config_t* config, long config_mask,
                             shmem_team_t* new_team) {
  static const char* call = "shmem_team_split_strided";
  if (new_team == nullptr) fatal(call, "new_team is NULL");
  *new_team = SHMEM_TEAM_INVALID;
  if (!valid_team(parent) || parent->my < 0) return -1;
  const int pn = static_cast<int>(parent->pes.size());
  // Any stride (negative ones too, as Sandia OpenSHMEM's teams allow: team PE i is parent PE
  // start + i * stride), as long as every member is a distinct PE of the parent.
  const long last = start + static_cast<long>(size - 1) * stride;
  if (start < 0 || start >= pn || size < 1 || (stride == 0 && size > 1) || last < 0 || last >= pn) {
    warn(call, "start %d, stride %d, size %d do not fit the parent team's %d PEs", start, stride,
         size, pn);
    return -1;
  }
  const Set ps = team_set(parent, call);
  const std::uint64_t bits = agree_slots(ps, 1, call);
  if (bits == 0) return -1;  // OpenSHMEM 1.5, 9.4.6: nonzero on every PE, SHMEM_TEAM_INVALID
  const int slot = slot_of(bits);
  std::vector<int> pes;
  bool member = false;
  for (int i = 0; i < size; ++i) {
    const int w = parent->pes[static_cast<std::size_t>(start + i * stride)];
    member = member || w == my_pe();
    pes.push_back(w);
  }
  if (member) *new_team = make_team(std::move(pes), slot, config, config_mask);
  barrier(ps, call);  // the new team's members may use it once everybody has it
  return 0;
}

int shmem_team_split_2d(shmem_team_t parent, int xrange, const shmem_team_config_t* xaxis_config,
                        long xaxis_mask, shmem_team_t* xaxis_team,
                        const shmem_team_config_t* yaxis_config, long yaxis_mask,
                        shmem_team_t* yaxis_team) {
  static const char* call = "shmem_team_split_2d";
  if (xaxis_team == nullptr || yaxis_team == nullptr) fatal(call, "a team argument is NULL");
  *xaxis_team = *yaxis_team = SHMEM_TEAM_INVALID;
  if (!valid_team(parent) || parent->my < 0) return -1;
  if (xrange < 1) {
    warn(call, "xrange %d must be positive", xrange);
    return -1;
  }
  const int pn = static_cast<int>(parent->pes.size());
  xrange = std::min(xrange, pn);
  const Set ps = team_set(parent, call);
  const std::uint64_t bits = agree_slots(ps, 2, call);
  if (bits == 0) return -1;
  const int xslot = slot_of(bits);
  const int yslot = slot_of(bits & (bits - 1));
  const int me = parent->my;
  std::vector<int> xs, ys;
  for (int i = (me / xrange) * xrange; i < std::min(pn, (me / xrange + 1) * xrange); ++i)
    xs.push_back(parent->pes[static_cast<std::size_t>(i)]);
  for (int i = me % xrange; i < pn; i += xrange)
    ys.push_back(parent->pes[static_cast<std::size_t>(i)]);
  *xaxis_team = make_team(std::move(xs), xslot, xaxis_config, xaxis_mask);
  *yaxis_team = make_team(std::move(ys), yslot, yaxis_config, yaxis_mask);
  barrier(ps, call);
  return 0;
}

void shmem_team_destroy(shmem_team_t team) {
  static const char* call = "shmem_team_destroy";
  if (team == SHMEM_TEAM_INVALID) return;
  if (!valid_team(team)) fatal(call, "team %p is not a live team", static_cast<void*>(team));
  if (team->predefined) {
    warn(call, "the predefined teams (SHMEM_TEAM_WORLD, SHMEM_TEAM_SHARED) cannot be destroyed");
    return;
  }
  const Set s = team_set(team, call);
  quiet(call);
  barrier(s, call);
  std::memset(s.sync, 0, kSyncWords * sizeof(std::uint64_t));
  __atomic_fetch_and(&g_used_slots, ~(std::uint64_t{1} << team->slot), __ATOMIC_RELAXED);
  team->magic = 0;
  delete team;
}

int shmem_team_sync(shmem_team_t team) {
  static const char* call = "shmem_team_sync";
  if (!valid_team(team)) {
    if (initialized()) warn(call, "invalid team (SHMEM_TEAM_INVALID or destroyed)");
    return -1;
  }
  if (team->my < 0) return -1;
  barrier(team_set(team, call), call);
  return 0;
}

}  // extern "C"
