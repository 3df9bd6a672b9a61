#pragma once

#include <cmath>
#include <numbers>
#include <span>

namespace rigd::core::dsp {

// y = x - x[-1] + R y[-1], R = exp(-2 pi fc / fs): a first-order high-pass
// with a zero at DC.
class DcBlocker {
public:
    void prepare(double cutoff_hz, double sample_rate_hz) noexcept {
        r_ = static_cast<float>(std::exp(-2.0 * std::numbers::pi * cutoff_hz / sample_rate_hz));
        reset();
    }
    void reset() noexcept { x1_ = y1_ = 0.0f; }
    [[nodiscard]] float process(float x) noexcept {
        const float y = x - x1_ + r_ * y1_;
        x1_ = x;
        y1_ = y;
        return y;
    }
    void process(std::span<float> block) noexcept {
        float x1 = x1_;
        float y1 = y1_;
        const float r = r_;
        for (float& v : block) {
            const float y = v - x1 + r * y1;
            x1 = v;
            y1 = y;
            v = y;
        }
        x1_ = x1;
        y1_ = y1;
    }

private:
    float r_ = 0.0f;
    float x1_ = 0.0f;
    float y1_ = 0.0f;
};

} // namespace rigd::core::dsp
