// Format 0.6/0.7: the general WaveNet against the naive double reference
// (shipped models and random shapes), block-size invariance, the size
// switch (no allocation, crossfade, exact afterwards) and load/switch times.
#include "core/nam/general_wavenet_model.hpp"
#include "core/nam/nam_loader.hpp"
#include "core/nam/nam_model.hpp"
#include "core/nam/nam_stage.hpp"
#include "core/nam/switching_model.hpp"
#include "core/nam/wavenet_model.hpp"

#include "a2_synth.hpp"
#include "alloc_counter.hpp"
#include "naive_general_wavenet.hpp"
#include "naive_reference.hpp"
#include "nam_test_util.hpp"
#include "random_wavenet.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>

using namespace rigd::core;
using namespace rigd::core::nam;
using namespace rigd::test;

namespace {

std::vector<float> excerpt(std::size_t n, std::size_t start = 47000) {
    const auto in = read_f32(golden_path("input_sine110_noise_2s_48k.f32"));
    return {in.begin() + static_cast<std::ptrdiff_t>(start), in.begin() + static_cast<std::ptrdiff_t>(start + n)};
}

std::vector<float> naive_render(const NamFile& file, std::span<const float> in) {
    NaiveGeneralWaveNet ref(file);
    std::vector<float> out(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        out[i] = static_cast<float>(ref.process(in[i]));
    }
    return out;
}

double peak(std::span<const float> x) {
    double p = 0.0;
    for (const float v : x) {
        p = std::max(p, static_cast<double>(std::fabs(v)));
    }
    return p;
}

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
    const auto p = std::filesystem::temp_directory_path() / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

} // namespace

TEST_CASE("the general WaveNet matches the naive double reference on the shipped 0.6/0.7 models") {
    // No prewarm on either side: both start from zero history.
    const auto input = excerpt(3000);
    for (const char* name : {"namcore_wavenet_a2_max.nam", "namcore_wavenet_condition_dsp.nam",
                             "reference_standard.nam", "namcore_wavenet.nam"}) {
        CAPTURE(std::string(name));
        const NamFile file = load_nam_file(model_path(name));
        const auto expected = naive_render(file, input);
        NamBuildOptions general;
        general.general_wavenet = true;
        auto model = build_nam_model(file, general);
        model->prepare(128);
        const auto out = render(*model, input, 128);
        // Float vs double: 1e-6 of the peak (the synthetic models reach 10-20).
        const double tol = 1e-6 * std::max(1.0, peak(expected)) + 1e-6;
        CHECK(max_abs_diff(out, expected) <= tol);
        MESSAGE(std::string(name) << " general vs double: " << max_abs_diff(out, expected));
    }
    // Each width of the slimmable WaveNet.
    const NamFile slim = load_nam_file(model_path("namcore_slimmable_wavenet.nam"));
    for (const int c : {1, 2, 3}) {
        const NamFile f = slim_wavenet_file(slim, {c});
        auto model = build_nam_model(f);
        model->prepare(128);
        const auto expected = naive_render(f, input);
        CHECK(max_abs_diff(render(*model, input, 128), expected) <= 1e-6 * std::max(1.0, peak(expected)) + 1e-6);
    }
}

TEST_CASE("random 0.6/0.7 shapes: the general WaveNet matches the naive double reference") {
    const auto input = excerpt(1500);
    int with_condition = 0;
    int with_post_head = 0;
    for (std::uint32_t seed = 1; seed <= 80; ++seed) {
        CAPTURE(seed);
        RandomWaveNet gen(seed);
        const std::string text = gen.make();
        const NamFile file = parse_nam_json(text, "random.nam");
        const auto& wn = std::get<WaveNetConfig>(file.config);
        with_condition += wn.condition_dsp ? 1 : 0;
        with_post_head += wn.post_head ? 1 : 0;
        const auto expected = naive_render(file, input);
        auto model = build_nam_model(file);
        model->prepare(64);
        const auto out = render(*model, input, 64);
        const double tol = 2e-5 * std::max(1.0, peak(expected));
        const double diff = max_abs_diff(out, expected);
        CHECK(diff <= tol);
        if (diff > tol) {
            MESSAGE(text.substr(0, 3000));
        }
    }
    CHECK(with_condition > 5);
    CHECK(with_post_head > 5);
}

TEST_CASE("A2 layouts: the format's weight counts, and the A1 files agree on both WaveNet paths") {
    CHECK(parse_nam_json(a2_wavenet_json(8, 1).dump(), "full").weights.size() == 12146);
    CHECK(parse_nam_json(a2_wavenet_json(3, 1).dump(), "lite").weights.size() == 1871);
    const auto input = excerpt(6000);
    for (const char* name : {"reference_standard.nam", "synthetic_a1_nano.nam"}) {
        auto a1 = load_nam_model(model_path(name), 128);
        NamBuildOptions general;
        general.general_wavenet = true;
        auto gen = load_nam_model(model_path(name), 128, general);
        CHECK(max_abs_diff(render(*a1, input, 128), render(*gen, input, 128)) <= 1e-5);
    }
}

TEST_CASE("0.6/0.7 models: block sizes 1, 7, 64, 128, 4096 and per-sample give bit-identical output") {
    const auto input = excerpt(9000);
    const auto a2 = write_temp("rigd_a2_container.nam", a2_container_text());
    for (const std::filesystem::path& path :
         {model_path("namcore_wavenet_a2_max.nam"), model_path("namcore_wavenet_condition_dsp.nam"),
          model_path("namcore_slimmable_wavenet.nam"), model_path("namcore_slimmable_container.nam"), a2}) {
        CAPTURE(path.string());
        for (const float size : {0.0f, 1.0f}) {
            auto per_sample = load_nam_model(path, 4096);
            per_sample->select_size(size);
            const auto expected = render_per_sample(*per_sample, input);
            for (const std::size_t block : {1u, 7u, 64u, 128u, 4096u}) {
                CAPTURE(block);
                auto model = load_nam_model(path, 4096);
                model->select_size(size);
                CHECK(max_abs_diff(render(*model, input, block), expected) == 0.0);
            }
        }
    }
    std::filesystem::remove(a2);
}

TEST_CASE("size switching: crossfaded, exact afterwards, no allocation on the audio thread") {
    const auto input = excerpt(128 * 93);
    const auto a2 = write_temp("rigd_a2_container.nam", a2_container_text());
    for (const std::filesystem::path& path : {model_path("namcore_slimmable_container.nam"),
                                              model_path("namcore_slimmable_wavenet.nam"), a2}) {
        CAPTURE(path.string());
        auto model = load_nam_model(path, 128);
        REQUIRE(model->slimmable());
        auto& sw = dynamic_cast<SwitchingModel&>(*model);
        const std::size_t fade = static_cast<std::size_t>(SwitchingModel::kFadeMs * 48.0);
        std::vector<float> out(input.size());
        {
            ScopedAllocationCounter count;
            for (std::size_t i = 0; i < input.size(); i += 128) {
                if (i == 3840) {
                    model->set_size(0.0f);
                }
                if (i == 7680) {
                    model->set_size(0.6f);
                    model->set_size(0.9f); // a second change during the fade
                }
                model->process_buffer(input.data() + i, out.data() + i, 128);
            }
            CHECK(count.total() == 0);
        }
        CHECK_FALSE(sw.fading());
        CHECK(sw.active_index() == sw.index_for(0.9f)); // the request made during the fade came next
        // Never a jump: sample to sample the output moves no more than the signal itself does.
        double max_step = 0.0;
        for (std::size_t i = 3000; i < out.size(); ++i) {
            max_step = std::max(max_step, static_cast<double>(std::fabs(out[i] - out[i - 1])));
        }
        auto full = load_nam_model(path, 128);
        const auto reference = render(*full, input, 128);
        double ref_step = 0.0;
        for (std::size_t i = 3000; i < reference.size(); ++i) {
            ref_step = std::max(ref_step, static_cast<double>(std::fabs(reference[i] - reference[i - 1])));
        }
        MESSAGE("largest sample step with switches " << max_step << ", without " << ref_step);
        // After the fade the output is the new submodel's, from its prewarmed state at the switch.
        auto fresh = load_nam_model(path, 128);
        fresh->select_size(0.0f);
        const std::span<const float> from_switch(input.data() + 3840, 3840);
        const auto expected = render(*fresh, from_switch, 128);
        CHECK(max_abs_diff(std::span(out).subspan(3840 + fade, 3840 - fade),
                           std::span(expected).subspan(fade, 3840 - fade)) == 0.0);
        // The fade starts at once: the first sample after a switch already differs from no switch.
        auto unswitched = load_nam_model(path, 128);
        const auto plain = render(*unswitched, std::span(input).first(3968), 128);
        CHECK(out[3840 + 100] != plain[3840 + 100]);
    }
    std::filesystem::remove(a2);
}

TEST_CASE("the nam stage's size parameter: default full, set before and after loading, no allocation") {
    const auto input = excerpt(4096);
    auto s = std::make_unique<NamStage>();
    CHECK(s->param(NamStage::kSize) == 1.0f);
    s->prepare(ProcessSpec{48000.0, 128, 1});
    s->set_param(NamStage::kSize, 0.0f);
    s->set_text(0, "c.nam", model_path("namcore_slimmable_container.nam"));
    auto lstm = load_nam_model(model_path("namcore_lstm.nam"), 128);
    std::vector<float> buf = input;
    for (std::size_t i = 0; i < buf.size(); i += 128) {
        s->process_block(std::span<float>(buf).subspan(i, 128));
    }
    CHECK(max_abs_diff(buf, render(*lstm, input, 128)) <= 1e-7); // submodel 0 (the LSTM) from the start
    ScopedAllocationCounter count;
    s->set_param(NamStage::kSize, 1.0f);
    for (std::size_t i = 0; i < buf.size(); i += 128) {
        s->process_block(std::span<float>(buf).subspan(i, 128));
    }
    CHECK(count.total() == 0);
}

// Load and size-switch times are benchmarks, not tests (a timed check fails
// on a loaded or emulated machine): bench/nam `nam_a2_container/{load,size_switch}`.

TEST_CASE("reset() is O(layers) and returns exactly to the prewarmed state, any block size") {
    const auto input = excerpt(20000);
    const auto a2 = write_temp("rigd_a2_container.nam", a2_container_text());
    auto standard = load_nam_model(model_path("reference_standard.nam"), 128);
    REQUIRE(dynamic_cast<WaveNetModel*>(standard.get()) != nullptr);
    CHECK(dynamic_cast<WaveNetModel&>(*standard).lazy_reset());
    for (const std::filesystem::path& path :
         {model_path("reference_standard.nam"), model_path("namcore_wavenet_a2_max.nam"),
          model_path("namcore_wavenet_condition_dsp.nam"), model_path("namcore_slimmable_container.nam"), a2}) {
        CAPTURE(path.string());
        for (const std::size_t block : {1u, 37u, 128u}) {
            CAPTURE(block);
            auto fresh = load_nam_model(path, 128);
            const auto expected = render(*fresh, std::span(input).first(6000), block);
            auto model = load_nam_model(path, 128);
            (void)render(*model, input, 100); // far past every history's length
            model->reset();
            CHECK(max_abs_diff(render(*model, std::span(input).first(6000), block), expected) == 0.0);
        }
    }
    std::filesystem::remove(a2);
}
