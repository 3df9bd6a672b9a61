#pragma once

#include "core/rt.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>

namespace rigd::core {

// The recorder's ring: the audio thread copies each period's input (the DI,
// exactly as received) and the stereo output into three preallocated
// channels; the recorder's writer thread drains them to disk.
//
// Single producer (RT) / single consumer (writer). The producer writes only
// while armed, a whole period or nothing: when the writer lags and the
// period does not fit, it is dropped and counted, never waited for, so DI
// and wet stay aligned with each other. arm()/disarm() are two atomic
// stores; the producer acknowledges each change with the generation it saw
// at the end of its period, so the writer knows when the last frame of a
// take is in the ring.
class RecordTap {
public:
    explicit RecordTap(std::size_t min_frames)
        : capacity_(round_up_pow2(min_frames)), mask_(capacity_ - 1),
          di_(std::make_unique<float[]>(capacity_)), left_(std::make_unique<float[]>(capacity_)),
          right_(std::make_unique<float[]>(capacity_)) {
        std::fill_n(di_.get(), capacity_, 0.0f);
        std::fill_n(left_.get(), capacity_, 0.0f);
        std::fill_n(right_.get(), capacity_, 0.0f);
    }
    RecordTap(const RecordTap&) = delete;
    RecordTap& operator=(const RecordTap&) = delete;

    // Writer side. arm() with the ring drained; returns the generation the
    // producer will acknowledge. Odd generations record.
    std::uint64_t arm() noexcept { return bump(true); }
    std::uint64_t disarm() noexcept { return bump(false); }
    // The generation the producer last finished a period under.
    [[nodiscard]] std::uint64_t acknowledged() const noexcept { return acknowledged_.load(std::memory_order_acquire); }

    // Producer (RT thread) only: one period.
    void write(std::span<const float> di, std::span<const float> left, std::span<const float> right) noexcept RIGD_RT {
        const std::uint64_t gen = generation_.load(std::memory_order_acquire);
        if ((gen & 1U) != 0) {
            const std::size_t n = std::min({di.size(), left.size(), right.size()});
            const std::size_t head = head_.load(std::memory_order_relaxed);
            const std::size_t tail = tail_.load(std::memory_order_acquire);
            if (capacity_ - (head - tail) < n) {
                dropped_blocks_.fetch_add(1, std::memory_order_relaxed);
            } else {
                for (std::size_t i = 0; i < n; ++i) {
                    const std::size_t at = (head + i) & mask_;
                    di_[at] = di[i];
                    left_[at] = left[i];
                    right_[at] = right[i];
                }
                head_.store(head + n, std::memory_order_release);
            }
        }
        acknowledged_.store(gen, std::memory_order_release);
    }

    // Consumer (writer thread) only: copies up to out.size() frames per
    // channel, oldest first; returns how many.
    [[nodiscard]] std::size_t read(std::span<float> di, std::span<float> left, std::span<float> right) noexcept {
        const std::size_t tail = tail_.load(std::memory_order_relaxed);
        const std::size_t head = head_.load(std::memory_order_acquire);
        const std::size_t n = std::min({head - tail, di.size(), left.size(), right.size()});
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t at = (tail + i) & mask_;
            di[i] = di_[at];
            left[i] = left_[at];
            right[i] = right_[at];
        }
        tail_.store(tail + n, std::memory_order_release);
        return n;
    }

    // Periods dropped because the ring was full (since construction).
    [[nodiscard]] std::uint64_t dropped_blocks() const noexcept {
        return dropped_blocks_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    std::uint64_t bump(bool record) noexcept {
        std::uint64_t gen = generation_.load(std::memory_order_relaxed) + 1;
        if (((gen & 1U) != 0) != record) {
            ++gen;
        }
        generation_.store(gen, std::memory_order_release);
        return gen;
    }

    static std::size_t round_up_pow2(std::size_t n) {
        if (n == 0 || n > (std::size_t{1} << 26)) {
            throw std::invalid_argument("RecordTap capacity must be between 1 and 2^26 frames");
        }
        return std::bit_ceil(n);
    }

    static constexpr std::size_t kLine = 64;
    const std::size_t capacity_;
    const std::size_t mask_;
    std::unique_ptr<float[]> di_;
    std::unique_ptr<float[]> left_;
    std::unique_ptr<float[]> right_;
    alignas(kLine) std::atomic<std::size_t> head_{0};
    alignas(kLine) std::atomic<std::size_t> tail_{0};
    alignas(kLine) std::atomic<std::uint64_t> generation_{0};
    std::atomic<std::uint64_t> acknowledged_{0};
    std::atomic<std::uint64_t> dropped_blocks_{0};
};

} // namespace rigd::core
