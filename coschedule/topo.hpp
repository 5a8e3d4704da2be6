// topo.hpp - the CPUs fm-dcsd schedules on: the PUs and cores of its allowed cpuset, as FM sees
// them (fm/fm_topology.h, whose implementation fm-dcsd compiles in: hwloc, no libfm).
#ifndef FM_DCSD_TOPO_HPP
#define FM_DCSD_TOPO_HPP

#include <fm/fm_status.h>
#include <fm/fm_topology.h>

#include <string>
#include <vector>

namespace fm::dcsd {

struct Topology {
  unsigned cpus = 1;          // PUs
  unsigned cores = 1;         // cores holding at least one of them
  std::vector<int> core_cpu;  // per core, its first PU's OS index: where --place puts ranks
};

// Never fails: without hwloc's answer, one CPU.  *err says what went wrong, if anything.
inline Topology load_topology(std::string* err) {
  Topology t;
  FM_topology ft;
  if (FM_topology_get(&ft) != FM_SUCCESS) {
    *err = "hwloc could not read this host's topology";
    return t;
  }
  t.cpus = ft.pus;
  t.cores = ft.cores;
  const int n = FM_topology_core_cpus(nullptr, 0);
  if (n > 0) {
    t.core_cpu.resize(static_cast<std::size_t>(n));
    FM_topology_core_cpus(t.core_cpu.data(), static_cast<unsigned>(n));
  }
  return t;
}

}  // namespace fm::dcsd

#endif
