// fm.hpp - the C++ API of Fast Messages: RAII session and streams, spans, [[nodiscard]] statuses.
// A thin inline layer over fm.h; nothing here throws on the data path.  Session's constructor
// throws fm::Error when FM cannot start (set-up is the only place that throws).
#pragma once

#include <fm/fm.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace fm {

enum class Status : int {
  ok = FM_SUCCESS,
  again = FM_EAGAIN,
  invalid = FM_EINVAL,
  no_dest = FM_ENODEST,
  bad_handler = FM_EHANDLER,
  length = FM_ELENGTH,
  bad_stream = FM_ESTREAM,
  not_initialized = FM_ENOTINIT,
  peer_failed = FM_EPEERFAILED,
  no_provider = FM_ENOPROVIDER,
  launch = FM_ELAUNCH,
  no_memory = FM_ENOMEM,
  busy = FM_EBUSY,
  in_handler = FM_EINHANDLER,
  transport = FM_ETRANSPORT,
  unsupported = FM_EUNSUPPORTED,
  timed_out = FM_ETIMEDOUT,
  already = FM_EALREADY,
  access = FM_EACCESS,
};

inline const char* to_string(Status s) noexcept {
  return FM_strerror(static_cast<int>(s));
}
inline bool is_retry(Status s) noexcept {
  return s == Status::again;
}

class Error : public std::runtime_error {
 public:
  explicit Error(int status)
      : std::runtime_error(std::string(FM_strerror(status)) + ": " + FM_last_error()),
        status_(static_cast<Status>(status)) {}
  Status status() const noexcept { return status_; }

 private:
  Status status_;
};

// Joins the job on construction, leaves it on destruction.
class Session {
 public:
  Session() {
    int rc = FM_initialize();
    if (rc != FM_SUCCESS) throw Error(rc);
  }
  ~Session() { (void)FM_finalize(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  unsigned node() const noexcept { return FM_nodeid(); }
  unsigned nodes() const noexcept { return FM_numnodes(); }
  [[nodiscard]] Status finalize() noexcept { return static_cast<Status>(FM_finalize()); }
};

// The stream a handler receives: read the message in pieces into buffers of your choice.
class Incoming {
 public:
  explicit Incoming(FM_stream* s) noexcept : s_(s) {}
  // Bytes placed (fewer than buf.size() only at the end of the message), or a negative status.
  [[nodiscard]] long receive(std::span<std::byte> buf) noexcept {
    return FM_receive(buf.data(), s_, buf.size());
  }
  template <typename T>
  [[nodiscard]] long receive(T& obj) noexcept {
    return FM_receive(&obj, s_, sizeof obj);
  }
  FM_stream* get() const noexcept { return s_; }

 private:
  FM_stream* s_;
};

// An outgoing stream; ended on destruction if still open.
class Outgoing {
 public:
  Outgoing() noexcept = default;
  Outgoing(unsigned dest, std::size_t length, int handler) noexcept
      : s_(FM_begin_message(dest, length, handler)) {}
  Outgoing(Outgoing&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Outgoing& operator=(Outgoing&& o) noexcept {
    if (this != &o) {
      (void)end();
      s_ = o.s_;
      o.s_ = nullptr;
    }
    return *this;
  }
  ~Outgoing() { (void)end(); }

  // False when FM_begin_message failed: see status().
  explicit operator bool() const noexcept { return s_ != nullptr; }
  [[nodiscard]] Status status() const noexcept {
    return s_ != nullptr ? Status::ok : static_cast<Status>(FM_last_status());
  }
  [[nodiscard]] Status piece(std::span<const std::byte> buf) noexcept {
    return static_cast<Status>(FM_send_piece(s_, buf.data(), buf.size()));
  }
  template <typename T>
  [[nodiscard]] Status piece(const T& obj) noexcept {
    return static_cast<Status>(FM_send_piece(s_, &obj, sizeof obj));
  }
  [[nodiscard]] Status end() noexcept {
    if (s_ == nullptr) return Status::ok;
    FM_stream* s = s_;
    s_ = nullptr;
    return static_cast<Status>(FM_end_message(s));
  }

 private:
  FM_stream* s_ = nullptr;
};

[[nodiscard]] inline Status send(unsigned dest, int handler,
                                 std::span<const std::byte> buf) noexcept {
  return static_cast<Status>(FM_send(dest, handler, buf.data(), buf.size()));
}
[[nodiscard]] inline Status send4(unsigned dest, int handler, std::uint32_t a, std::uint32_t b,
                                  std::uint32_t c, std::uint32_t d) noexcept {
  return static_cast<Status>(FM_send_4(dest, handler, a, b, c, d));
}
// Bytes extracted, or a negative status.
[[nodiscard]] inline long extract(std::size_t maxbytes = SIZE_MAX) noexcept {
  return FM_extract(maxbytes);
}
[[nodiscard]] inline long extract_wait(std::size_t maxbytes, int timeout_ms) noexcept {
  return FM_extract_wait(maxbytes, timeout_ms);
}
// Two-phase wait until done() holds (FM_wait_until); done is any callable returning bool.
template <typename Done>
[[nodiscard]] inline Status wait_until(Done&& done, int timeout_ms = -1) {
  return static_cast<Status>(FM_wait_until(
      [](void* a) -> int { return (*static_cast<std::remove_reference_t<Done>*>(a))() ? 1 : 0; },
      &done, timeout_ms));
}
[[nodiscard]] inline Status notify(unsigned node) noexcept {
  return static_cast<Status>(FM_notify(node));
}
inline bool idle_blocks() noexcept {
  return FM_idle_blocks() != 0;
}
// Registers a handler; returns its id or a negative status.
[[nodiscard]] inline int register_handler(FM_handler fn, int id = FM_ANY_ID) noexcept {
  return FM_register_handler(id, fn);
}

// --- one-sided operations (see FM(3)) ------------------------------------------------------------

// Memory of this node registered for peers' one-sided operations, deregistered on destruction.
// region() is the descriptor to send to them.
class Registration {
 public:
  Registration() noexcept = default;
  explicit Registration(std::span<std::byte> mem, unsigned access = FM_ACCESS_ALL) {
    const int rc = FM_register_memory(mem.data(), mem.size(), access, &r_);
    if (rc != FM_SUCCESS) throw Error(rc);
    live_ = true;
  }
  Registration(Registration&& o) noexcept : r_(o.r_), live_(o.live_) { o.live_ = false; }
  Registration& operator=(Registration&& o) noexcept {
    if (this != &o) {
      reset();
      r_ = o.r_;
      live_ = o.live_;
      o.live_ = false;
    }
    return *this;
  }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  ~Registration() { reset(); }
  const FM_region& region() const noexcept { return r_; }
  explicit operator bool() const noexcept { return live_; }
  void reset() noexcept {
    if (live_) (void)FM_deregister_memory(&r_);
    live_ = false;
  }

 private:
  FM_region r_{};
  bool live_ = false;
};

// Blocking put/get: on return the bytes are at the target / in dst.
[[nodiscard]] inline Status put(const FM_region& dst, std::uint64_t offset,
                                std::span<const std::byte> src) noexcept {
  return static_cast<Status>(FM_put(&dst, offset, src.data(), src.size()));
}
[[nodiscard]] inline Status get(const FM_region& src, std::uint64_t offset,
                                std::span<std::byte> dst) noexcept {
  return static_cast<Status>(FM_get(&src, offset, dst.data(), dst.size()));
}

template <typename T>
concept AtomicWord = std::same_as<T, std::int32_t> || std::same_as<T, std::uint32_t> ||
    std::same_as<T, std::int64_t> || std::same_as<T, std::uint64_t>;

template <AtomicWord T>
constexpr int atomic_type() noexcept {
  if constexpr (std::same_as<T, std::int32_t>) return FM_INT32;
  if constexpr (std::same_as<T, std::uint32_t>) return FM_UINT32;
  if constexpr (std::same_as<T, std::int64_t>) return FM_INT64;
  return FM_UINT64;
}

// Blocking atomic op (FM_ATOMIC_*) on the word at offset; with old non-null, the old value.
template <AtomicWord T>
[[nodiscard]] Status atomic(const FM_region& dst, std::uint64_t offset, int op, T operand,
                            T* old = nullptr, T compare = T{}) noexcept {
  return static_cast<Status>(
      FM_atomic(&dst, offset, op, atomic_type<T>(), &operand, &compare, old));
}

[[nodiscard]] inline Status fence(unsigned node) noexcept {
  return static_cast<Status>(FM_fence(node));
}
[[nodiscard]] inline Status flush(unsigned node) noexcept {
  return static_cast<Status>(FM_flush(node));
}
[[nodiscard]] inline Status quiet() noexcept {
  return static_cast<Status>(FM_quiet());
}

}  // namespace fm
