#pragma once

#include <cmath>
#include <numbers>
#include <span>

namespace rigd::core::dsp {

// One-pole coefficient for a time constant: the step response reaches
// 1 - 1/e after time_ms.
[[nodiscard]] inline float time_constant_coeff(double time_ms, double sample_rate_hz) noexcept {
    const double samples = time_ms * 0.001 * sample_rate_hz;
    return samples > 0.0 ? static_cast<float>(std::exp(-1.0 / samples)) : 0.0f;
}

// y += c (x - y), c = 1 - exp(-2 pi fc / fs): the impulse-invariant one-pole
// low-pass.
class OnePoleLowpass {
public:
    void set_cutoff(double cutoff_hz, double sample_rate_hz) noexcept {
        c_ = static_cast<float>(1.0 - std::exp(-2.0 * std::numbers::pi * cutoff_hz / sample_rate_hz));
    }
    void reset(float value = 0.0f) noexcept { y_ = value; }
    [[nodiscard]] float process(float x) noexcept {
        y_ += c_ * (x - y_);
        return y_;
    }
    void process(std::span<float> block) noexcept {
        float y = y_;
        const float c = c_;
        for (float& v : block) {
            y += c * (v - y);
            v = y;
        }
        y_ = y;
    }
    [[nodiscard]] float state() const noexcept { return y_; }

private:
    float c_ = 1.0f;
    float y_ = 0.0f;
};

} // namespace rigd::core::dsp
