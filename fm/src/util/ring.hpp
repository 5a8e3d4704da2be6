// ring.hpp - a FIFO in one power-of-two array that doubles when full: once it has reached its
// working size, push_back and pop_front allocate nothing (std::deque allocates and frees a block
// every few hundred bytes it moves through, which hot paths must not).
#pragma once

#include <bit>
#include <cstddef>
#include <vector>

namespace fm {

template <class T>
class Ring {
 public:
  explicit Ring(std::size_t capacity = 64) : buf_(std::bit_ceil(capacity < 2 ? 2 : capacity)) {}

  bool empty() const noexcept { return head_ == tail_; }
  std::size_t size() const noexcept { return tail_ - head_; }
  T& front() noexcept { return buf_[head_ & (buf_.size() - 1)]; }
  void pop_front() noexcept { ++head_; }
  void push_back(const T& v) {
    if (size() == buf_.size()) grow();
    buf_[tail_++ & (buf_.size() - 1)] = v;
  }

 private:
  void grow() {
    std::vector<T> bigger(buf_.size() * 2);
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) bigger[i] = buf_[(head_ + i) & (buf_.size() - 1)];
    buf_.swap(bigger);
    head_ = 0;
    tail_ = n;
  }

  std::vector<T> buf_;
  std::size_t head_ = 0, tail_ = 0;  // free-running; indices are taken modulo the size
};

}  // namespace fm
