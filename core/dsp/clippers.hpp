#pragma once

#include "core/rt.hpp"

#include "core/dsp/fast_math.hpp"
#include "core/dsp/triode_table.hpp"

#include <cmath>

namespace rigd::core::dsp {

// The preamp's clipper curves (input already multiplied by the drive).
enum class ClipperKind : int { soft, medium, hard, asymmetric, class_a, triode };

// atan(x) * 2/pi with a rational fit on [0, 1] and the 1/x reflection;
// abs error < 1e-5.
[[nodiscard]] inline float fast_atan_norm(float x) noexcept RIGD_RT {
    const float ax = std::fabs(x);
    const bool big = ax > 1.0f;
    const float z = big ? 1.0f / ax : ax;
    const float z2 = z * z;
    float a = z * (0.99997726f + z2 * (-0.33262347f + z2 * (0.19354346f + z2 * (-0.11643287f +
                                                                             z2 * (0.05265332f + z2 * -0.01172120f)))));
    a = big ? 1.57079633f - a : a;
    return std::copysign(a * 0.63661977f, x);
}

[[nodiscard]] inline float clip(ClipperKind kind, float x, const TriodeTable& triode) noexcept RIGD_RT {
    switch (kind) {
    case ClipperKind::soft:
        return fast_tanh(x);
    case ClipperKind::medium:
        return fast_atan_norm(x);
    case ClipperKind::hard:
        return x > 1.0f ? 1.0f : (x < -1.0f ? -1.0f : x);
    case ClipperKind::asymmetric:
        return x >= 0.0f ? fast_tanh(x) : 0.7f * fast_tanh(x) + 0.3f * x / (1.0f + std::fabs(x));
    case ClipperKind::class_a: {
        // A mild wave fold above |x| = 1.
        const float t = fast_tanh(x);
        const float ax = std::fabs(x);
        const float fold = ax > 1.0f ? t * (2.0f - (ax < 2.0f ? ax : 2.0f)) : t;
        return 0.7f * t + 0.3f * fold;
    }
    case ClipperKind::triode:
        return triode(x);
    }
    return x;
}

} // namespace rigd::core::dsp
