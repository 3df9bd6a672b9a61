#include "core/amplifier_chain.hpp"
#include "core/chain_builder.hpp"
#include "core/command.hpp"
#include "core/db.hpp"
#include "core/engine.hpp"
#include "core/nam/nam_loader.hpp"
#include "core/nam/nam_model.hpp"
#include "core/nam/nam_stage.hpp"
#include "core/stage_factory.hpp"

#include "alloc_counter.hpp"
#include "nam_test_util.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <fstream>
#include <numbers>
#include <string>

#include <unistd.h>

using namespace rigd::core;
using namespace rigd::core::nam;
using namespace rigd::test;

namespace {

constexpr ProcessSpec kSpec{48000.0, 128, 1};

std::unique_ptr<NamStage> stage_with(const char* model, ProcessSpec spec = kSpec) {
    auto s = std::make_unique<NamStage>();
    s->prepare(spec);
    s->set_text(0, model, model_path(model));
    return s;
}

std::vector<float> run_stage(Stage& s, std::vector<float> x, std::size_t block) {
    for (std::size_t i = 0; i < x.size(); i += block) {
        s.process_block(std::span<float>(x).subspan(i, std::min(block, x.size() - i)));
    }
    return x;
}

std::vector<float> sine(double rate, double seconds, double hz = 110.0, double amp = 0.3) {
    std::vector<float> x(static_cast<std::size_t>(rate * seconds));
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = static_cast<float>(amp * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(i) / rate));
    }
    return x;
}

// Complex amplitude of `hz` over exactly one second starting at `start`.
std::complex<double> tone(const std::vector<float>& y, double rate, double hz, std::size_t start) {
    std::complex<double> acc{};
    const auto n = static_cast<std::size_t>(rate);
    for (std::size_t i = 0; i < n; ++i) {
        const double ph = -2.0 * std::numbers::pi * hz * static_cast<double>(i) / rate;
        acc += static_cast<double>(y[start + i]) * std::complex<double>(std::cos(ph), std::sin(ph));
    }
    return acc * (2.0 / static_cast<double>(n));
}

} // namespace

TEST_CASE("type 'nam' is registered with its parameters") {
    auto s = StageFactory::builtin().create("nam");
    REQUIRE(s);
    CHECK(s->type() == "nam");
    const auto p = s->params();
    REQUIRE(p.size() == 5);
    CHECK(p[0].name == "input_gain_db");
    CHECK(p[0].min == -24.0f);
    CHECK(p[0].max == 24.0f);
    CHECK(p[0].default_value == 0.0f);
    CHECK(p[1].name == "output_gain_db");
    CHECK(p[2].name == "mix");
    CHECK(p[2].default_value == 1.0f);
    CHECK(p[3].name == "normalize");
    CHECK(p[3].kind == ParamKind::toggle);
    CHECK(p[3].default_value == 0.0f);
    CHECK(p[4].name == "size");
    CHECK(p[4].default_value == 1.0f); // the full model, as the reference with no size set
    REQUIRE(s->text_params().size() == 1);
    CHECK(s->text_params()[0].name == "model");
    CHECK(s->text_params()[0].folder == "models");
}

TEST_CASE("without a model the stage passes audio through unchanged") {
    NamStage s;
    s.set_param(NamStage::kOutputGainDb, 6.0f);
    s.prepare(kSpec);
    const auto in = sine(48000.0, 0.05);
    CHECK(max_abs_diff(run_stage(s, in, 128), in) == 0.0);
    CHECK(s.status().find("no model") != std::string::npos);
    CHECK(s.latency_samples() == 0);
    CHECK(s.metadata() == nullptr);
}

TEST_CASE("default parameters give exactly the model output; block == per-sample with moving parameters") {
    const auto input = read_f32(golden_path("input_sine110_noise_2s_48k.f32"));
    const std::vector<float> part(input.begin() + 47000, input.begin() + 57000);
    auto stage = stage_with("reference_standard.nam");
    auto model = load_nam_model(model_path("reference_standard.nam"), 128);
    CHECK(max_abs_diff(run_stage(*stage, part, 128), render(*model, part, 128)) == 0.0);

    for (const char* name : {"reference_standard.nam", "namcore_lstm.nam"}) {
        auto a = stage_with(name);
        auto b = stage_with(name);
        std::vector<float> ya(part.size());
        std::vector<float> yb(part.size());
        for (std::size_t i = 0; i < part.size(); i += 100) {
            if (i == 2000) { // ramps running across block boundaries
                for (Stage* s : {static_cast<Stage*>(a.get()), static_cast<Stage*>(b.get())}) {
                    s->set_param(NamStage::kInputGainDb, 6.0f);
                    s->set_param(NamStage::kOutputGainDb, -3.0f);
                    s->set_param(NamStage::kMix, 0.5f);
                    s->set_param(NamStage::kNormalize, 1.0f);
                }
            }
            std::copy_n(part.begin() + static_cast<std::ptrdiff_t>(i), 100, ya.begin() + static_cast<std::ptrdiff_t>(i));
            a->process_block(std::span<float>(ya).subspan(i, 100));
            for (std::size_t k = i; k < i + 100; ++k) {
                yb[k] = b->process_sample(part[k]);
            }
        }
        CHECK(max_abs_diff(ya, yb) <= 1e-5);
    }
}

TEST_CASE("gains, mix and normalize do what they say") {
    const auto in = sine(48000.0, 0.2);
    auto model = load_nam_model(model_path("namcore_lstm.nam"), 128);
    const auto wet = render(*model, in, 128);

    auto s = std::make_unique<NamStage>();
    s->set_param(NamStage::kOutputGainDb, 6.0f); // set before prepare: snaps, no ramp
    s->prepare(kSpec);
    s->set_text(0, "namcore_lstm.nam", model_path("namcore_lstm.nam"));
    const auto out = run_stage(*s, in, 128);
    const double g = db_to_gain(6.0);
    for (std::size_t i = 0; i < in.size(); i += 97) {
        CHECK(out[i] == doctest::Approx(g * wet[i]).epsilon(1e-6).scale(1e-7));
    }

    // normalize: the LSTM's loudness is -37.84 dB -> +19.84 dB to reach -18.
    auto n = std::make_unique<NamStage>();
    n->set_param(NamStage::kNormalize, 1.0f);
    n->prepare(kSpec);
    n->set_text(0, "namcore_lstm.nam", model_path("namcore_lstm.nam"));
    CHECK(n->normalize_gain() == doctest::Approx(std::pow(10.0, (-18.0 + 37.8406867980957) / 20.0)).epsilon(1e-6));
    REQUIRE(n->metadata() != nullptr);
    CHECK(n->metadata()->name == "Test LSTM");
    const auto normed = run_stage(*n, in, 128);
    for (std::size_t i = 0; i < in.size(); i += 97) {
        CHECK(normed[i] == doctest::Approx(n->normalize_gain() * wet[i]).epsilon(1e-5).scale(1e-7));
    }

    // mix 0: exactly the dry signal once the ramp has finished.
    auto m = stage_with("namcore_lstm.nam");
    m->set_param(NamStage::kMix, 0.0f);
    const auto dry = run_stage(*m, in, 128);
    const std::size_t ramp = static_cast<std::size_t>(48000.0 * NamStage::kRampMs / 1000.0);
    CHECK(max_abs_diff(std::span(dry).subspan(ramp + 1), std::span(in).subspan(ramp + 1)) == 0.0);
}

TEST_CASE("a bad model file throws NamLoadError and keeps the loaded model") {
    auto s = stage_with("namcore_lstm.nam");
    const auto before = s->status();
    const auto bad = std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_rigd_nam_test_broken.nam");
    {
        std::ofstream(bad) << R"({"version": "0.5.4", "architecture": "LSTM", "config": {)";
    }
    CHECK_THROWS_AS(s->set_text(0, "broken.nam", bad), NamLoadError);
    {
        std::ofstream(bad) << R"({"version": "0.5.4", "architecture": "ConvNet", "config": {}, "weights": []})";
    }
    CHECK_THROWS_AS(s->set_text(0, "convnet.nam", bad), NamLoadError);
    std::filesystem::remove(bad);
    CHECK(s->text(0) == "namcore_lstm.nam");
    CHECK(s->status() == before);
    CHECK(s->has_model());
}

TEST_CASE("no allocation while processing, changing parameters or resetting") {
    const auto in = sine(48000.0, 0.1);
    for (const char* name : {"reference_standard.nam", "namcore_lstm.nam", "synthetic_a1_lite.nam",
                             "synthetic_lstm_2x8.nam"}) {
        for (const double rate : {48000.0, 44100.0}) {
            CAPTURE(std::string(name));
            CAPTURE(rate);
            auto s = stage_with(name, ProcessSpec{rate, 128, 1});
            auto model = load_nam_model(model_path(name), 128);
            std::vector<float> buf(128);
            ScopedAllocationCounter count;
            for (std::size_t b = 0; b < 40; ++b) {
                std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(b * 100), 128, buf.begin());
                if (b == 10) {
                    s->set_param(NamStage::kInputGainDb, 3.0f);
                    s->set_param(NamStage::kMix, 0.7f);
                    s->set_param(NamStage::kNormalize, 1.0f);
                }
                if (b == 20) {
                    s->reset();
                    model->reset();
                }
                s->process_block(std::span<float>(buf).first(1 + (b * 31) % 128));
                (void)s->process_sample(0.1f);
                model->process_buffer(buf.data(), buf.data(), 128);
                (void)model->process_sample(0.1f);
            }
            CHECK(count.total() == 0);
        }
    }
}

TEST_CASE("reset() returns to the freshly prepared (prewarmed) state") {
    const auto in = sine(48000.0, 0.1);
    auto s = stage_with("reference_standard.nam");
    const auto first = run_stage(*s, in, 128);
    s->reset();
    CHECK(max_abs_diff(run_stage(*s, in, 128), first) == 0.0);
}

TEST_CASE("golden: a one-stage NAM preset through build_chain + Engine, 128-frame blocks") {
    const auto input = read_f32(golden_path("input_sine110_noise_2s_48k.f32"));
    for (const auto& [model, golden] : {std::pair{"reference_standard.nam", "reference_standard.exact_tanh.f32"},
                                        std::pair{"namcore_lstm.nam", "namcore_lstm.exact_tanh.f32"}}) {
        CAPTURE(std::string(model));
        const auto expected = read_f32(golden_path(golden));
        Preset preset;
        preset.name = "one nam";
        StageConfig amp;
        amp.id = "nam";
        amp.type = "nam";
        amp.texts.emplace_back("model", model);
        preset.stages.push_back(amp);
        const PathResolver resolve = [](std::string_view folder, std::string_view name) {
            REQUIRE(folder == "models");
            return shared_dir() / "models" / std::string(name);
        };
        BuiltChain built = build_chain(preset, StageFactory::builtin(), kSpec, resolve);
        REQUIRE(built.warnings.empty());
        Engine engine;
        engine.prepare(kSpec, std::move(built.chain));
        std::vector<float> left(input.size());
        std::vector<float> right(input.size());
        for (std::size_t i = 0; i < input.size(); i += 128) {
            engine.process(std::span(input).subspan(i, 128), std::span(left).subspan(i, 128),
                           std::span(right).subspan(i, 128));
        }
        CHECK(max_abs_diff(left, expected) <= 1e-5);
        CHECK(max_abs_diff(right, expected) <= 1e-5);
    }
}

TEST_CASE("a 48 kHz model on a 44.1 or 96 kHz device is resampled, not bypassed") {
    // Reference: the model at its own rate on the same continuous sine. The
    // harmonics (the model's nonlinearity) must match, and the phase of the
    // fundamental must show exactly the reported latency.
    constexpr double kHz = 110.0;
    auto model = load_nam_model(model_path("reference_standard.nam"), 128);
    const auto y48 = render(*model, sine(48000.0, 2.0, kHz), 128);
    for (const double rate : {44100.0, 96000.0}) {
        CAPTURE(rate);
        auto s = stage_with("reference_standard.nam", ProcessSpec{rate, 128, 1});
        CHECK(s->is_resampling());
        CHECK(s->status().find("resampling") != std::string::npos);
        CHECK(s->latency_samples() > 0);
        const auto y = run_stage(*s, sine(rate, 2.0, kHz), 128);
        const std::size_t start = static_cast<std::size_t>(rate * 0.5) + static_cast<std::size_t>(s->latency_samples());
        const auto ref1 = tone(y48, 48000.0, kHz, 24000);
        const auto got1 = tone(y, rate, kHz, start);
        CHECK(std::abs(got1) == doctest::Approx(std::abs(ref1)).epsilon(0.005));
        for (int h = 2; h <= 5; ++h) {
            CAPTURE(h);
            const double ref = std::abs(tone(y48, 48000.0, h * kHz, 24000));
            const double got = std::abs(tone(y, rate, h * kHz, start));
            CHECK(std::fabs(got - ref) <= 0.005 * std::abs(ref1));
        }
        // Alignment: starting the analysis `latency` samples later must land
        // on the same phase as the 48 kHz run (within a quarter sample).
        const double dphi = std::arg(got1 / ref1);
        const double err_samples = dphi / (2.0 * std::numbers::pi * kHz) * rate;
        CHECK(std::fabs(err_samples) <= 0.6);
        MESSAGE("rate " << rate << ": latency " << s->latency_samples() << ", residual alignment " << err_samples
                        << " samples");
    }
}

TEST_CASE("changing the model: a prewarmed stage is crossfaded in by the engine, the old one retired") {
    // The control layer's flow: build + prepare + load a new stage off the RT
    // thread, send replace_stage; the RT side allocates nothing, the output
    // never drops out, and the old stage comes back on the retire queue.
    const auto input = sine(48000.0, 1.0, 110.0, 0.3);
    auto chain = std::make_unique<AmplifierChain>();
    chain->prepare(kSpec);
    auto first = stage_with("namcore_lstm.nam");
    Stage* old_stage = first.get();
    chain->append(std::move(first));
    Engine engine;
    engine.prepare(kSpec, std::move(chain));
    std::vector<float> out(input.size());
    auto period = [&](std::size_t i) {
        engine.process(std::span(input).subspan(i, 128), std::span(out).subspan(i, 128),
                       std::span(out).subspan(i, 128));
    };
    std::size_t i = 0;
    for (; i < 48 * 128; i += 128) {
        period(i);
    }
    auto fresh = stage_with("reference_standard.nam");
    auto expected_new = stage_with("reference_standard.nam");
    Command c;
    c.type = Command::Type::replace_stage;
    c.stage = rigd::core::StageHandle{1}; // append() names the first stage 1
    c.fresh_handle = rigd::core::StageHandle{2};
    c.fresh = fresh.release();
    REQUIRE(engine.try_send(c));
    const std::size_t swap_at = i;
    {
        ScopedAllocationCounter count;
        for (; i < input.size() - 127; i += 128) {
            period(i);
        }
        CHECK(count.total() == 0);
    }
    // No gap: every period after the swap still carries signal.
    for (std::size_t k = swap_at; k + 128 <= i; k += 128) {
        float peak = 0.0f;
        for (std::size_t j = k; j < k + 128; ++j) {
            peak = std::max(peak, std::fabs(out[j]));
        }
        CHECK(peak > 1e-3f);
    }
    // After the fade the output is the new model's alone (the new stage ran
    // on the same input from the swap on).
    const std::vector<float> tail_in(input.begin() + static_cast<std::ptrdiff_t>(swap_at), input.begin() + static_cast<std::ptrdiff_t>(i));
    const auto expected = run_stage(*expected_new, tail_in, 128);
    const std::size_t settled = static_cast<std::size_t>(48000.0 * 0.05); // well past the chain's 10 ms fade
    CHECK(max_abs_diff(std::span(out).subspan(swap_at + settled, i - swap_at - settled),
                       std::span(expected).subspan(settled)) <= 1e-6);
    auto retired = engine.try_pop_retired();
    REQUIRE(retired != nullptr);
    CHECK(retired.get() == static_cast<rigd::core::Retirable*>(old_stage));
}
