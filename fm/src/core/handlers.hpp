// handlers.hpp - the process-wide handler table.  Handlers are named by id, the same on every
// node: the application's ids [0, FM_USER_HANDLERS), a range of FM_LAYER_HANDLERS ids per layer
// built on FM (FM_register_layer_handler), and FM's own internal handlers (the one-sided engine's)
// after FM_MAX_HANDLERS, which no program can register.
#pragma once

#include <fm/fm.h>

namespace fm::core {

enum InternalHandler : int {
  kHPut = FM_MAX_HANDLERS,  // RmaReq + data -> target memory; answered by kHReply
  kHGet,                    // RmaReq -> answered by kHGetReply (RmaReply + data)
  kHAtomic,                 // RmaReq -> answered by kHReply (with the old value)
  kHReply,                  // RmaReply
  kHGetReply,               // RmaReply + data
  kHInternalEnd
};
inline constexpr int kInternalHandlers = kHInternalEnd - FM_MAX_HANDLERS;

// The handler registered under id (internal ids included), or nullptr.
FM_handler handler_at(int id) noexcept;
int register_handler(int id, FM_handler fn) noexcept;
int register_layer_handler(int layer, int index, FM_handler fn) noexcept;
int unregister_handler(int id) noexcept;
// FM's own handlers (the one-sided engine registers its five); they are async-safe.
void set_internal_handler(int id, FM_handler fn) noexcept;
// Whether handler id may run on the progress thread in its async-only mode (FM_handler_async).
bool handler_async(int id) noexcept;
int set_handler_async(int id, bool async) noexcept;

}  // namespace fm::core
