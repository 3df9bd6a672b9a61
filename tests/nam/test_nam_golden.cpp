#include "core/nam/nam_loader.hpp"
#include "core/nam/nam_model.hpp"

#include "nam_test_util.hpp"

#include <doctest/doctest.h>

using rigd::core::nam::load_nam_model;
using rigd::core::nam::NamBuildOptions;
using namespace rigd::test;

namespace {
// The golden README: two reference builds agree to 2.4e-6; an independent
// implementation with an accurate tanh should agree within 1e-5.
constexpr double kGoldenTolerance = 1e-5;
} // namespace

TEST_CASE("golden: standard WaveNet, prewarmed, 128-frame blocks, from the first sample") {
    const auto input = read_f32(golden_path("input_sine110_noise_2s_48k.f32"));
    const auto expected = read_f32(golden_path("reference_standard.exact_tanh.f32"));
    REQUIRE(input.size() == 96000);
    for (const bool fixed : {true, false}) {
        CAPTURE(fixed);
        auto model = load_nam_model(model_path("reference_standard.nam"), 128, NamBuildOptions{fixed});
        CHECK(model->prewarm_samples() == 4093);
        const auto out = render(*model, input, 128);
        CHECK(max_abs_diff(out, expected) <= kGoldenTolerance);
        MESSAGE("standard " << model->kernel_name() << ": max abs diff " << max_abs_diff(out, expected));
    }
}

TEST_CASE("golden: standard WaveNet without prewarm matches the no-prewarm reference") {
    const auto input = read_f32(golden_path("input_sine110_noise_2s_48k.f32"));
    const auto expected = read_f32(golden_path("reference_standard.exact_tanh_noprewarm.f32"));
    auto model = rigd::core::nam::build_nam_model(rigd::core::nam::load_nam_file(model_path("reference_standard.nam")));
    model->prepare(128);
    const auto out = render(*model, input, 128);
    CHECK(max_abs_diff(out, expected) <= kGoldenTolerance);
}

TEST_CASE("golden: LSTM, prewarmed 0.5 s, from the first sample") {
    const auto input = read_f32(golden_path("input_sine110_noise_2s_48k.f32"));
    const auto expected = read_f32(golden_path("namcore_lstm.exact_tanh.f32"));
    auto model = load_nam_model(model_path("namcore_lstm.nam"), 128);
    CHECK(model->prewarm_samples() == 24000);
    const auto out = render(*model, input, 128);
    CHECK(max_abs_diff(out, expected) <= kGoldenTolerance);
    MESSAGE("lstm " << model->kernel_name() << ": max abs diff " << max_abs_diff(out, expected));
}

namespace {

struct A2Golden {
    const char* model;
    const char* golden;
    float size; // < 0: not slimmable
    double tolerance;
};

// The golden README: 1e-5 max abs for audio-like outputs; the synthetic
// test models (a2_max, slimmable WaveNet) reach 10-20, compared at 2e-5
// absolute (about 1e-6 of their peak).
constexpr A2Golden kA2Goldens[] = {
    {"namcore_wavenet_a2_max.nam", "namcore_wavenet_a2_max.exact_tanh.f32", -1.0f, 2e-5},
    {"namcore_wavenet_condition_dsp.nam", "namcore_wavenet_condition_dsp.exact_tanh.f32", -1.0f, 1e-5},
    {"namcore_slimmable_wavenet.nam", "namcore_slimmable_wavenet.size_0.0.exact_tanh.f32", 0.0f, 2e-5},
    {"namcore_slimmable_wavenet.nam", "namcore_slimmable_wavenet.size_0.5.exact_tanh.f32", 0.5f, 2e-5},
    {"namcore_slimmable_wavenet.nam", "namcore_slimmable_wavenet.size_1.0.exact_tanh.f32", 1.0f, 2e-5},
    {"namcore_slimmable_container.nam", "namcore_slimmable_container.size_0.0.exact_tanh.f32", 0.0f, 1e-5},
    {"namcore_slimmable_container.nam", "namcore_slimmable_container.size_0.5.exact_tanh.f32", 0.5f, 1e-5},
    {"namcore_slimmable_container.nam", "namcore_slimmable_container.size_1.0.exact_tanh.f32", 1.0f, 1e-5},
};

} // namespace

TEST_CASE("golden: every 0.6/0.7 model and size, prewarmed, 128-frame blocks, from the first sample") {
    const auto input = read_f32(golden_path("input_sine110_noise_2s_48k.f32"));
    for (const A2Golden& g : kA2Goldens) {
        CAPTURE(std::string(g.golden));
        const auto expected = read_f32(golden_path(g.golden));
        REQUIRE(expected.size() == input.size());
        auto model = load_nam_model(model_path(g.model), 128);
        if (g.size >= 0.0f) {
            model->select_size(g.size);
        }
        const auto out = render(*model, input, 128);
        const double diff = max_abs_diff(out, expected);
        CHECK(diff <= g.tolerance);
        MESSAGE(std::string(g.golden) << " (" << model->kernel_name() << "): max abs diff " << diff);
    }
}

TEST_CASE("golden: a slimmable model with no size set runs the full model") {
    const auto input = read_f32(golden_path("input_sine110_noise_2s_48k.f32"));
    for (const A2Golden& g : {kA2Goldens[4], kA2Goldens[7]}) {
        CAPTURE(std::string(g.golden));
        const auto expected = read_f32(golden_path(g.golden));
        auto model = load_nam_model(model_path(g.model), 128);
        CHECK(max_abs_diff(render(*model, input, 128), expected) <= g.tolerance);
    }
}
