// log.hpp - logging that costs nothing when off: the level is checked before any formatting and
// trace messages are compiled out of release builds (NDEBUG).
#pragma once

namespace fm::log {

enum class Level : int { none = 0, error = 1, warn = 2, info = 3, debug = 4, trace = 5 };

extern Level g_level;              // FM_LOG_LEVEL, set at initialization
void set_level(const char* name);  // none, error, warn, info, debug, trace (others ignored)
[[gnu::cold, gnu::format(printf, 2, 3)]] void write(Level lvl, const char* fmt, ...);

}  // namespace fm::log

#define FM_LOG(lvl, ...)                                                                 \
  do {                                                                                   \
    if (static_cast<int>(::fm::log::Level::lvl) <= static_cast<int>(::fm::log::g_level)) \
      ::fm::log::write(::fm::log::Level::lvl, __VA_ARGS__);                              \
  } while (0)
#define FM_ERROR(...) FM_LOG(error, __VA_ARGS__)
#define FM_WARN(...) FM_LOG(warn, __VA_ARGS__)
#define FM_INFO(...) FM_LOG(info, __VA_ARGS__)
#define FM_DEBUG(...) FM_LOG(debug, __VA_ARGS__)
#ifdef NDEBUG
#define FM_TRACE(...) \
  do {                \
  } while (0)
#else
#define FM_TRACE(...) FM_LOG(trace, __VA_ARGS__)
#endif
