// api.hpp - how GA-FM defines the ARMCI entry points that have a profiling twin: the code is
// PARMCI_name, and ARMCI_name a weak alias of it, so that a program (or a tool) may define its own
// ARMCI_name and call PARMCI_name from it (the PMPI idea; ARMCI-MPI's test_parmci does this).
#pragma once

#define GAFM_API(ret, name, params)                                   \
  extern "C" ret P##name params;                                      \
  extern "C" ret name params __attribute__((weak, alias("P" #name))); \
  extern "C" ret P##name params
