#pragma once

#include "core/rt.hpp"

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>

namespace rigd::core {

// Wait-free single-producer/single-consumer ring buffer.
//
// Capacity is rounded up to a power of two; one slot is never left unused
// because the indices run freely and are masked on access. The producer owns
// head_, the consumer owns tail_; each keeps a cached copy of the other's
// index so that the common case touches only its own cache line.
// try_push / try_pop never block, never allocate and never loop.
template <typename T>
class SpscQueue {
    static_assert(std::is_nothrow_copy_assignable_v<T> || std::is_nothrow_move_assignable_v<T>,
                  "queue elements are assigned on the RT thread and must not throw");

public:
    explicit SpscQueue(std::size_t min_capacity)
        : capacity_(round_up_pow2(min_capacity)), mask_(capacity_ - 1),
          slots_(std::make_unique<T[]>(capacity_)) {}

    SpscQueue(const SpscQueue&) = delete;
    SpscQueue& operator=(const SpscQueue&) = delete;

    // Producer only.
    [[nodiscard]] bool try_push(T value) noexcept RIGD_RT {
        const std::size_t head = head_.load(std::memory_order_relaxed);
        if (head - tail_cache_ == capacity_) {
            tail_cache_ = tail_.load(std::memory_order_acquire);
            if (head - tail_cache_ == capacity_) {
                return false;
            }
        }
        slots_[head & mask_] = std::move(value);
        head_.store(head + 1, std::memory_order_release);
        return true;
    }

    // Consumer only.
    [[nodiscard]] std::optional<T> try_pop() noexcept RIGD_RT {
        const std::size_t tail = tail_.load(std::memory_order_relaxed);
        if (tail == head_cache_) {
            head_cache_ = head_.load(std::memory_order_acquire);
            if (tail == head_cache_) {
                return std::nullopt;
            }
        }
        std::optional<T> value{std::move(slots_[tail & mask_])};
        tail_.store(tail + 1, std::memory_order_release);
        return value;
    }

    // Approximate from either side; exact when the other side is idle.
    [[nodiscard]] std::size_t size_approx() const noexcept {
        return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
    }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    static std::size_t round_up_pow2(std::size_t n) {
        if (n == 0 || n > (std::size_t{1} << 30)) {
            throw std::invalid_argument("SpscQueue capacity must be between 1 and 2^30");
        }
        std::size_t p = 1;
        while (p < n) {
            p <<= 1;
        }
        return p;
    }

    static constexpr std::size_t kLine = 64;

    const std::size_t capacity_;
    const std::size_t mask_;
    std::unique_ptr<T[]> slots_;

    alignas(kLine) std::atomic<std::size_t> head_{0}; // written by producer
    std::size_t tail_cache_ = 0;                      // producer's view of tail_
    alignas(kLine) std::atomic<std::size_t> tail_{0}; // written by consumer
    std::size_t head_cache_ = 0;                      // consumer's view of head_
};

} // namespace rigd::core
