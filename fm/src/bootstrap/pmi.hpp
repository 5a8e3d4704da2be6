// pmi.hpp - private to the bootstrap layer: the PMI-1 wire-protocol client, and the key/value
// character rules that every bootstrap enforces alike.
#pragma once

#include <memory>
#include <string_view>

#include "bootstrap/bootstrap.hpp"

namespace fm::bootstrap {

// Joins the job through the PMI-1 wire protocol on the socket named by PMI_FD (Hydra's
// mpiexec).  Requires PMI_FD, PMI_RANK and PMI_SIZE in the environment.  Returns 0, FM_ELAUNCH
// with a one-line FM_last_error() on a broken launcher environment or protocol failure.  Waits for
// the launcher's answers at most timeout_s seconds each (0: forever; FM_PMI_TIMEOUT_S).
int open_pmi1(std::unique_ptr<Bootstrap>* out, double timeout_s);

// PMI-1 lines are space-separated key=value tokens: keys and values are printable ASCII without
// spaces, and keys hold no '='.
inline bool wire_safe(std::string_view s, bool is_key) {
  for (char c : s) {
    if (c <= ' ' || c > '~') return false;
    if (is_key && c == '=') return false;
  }
  return true;
}

}  // namespace fm::bootstrap
