// wireup.hpp - FM_initialize's wiring (wireup.cpp).
#pragma once

#include <fm/fm.h>

#include <memory>

#include "core/context.hpp"

namespace fm::core {

// Joins the job (through the launcher's PMI, or the lent bootstrap ext), opens the lanes and
// exchanges their addresses; *out is the node's Context.  A status and FM_last_error() naming
// what is missing on failure.
int wire_up(const FM_bootstrap* ext, std::unique_ptr<Context>* out);

}  // namespace fm::core
