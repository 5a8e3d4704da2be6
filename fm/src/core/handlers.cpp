// handlers.cpp - the handler table.
#include "core/handlers.hpp"

#include "util/error.hpp"

namespace fm::core {
namespace {

FM_handler g_handlers[FM_MAX_HANDLERS];
bool g_async[FM_MAX_HANDLERS];
FM_handler g_internal[kInternalHandlers];
static_assert(FM_USER_HANDLERS + (FM_LAYER_TOOLS + 1) * FM_LAYER_HANDLERS <= FM_MAX_HANDLERS);

const char* layer_name(int layer) {
  switch (layer) {
    case FM_LAYER_MPI:
      return "MPI-FM";
    case FM_LAYER_SHMEM:
      return "SHMEM-FM";
    case FM_LAYER_GA:
      return "GA-FM";
    case FM_LAYER_TOOLS:
      return "FM's tools";
    default:
      return "no layer";
  }
}

int put(int id, FM_handler fn, const char* call) {
  if (g_handlers[id] != nullptr && g_handlers[id] != fn)
    return fail(FM_EHANDLER, "%s: id %d is already registered", call, id);
  g_handlers[id] = fn;
  return id;
}

}  // namespace

FM_handler handler_at(int id) noexcept {
  if (id >= FM_MAX_HANDLERS) [[unlikely]]
    return id < kHInternalEnd ? g_internal[id - FM_MAX_HANDLERS] : nullptr;
  return id >= 0 ? g_handlers[id] : nullptr;
}

int register_handler(int id, FM_handler fn) noexcept {
  if (fn == nullptr) return fail(FM_EINVAL, "FM_register_handler: handler function is NULL");
  if (id == FM_ANY_ID) {
    for (int i = 0; i < FM_USER_HANDLERS; ++i)
      if (g_handlers[i] == nullptr) {
        g_handlers[i] = fn;
        return i;
      }
    return fail(FM_EHANDLER, "FM_register_handler: all %d application handler ids are in use",
                FM_USER_HANDLERS);
  }
  if (id < 0 || id >= FM_MAX_HANDLERS)
    return fail(FM_EHANDLER, "FM_register_handler: id %d out of range [0, %d) (or FM_ANY_ID)", id,
                FM_USER_HANDLERS);
  // (ids in [FM_USER_HANDLERS, FM_MAX_HANDLERS) are the layers')
  if (id >= FM_USER_HANDLERS) {
    const int layer = (id - FM_USER_HANDLERS) / FM_LAYER_HANDLERS;
    return fail(FM_EHANDLER,
                "FM_register_handler: id %d is reserved for %s (applications use [0, %d); layers "
                "register theirs with FM_register_layer_handler)",
                id, layer_name(layer), FM_USER_HANDLERS);
  }
  return put(id, fn, "FM_register_handler");
}

int register_layer_handler(int layer, int index, FM_handler fn) noexcept {
  if (fn == nullptr) return fail(FM_EINVAL, "FM_register_layer_handler: handler function is NULL");
  if (layer < FM_LAYER_MPI || layer > FM_LAYER_TOOLS)
    return fail(FM_EINVAL, "FM_register_layer_handler: layer %d unknown (FM_LAYER_*)", layer);
  if (index < 0 || index >= FM_LAYER_HANDLERS)
    return fail(FM_EHANDLER, "FM_register_layer_handler: index %d out of range [0, %d)", index,
                FM_LAYER_HANDLERS);
  return put(FM_USER_HANDLERS + layer * FM_LAYER_HANDLERS + index, fn, "FM_register_layer_handler");
}

int unregister_handler(int id) noexcept {
  if (id < 0 || id >= FM_MAX_HANDLERS || g_handlers[id] == nullptr)
    return fail(FM_EHANDLER, "FM_unregister_handler: id %d is not registered", id);
  g_handlers[id] = nullptr;
  g_async[id] = false;
  return FM_SUCCESS;
}

bool handler_async(int id) noexcept {
  if (id >= FM_MAX_HANDLERS) return id < kHInternalEnd;
  return id >= 0 && g_async[id];
}

int set_handler_async(int id, bool async) noexcept {
  if (id < 0 || id >= FM_MAX_HANDLERS || g_handlers[id] == nullptr)
    return fail(FM_EHANDLER, "FM_handler_async: id %d is not registered", id);
  g_async[id] = async;
  return FM_SUCCESS;
}

void set_internal_handler(int id, FM_handler fn) noexcept {
  if (id >= FM_MAX_HANDLERS && id < kHInternalEnd) g_internal[id - FM_MAX_HANDLERS] = fn;
}

}  // namespace fm::core
