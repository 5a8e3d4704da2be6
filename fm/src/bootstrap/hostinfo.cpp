// hostinfo.cpp - the host identity peers compare to pick a transport, and hex for binary values.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <utility>

#include "bootstrap/bootstrap.hpp"
#include "util/log.hpp"

namespace fm::bootstrap {

std::string host_key() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
    FM_WARN("gethostname failed (%s); host key uses \"localhost\"", std::strerror(errno));
    std::strcpy(name, "localhost");
  }
  std::string key(name);
  // The network namespace, so that namespaces simulating hosts on one machine count as different
  // hosts (their processes cannot reach each other's loopback or abstract sockets).
  struct stat st;
  if (::stat("/proc/self/ns/net", &st) == 0) {
    key += ':';
    key += std::to_string(static_cast<unsigned long long>(st.st_ino));
  } else {
    FM_DEBUG("cannot stat /proc/self/ns/net (%s); host key is the hostname alone",
             std::strerror(errno));
  }
  return key;
}

std::string hex_encode(const void* data, std::size_t len) {
  static const char digits[] = "0123456789abcdef";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out(2 * len, '\0');
  for (std::size_t i = 0; i < len; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 0xf];
  }
  return out;
}

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

// False (and *out untouched) on an odd length or a non-hex character.
bool hex_decode(const std::string& hex, std::string* out) {
  if (out == nullptr || hex.size() % 2 != 0) return false;
  std::string bytes(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    int hi = hex_digit(hex[2 * i]);
    int lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes[i] = static_cast<char>((hi << 4) | lo);
  }
  *out = std::move(bytes);
  return true;
}

}  // namespace fm::bootstrap
