#include "core/nam/nam_loader.hpp"
#include "core/nam/nam_model.hpp"

#include "naive_reference.hpp"
#include "nam_test_util.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace rigd::core::nam;
using namespace rigd::test;

namespace {

// Block vs per-sample: bit-identical (every frame is computed by the same
// operations whatever the block; a reset is exact). Fixed vs general
// kernels: the same summation order, so identical up to the last bit.
constexpr double kBlockTolerance = 0.0;

std::vector<float> golden_input() { return read_f32(golden_path("input_sine110_noise_2s_48k.f32")); }

// The golden input around the noise burst (1.0 s .. 1.1 s): sine and noise.
std::vector<float> excerpt(std::size_t n) {
    const auto in = golden_input();
    const std::size_t start = 47000;
    return {in.begin() + static_cast<std::ptrdiff_t>(start), in.begin() + static_cast<std::ptrdiff_t>(start + n)};
}

} // namespace

TEST_CASE("block output equals per-sample output for block sizes 1..4096") {
    for (const char* name : {"reference_standard.nam", "namcore_lstm.nam"}) {
        CAPTURE(name);
        // Four 4096-frame blocks from a fresh model across the noise burst
        // (more than the standard model's receptive field, 4,093 samples).
        const auto input = excerpt(4 * 4096);
        auto per_sample_model = load_nam_model(model_path(name), 4096);
        const auto expected = render_per_sample(*per_sample_model, input);
        for (const std::size_t block : {1u, 7u, 64u, 128u, 1000u, 4096u}) {
            CAPTURE(block);
            auto model = load_nam_model(model_path(name), 4096);
            const auto out = render(*model, input, block);
            CHECK(max_abs_diff(out, expected) <= kBlockTolerance);
        }
    }
}

TEST_CASE("mixed block lengths and reset() return to the prewarmed state") {
    const auto input = excerpt(6000);
    auto model = load_nam_model(model_path("reference_standard.nam"), 256);
    const auto reference = render(*model, input, 128);
    model->reset();
    std::vector<float> out(input.size());
    std::size_t i = 0;
    for (std::size_t k = 0; i < input.size(); ++k) {
        const std::size_t n = std::min<std::size_t>({1 + (k * 37) % 256, input.size() - i});
        model->process_buffer(input.data() + i, out.data() + i, n);
        i += n;
    }
    CHECK(max_abs_diff(out, reference) <= kBlockTolerance);
}

TEST_CASE("in-place processing (in == out) gives the same output") {
    const auto input = excerpt(2048);
    for (const char* name : {"synthetic_a1_nano.nam", "synthetic_lstm_2x8.nam"}) {
        auto a = load_nam_model(model_path(name), 128);
        auto b = load_nam_model(model_path(name), 128);
        const auto expected = render(*a, input, 128);
        std::vector<float> buf = input;
        for (std::size_t i = 0; i < buf.size(); i += 128) {
            b->process_buffer(buf.data() + i, buf.data() + i, 128);
        }
        CHECK(max_abs_diff(buf, expected) == 0.0);
    }
}

TEST_CASE("fixed-size kernels and the general kernels give the same output") {
    const auto input = excerpt(8192);
    for (const char* name : {"reference_standard.nam", "synthetic_a1_lite.nam", "synthetic_a1_feather.nam",
                             "synthetic_a1_nano.nam", "synthetic_lstm_1x16.nam", "synthetic_lstm_2x8.nam"}) {
        CAPTURE(name);
        auto fixed = load_nam_model(model_path(name), 128, NamBuildOptions{true});
        auto general = load_nam_model(model_path(name), 128, NamBuildOptions{false});
        CHECK(std::string(fixed->kernel_name()).find("fixed") != std::string::npos);
        CHECK(std::string(fixed->kernel_name()).find("dynamic") == std::string::npos);
        CHECK(std::string(general->kernel_name()).find("fixed") == std::string::npos);
        const auto a = render(*fixed, input, 128);
        const auto b = render(*general, input, 97);
        CHECK(max_abs_diff(a, b) <= 1e-6);
    }
}

TEST_CASE("every supported layout matches a naive double-precision reference") {
    // No prewarm on either side: both start from zero history / h0, c0.
    const auto input = excerpt(6000);
    struct Case {
        const char* name;
        double tolerance; // float vs double over the whole excerpt
    };
    for (const Case c : {Case{"reference_standard.nam", 1e-5}, Case{"synthetic_a1_lite.nam", 1e-4},
                         Case{"synthetic_a1_feather.nam", 1e-4}, Case{"synthetic_a1_nano.nam", 1e-4},
                         Case{"namcore_wavenet.nam", 1e-5}, Case{"namcore_lstm.nam", 1e-5},
                         Case{"synthetic_lstm_1x16.nam", 1e-4}, Case{"synthetic_lstm_2x8.nam", 1e-4}}) {
        CAPTURE(std::string(c.name));
        const NamFile file = load_nam_file(model_path(c.name));
        std::vector<float> expected(input.size());
        if (file.is_wavenet()) {
            NaiveWaveNet ref(file);
            for (std::size_t i = 0; i < input.size(); ++i) {
                expected[i] = static_cast<float>(ref.process(input[i]));
            }
        } else {
            NaiveLstm ref(file);
            for (std::size_t i = 0; i < input.size(); ++i) {
                expected[i] = static_cast<float>(ref.process(input[i]));
            }
        }
        for (const bool fixed : {true, false}) {
            auto model = build_nam_model(file, NamBuildOptions{fixed});
            model->prepare(128);
            const auto out = render(*model, input, 128);
            const double diff = max_abs_diff(out, expected);
            CHECK(diff <= c.tolerance);
            MESSAGE(std::string(c.name) << " (" << model->kernel_name() << ") vs double reference: " << diff);
        }
    }
}
