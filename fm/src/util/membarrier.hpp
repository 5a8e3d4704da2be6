// membarrier.hpp - the asymmetric fence of the shared-memory protocols (Linux membarrier(2)).
//
// A Dekker handshake between a frequent side (a sender: store a packet, load a flag) and a rare
// side (a receiver going idle: clear the flag, look for packets) needs a full fence on both.
// With membarrier the frequent side needs only a compiler barrier: the rare side calls global()
// between its store and its load, which makes every thread of every registered process on the
// host execute a full memory barrier before it returns (MEMBARRIER_CMD_GLOBAL_EXPEDITED, an IPI
// to the CPUs running one; about a microsecond here).  Processes register once, before they take
// part (enable()); a host uses the scheme only when every process in it could register.
#pragma once

namespace fm::membarrier {

// Registers this process for expedited global barriers (idempotent): whether it is registered.
// False on kernels without membarrier (< 4.16) or under a seccomp filter that denies it.
bool enable() noexcept;
// Whether enable() succeeded in this process.
bool enabled() noexcept;
// A full memory barrier in every registered process of the host (a seq_cst fence here when
// this process is not registered; a warning, once, if the kernel refuses it).
void global() noexcept;

}  // namespace fm::membarrier
