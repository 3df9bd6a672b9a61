#pragma once

#include "core/rt.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>

namespace rigd::core::tuner {

// The RT thread's input copied for the tuner thread: a single-producer /
// single-consumer ring of the most recent samples.
//
// write() never blocks and never waits for the reader: when the reader lags,
// the oldest samples are overwritten. read_latest() copies the newest samples
// and detects (seqlock style) whether the producer overwrote any of them while
// they were being copied; it retries a bounded number of times, so both sides
// are wait-free. Slots are atomics with release stores and acquire loads
// (plain moves on x86): that makes the concurrent overwrite a defined race the
// reader detects and discards, and needs no fences (which ThreadSanitizer
// does not model).
class InputTap {
public:
    static constexpr int kReadAttempts = 4;

    explicit InputTap(std::size_t min_capacity)
        : capacity_(round_up_pow2(min_capacity)), mask_(capacity_ - 1),
          slots_(std::make_unique<std::atomic<float>[]>(capacity_)) {
        for (std::size_t i = 0; i < capacity_; ++i) {
            slots_[i].store(0.0f, std::memory_order_relaxed);
        }
    }

    InputTap(const InputTap&) = delete;
    InputTap& operator=(const InputTap&) = delete;

    // Producer (RT thread) only. Any length; only the last capacity() samples
    // of a longer block can be kept.
    void write(std::span<const float> samples) noexcept RIGD_RT {
        const std::size_t end = end_.load(std::memory_order_relaxed);
        const std::size_t n = samples.size();
        const std::size_t keep = std::min(n, capacity_);
        const std::size_t first = end + (n - keep); // stream index of samples[n - keep]
        // Announce the slots about to be overwritten before touching them:
        // a reader whose acquire load sees any new value (a release store
        // after this one) also sees this bound.
        begin_.store(end + n, std::memory_order_relaxed);
        for (std::size_t i = 0; i < keep; ++i) {
            slots_[(first + i) & mask_].store(samples[n - keep + i], std::memory_order_release);
        }
        end_.store(end + n, std::memory_order_release);
    }

    // Consumer (tuner thread) only. Copies the most recent
    // min(out.size(), capacity(), samples written so far) samples, oldest
    // first, to the front of `out` and returns how many. Returns 0 when the
    // producer kept overwriting the span being copied (the reader was
    // descheduled for a whole ring's worth of audio, kReadAttempts times).
    [[nodiscard]] std::size_t read_latest(std::span<float> out) noexcept {
        for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
            const std::size_t end = end_.load(std::memory_order_acquire);
            const std::size_t count = std::min({out.size(), capacity_, end});
            const std::size_t start = end - count;
            for (std::size_t i = 0; i < count; ++i) {
                out[i] = slots_[(start + i) & mask_].load(std::memory_order_acquire);
            }
            const std::size_t claimed = begin_.load(std::memory_order_relaxed);
            // Slot of stream index s is rewritten by sample s + capacity_.
            if (claimed - start <= capacity_) {
                return count;
            }
        }
        return 0;
    }

    // Total samples written (wraps with std::size_t). Either side; lets the
    // reader tell whether anything new arrived since its last read.
    [[nodiscard]] std::size_t samples_written() const noexcept { return end_.load(std::memory_order_acquire); }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    static std::size_t round_up_pow2(std::size_t n) {
        if (n == 0 || n > (std::size_t{1} << 26)) {
            throw std::invalid_argument("InputTap capacity must be between 1 and 2^26 samples");
        }
        std::size_t p = 1;
        while (p < n) {
            p <<= 1;
        }
        return p;
    }

    static_assert(std::atomic<float>::is_always_lock_free);
    static_assert(std::atomic<std::size_t>::is_always_lock_free);
    static constexpr std::size_t kLine = 64;

    const std::size_t capacity_;
    const std::size_t mask_;
    std::unique_ptr<std::atomic<float>[]> slots_;

    alignas(kLine) std::atomic<std::size_t> begin_{0}; // producer: end of the slots being written
    std::atomic<std::size_t> end_{0};                  // producer: end of the published samples
};

} // namespace rigd::core::tuner
