#include "util/error.hpp"

#include <cstdio>

namespace fm {
namespace {
thread_local int t_status = FM_SUCCESS;
thread_local char t_msg[512] = "";
}  // namespace

int vfail(int status, const char* fmt, va_list ap) {
  t_status = status;
  std::vsnprintf(t_msg, sizeof t_msg, fmt, ap);
  return status;
}

int fail(int status, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(status, fmt, ap);
  va_end(ap);
  return status;
}

int last_status() noexcept {
  return t_status;
}
const char* last_error() noexcept {
  return t_msg;
}

const char* strerror(int status) noexcept {
  switch (status) {
    case FM_SUCCESS:
      return "success";
    case FM_EAGAIN:
      return "resources temporarily unavailable; extract (or return from the handler) and retry";
    case FM_EINVAL:
      return "invalid argument";
    case FM_ENODEST:
      return "destination node out of range";
    case FM_EHANDLER:
      return "handler id out of range or not registered";
    case FM_ELENGTH:
      return "beyond the message's declared length";
    case FM_ESTREAM:
      return "stream not valid here";
    case FM_ENOTINIT:
      return "FM is not initialized (or already finalized)";
    case FM_EPEERFAILED:
      return "a peer failed (died or became unreachable)";
    case FM_ENOPROVIDER:
      return "libfabric provider not available";
    case FM_ELAUNCH:
      return "launcher (PMI) error";
    case FM_ENOMEM:
      return "out of memory";
    case FM_EBUSY:
      return "a stream to this destination is already open";
    case FM_EINHANDLER:
      return "not allowed inside a handler";
    case FM_ETRANSPORT:
      return "transport error";
    case FM_EUNSUPPORTED:
      return "operation not supported by this transport";
    case FM_ETIMEDOUT:
      return "timed out";
    case FM_EALREADY:
      return "FM is already initialized";
    case FM_EACCESS:
      return "remote memory access refused (unknown key, out of bounds or not permitted)";
    default:
      return "unknown FM status";
  }
}

}  // namespace fm
