// topo.cpp - see topo.hpp.
#include "topo.hpp"

#include <hwloc.h>

namespace fm::dcsd {

Topology load_topology(std::string* err) {
  Topology t;
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) {
    *err = "hwloc_topology_init failed";
    return t;
  }
  // by default hwloc keeps only the PUs this process may run on: the cpuset it was started in
  if (hwloc_topology_load(topo) != 0) {
    *err = "hwloc_topology_load failed";
    hwloc_topology_destroy(topo);
    return t;
  }
  const int pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
  if (pus > 0) t.cpus = static_cast<unsigned>(pus);
  const int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  for (int i = 0; i < cores; ++i) {
    hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, static_cast<unsigned>(i));
    const int first = core != nullptr ? hwloc_bitmap_first(core->cpuset) : -1;
    if (first >= 0) t.core_cpu.push_back(first);
  }
  if (t.core_cpu.empty()) {  // no core objects (some VMs): one per PU
    for (int i = 0; i < pus; ++i) {
      hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, static_cast<unsigned>(i));
      if (pu != nullptr) t.core_cpu.push_back(static_cast<int>(pu->os_index));
    }
  }
  if (!t.core_cpu.empty()) t.cores = static_cast<unsigned>(t.core_cpu.size());
  hwloc_topology_destroy(topo);
  return t;
}

}  // namespace fm::dcsd
