// topology.hpp - the host as hwloc describes it, loaded once per process (fm/fm_topology.h is
// the public face).  Used by the shm transport (ring pages on the receiver's NUMA node), fm_info
// and fm-dcsd (which compiles this file in without linking libfm).
#pragma once

#include <string>
#include <vector>

namespace fm::topology {

struct Host {
  bool ok = false;  // hwloc read the host; otherwise one PU, one core, one package, one node
  unsigned pus = 1, cores = 1, packages = 1;
  std::vector<int> core_cpu;                // per core, its first PU's OS index
  std::vector<int> node_os;                 // per NUMA node, its OS index
  std::vector<std::vector<int>> node_cpus;  // per NUMA node, its PUs' OS indexes
  std::string error;                        // why not ok
  int node_of(int cpu) const noexcept;      // OS index of the node holding PU cpu, or -1
};

// The host, loaded at the first call (thread-safe).
const Host& host();

// Whether this host has more than one NUMA node, from /sys alone (no hwloc load): the cheap check
// before placing memory.
bool numa() noexcept;

}  // namespace fm::topology
