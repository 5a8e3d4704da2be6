// topo.hpp - the CPUs fm-dcsd schedules on, from hwloc: the PUs and cores of its allowed cpuset.
#ifndef FM_DCSD_TOPO_HPP
#define FM_DCSD_TOPO_HPP

#include <string>
#include <vector>

namespace fm::dcsd {

struct Topology {
  unsigned cpus = 1;          // PUs
  unsigned cores = 1;         // cores holding at least one of them
  std::vector<int> core_cpu;  // per core, its first PU's OS index: where --place puts ranks
};

// Never fails: without hwloc's answer, one CPU.  *err says what went wrong, if anything.
Topology load_topology(std::string* err);

}  // namespace fm::dcsd

#endif
