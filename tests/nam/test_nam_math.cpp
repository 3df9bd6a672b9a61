#include "core/nam/simd.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace rigd::core::nam;

TEST_CASE("simd tanh is accurate over the whole float range") {
    // Guards the golden parity (1e-5 end to end). Bound: 4e-7 absolute and
    // relative (measured 3.2e-7 / 3.6e-7), against double-precision std::tanh.
    double max_abs = 0.0;
    double max_rel = 0.0;
    float lanes[simd::kLanes];
    float out[simd::kLanes];
    for (float x = -30.0f; x < 30.0f;) {
        for (int i = 0; i < simd::kLanes; ++i) {
            lanes[i] = x;
            x += std::max(1e-6f, std::fabs(x) * 3e-5f);
        }
        simd::store(out, simd::tanh(simd::load(lanes)));
        for (int i = 0; i < simd::kLanes; ++i) {
            const double ref = std::tanh(static_cast<double>(lanes[i]));
            const double err = std::fabs(static_cast<double>(out[i]) - ref);
            max_abs = std::max(max_abs, err);
            if (ref != 0.0) {
                max_rel = std::max(max_rel, err / std::fabs(ref));
            }
        }
    }
    CHECK(max_abs <= 4e-7);
    CHECK(max_rel <= 4e-7);
    MESSAGE("tanh: max abs " << max_abs << ", max rel " << max_rel);

    // Odd symmetry, saturation, zero.
    simd::store(out, simd::tanh(simd::splat(0.0f)));
    CHECK(out[0] == 0.0f);
    simd::store(out, simd::tanh(simd::splat(1e4f)));
    CHECK(out[0] == doctest::Approx(1.0).epsilon(1e-7));
    simd::store(out, simd::tanh(simd::splat(-std::numeric_limits<float>::infinity())));
    CHECK(out[0] == doctest::Approx(-1.0).epsilon(1e-7));
}

TEST_CASE("simd tanh_short_latency (the LSTM's) is accurate, and its halved form is exactly half") {
    // Same fit as simd::tanh with 1/Q rounded separately: same bound.
    double max_abs = 0.0;
    double max_rel = 0.0;
    float lanes[simd::kLanes];
    float out[simd::kLanes];
    float half[simd::kLanes];
    bool halves_exact = true;
    for (float x = -30.0f; x < 30.0f;) {
        for (int i = 0; i < simd::kLanes; ++i) {
            lanes[i] = x;
            x += std::max(1e-6f, std::fabs(x) * 3e-5f);
        }
        simd::store(out, simd::tanh_short_latency(simd::load(lanes)));
        simd::store(half, simd::tanh_short_latency<1>(simd::load(lanes)));
        for (int i = 0; i < simd::kLanes; ++i) {
            const double ref = std::tanh(static_cast<double>(lanes[i]));
            const double err = std::fabs(static_cast<double>(out[i]) - ref);
            max_abs = std::max(max_abs, err);
            if (ref != 0.0) {
                max_rel = std::max(max_rel, err / std::fabs(ref));
            }
            halves_exact = halves_exact && half[i] == 0.5f * out[i];
        }
    }
    CHECK(max_abs <= 4e-7);
    CHECK(max_rel <= 4e-7);
    CHECK(halves_exact);
    MESSAGE("tanh_short_latency: max abs " << max_abs << ", max rel " << max_rel);
    simd::store(out, simd::tanh_short_latency(simd::splat(0.0f)));
    CHECK(out[0] == 0.0f);
    simd::store(out, simd::tanh_short_latency(simd::splat(1e4f)));
    CHECK(out[0] == doctest::Approx(1.0).epsilon(1e-7));
}

TEST_CASE("simd sigmoid is accurate") {
    double max_abs = 0.0;
    float out[simd::kLanes];
    for (float x = -40.0f; x < 40.0f; x += 0.01f) {
        simd::store(out, simd::sigmoid(simd::splat(x)));
        max_abs = std::max(max_abs, std::fabs(static_cast<double>(out[0]) - 1.0 / (1.0 + std::exp(-double{x}))));
    }
    CHECK(max_abs <= 3e-7);
}

#if defined(RIGD_NAM_NEON)
#include "core/nam/simd_neon.hpp"

TEST_CASE("neon tanh is as accurate as simd tanh") {
    // The NEON kernels' refactored form of the same fit: same bound.
    double max_abs = 0.0;
    double max_rel = 0.0;
    float lanes[4];
    float out[4];
    for (float x = -30.0f; x < 30.0f;) {
        for (float& lane : lanes) {
            lane = x;
            x += std::max(1e-6f, std::fabs(x) * 3e-5f);
        }
        vst1q_f32(out, neon::tanh(vld1q_f32(lanes)));
        for (int i = 0; i < 4; ++i) {
            const double ref = std::tanh(static_cast<double>(lanes[i]));
            const double err = std::fabs(static_cast<double>(out[i]) - ref);
            max_abs = std::max(max_abs, err);
            if (ref != 0.0) {
                max_rel = std::max(max_rel, err / std::fabs(ref));
            }
        }
    }
    CHECK(max_abs <= 4e-7);
    CHECK(max_rel <= 4e-7);
    MESSAGE("neon tanh: max abs " << max_abs << ", max rel " << max_rel);

    vst1q_f32(out, neon::tanh(vdupq_n_f32(0.0f)));
    CHECK(out[0] == 0.0f);
    vst1q_f32(out, neon::tanh(vdupq_n_f32(1e4f)));
    CHECK(out[0] == doctest::Approx(1.0).epsilon(1e-7));
    vst1q_f32(out, neon::tanh(vdupq_n_f32(-std::numeric_limits<float>::infinity())));
    CHECK(out[0] == doctest::Approx(-1.0).epsilon(1e-7));
    vst1q_f32(out, neon::tanh(vdupq_n_f32(std::numeric_limits<float>::quiet_NaN())));
    CHECK(std::isnan(out[0]));
}
#endif
