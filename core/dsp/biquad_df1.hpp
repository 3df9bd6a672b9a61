#pragma once

#include "core/rt.hpp"

#include "core/dsp/biquad_design.hpp"

#include <span>

namespace rigd::core::dsp {

// Direct form I second-order section, state and arithmetic in T. The sum is
// written so the last operation is the fused -a1 * y[n-1]: the recursion a
// block has to wait on is one FMA per sample (TDF-II needs two), which
// halves the cost of the serial filters on the chain's critical path.
// Coefficients may change between samples without resetting the state.
template <typename T>
class BiquadDf1T {
public:
    void set(const BiquadCoeffs& c) noexcept RIGD_RT {
        b0_ = static_cast<T>(c.b0);
        b1_ = static_cast<T>(c.b1);
        b2_ = static_cast<T>(c.b2);
        a1_ = static_cast<T>(c.a1);
        a2_ = static_cast<T>(c.a2);
    }
    void reset() noexcept RIGD_RT { x1_ = x2_ = y1_ = y2_ = T(0); }

    // One sample through the section (T in, T out), for fused loops.
    [[nodiscard]] T tick(T x) noexcept RIGD_RT {
        const T y = b0_ * x + b1_ * x1_ + b2_ * x2_ - a2_ * y2_ - a1_ * y1_;
        x2_ = x1_;
        x1_ = x;
        y2_ = y1_;
        y1_ = y;
        return y;
    }
    [[nodiscard]] float process(float x) noexcept RIGD_RT { return static_cast<float>(tick(static_cast<T>(x))); }
    void process(std::span<float> block) noexcept RIGD_RT {
        T x1 = x1_, x2 = x2_, y1 = y1_, y2 = y2_;
        const T b0 = b0_, b1 = b1_, b2 = b2_, a1 = a1_, a2 = a2_;
        for (float& v : block) {
            const T x = v;
            const T y = b0 * x + b1 * x1 + b2 * x2 - a2 * y2 - a1 * y1;
            x2 = x1;
            x1 = x;
            y2 = y1;
            y1 = y;
            v = static_cast<float>(y);
        }
        x1_ = x1;
        x2_ = x2;
        y1_ = y1;
        y2_ = y2;
    }

private:
    T b0_ = T(1), b1_ = T(0), b2_ = T(0), a1_ = T(0), a2_ = T(0);
    T x1_ = T(0), x2_ = T(0), y1_ = T(0), y2_ = T(0);
};

using BiquadDf1 = BiquadDf1T<float>;
using BiquadDf1D = BiquadDf1T<double>;

} // namespace rigd::core::dsp
