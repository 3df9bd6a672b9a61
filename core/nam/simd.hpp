#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include "core/nam/simd_neon.hpp"
#endif

// GCC/Clang vector extensions: one source for AVX-512, AVX2 and the SSE2
// baseline of a generic build. The width follows the ISA the file is compiled
// for, so a -march=native build uses 16 lanes and a package build 4 (plus
// runtime-dispatched AVX2/AVX-512 copies of nam_kernels.cpp).
//
// RIGD_NAM_ISA names the inline namespace everything here lives in
// (isa_default: the build's own flags), so that
// copies compiled with different -m flags never share a symbol (an inline
// function compiled for AVX-512 must not be picked by the linker for the
// baseline code).
#ifndef RIGD_NAM_ISA
#define RIGD_NAM_ISA isa_default
#endif

namespace rigd::core::nam {
inline namespace RIGD_NAM_ISA {
namespace simd {

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

// s - 0 is s exactly (also -0 and NaN), and GCC folds it into a plain
// broadcast (an FMA's {1to16} operand); `VecF{} + s` costs an add first.
[[nodiscard]] inline VecF splat(float s) noexcept { return s - VecF{}; }

// Lane i of v in every lane (a register shuffle, no memory round trip).
[[nodiscard]] inline VecF lane(VecF v, int i) noexcept {
#if defined(__clang__)
    return VecF{} + v[i]; // clang has no __builtin_shuffle with a runtime mask
#else
    return __builtin_shuffle(v, VecI{} + i);
#endif
}

// x < lim ? x : lim and x > lim ? x : lim (lim when x is NaN): one min/max
// instruction on x86 (the ?: form compiles to a compare and a blend, two
// instructions in sequence).
[[nodiscard]] inline VecF min_or_lim(VecF x, VecF lim) noexcept {
#if defined(__AVX512F__)
    return _mm512_maskz_min_ps(static_cast<__mmask16>(0xFFFF), x, lim); // (_mm512_min_ps: a -Wuninitialized in GCC 12's header)
#elif defined(__AVX__)
    return _mm256_min_ps(x, lim);
#elif defined(__SSE2__)
    return _mm_min_ps(x, lim);
#else
    return x < lim ? x : lim;
#endif
}

[[nodiscard]] inline VecF max_or_lim(VecF x, VecF lim) noexcept {
#if defined(__AVX512F__)
    return _mm512_maskz_max_ps(static_cast<__mmask16>(0xFFFF), x, lim);
#elif defined(__AVX__)
    return _mm256_max_ps(x, lim);
#elif defined(__SSE2__)
    return _mm_max_ps(x, lim);
#else
    return x > lim ? x : lim;
#endif
}

// tanh as x P(x^2) / Q(x^2) with a rational minimax fit on [0, 9] (degree
// 13/6; fitted for this project with mpmath, see bench/nam/RESULTS.md):
// 5.9e-9 in exact arithmetic; in float max abs error 3.2e-7, relative 3.6e-7
// (test_nam_math "simd tanh"). The golden tests need 1e-5 end to end, which
// NAM's coarse "fast tanh" misses. Estrin evaluation keeps the dependency chain short:
// the LSTM recurrence is latency-bound. Beyond |x| = 9, tanh rounds to +-1.
// NaN gives 1 here (the clamp picks its limit; so did the compare-and-select
// it replaced) and NaN on aarch64 (simd_neon.hpp); the stages sanitise
// their input, so no NaN reaches a model in the chain.
[[nodiscard]] inline VecF tanh(VecF x) noexcept {
#if defined(__aarch64__)
    // aarch64: the NEON kernels' refactoring of the same fit (simd_neon.hpp),
    // so that every path on the machine rounds its activations alike.
    if constexpr (kLanes == 4) {
        return reinterpret_cast<VecF>(neon::tanh(reinterpret_cast<float32x4_t>(x)));
    }
#endif
    const VecF c = max_or_lim(min_or_lim(x, splat(9.0f)), splat(-9.0f));
    const VecF y = c * c;
    const VecF y2 = y * y;
    const VecF y4 = y2 * y2;
    const VecF p = (0.99999996894111232f + y * 0.13079158639032421f) +
                   y2 * (0.0030986486225687238f + y * 1.1101761550457648e-5f) +
                   y4 * ((-2.0029302352598072e-8f + y * 5.1925658910201919e-11f) + y2 * -8.2909838651206455e-14f);
    const VecF q = (1.0f + y * 0.46412478890691078f) + y2 * (0.024473739087070527f + y * 0.00025385927422398145f);
    return c * p / q;
}

// kScale * tanh(x) (kScale 1 or 1/2) with the same fit, for the LSTM
// recurrence where latency counts: 1/Q is divided out while P is still being
// evaluated (Q is ready first), one rounding more than tanh() above (test_nam_math
// bounds both). The 1/2 is folded into P's coefficients, which is exact.
template <int kHalve = 0>
[[nodiscard]] inline VecF tanh_short_latency(VecF x) noexcept {
    constexpr float s = kHalve != 0 ? 0.5f : 1.0f;
    const VecF c = max_or_lim(min_or_lim(x, splat(9.0f)), splat(-9.0f));
    const VecF y = c * c;
    const VecF y2 = y * y;
    const VecF y4 = y2 * y2;
    const VecF q = (1.0f + y * 0.46412478890691078f) + y2 * (0.024473739087070527f + y * 0.00025385927422398145f);
    const VecF r = 1.0f / q;
    const VecF p = (s * 0.99999996894111232f + y * (s * 0.13079158639032421f)) +
                   y2 * (s * 0.0030986486225687238f + y * (s * 1.1101761550457648e-5f)) +
                   y4 * ((s * -2.0029302352598072e-8f + y * (s * 5.1925658910201919e-11f)) +
                         y2 * (s * -8.2909838651206455e-14f));
    return (c * p) * r;
}

// sigmoid(x) = (1 + tanh(x / 2)) / 2: one accurate kernel for both.
[[nodiscard]] inline VecF sigmoid(VecF x) noexcept { return 0.5f + 0.5f * simd::tanh(x * 0.5f); }

} // namespace simd
} // namespace RIGD_NAM_ISA
} // namespace rigd::core::nam
