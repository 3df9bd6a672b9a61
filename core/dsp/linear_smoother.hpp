#pragma once

#include "core/rt.hpp"

#include <cstdint>

namespace rigd::core::dsp {

// Ramps linearly to a new target over a fixed number of samples. The first
// target after prepare() (or snap()) is taken at once, so a freshly prepared
// stage starts at its set value instead of gliding from zero.
class LinearSmoother {
public:
    void prepare(double sample_rate_hz, double ramp_ms) noexcept {
        ramp_samples_ = static_cast<std::int32_t>(sample_rate_hz * ramp_ms * 0.001);
        if (ramp_samples_ < 1) {
            ramp_samples_ = 1;
        }
        armed_ = false;
        remaining_ = 0;
    }

    void set_target(float target) noexcept RIGD_RT {
        if (!armed_) {
            snap(target);
            return;
        }
        if (target == target_) {
            return;
        }
        target_ = target;
        remaining_ = ramp_samples_;
        step_ = (target_ - current_) / static_cast<float>(ramp_samples_);
    }

    // As set_target, but the ramp takes at least `min_samples` (for ramps
    // whose speed must stay bounded, e.g. a delay's read position).
    void set_target_over(float target, std::int32_t min_samples) noexcept RIGD_RT {
        if (!armed_) {
            snap(target);
            return;
        }
        if (target == target_) {
            return;
        }
        const std::int32_t n = min_samples > ramp_samples_ ? min_samples : ramp_samples_;
        target_ = target;
        remaining_ = n;
        step_ = (target_ - current_) / static_cast<float>(n);
    }

    void snap(float value) noexcept RIGD_RT {
        current_ = target_ = value;
        remaining_ = 0;
        step_ = 0.0f;
        armed_ = true;
    }

    [[nodiscard]] float next() noexcept RIGD_RT {
        if (remaining_ > 0) {
            --remaining_;
            current_ = remaining_ == 0 ? target_ : current_ + step_;
        }
        return current_;
    }

    [[nodiscard]] bool is_smoothing() const noexcept RIGD_RT { return remaining_ > 0; }
    [[nodiscard]] float current() const noexcept { return current_; }
    [[nodiscard]] float target() const noexcept { return target_; }

private:
    float current_ = 0.0f;
    float target_ = 0.0f;
    float step_ = 0.0f;
    std::int32_t remaining_ = 0;
    std::int32_t ramp_samples_ = 1;
    bool armed_ = false;
};

} // namespace rigd::core::dsp
