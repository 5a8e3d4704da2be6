// heap.hpp - the symmetric heap's allocator.  Deterministic: PEs that make the same sequence of
// calls (as OpenSHMEM requires) get the same offsets, so an object is at the same offset of every
// PE's heap.
#pragma once

#include <cstddef>

namespace shmemfm {

void heap_reset(std::byte* base, std::size_t bytes);
void* heap_alloc(std::size_t size, std::size_t align);  // nullptr when no block fits
bool heap_free(void* p);                                // false: not a live block's start
std::size_t heap_block_size(const void* p);             // 0: not a live block's start
std::size_t heap_largest_free();

}  // namespace shmemfm
