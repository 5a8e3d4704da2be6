// heap.cpp - first-fit allocator over offsets of the symmetric heap, with coalescing.
#include "heap.hpp"

#include "runtime.hpp"  // FmLock

#include <cstdint>
#include <iterator>
#include <map>

namespace shmemfm {

namespace {
std::byte* g_base = nullptr;
std::map<std::size_t, std::size_t> g_free;  // offset -> bytes
std::map<std::size_t, std::size_t> g_used;  // offset -> bytes
constexpr std::size_t kMinAlign = 64;       // a cache line: no false sharing between objects
}  // namespace

void heap_reset(std::byte* base, std::size_t bytes) {
  g_base = base;
  g_free.clear();
  g_used.clear();
  if (bytes > 0) g_free.emplace(0, bytes);
}

void* heap_alloc(std::size_t size, std::size_t align) {
  const FmLock lock;  // threads of one PE allocating at once (each collective on its own team)
  if (align < kMinAlign) align = kMinAlign;
  if ((align & (align - 1)) != 0) return nullptr;
  if (size == 0) size = 1;
  if (size > SIZE_MAX - kMinAlign) return nullptr;
  size = (size + kMinAlign - 1) & ~(kMinAlign - 1);
  const auto base = reinterpret_cast<std::uintptr_t>(g_base);
  for (auto it = g_free.begin(); it != g_free.end(); ++it) {
    const std::size_t off = it->first, len = it->second;
    const std::uintptr_t start = (base + off + align - 1) & ~(std::uintptr_t{align} - 1);
    const std::size_t aoff = start - base;
    if (aoff + size > off + len) continue;
    g_free.erase(it);
    if (aoff > off) g_free.emplace(off, aoff - off);
    if (aoff + size < off + len) g_free.emplace(aoff + size, off + len - aoff - size);
    g_used.emplace(aoff, size);
    return g_base + aoff;
  }
  return nullptr;
}

bool heap_free(void* p) {
  const FmLock lock;
  const auto off = static_cast<std::size_t>(static_cast<std::byte*>(p) - g_base);
  auto u = g_used.find(off);
  if (p < g_base || u == g_used.end()) return false;
  std::size_t start = off, len = u->second;
  g_used.erase(u);
  auto next = g_free.lower_bound(start);
  if (next != g_free.end() && next->first == start + len) {
    len += next->second;
    next = g_free.erase(next);
  }
  if (next != g_free.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      len += prev->second;
      g_free.erase(prev);
    }
  }
  g_free.emplace(start, len);
  return true;
}

std::size_t heap_block_size(const void* p) {
  const auto off = static_cast<std::size_t>(static_cast<const std::byte*>(p) - g_base);
  auto u = g_used.find(off);
  return p >= g_base && u != g_used.end() ? u->second : 0;
}

std::size_t heap_largest_free() {
  std::size_t m = 0;
  for (const auto& [off, len] : g_free) m = len > m ? len : m;
  return m;
}

}  // namespace shmemfm
