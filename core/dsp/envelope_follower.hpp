#pragma once

#include "core/rt.hpp"

#include "core/dsp/one_pole.hpp"

#include <cmath>
#include <cstddef>
#include <span>

namespace rigd::core::dsp {

// Peak follower on |x|: env = c env + (1 - c) |x| with the attack
// coefficient while |x| rises above env and the release one while it falls.
// Time constants are 1 - 1/e times (see time_constant_coeff). Both
// candidates are written out and one is selected (GCC emits a well
// predicted branch), so the recursion costs one FMA of latency per sample.
class EnvelopeFollower {
public:
    void set_times(double attack_ms, double release_ms, double sample_rate_hz) noexcept RIGD_RT {
        attack_ = time_constant_coeff(attack_ms, sample_rate_hz);
        release_ = time_constant_coeff(release_ms, sample_rate_hz);
        attack_in_ = 1.0f - attack_;
        release_in_ = 1.0f - release_;
    }
    void reset() noexcept RIGD_RT { env_ = 0.0f; }
    [[nodiscard]] float process(float x) noexcept RIGD_RT {
        env_ = step(env_, std::fabs(x));
        return env_;
    }
    // env_out[k] = the envelope after in[k]; in and env_out may be the same.
    void process(std::span<const float> in, float* env_out) noexcept RIGD_RT {
        // Locals: stores through env_out may alias the float members and
        // would force reloads inside the recursion.
        const EnvelopeFollower c = *this;
        float env = env_;
        for (std::size_t k = 0; k < in.size(); ++k) {
            env = c.step(env, std::fabs(in[k]));
            env_out[k] = env;
        }
        env_ = env;
    }
    [[nodiscard]] float value() const noexcept RIGD_RT { return env_; }

private:
    [[nodiscard]] float step(float env, float a) const noexcept RIGD_RT {
        const float up = attack_ * env + attack_in_ * a;
        const float down = release_ * env + release_in_ * a;
        return a > env ? up : down;
    }

    float attack_ = 0.0f;
    float release_ = 0.0f;
    float attack_in_ = 1.0f;
    float release_in_ = 1.0f;
    float env_ = 0.0f;
};

} // namespace rigd::core::dsp
