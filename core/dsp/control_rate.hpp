#pragma once

#include "core/rt.hpp"

#include <algorithm>
#include <cstddef>

namespace rigd::core::dsp {

// Splits processing into segments that end on fixed control ticks counted
// from prepare/reset, so coefficient updates fall on the same samples
// whatever the block lengths (block-size invariance).
class ControlRate {
public:
    static constexpr std::size_t kInterval = 16; // samples between coefficient updates

    void reset() noexcept RIGD_RT { left_ = 0; }
    // Length of the next segment of a block with `remaining` samples; sets
    // `tick` when coefficients are due for an update before it.
    [[nodiscard]] std::size_t next_segment(std::size_t remaining, bool& tick) noexcept RIGD_RT {
        tick = left_ == 0;
        if (tick) {
            left_ = kInterval;
        }
        const std::size_t n = std::min(remaining, left_);
        left_ -= n;
        return n;
    }
    // Consumes n samples at once when every tick in them would change
    // nothing (no glide, no pending switch): the tick phase stays what
    // next_segment would have left, so block lengths still do not matter.
    void advance(std::size_t n) noexcept RIGD_RT {
        if (n <= left_) {
            left_ -= n;
            return;
        }
        const std::size_t r = (n - left_) % kInterval;
        left_ = r == 0 ? 0 : kInterval - r;
    }
    [[nodiscard]] static double rate_hz(double sample_rate_hz) noexcept RIGD_RT {
        return sample_rate_hz / static_cast<double>(kInterval);
    }

private:
    std::size_t left_ = 0;
};

} // namespace rigd::core::dsp
