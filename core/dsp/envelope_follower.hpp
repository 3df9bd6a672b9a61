#pragma once

#include "core/dsp/one_pole.hpp"

#include <cmath>

namespace rigd::core::dsp {

// Peak follower on |x|: env = c env + (1 - c) |x| with the attack
// coefficient while |x| rises above env and the release one while it falls.
// Time constants are 1 - 1/e times (see time_constant_coeff).
class EnvelopeFollower {
public:
    void set_times(double attack_ms, double release_ms, double sample_rate_hz) noexcept {
        attack_ = time_constant_coeff(attack_ms, sample_rate_hz);
        release_ = time_constant_coeff(release_ms, sample_rate_hz);
    }
    void reset() noexcept { env_ = 0.0f; }
    [[nodiscard]] float process(float x) noexcept {
        const float a = std::fabs(x);
        const float c = a > env_ ? attack_ : release_;
        env_ = a + c * (env_ - a);
        return env_;
    }
    [[nodiscard]] float value() const noexcept { return env_; }

private:
    float attack_ = 0.0f;
    float release_ = 0.0f;
    float env_ = 0.0f;
};

} // namespace rigd::core::dsp
