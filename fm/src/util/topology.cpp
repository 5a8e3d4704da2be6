// topology.cpp - see topology.hpp and fm/fm_topology.h.
#include "util/topology.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fm/fm_status.h>
#include <fm/fm_topology.h>
#include <hwloc.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace fm::topology {
namespace {

Host load() {
  Host h;
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) {
    h.error = "hwloc_topology_init failed";
    return h;
  }
  // by default hwloc keeps only the PUs and nodes this process may use (its cpuset)
  if (hwloc_topology_load(topo) != 0) {
    h.error = "hwloc_topology_load failed";
    hwloc_topology_destroy(topo);
    return h;
  }
  const int pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
  if (pus > 0) h.pus = static_cast<unsigned>(pus);
  const int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  for (int i = 0; i < cores; ++i) {
    hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, static_cast<unsigned>(i));
    const int first = core != nullptr ? hwloc_bitmap_first(core->cpuset) : -1;
    if (first >= 0) h.core_cpu.push_back(first);
  }
  if (h.core_cpu.empty()) {  // no core objects (some VMs): one per PU
    for (int i = 0; i < pus; ++i) {
      hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, static_cast<unsigned>(i));
      if (pu != nullptr) h.core_cpu.push_back(static_cast<int>(pu->os_index));
    }
  }
  if (!h.core_cpu.empty()) h.cores = static_cast<unsigned>(h.core_cpu.size());
  const int pkgs = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
  if (pkgs > 0) h.packages = static_cast<unsigned>(pkgs);
  const int nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < nodes; ++i) {
    hwloc_obj_t n = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(i));
    if (n == nullptr) continue;
    std::vector<int> cpus;
    for (int c = hwloc_bitmap_first(n->cpuset); c >= 0; c = hwloc_bitmap_next(n->cpuset, c))
      cpus.push_back(c);
    h.node_os.push_back(static_cast<int>(n->os_index));
    h.node_cpus.push_back(std::move(cpus));
  }
  if (h.node_os.empty()) {  // no NUMA object: one node holding every PU
    h.node_os.push_back(0);
    h.node_cpus.emplace_back();
    for (int i = 0; i < pus; ++i)
      if (hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, static_cast<unsigned>(i)))
        h.node_cpus.back().push_back(static_cast<int>(pu->os_index));
  }
  hwloc_topology_destroy(topo);
  h.ok = true;
  return h;
}

}  // namespace

int Host::node_of(int cpu) const noexcept {
  for (std::size_t i = 0; i < node_cpus.size(); ++i)
    if (std::find(node_cpus[i].begin(), node_cpus[i].end(), cpu) != node_cpus[i].end())
      return node_os[i];
  return -1;
}

const Host& host() {
  static std::once_flag once;
  static Host h;
  std::call_once(once, [] { h = load(); });
  return h;
}

bool numa() noexcept {
  DIR* d = opendir("/sys/devices/system/node");
  if (d == nullptr) return false;
  unsigned n = 0;
  while (dirent* e = readdir(d))
    if (std::strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9') ++n;
  closedir(d);
  return n > 1;
}

}  // namespace fm::topology

using fm::topology::host;

extern "C" int FM_topology_get(FM_topology* t) {
  if (t == nullptr) return FM_EINVAL;
  const auto& h = host();
  t->pus = h.pus;
  t->cores = h.cores;
  t->packages = h.packages;
  t->numa_nodes = static_cast<unsigned>(h.node_os.size());
  t->cpu = sched_getcpu();
  t->numa_node = t->cpu >= 0 ? h.node_of(t->cpu) : -1;
  return h.ok ? FM_SUCCESS : FM_EUNSUPPORTED;
}

extern "C" int FM_topology_core_cpus(int* cpus, unsigned max) {
  if (cpus == nullptr && max != 0) return -1;
  const auto& h = host();
  for (unsigned i = 0; i < max && i < h.core_cpu.size(); ++i) cpus[i] = h.core_cpu[i];
  return static_cast<int>(h.core_cpu.size());
}

extern "C" int FM_topology_node_of_cpu(int cpu) {
  return host().node_of(cpu);
}

extern "C" int FM_topology_describe(char* buf, std::size_t len) {
  const auto& h = host();
  if (!h.ok) return -1;
  std::string s = std::to_string(h.packages) + (h.packages == 1 ? " package, " : " packages, ") +
                  std::to_string(h.node_os.size()) +
                  (h.node_os.size() == 1 ? " NUMA node, " : " NUMA nodes, ") +
                  std::to_string(h.cores) + (h.cores == 1 ? " core, " : " cores, ") +
                  std::to_string(h.pus) + (h.pus == 1 ? " PU" : " PUs") + "\n";
  for (std::size_t i = 0; i < h.node_os.size(); ++i) {
    s += "NUMA node " + std::to_string(h.node_os[i]) + ": PUs";
    for (int c : h.node_cpus[i]) s += " " + std::to_string(c);
    s += "\n";
  }
  if (buf != nullptr && len > 0) {
    const std::size_t n = std::min(len - 1, s.size());
    std::memcpy(buf, s.data(), n);
    buf[n] = '\0';
  }
  return static_cast<int>(s.size());
}

// ------------------------------------------------------------------------------------------------
// CPU contention (FM_load_sample)

namespace {
// Reads a small /proc file into buf (NUL-terminated); its length, or -1.
ssize_t read_proc(const char* path, char* buf, std::size_t len) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const ssize_t n = ::read(fd, buf, len - 1);
  ::close(fd);
  if (n >= 0) buf[n] = '\0';
  return n;
}
}  // namespace

extern "C" int FM_load_sample(FM_load_probe* p, unsigned cpus) {
  if (p == nullptr) return 0;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const unsigned long long now = static_cast<unsigned long long>(ts.tv_sec) * 1000000000ull +
                                 static_cast<unsigned long long>(ts.tv_nsec);
  char buf[256];
  if (p->source != 2) {  // "some avg10=0.00 avg60=0.00 avg300=0.00 total=123456"
    unsigned long long total = 0;
    const char* t = nullptr;
    if (read_proc("/proc/pressure/cpu", buf, sizeof buf) > 0) t = std::strstr(buf, "total=");
    if (t != nullptr && std::sscanf(t, "total=%llu", &total) == 1) {
      const bool first = p->source != 1 || p->at_ns == 0 || now <= p->at_ns;
      const unsigned long long stalled = total - p->stall_us, span_us = (now - p->at_ns) / 1000;
      p->source = 1;
      p->stall_us = total;
      p->at_ns = now;
      if (first || span_us == 0) return 0;
      return static_cast<int>(std::min<unsigned long long>(1000, stalled * 1000 / span_us));
    }
    p->source = 2;  // no PSI here (CONFIG_PSI off, psi=0): the load average's runnable count
  }
  double a = 0, b = 0, c = 0;
  unsigned r = 0, all = 0;
  if (read_proc("/proc/loadavg", buf, sizeof buf) <= 0 ||
      std::sscanf(buf, "%lf %lf %lf %u/%u", &a, &b, &c, &r, &all) != 5)
    return 0;
  p->at_ns = now;
  p->over = r > cpus ? p->over + 1 : 0;
  return p->over >= 2 ? 1000 : 0;
}

// ---- scheduling attributes
namespace {
// the kernel's struct sched_attr (SCHED_ATTR_SIZE_VER1); linux/sched/types.h clashes with
// later glibc, so it is spelled out
struct KernelAttr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime, sched_deadline, sched_period;
  std::uint32_t sched_util_min, sched_util_max;
};
static_assert(sizeof(KernelAttr) == 56);
constexpr std::uint64_t kResetOnFork = 0x01;  // SCHED_FLAG_RESET_ON_FORK
}  // namespace

extern "C" int FM_sched_fair(unsigned policy) {
  return policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE;
}

extern "C" int FM_sched_get(int tid, FM_sched_attr* a) {
  if (a == nullptr) {
    errno = EINVAL;
    return -1;
  }
  KernelAttr k;
  std::memset(&k, 0, sizeof k);
  if (syscall(SYS_sched_getattr, tid, &k, sizeof k, 0) != 0) return -1;
  a->policy = k.sched_policy;
  a->nice = k.sched_nice;
  a->prio = k.sched_priority;
  a->flags = k.sched_flags & kResetOnFork;
  a->runtime_ns = FM_sched_fair(k.sched_policy) ? k.sched_runtime : 0;
  return 0;
}

extern "C" int FM_sched_set(int tid, const FM_sched_attr* a) {
  if (a == nullptr) {
    errno = EINVAL;
    return -1;
  }
  KernelAttr k;
  std::memset(&k, 0, sizeof k);
  k.size = sizeof k;
  k.sched_policy = a->policy;
  k.sched_flags = a->flags & kResetOnFork;
  k.sched_nice = a->nice;
  k.sched_priority = a->prio;
  k.sched_runtime = FM_sched_fair(a->policy) ? a->runtime_ns : 0;
  return syscall(SYS_sched_setattr, tid, &k, 0) == 0 ? 0 : -1;
}
