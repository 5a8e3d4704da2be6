// scenarios.hpp - FM correctness scenarios, written once against the public C API and run both
// in one process over the loopback transport (one thread per node, tests/unit) and as real
// multi-process jobs launched by Hydra's mpiexec over shm and tcp (tests/mp).
//
// A scenario runs on every node of the job; it returns the number of failed checks on that node
// (0 = pass) and prints each failure with the node id.  All per-node state is thread_local, so
// several nodes can share a process.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fmtest {

struct Scenario {
  const char* name;
  unsigned min_nodes;
  int (*run)(unsigned me, unsigned n, bool big);  // big: the multi-process sizes (up to 16 MiB)
};

const std::vector<Scenario>& scenarios();
const Scenario* find_scenario(const std::string& name);
// Runs sc on this node: returns its number of failed checks.
int run_scenario(const Scenario& sc, unsigned me, unsigned n, bool big);

// Registers the scenarios' handlers (same ids on every node); call before FM_initialize.
void register_handlers();

// A barrier made of FM messages (exercises FM itself; no launcher involvement).
int fm_barrier();
// Resets every node's barrier state (in-process jobs: before each job).
void reset_barriers();

}  // namespace fmtest
