#pragma once

// aarch64 only: the NEON kernels' math (nam_kernels_neon.cpp).
#include <arm_neon.h>

namespace rigd::core::nam::neon {

// simd::tanh's rational fit (simd.hpp: x P(x^2) / Q(x^2), |x| clamped to 9)
// refactored for NEON, whose FMLA overwrites its addend: every constant
// addend would cost a register copy. Instead each linear pair c_k + c_{k+1} y
// becomes c_{k+1} (y + c_k / c_{k+1}), a three-operand FADD, and the c_{k+1}
// go into by-lane multipliers; P and Q are both divided by Q's y coefficient.
// 20 instructions per vector against ~26 for the Estrin form as GCC emits it;
// the same accuracy (test_nam_math "neon tanh"). FMIN/FMAX clamp, so NaN
// comes out NaN.
// The constants, for loops that hoist them (see keep_in_registers()).
struct TanhConstants {
    // P(y)/b1 = (a1/b1) (y + a0/a1) + (a3/b1) y^2 (y + a2/a3) + y^4 ((a5/b1) (y + a4/a5) + (a6/b1) y^2)
    // Q(y)/b1 = (y + 1/b1) + (b3/b1) y^2 (y + b2/b3)
    float32x4_t mul = {0.2818026304915961f, 2.3919777214666983e-05f, 1.1187865882469944e-10f,
                       -1.7863695418310362e-13f};           // by lane
    float32x4_t mul_q = {0.0005469634035748473f, 0.0f, 0.0f, 0.0f}; // lane 0
    float32x4_t hi = vdupq_n_f32(9.0f);
    float32x4_t lo = vdupq_n_f32(-9.0f);
    float32x4_t u0 = vdupq_n_f32(7.645751508486107f);
    float32x4_t u2 = vdupq_n_f32(279.1132387851537f);
    float32x4_t u4 = vdupq_n_f32(-385.7303455163837f);
    float32x4_t v0 = vdupq_n_f32(2.1545929540957345f);
    float32x4_t v2 = vdupq_n_f32(96.40671652388484f);

    // GCC folds a by-lane multiply by a known constant into a multiply by
    // a splatted constant, which takes a register per coefficient (and a
    // 4-way unrolled loop then spills): hide the values from it.
    void keep_in_registers() noexcept {
        __asm__("" : "+w"(mul), "+w"(mul_q), "+w"(hi), "+w"(lo), "+w"(u0), "+w"(u2), "+w"(u4), "+w"(v0), "+w"(v2));
    }
};

[[nodiscard, gnu::always_inline]] inline float32x4_t tanh(float32x4_t x, const TanhConstants& k) noexcept {
    const float32x4_t c = vmaxq_f32(vminq_f32(x, k.hi), k.lo);
    const float32x4_t y = vmulq_f32(c, c);
    const float32x4_t y2 = vmulq_f32(y, y);
    const float32x4_t y4 = vmulq_f32(y2, y2);
    const float32x4_t s = vfmaq_laneq_f32(vmulq_laneq_f32(vaddq_f32(y, k.u4), k.mul, 2), y2, k.mul, 3);
    float32x4_t p = vmulq_laneq_f32(vaddq_f32(y, k.u0), k.mul, 0);
    p = vfmaq_laneq_f32(p, vmulq_f32(y2, vaddq_f32(y, k.u2)), k.mul, 1);
    p = vfmaq_f32(p, y4, s);
    const float32x4_t q = vfmaq_laneq_f32(vaddq_f32(y, k.v0), vmulq_f32(y2, vaddq_f32(y, k.v2)), k.mul_q, 0);
    return vdivq_f32(vmulq_f32(c, p), q);
}

[[nodiscard, gnu::always_inline]] inline float32x4_t tanh(float32x4_t x) noexcept { return tanh(x, TanhConstants{}); }

} // namespace rigd::core::nam::neon
