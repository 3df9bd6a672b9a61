#pragma once

#include "core/rt.hpp"

#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>

namespace rigd::core::dsp {

// y = x - x[-1] + R y[-1], R = exp(-2 pi fc / fs): a first-order high-pass
// with a zero at DC. State in double. The block path computes samples in
// pairs from the state two samples back (y1 = u1 + R u0 + R^2 y[-1]), so
// the recursion costs one FMA per two samples; it differs from the
// one-at-a-time path only by double rounding (~1e-16), far below the float
// output's resolution.
class DcBlocker {
public:
    void prepare(double cutoff_hz, double sample_rate_hz) noexcept {
        r_ = std::exp(-2.0 * std::numbers::pi * cutoff_hz / sample_rate_hz);
        r2_ = r_ * r_;
        reset();
    }
    void reset() noexcept RIGD_RT { x1_ = y1_ = 0.0; }
    [[nodiscard]] float process(float x) noexcept RIGD_RT {
        const double xd = x;
        const double y = (xd - x1_) + r_ * y1_;
        x1_ = xd;
        y1_ = y;
        return static_cast<float>(y);
    }
    void process(std::span<float> block) noexcept RIGD_RT {
        double xp = x1_;
        double yp = y1_;
        const double r = r_, r2 = r2_;
        const std::size_t n = block.size();
        float* v = block.data();
        std::size_t k = 0;
        for (; k + 1 < n; k += 2) {
            const double x0 = v[k];
            const double x1 = v[k + 1];
            const double u0 = x0 - xp;
            const double u1 = x1 - x0;
            const double y0 = u0 + r * yp;
            const double y1 = (u1 + r * u0) + r2 * yp;
            v[k] = static_cast<float>(y0);
            v[k + 1] = static_cast<float>(y1);
            xp = x1;
            yp = y1;
        }
        if (k < n) {
            const double x0 = v[k];
            yp = (x0 - xp) + r * yp;
            xp = x0;
            v[k] = static_cast<float>(yp);
        }
        x1_ = xp;
        y1_ = yp;
    }

private:
    double r_ = 0.0;
    double r2_ = 0.0;
    double x1_ = 0.0;
    double y1_ = 0.0;
};

} // namespace rigd::core::dsp
