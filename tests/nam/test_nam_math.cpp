#include "core/nam/simd.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace rigd::core::nam;

namespace {

struct TanhError {
    double max_abs = 0.0;
    double max_rel = 0.0;
};

// Sweeps [-30, 30) in steps of 3e-5 relative (1e-6 near 0), kWidth values a
// call: eval(in, out) computes tanh of kWidth floats. Against double
// std::tanh; each (in, out) pair also goes to check(in, out) per call.
template <int kWidth, class Eval, class Check>
TanhError tanh_error(Eval eval, Check check) {
    TanhError e;
    float in[kWidth];
    float out[kWidth];
    for (float x = -30.0f; x < 30.0f;) {
        for (float& v : in) {
            v = x;
            x += std::max(1e-6f, std::fabs(x) * 3e-5f);
        }
        eval(in, out);
        check(in, out);
        for (int i = 0; i < kWidth; ++i) {
            const double ref = std::tanh(static_cast<double>(in[i]));
            const double err = std::fabs(static_cast<double>(out[i]) - ref);
            e.max_abs = std::max(e.max_abs, err);
            if (ref != 0.0) {
                e.max_rel = std::max(e.max_rel, err / std::fabs(ref));
            }
        }
    }
    return e;
}

constexpr auto kNoCheck = [](const float*, const float*) {};

} // namespace

TEST_CASE("simd tanh is accurate over the whole float range") {
    // Guards the golden parity (1e-5 end to end). Bound: 4e-7 absolute and
    // relative (measured 3.2e-7 / 3.6e-7), against double-precision std::tanh.
    const auto e = tanh_error<simd::kLanes>(
        [](const float* in, float* out) { simd::store(out, simd::tanh(simd::load(in))); }, kNoCheck);
    CHECK(e.max_abs <= 4e-7);
    CHECK(e.max_rel <= 4e-7);
    MESSAGE("tanh: max abs " << e.max_abs << ", max rel " << e.max_rel);

    float out[simd::kLanes];

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
    bool halves_exact = true;
    const auto e = tanh_error<simd::kLanes>(
        [](const float* in, float* out) { simd::store(out, simd::tanh_short_latency(simd::load(in))); },
        [&](const float* in, const float* out) {
            float half[simd::kLanes];
            simd::store(half, simd::tanh_short_latency<1>(simd::load(in)));
            for (int i = 0; i < simd::kLanes; ++i) {
                halves_exact = halves_exact && half[i] == 0.5f * out[i];
            }
        });
    CHECK(e.max_abs <= 4e-7);
    CHECK(e.max_rel <= 4e-7);
    CHECK(halves_exact);
    MESSAGE("tanh_short_latency: max abs " << e.max_abs << ", max rel " << e.max_rel);
    float out[simd::kLanes];
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
    const auto e =
        tanh_error<4>([](const float* in, float* out) { vst1q_f32(out, neon::tanh(vld1q_f32(in))); }, kNoCheck);
    CHECK(e.max_abs <= 4e-7);
    CHECK(e.max_rel <= 4e-7);
    MESSAGE("neon tanh: max abs " << e.max_abs << ", max rel " << e.max_rel);

    float out[4];

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
