#pragma once

#include "core/rt.hpp"

#include "core/dsp/biquad_design.hpp"

#include <span>

namespace rigd::core::dsp {

// Transposed direct form II second-order section (coefficients designed in
// double, stored as T), so coefficients may change between samples without
// resetting the state. Biquad (float) for the audio path; BiquadD where
// poles sit very close to z = 1 (low bands of the graphic EQ).
template <typename T>
class BiquadT {
public:
    void set(const BiquadCoeffs& c) noexcept RIGD_RT {
        b0_ = static_cast<T>(c.b0);
        b1_ = static_cast<T>(c.b1);
        b2_ = static_cast<T>(c.b2);
        a1_ = static_cast<T>(c.a1);
        a2_ = static_cast<T>(c.a2);
    }
    void reset() noexcept RIGD_RT { s1_ = s2_ = T(0); }

    [[nodiscard]] float process(float xf) noexcept RIGD_RT {
        const T x = xf;
        const T y = b0_ * x + s1_;
        s1_ = b1_ * x - a1_ * y + s2_;
        s2_ = b2_ * x - a2_ * y;
        return static_cast<float>(y);
    }
    void process(std::span<float> block) noexcept RIGD_RT {
        T s1 = s1_;
        T s2 = s2_;
        for (float& v : block) {
            const T x = v;
            const T y = b0_ * x + s1;
            s1 = b1_ * x - a1_ * y + s2;
            s2 = b2_ * x - a2_ * y;
            v = static_cast<float>(y);
        }
        s1_ = s1;
        s2_ = s2;
    }

private:
    T b0_ = T(1), b1_ = T(0), b2_ = T(0), a1_ = T(0), a2_ = T(0);
    T s1_ = T(0), s2_ = T(0);
};

using Biquad = BiquadT<float>;
using BiquadD = BiquadT<double>;

} // namespace rigd::core::dsp
