#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

// GCC/Clang vector extensions: one source for AVX-512, AVX2 and the SSE2
// baseline of a generic build. The width follows the ISA the file is compiled
// for, so a -march=native build uses 16 lanes and a package build 4.
namespace rigd::core::nam::simd {

#if defined(__AVX512F__)
inline constexpr int kLanes = 16;
#elif defined(__AVX__)
inline constexpr int kLanes = 8;
#else
inline constexpr int kLanes = 4;
#endif

using VecF = float __attribute__((vector_size(kLanes * sizeof(float))));
using VecI = std::int32_t __attribute__((vector_size(kLanes * sizeof(float))));

[[nodiscard]] inline VecF load(const float* p) noexcept {
    VecF v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

inline void store(float* p, VecF v) noexcept { std::memcpy(p, &v, sizeof(v)); }

[[nodiscard]] inline VecF splat(float s) noexcept { return VecF{} + s; }

// tanh within 3 ulp over the whole float range (max abs error 1.5e-7, max
// relative 2.1e-7: test_nam_math "simd tanh"); the golden tests need 1e-5
// end to end, which NAM's coarse rational "fast tanh" misses. Written as
// tanh(|x|) = -m / (2 + m) with m = expm1(-2|x|), and expm1 evaluated as
// 2^n * expm1(r) + (2^n - 1) so that small |x| keeps full relative
// precision without a second branch. NaN comes out as +-1 (clamped).
[[nodiscard]] inline VecF tanh(VecF x) noexcept {
    const VecI bits = std::bit_cast<VecI>(x);
    const VecI sign = bits & static_cast<std::int32_t>(0x80000000u);
    VecF a = std::bit_cast<VecF>(bits & 0x7fffffff);
    a = a < 9.0f ? a : 9.0f; // tanh(9) rounds to 1 - 2^-24 already; keeps 2^n normal
    const VecF y = a * -2.0f; // in [-18, 0]
    // n = round(y / ln 2) (y <= 0: truncating y/ln2 - 0.5 rounds half away).
    const VecI n = __builtin_convertvector(a * -2.88539008177792681f - 0.5f, VecI);
    const VecF fn = __builtin_convertvector(n, VecF);
    // r = y - n ln 2 in two steps (Cody-Waite), |r| <= ln(2)/2.
    VecF r = y - fn * 0.693145751953125f;
    r = r - fn * 1.42860682030941723212e-6f;
    // expm1(r) = r (1 + r/2 + r^2/6 + ... + r^6/5040): truncation < 2e-8
    // relative. Estrin's scheme: a short dependency chain for the LSTM.
    const VecF r2 = r * r;
    const VecF p01 = 1.0f + r * 0.5f;
    const VecF p23 = 1.0f / 6.0f + r * (1.0f / 24.0f);
    const VecF p45 = 1.0f / 120.0f + r * (1.0f / 720.0f);
    const VecF p456 = p45 + r2 * (1.0f / 5040.0f);
    const VecF p = p01 + r2 * (p23 + r2 * p456);
    const VecF em1r = p * r;
    const VecI scale_bits = (n + 127) << 23;
    const VecF s = std::bit_cast<VecF>(scale_bits);
    const VecF m = s * em1r + (s - 1.0f); // expm1(y), in (-1, 0]
    const VecF t = m / (m + 2.0f);        // -tanh(|x|), sign bit set
    const VecI out = std::bit_cast<VecI>(t) ^ (sign ^ static_cast<std::int32_t>(0x80000000u));
    return std::bit_cast<VecF>(out);
}

// sigmoid(x) = (1 + tanh(x / 2)) / 2: one accurate kernel for both.
[[nodiscard]] inline VecF sigmoid(VecF x) noexcept { return 0.5f + 0.5f * simd::tanh(x * 0.5f); }

} // namespace rigd::core::nam::simd
