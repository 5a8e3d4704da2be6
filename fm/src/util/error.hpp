// error.hpp - status handling: every failing path records a status and a message naming the
// argument or peer; the C API reports them through FM_last_status()/FM_last_error().
#pragma once

#include <fm/fm_status.h>

#include <cstdarg>

namespace fm {

// Records status and a printf-style message as the calling thread's last error; returns status so
// that callers can write `return fail(FM_EINVAL, "FM_send: dest %u ...", d);`.
[[gnu::cold, gnu::format(printf, 2, 3)]] int fail(int status, const char* fmt, ...);
[[gnu::cold]] int vfail(int status, const char* fmt, va_list ap);
int last_status() noexcept;
const char* last_error() noexcept;
const char* strerror(int status) noexcept;

}  // namespace fm
