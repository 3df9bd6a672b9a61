#pragma once

#include "core/rt.hpp"

#include <bit>
#include <cstdint>

// Cheap, branch-light approximations for the audio path. Error bounds below
// are checked against libm in tests/stages/test_curves_and_effects.cpp; the
// compressor's static-curve test (tests/stages/test_dynamics.cpp) covers
// log2/exp2 in use at 0.02 dB.
namespace rigd::core::dsp {

// |x| clamped to k >= 0 with the sign of x kept, on the bits: for floats
// of one sign the bit patterns order like the values, so an unsigned min
// does it (NaN, whose bits are above infinity's, becomes +-k). A float
// select to a constant would not do: GCC folds what follows for the
// clamped arm, which leaves a branch around the rest, and under the default
// -ftrapping-math it will not if-convert the arm holding the divide, so the
// loop does not vectorise (aarch64, SSE2; AVX-512's masks hid this).
[[nodiscard]] inline float clamp_abs(float x, float k) noexcept RIGD_RT {
    const auto bits = std::bit_cast<std::uint32_t>(x);
    const std::uint32_t ax = bits & 0x7fffffffu;
    const auto kb = std::bit_cast<std::uint32_t>(k);
    return std::bit_cast<float>((ax < kb ? ax : kb) | (bits & 0x80000000u));
}

// c ? a : b on the bits. A float select can lose to GCC's code sinking: it
// moves a divide feeding one arm into a branch, which it then will not
// if-convert under -ftrapping-math, so the loop does not vectorise.
[[nodiscard]] inline float select_bits(bool c, float a, float b) noexcept RIGD_RT {
    const std::uint32_t m = c ? ~0u : 0u;
    return std::bit_cast<float>((std::bit_cast<std::uint32_t>(a) & m) | (std::bit_cast<std::uint32_t>(b) & ~m));
}

// tanh from Lambert's continued fraction (7/6 convergent); abs error < 1e-4
// (9.6e-5 measured, at the clamp). The input is clamped where the convergent
// reaches 1 (it would overshoot to 1.00001 by x = 5), so |y| <= 1 without
// an output clamp: an output clamp to a constant lets GCC thread the loop
// into branches and stops it vectorising c * fast_tanh(x). NaN gives +-1.
[[nodiscard]] inline float fast_tanh(float x) noexcept RIGD_RT {
    constexpr float kClamp = 4.9715867f; // largest float with num / den <= 1
    const float xc = clamp_abs(x, kClamp);
    const float x2 = xc * xc;
    const float num = xc * (135135.0f + x2 * (17325.0f + x2 * (378.0f + x2)));
    const float den = 135135.0f + x2 * (62370.0f + x2 * (3150.0f + x2 * 28.0f));
    return num / den;
}

// 2^x for x in [-126, 126] (clamped); relative error < 1e-6 (2.2e-7
// measured). No float->int->float conversion (GCC will not vectorise one
// after a clamp): the magic-number add rounds to the nearest integer and
// leaves it in the low mantissa bits.
[[nodiscard]] inline float fast_exp2(float x) noexcept RIGD_RT {
    const float xc = clamp_abs(x, 126.0f);
    constexpr float kMagic = 12582912.0f; // 1.5 * 2^23
    const float t = xc + kMagic;
    const float f = xc - (t - kMagic); // [-0.5, 0.5]
    // Taylor polynomial of 2^f, ample on [-0.5, 0.5].
    const float p =
        1.0f +
        f * (0.69314718f + f * (0.24022650f + f * (0.05550411f + f * (0.00961813f + f * (0.00133336f + f * 0.00015404f)))));
    const std::uint32_t bits = (std::bit_cast<std::uint32_t>(t) - std::bit_cast<std::uint32_t>(kMagic) + 127u) << 23;
    return p * std::bit_cast<float>(bits);
}

// log2(x) for finite x > 0, absolute error < 5e-6 (3.9e-6 measured over
// 1e-30..1e6: float rounding of results up to |100|). x = 0 gives -127 and
// x < 0 something below -250 (no clamp: a clamp to a constant stops GCC
// vectorising the block loops).
[[nodiscard]] inline float fast_log2(float x) noexcept RIGD_RT {
    const auto bits = std::bit_cast<std::uint32_t>(x);
    // Arithmetic shift: the sign bit makes the exponent of a negative x hugely negative.
    std::int32_t e = (static_cast<std::int32_t>(bits) >> 23) - 127;
    // Mantissa folded into [sqrt(1/2), sqrt(2)) so the series converges fast.
    // On the bits (halving = exponent - 1, exact): a float multiply in one
    // arm only keeps a branch, which stops the loops vectorising (clamp_abs).
    std::uint32_t mb = (bits & 0x007fffffu) | 0x3f800000u;
    const bool big = mb > std::bit_cast<std::uint32_t>(1.41421356f);
    mb -= big ? 0x00800000u : 0u;
    const float m = std::bit_cast<float>(mb);
    e += big ? 1 : 0;
    const float t = (m - 1.0f) / (m + 1.0f);
    const float t2 = t * t;
    // 2/ln2 * (t + t^3/3 + t^5/5 + t^7/7 + t^9/9)
    const float s = t * (2.88539008f + t2 * (0.96179669f + t2 * (0.57707801f + t2 * (0.41219858f + t2 * 0.32059890f))));
    return static_cast<float>(e) + s;
}

// sin(2*pi*phase) for phase in [0, 1); abs error < 5e-6 (3.6e-6 measured).
[[nodiscard]] inline float fast_sin_2pi(float phase) noexcept RIGD_RT {
    // Map to [-0.5, 0.5) then to [-0.25, 0.25] by symmetry.
    float p = phase - (phase >= 0.5f ? 1.0f : 0.0f);
    if (p > 0.25f) {
        p = 0.5f - p;
    } else if (p < -0.25f) {
        p = -0.5f - p;
    }
    const float x = p * 6.28318531f; // [-pi/2, pi/2]
    const float x2 = x * x;
    return x * (1.0f + x2 * (-0.16666667f + x2 * (0.0083333331f + x2 * (-0.00019841270f + x2 * 2.7557314e-6f))));
}

[[nodiscard]] inline float fast_db_to_gain(float db) noexcept RIGD_RT { return fast_exp2(db * 0.16609640f); }
[[nodiscard]] inline float fast_gain_to_db(float g) noexcept RIGD_RT { return 6.0205999f * fast_log2(g); }

} // namespace rigd::core::dsp
