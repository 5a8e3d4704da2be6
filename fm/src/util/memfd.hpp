// memfd.hpp - shared memory between the processes of one host without names: an anonymous
// memory file (memfd) sealed at its size, which peers open through /proc/PID/fd/FD (the access
// rule of /proc: same user, ptrace read mode).  Nothing is left in /dev/shm however a job ends:
// the memory dies with its last mapping.  Used by the board, the status page and the shm
// transport.  Set-up only (system calls).
#pragma once

#include <cstddef>

namespace fm::memfd {

// Creates a memfd called `name` of len bytes, sealed against shrinking and growing, and maps it
// shared, read-write (zero-filled).  0, or an errno value (nothing left open then).
int create_sealed(const char* name, std::size_t len, int* fd, void** base);

// Maps the memfd another process holds as descriptor `fd` (pid's /proc/PID/fd/FD) with `prot`:
// at least min_len bytes, all of it.  0, or an errno value (EMSGSIZE: shorter than min_len).
int map_peer(int pid, int fd, int prot, std::size_t min_len, void** base, std::size_t* len);

// Opens pid's descriptor fd (a pipe's or an eventfd's write end, say) with flags: a descriptor
// or -1 (errno).
int open_peer(int pid, int fd, int flags);

}  // namespace fm::memfd
