#pragma once

#include "core/dsp/biquad_design.hpp"

#include <span>

namespace rigd::core::dsp {

// Transposed direct form II second-order section: float state and
// coefficients (designed in double), so coefficients may change between
// samples without resetting the state.
class Biquad {
public:
    void set(const BiquadCoeffs& c) noexcept {
        b0_ = static_cast<float>(c.b0);
        b1_ = static_cast<float>(c.b1);
        b2_ = static_cast<float>(c.b2);
        a1_ = static_cast<float>(c.a1);
        a2_ = static_cast<float>(c.a2);
    }
    void reset() noexcept { s1_ = s2_ = 0.0f; }

    [[nodiscard]] float process(float x) noexcept {
        const float y = b0_ * x + s1_;
        s1_ = b1_ * x - a1_ * y + s2_;
        s2_ = b2_ * x - a2_ * y;
        return y;
    }
    void process(std::span<float> block) noexcept {
        float s1 = s1_;
        float s2 = s2_;
        for (float& v : block) {
            const float x = v;
            const float y = b0_ * x + s1;
            s1 = b1_ * x - a1_ * y + s2;
            s2 = b2_ * x - a2_ * y;
            v = y;
        }
        s1_ = s1;
        s2_ = s2;
    }

private:
    float b0_ = 1.0f, b1_ = 0.0f, b2_ = 0.0f, a1_ = 0.0f, a2_ = 0.0f;
    float s1_ = 0.0f, s2_ = 0.0f;
};

} // namespace rigd::core::dsp
