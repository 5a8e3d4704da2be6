#include "util/log.hpp"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fm::log {

Level g_level = Level::warn;

void set_level(const char* name) {
  static const char* names[] = {"none", "error", "warn", "info", "debug", "trace"};
  for (int i = 0; i < 6; ++i)
    if (std::strcmp(name, names[i]) == 0) g_level = static_cast<Level>(i);
}

void write(Level lvl, const char* fmt, ...) {
  static const char* tags[] = {"", "error", "warn", "info", "debug", "trace"};
  char buf[1024];
  int n = std::snprintf(buf, sizeof buf, "fm[%d] %s: ", static_cast<int>(getpid()),
                        tags[static_cast<int>(lvl)]);
  va_list ap;
  va_start(ap, fmt);
  n += std::vsnprintf(buf + n, sizeof buf - static_cast<size_t>(n) - 1, fmt, ap);
  va_end(ap);
  if (n > static_cast<int>(sizeof buf) - 2) n = static_cast<int>(sizeof buf) - 2;
  buf[n++] = '\n';
  ssize_t ignored = ::write(2, buf, static_cast<size_t>(n));  // one write: lines do not interleave
  (void)ignored;
}

}  // namespace fm::log
