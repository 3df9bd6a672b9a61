#pragma once

#include <bit>
#include <cstdint>

// Cheap, branch-light approximations for the audio path. Error bounds below
// were measured against libm over the stated ranges; the compressor's
// static-curve test (tests/stages/test_dynamics.cpp) covers log2/exp2 at
// 0.02 dB.
namespace rigd::core::dsp {

// tanh from Lambert's continued fraction (7/6 convergent); abs error < 1e-4
// (largest near the clamp at +-5; output within [-1, 1]).
[[nodiscard]] inline float fast_tanh(float x) noexcept {
    const float xc = x > 5.0f ? 5.0f : (x < -5.0f ? -5.0f : x);
    const float x2 = xc * xc;
    const float num = xc * (135135.0f + x2 * (17325.0f + x2 * (378.0f + x2)));
    const float den = 135135.0f + x2 * (62370.0f + x2 * (3150.0f + x2 * 28.0f));
    const float y = num / den;
    return y > 1.0f ? 1.0f : (y < -1.0f ? -1.0f : y);
}

// 2^x for x in [-126, 126] (clamped); relative error < 2e-5 (1e-4 dB).
[[nodiscard]] inline float fast_exp2(float x) noexcept {
    const float xc = x > 126.0f ? 126.0f : (x < -126.0f ? -126.0f : x);
    const float fi = static_cast<float>(static_cast<std::int32_t>(xc + 127.0f)) - 127.0f; // floor for xc > -127
    const float f = xc - fi;                                                                // [0, 1)
    // Minimax-style polynomial for 2^f on [0, 1).
    const float p =
        1.0f +
        f * (0.69314718f + f * (0.24022650f + f * (0.05550411f + f * (0.00961813f + f * (0.00133336f + f * 0.00015404f)))));
    const auto bits = static_cast<std::uint32_t>(static_cast<std::int32_t>(fi) + 127) << 23;
    return p * std::bit_cast<float>(bits);
}

// log2(x) for finite x > 0 (x <= 0 gives a large negative number); absolute
// error < 2e-6.
[[nodiscard]] inline float fast_log2(float x) noexcept {
    constexpr float kTiny = 1e-30f;
    const float xc = x > kTiny ? x : kTiny;
    const auto bits = std::bit_cast<std::uint32_t>(xc);
    // Mantissa folded into [sqrt(1/2), sqrt(2)) so the series converges fast.
    std::int32_t e = static_cast<std::int32_t>((bits >> 23) & 0xffu) - 127;
    std::uint32_t mbits = (bits & 0x007fffffu) | 0x3f800000u;
    float m = std::bit_cast<float>(mbits);
    if (m > 1.41421356f) {
        m *= 0.5f;
        ++e;
    }
    const float t = (m - 1.0f) / (m + 1.0f);
    const float t2 = t * t;
    // 2/ln2 * (t + t^3/3 + t^5/5 + t^7/7 + t^9/9)
    const float s = t * (2.88539008f + t2 * (0.96179669f + t2 * (0.57707801f + t2 * (0.41219858f + t2 * 0.32059890f))));
    return static_cast<float>(e) + s;
}

// sin(2*pi*phase) for phase in [0, 1); abs error < 5e-6.
[[nodiscard]] inline float fast_sin_2pi(float phase) noexcept {
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

[[nodiscard]] inline float fast_db_to_gain(float db) noexcept { return fast_exp2(db * 0.16609640f); }
[[nodiscard]] inline float fast_gain_to_db(float g) noexcept { return 6.0205999f * fast_log2(g); }

} // namespace rigd::core::dsp
