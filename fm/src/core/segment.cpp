// segment.cpp - on-host segments.  See segment.hpp.
#include "core/segment.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::core {
namespace {

std::size_t page_round(std::size_t n) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

std::string memfd_name(std::uint32_t nonce) {
  char name[32];
  std::snprintf(name, sizeof name, "fm-seg-%08x", nonce);
  return name;
}

std::uint32_t new_nonce() {
  static std::mt19937 gen(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  return static_cast<std::uint32_t>(gen());
}

// Ranges made shared in place (share()), for the fork handler: a child must not share the
// parent's global data.  A fixed table, so that the handler allocates nothing.
struct InPlace {
  std::uintptr_t base;
  std::size_t bytes;
};
constexpr int kMaxInPlace = 16;
InPlace g_in_place[kMaxInPlace];
int g_in_place_count = 0;

// In the child of fork() (one thread): copy each range into fresh private memory and move that
// over the shared mapping.  On failure the child keeps sharing the range, and says so.
void privatize_in_child() {
  for (int i = 0; i < g_in_place_count; ++i) {
    const InPlace r = g_in_place[i];
    if (r.bytes == 0) continue;
    void* tmp = mmap(nullptr, r.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (tmp != MAP_FAILED) {
      std::memcpy(tmp, reinterpret_cast<void*>(r.base), r.bytes);
      if (mremap(tmp, r.bytes, r.bytes, MREMAP_MAYMOVE | MREMAP_FIXED,
                 reinterpret_cast<void*>(r.base)) != MAP_FAILED)
        continue;
      munmap(tmp, r.bytes);
    }
    static const char msg[] = "fm: fork: cannot give the child a private copy of shared data\n";
    (void)!write(2, msg, sizeof msg - 1);
  }
}

}  // namespace

Segments::~Segments() {
  for (const Mapped& m : mapped_) munmap(m.base, m.bytes);
  for (const Own& o : own_) {
    if (!o.in_place) munmap(o.base, o.bytes);
    close(o.fd);
  }
}

int Segments::share(void* addr, std::size_t len, unsigned access, FM_region* out) {
  if (out == nullptr) return fail(FM_EINVAL, "FM_share_memory: region is NULL");
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  if (addr == nullptr || len == 0 || a % page != 0)
    return fail(FM_EINVAL, "FM_share_memory: addr %p must be page-aligned and len %zu nonzero",
                addr, len);
  if (core_.closed()) return fail(FM_ENOTINIT, "FM_share_memory: FM is finalized");
  bool known = false;
  for (int i = 0; i < g_in_place_count; ++i) known = known || g_in_place[i].base == a;
  if (!known && g_in_place_count == kMaxInPlace)
    return fail(FM_ENOMEM, "FM_share_memory: at most %d ranges per process", kMaxInPlace);
  const std::size_t bytes = page_round(len);
  const std::uint32_t nonce = new_nonce();
  const int fd = memfd_create(memfd_name(nonce).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return fail(FM_ENOMEM, "FM_share_memory: memfd_create failed: %s", std::strerror(errno));
  void* tmp = MAP_FAILED;
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0 ||
      (tmp = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
    const int e = errno;
    close(fd);
    return fail(FM_ENOMEM, "FM_share_memory: cannot make a %zu-byte segment: %s", bytes,
                std::strerror(e));
  }
  // Copy, then map the file over the range in one step (the old pages go away with it).  Pages
  // that hold only zeros are not copied: the file's pages are zero until written, so a large
  // .bss that was never touched costs no memory (reading it maps the kernel's zero page).  The
  // range must be readable: a fault here is the caller's bad address, as with memcpy.
  for (std::size_t off = 0; off < bytes; off += page) {
    const auto* src = static_cast<const std::uint64_t*>(addr) + off / 8;
    bool zero = true;
    for (std::size_t w = 0; w < page / 8 && zero; w += 8)
      zero = (src[w] | src[w + 1] | src[w + 2] | src[w + 3] | src[w + 4] | src[w + 5] | src[w + 6] |
              src[w + 7]) == 0;
    if (!zero) std::memcpy(static_cast<std::byte*>(tmp) + off, src, page);
  }
  munmap(tmp, bytes);
  if (mmap(addr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
    const int e = errno;
    close(fd);
    return fail(FM_ENOMEM, "FM_share_memory: cannot map the segment at %p: %s", addr,
                std::strerror(e));
  }
  int rc = rma_.register_memory(addr, len, access, out);
  if (rc == FM_SUCCESS) rc = rma_.mark_segment(out, fd, nonce, bytes);
  if (rc != FM_SUCCESS) {  // the memory stays where it is (shared with nobody)
    close(fd);
    return rc;
  }
  static const bool handler = pthread_atfork(nullptr, nullptr, privatize_in_child) == 0;
  if (!handler) FM_WARN("FM_share_memory: no fork handler: a child would share %p", addr);
  int slot = 0;  // a range shared again (FM initialized again) keeps its entry
  while (slot < g_in_place_count && g_in_place[slot].base != a) ++slot;
  if (slot == g_in_place_count) ++g_in_place_count;
  g_in_place[slot] = InPlace{a, std::max(bytes, g_in_place[slot].bytes)};
  own_.push_back(Own{addr, bytes, fd, out->key, true});
  return FM_SUCCESS;
}

int Segments::alloc(std::size_t len, unsigned access, void** addr, FM_region* out) {
  if (addr == nullptr || out == nullptr)
    return fail(FM_EINVAL, "FM_alloc_segment: addr or region is NULL");
  *addr = nullptr;
  if (core_.closed()) return fail(FM_ENOTINIT, "FM_alloc_segment: FM is finalized");
  const std::size_t bytes = page_round(len == 0 ? 1 : len);
  const std::uint32_t nonce = new_nonce();
  const int fd = memfd_create(memfd_name(nonce).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return fail(FM_ENOMEM, "FM_alloc_segment: memfd_create failed: %s", std::strerror(errno));
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    const int e = errno;
    close(fd);
    return fail(FM_ENOMEM, "FM_alloc_segment: cannot size a segment to %zu bytes: %s", bytes,
                std::strerror(e));
  }
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (base == MAP_FAILED) {
    const int e = errno;
    close(fd);
    return fail(FM_ENOMEM, "FM_alloc_segment: cannot map %zu bytes: %s", bytes, std::strerror(e));
  }
  int rc = rma_.register_memory(base, len, access, out);
  if (rc == FM_SUCCESS) rc = rma_.mark_segment(out, fd, nonce, bytes);
  if (rc != FM_SUCCESS) {
    munmap(base, bytes);
    close(fd);
    return rc;
  }
  own_.push_back(Own{base, bytes, fd, out->key, false});
  *addr = base;
  return FM_SUCCESS;
}

int Segments::free(const FM_region* r) {
  if (r == nullptr) return fail(FM_EINVAL, "FM_free_segment: region is NULL");
  for (std::size_t i = 0; i < own_.size(); ++i) {
    const Own o = own_[i];
    if (o.key != r->key || reinterpret_cast<std::uintptr_t>(o.base) != r->base ||
        r->node != core_.rank())
      continue;
    if (!core_.closed()) {
      const int rc = rma_.deregister_memory(r);
      if (rc != FM_SUCCESS) return rc;
    }
    if (!o.in_place) munmap(o.base, o.bytes);  // in place: the caller's memory stays
    close(o.fd);
    own_.erase(own_.begin() + static_cast<std::ptrdiff_t>(i));
    return FM_SUCCESS;
  }
  return fail(FM_EINVAL, "FM_free_segment: key %#llx (node %u) is not a segment of this node",
              static_cast<unsigned long long>(r->key), r->node);
}

void* Segments::ptr(const FM_region* r) {
  if (r == nullptr) {
    fail(FM_EINVAL, "FM_region_ptr: region is NULL");
    return nullptr;
  }
  if (r->check != region_check(*r)) {
    fail(FM_EACCESS, "FM_region_ptr: the region descriptor (node %u) was modified", r->node);
    return nullptr;
  }
  if (r->node >= core_.size()) {
    fail(FM_ENODEST, "FM_region_ptr: node %u out of range (%u nodes)", r->node, core_.size());
    return nullptr;
  }
  if (r->node == core_.rank()) return reinterpret_cast<void*>(r->base);
  if ((r->flags & kSegmentFlag) == 0) {
    fail(FM_EUNSUPPORTED,
         "FM_region_ptr: node %u's region is not an on-host segment (FM_alloc_segment)", r->node);
    return nullptr;
  }
  if (!core_.same_host(r->node)) {
    fail(FM_EUNSUPPORTED, "FM_region_ptr: node %u is on another host", r->node);
    return nullptr;
  }
  const std::uint64_t id = r->opaque[kSegmentSlot];
  for (const Mapped& m : mapped_)
    if (m.node == r->node && m.id == id) return m.base;
  const int fd = static_cast<int>(id & 0xffffffffu);
  const auto nonce = static_cast<std::uint32_t>(id >> 32);
  const std::size_t bytes = r->opaque[kSegmentSlot + 1];
  const std::string path =
      "/proc/" + std::to_string(core_.pid(r->node)) + "/fd/" + std::to_string(fd);
  char target[128] = {0};
  const ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
  const std::string want = "/memfd:" + memfd_name(nonce);
  if (n <= 0 || std::strncmp(target, want.c_str(), want.size()) != 0) {
    fail(FM_EUNSUPPORTED, "FM_region_ptr: node %u's segment is not at %s (%s)", r->node,
         path.c_str(), n <= 0 ? std::strerror(errno) : "another file: freed?");
    return nullptr;
  }
  const bool writable = (r->access & (FM_ACCESS_WRITE | FM_ACCESS_ATOMIC)) != 0;
  const int pfd = open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  struct stat st {};
  if (pfd < 0 || fstat(pfd, &st) != 0 || static_cast<std::size_t>(st.st_size) < bytes ||
      bytes < r->length) {
    const int e = errno;
    if (pfd >= 0) close(pfd);
    fail(FM_EUNSUPPORTED, "FM_region_ptr: cannot open node %u's segment %s: %s", r->node,
         path.c_str(), pfd < 0 ? std::strerror(e) : "wrong size");
    return nullptr;
  }
  void* base = mmap(nullptr, bytes, PROT_READ | (writable ? PROT_WRITE : 0),
                    MAP_SHARED | MAP_NORESERVE, pfd, 0);
  const int e = errno;
  close(pfd);
  if (base == MAP_FAILED) {
    fail(FM_EUNSUPPORTED, "FM_region_ptr: cannot map node %u's segment: %s", r->node,
         std::strerror(e));
    return nullptr;
  }
  mapped_.push_back(Mapped{r->node, id, base, bytes});
  return base;
}

int Segments::unmap(const FM_region* r) {
  if (r == nullptr) return fail(FM_EINVAL, "FM_unmap_region: region is NULL");
  for (std::size_t i = 0; i < mapped_.size(); ++i)
    if (mapped_[i].node == r->node && mapped_[i].id == r->opaque[kSegmentSlot]) {
      munmap(mapped_[i].base, mapped_[i].bytes);
      mapped_.erase(mapped_.begin() + static_cast<std::ptrdiff_t>(i));
      return FM_SUCCESS;
    }
  return FM_SUCCESS;  // nothing mapped: nothing to do
}

}  // namespace fm::core
