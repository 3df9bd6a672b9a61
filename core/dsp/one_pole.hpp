#pragma once

#include "core/rt.hpp"

#include <cmath>
#include <numbers>
#include <span>

namespace rigd::core::dsp {

// One-pole coefficient for a time constant: the step response reaches
// 1 - 1/e after time_ms.
[[nodiscard]] inline float time_constant_coeff(double time_ms, double sample_rate_hz) noexcept RIGD_RT {
    const double samples = time_ms * 0.001 * sample_rate_hz;
    return samples > 0.0 ? static_cast<float>(std::exp(-1.0 / samples)) : 0.0f;
}

// y += c (x - y), c = 1 - exp(-2 pi fc / fs): the impulse-invariant one-pole
// low-pass. State in double; the block path computes pairs from the state
// two samples back (y1 = p^2 y[-1] + p c x0 + c x1, p = 1 - c), one FMA of
// recursion per two samples, equal to the one-at-a-time path to double
// rounding.
class OnePoleLowpass {
public:
    void set_cutoff(double cutoff_hz, double sample_rate_hz) noexcept RIGD_RT {
        c_ = 1.0 - std::exp(-2.0 * std::numbers::pi * cutoff_hz / sample_rate_hz);
        p_ = 1.0 - c_;
        p2_ = p_ * p_;
        pc_ = p_ * c_;
    }
    void reset(float value = 0.0f) noexcept RIGD_RT { y_ = value; }
    [[nodiscard]] float process(float x) noexcept RIGD_RT {
        y_ = p_ * y_ + c_ * static_cast<double>(x);
        return static_cast<float>(y_);
    }
    void process(std::span<float> block) noexcept RIGD_RT {
        double y = y_;
        const double c = c_, p = p_, p2 = p2_, pc = pc_;
        const std::size_t n = block.size();
        float* v = block.data();
        std::size_t k = 0;
        for (; k + 1 < n; k += 2) {
            const double x0 = v[k];
            const double x1 = v[k + 1];
            const double y0 = p * y + c * x0;
            y = (pc * x0 + c * x1) + p2 * y;
            v[k] = static_cast<float>(y0);
            v[k + 1] = static_cast<float>(y);
        }
        if (k < n) {
            y = p * y + c * static_cast<double>(v[k]);
            v[k] = static_cast<float>(y);
        }
        y_ = y;
    }
    [[nodiscard]] float state() const noexcept { return static_cast<float>(y_); }

private:
    double c_ = 1.0;
    double p_ = 0.0;
    double p2_ = 0.0;
    double pc_ = 0.0;
    double y_ = 0.0;
};

} // namespace rigd::core::dsp
