// config.cpp - the tunables' parser, from the one list in config.hpp.
#include "util/config.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>

#include "util/error.hpp"

namespace fm {
namespace {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::size:
      return "size";
    case Kind::uint:
      return "uint";
    case Kind::boolean:
      return "bool";
    case Kind::choice:
      return "choice";
    default:
      return "text";
  }
}

// Parses "123", "64K", "1M", "1G" (the suffixes for sizes only).
bool parse_number(const char* s, bool suffixes, std::uint64_t* out) {
  errno = 0;
  char* end = nullptr;
  if (*s == '-' || *s == '+') return false;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s) return false;
  int shift = 0;
  if (suffixes) switch (*end) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      default:
        break;
    }
  if (shift != 0) {
    if (v > (~0ull >> shift)) return false;
    v <<= shift;
    ++end;
  }
  if (*end != '\0') return false;
  *out = v;
  return true;
}

bool in_choices(const char* v, const char* choices) {
  const std::size_t n = std::strlen(v);
  for (const char* c = choices; *c != '\0';) {
    const char* comma = std::strchr(c, ',');
    const std::size_t len = comma != nullptr ? static_cast<std::size_t>(comma - c) : std::strlen(c);
    if (len == n && std::strncmp(c, v, n) == 0) return true;
    c += len + (comma != nullptr ? 1 : 0);
  }
  return false;
}

struct Tunable {
  ConfigEntry entry;
  Kind kind;
  std::uint64_t lo, hi;
  const char* choices;
  int (*set)(Config& c, const Tunable& t, const char* v);
  std::string (*get)(const Config& c);
};

// Assigns text to a member: numbers for the numeric kinds, text for the others.
template <typename T>
int assign(T& member, const Tunable& t, const char* v) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (t.kind == Kind::choice && !in_choices(v, t.choices))
      return fail(FM_EINVAL, "%s=\"%s\": expected one of %s", t.entry.name, v, t.choices);
    member = v;
  } else {
    if (*t.choices != '\0' && in_choices(v, t.choices)) {  // "auto"
      member = std::numeric_limits<T>::max();              // kAuto for sizes
      return FM_SUCCESS;
    }
    std::uint64_t x = 0;
    if (!parse_number(v, t.kind == Kind::size, &x) || x < t.lo || x > t.hi)
      return fail(FM_EINVAL, "%s=\"%s\": expected %s in [%llu, %llu]%s", t.entry.name, v,
                  t.kind == Kind::size ? "a size (K, M, G suffixes)" : "a number",
                  static_cast<unsigned long long>(t.lo), static_cast<unsigned long long>(t.hi),
                  *t.choices != '\0' ? " or auto" : "");
    member = static_cast<T>(x);
  }
  return FM_SUCCESS;
}

template <typename T>
std::string text_of(const T& member, const char* choices) {
  if constexpr (std::is_same_v<T, std::string>)
    return member;
  else if (*choices != '\0' && member == std::numeric_limits<T>::max())
    return "auto";
  else
    return std::to_string(member);
}

#define FM_TUNABLE_ENTRY(member, type, name, kind, def, lo, hi, choices, help)               \
  Tunable{{name, kind_name(Kind::kind), def, help},                                          \
          Kind::kind,                                                                        \
          static_cast<std::uint64_t>(lo),                                                    \
          static_cast<std::uint64_t>(hi),                                                    \
          choices,                                                                           \
          [](Config& c, const Tunable& t, const char* v) { return assign(c.member, t, v); }, \
          [](const Config& c) { return text_of(c.member, choices); }},
const Tunable k_tunables[] = {FM_TUNABLES(FM_TUNABLE_ENTRY)};
#undef FM_TUNABLE_ENTRY
constexpr std::size_t k_count = sizeof k_tunables / sizeof k_tunables[0];

const Tunable* find(const char* name) {
  if (name == nullptr) return nullptr;
  for (const Tunable& t : k_tunables)
    if (std::strcmp(t.entry.name, name) == 0) return &t;
  return nullptr;
}

// Rules across or beyond a single value's range.
int check(const Config& c) {
  if (c.credits == 1) return fail(FM_EINVAL, "FM_CREDITS=1: expected 0 (automatic) or 2..4096");
  if (c.rto_min_us != 0 && c.rto_min_us < 50)
    return fail(FM_EINVAL, "FM_RTO_MIN_US=%u: expected 0 (automatic) or 50..1000000", c.rto_min_us);
  return FM_SUCCESS;
}

}  // namespace

Config::Config() {
  for (const Tunable& t : k_tunables) (void)t.set(*this, t, t.entry.def);
}

int Config::set(const char* name, const char* value) {
  const Tunable* t = find(name);
  if (t == nullptr)
    return fail(FM_EINVAL, "FM tunable \"%s\" unknown (fm_info -c lists them)",
                name != nullptr ? name : "(null)");
  if (value == nullptr) return fail(FM_EINVAL, "%s: value is NULL", t->entry.name);
  Config trial = *this;
  int rc = t->set(trial, *t, value);
  if (rc == FM_SUCCESS) rc = check(trial);
  if (rc == FM_SUCCESS) *this = std::move(trial);
  return rc;
}

int Config::get(const char* name, std::string* value) const {
  const Tunable* t = find(name);
  if (t == nullptr)
    return fail(FM_EINVAL, "FM tunable \"%s\" unknown (fm_info -c lists them)",
                name != nullptr ? name : "(null)");
  *value = t->get(*this);
  return FM_SUCCESS;
}

int Config::apply_env() {
  for (const Tunable& t : k_tunables) {
    const char* v = std::getenv(t.entry.name);
    if (v == nullptr || (*v == '\0' && t.kind != Kind::text)) continue;
    const int rc = t.set(*this, t, v);
    if (rc != FM_SUCCESS) return rc;
  }
  return check(*this);
}

std::size_t config_count() noexcept {
  return k_count;
}
const ConfigEntry& config_entry(std::size_t i) noexcept {
  return k_tunables[i].entry;
}

Config& preset_config() noexcept {
  static Config preset;
  return preset;
}

}  // namespace fm
