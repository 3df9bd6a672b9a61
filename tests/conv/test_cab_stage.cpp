#include "alloc_counter.hpp"
#include "conv_reference.hpp"
#include "core/conv/cab_stage.hpp"
#include "core/conv/ir_load_error.hpp"
#include "core/db.hpp"
#include "core/stage_factory.hpp"
#include "wav_writer.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <string>

using rigd::core::ProcessSpec;
using rigd::core::StageFactory;
using rigd::core::conv::CabStage;
using rigd::core::conv::ImpulseResponse;
using rigd::core::conv::IrLoadError;
using namespace rigd::test;

namespace {

constexpr ProcessSpec kSpec{.sample_rate_hz = 48000.0, .max_block_size = 4096, .oversample = 1};

std::unique_ptr<CabStage> make_cab(const ProcessSpec& spec = kSpec) {
    auto cab = std::make_unique<CabStage>();
    cab->prepare(spec);
    return cab;
}

std::vector<float> run(CabStage& cab, std::vector<float> x, const std::vector<std::size_t>& pattern) {
    std::size_t pos = 0;
    std::size_t p = 0;
    while (pos < x.size()) {
        const std::size_t n = std::min(pattern[p++ % pattern.size()], x.size() - pos);
        cab.process_block(std::span<float>(x.data() + pos, n));
        pos += n;
    }
    return x;
}

std::vector<float> run_per_sample(CabStage& cab, std::vector<float> x) {
    for (float& v : x) {
        v = cab.process_sample(v);
    }
    return x;
}

ImpulseResponse make_ir(std::vector<float> h, double rate = 48000.0) {
    ImpulseResponse ir;
    ir.samples = std::move(h);
    ir.sample_rate_hz = rate;
    return ir;
}

// Steady-state gain of `cab` for a sine at f (after a settling second).
double sine_gain_db(CabStage& cab, double f) {
    const std::size_t settle = 24000;
    const std::size_t measure = 48000;
    std::vector<float> x(settle + measure);
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = static_cast<float>(0.5 * std::sin(2 * std::numbers::pi * f * static_cast<double>(i) / 48000.0));
    }
    cab.reset();
    const auto y = run(cab, x, {256});
    double ex = 0.0;
    double ey = 0.0;
    for (std::size_t i = settle; i < x.size(); ++i) {
        ex += static_cast<double>(x[i]) * x[i];
        ey += static_cast<double>(y[i]) * y[i];
    }
    return 10.0 * std::log10(ey / ex);
}

} // namespace

TEST_CASE("the factory builds `cab` with the documented parameters") {
    auto stage = StageFactory::builtin().create("cab");
    REQUIRE(stage != nullptr);
    CHECK(stage->type() == "cab");
    const auto p = stage->params();
    REQUIRE(p.size() == 6);
    CHECK(p[CabStage::kGainDb].name == "gain_db");
    CHECK(p[CabStage::kGainDb].min == -24.0f);
    CHECK(p[CabStage::kGainDb].max == 24.0f);
    CHECK(p[CabStage::kMix].name == "mix");
    CHECK(p[CabStage::kMix].default_value == 1.0f);
    CHECK(p[CabStage::kNormalize].name == "normalize");
    CHECK(p[CabStage::kNormalize].kind == rigd::core::ParamKind::toggle);
    CHECK(p[CabStage::kNormalize].default_value == 1.0f);
    CHECK(p[CabStage::kMaxMs].name == "max_ms");
    CHECK(p[CabStage::kLowCutHz].name == "low_cut_hz");
    CHECK(p[CabStage::kHighCutHz].name == "high_cut_hz");
    REQUIRE(stage->text_params().size() == 1);
    CHECK(stage->text_params()[0].name == "ir");
    CHECK(stage->text_params()[0].folder == "irs");
    CHECK(stage->latency_samples() == 0);
}

TEST_CASE("an IR loaded from a WAV file convolves like the direct double convolution (1e-5 of peak)") {
    const auto h = decaying_noise(9600, 2000.0, 71); // 200 ms
    const auto path = write_wav("stage_ir.wav", h, 48000);
    const auto x = white_noise(20000, 72);
    for (bool normalize : {true, false}) {
        CAPTURE(normalize);
        auto cab = std::make_unique<CabStage>();
        cab->set_param(CabStage::kNormalize, normalize ? 1.0f : 0.0f);
        cab->set_param(CabStage::kGainDb, -6.0f);
        cab->prepare(kSpec);
        cab->set_text(CabStage::kIrText, "stage_ir.wav", path);
        CHECK(cab->text(CabStage::kIrText) == "stage_ir.wav");
        REQUIRE(cab->has_ir());
        CHECK(cab->ir_length() == h.size());
        const double norm = normalize ? make_ir(h).energy_normalization_gain() : 1.0;
        CHECK(cab->normalization_gain() == doctest::Approx(make_ir(h).energy_normalization_gain()).epsilon(1e-6));
        auto ref = naive_convolve(x, h);
        ref.resize(x.size());
        const double g = rigd::core::db_to_gain(-6.0) * norm;
        for (double& v : ref) {
            v *= g;
        }
        for (const auto& pattern : {std::vector<std::size_t>{1}, {7}, {64}, {128}, {1000}, {4096},
                                    std::vector<std::size_t>{1, 7, 32, 64, 128, 1000, 4096}}) {
            cab->reset();
            CHECK(peak_relative_error(run(*cab, x, pattern), ref) <= 1e-5);
        }
    }
}

TEST_CASE("an IR at another rate is resampled for the session, and re-prepared at a new rate") {
    const auto h = decaying_noise(4410, 800.0, 73);
    const auto path = write_wav("ir_44k.wav", h, 44100, SF_FORMAT_PCM_24);
    auto cab = make_cab();
    cab->set_text(CabStage::kIrText, "ir_44k.wav", path);
    CHECK(cab->ir_length() == doctest::Approx(4800).epsilon(0.001));
    cab->prepare(ProcessSpec{.sample_rate_hz = 96000.0, .max_block_size = 256, .oversample = 1});
    CHECK(cab->ir_length() == doctest::Approx(9600).epsilon(0.001));
    cab->prepare(ProcessSpec{.sample_rate_hz = 44100.0, .max_block_size = 256, .oversample = 1});
    CHECK(cab->ir_length() == h.size());
}

TEST_CASE("max_ms trims the IR when it is built") {
    const auto h = decaying_noise(48000, 20000.0, 74);
    auto cab = std::make_unique<CabStage>();
    cab->set_param(CabStage::kMaxMs, 250.0f);
    cab->prepare(kSpec);
    cab->set_impulse_response(make_ir(h), "long");
    CHECK(cab->ir_length() == 12000);
    cab->set_param(CabStage::kMaxMs, 0.0f);
    cab->prepare(kSpec); // takes effect on the next build
    CHECK(cab->ir_length() == 48000);
}

TEST_CASE("a bad IR throws a typed error naming the file and keeps the previous IR") {
    const auto h = decaying_noise(2000, 400.0, 75);
    const auto good = write_wav("good.wav", h, 48000);
    const auto silent = write_wav("quiet.wav", std::vector<float>(1000, 0.0f), 48000);
    const auto missing = conv_temp_dir() / "nope.wav";
    auto cab = make_cab();
    cab->set_text(CabStage::kIrText, "good.wav", good);
    const auto x = white_noise(6000, 76);
    const auto before = run(*cab, x, {64});
    for (const auto& bad : {silent, missing}) {
        try {
            cab->set_text(CabStage::kIrText, bad.filename().string(), bad);
            FAIL("no error");
        } catch (const IrLoadError& e) {
            CHECK(std::string(e.what()).find(bad.filename().string()) != std::string::npos);
        }
        CHECK(cab->text(CabStage::kIrText) == "good.wav");
        cab->reset();
        CHECK(run(*cab, x, {64}) == before);
    }
}

TEST_CASE("without an IR the stage passes audio through (times gain)") {
    auto cab = std::make_unique<CabStage>();
    cab->set_param(CabStage::kGainDb, 6.0f);
    cab->prepare(kSpec);
    CHECK_FALSE(cab->has_ir());
    const auto x = white_noise(1000, 77);
    const auto y = run(*cab, x, {100});
    for (std::size_t i = 0; i < x.size(); ++i) {
        CHECK(y[i] == doctest::Approx(x[i] * rigd::core::db_to_gain(6.0f)).epsilon(1e-6));
    }
}

TEST_CASE("mix blends the dry signal: mix = 0 is the input times gain") {
    auto cab = std::make_unique<CabStage>();
    cab->set_param(CabStage::kMix, 0.0f);
    cab->prepare(kSpec);
    cab->set_impulse_response(make_ir(decaying_noise(3000, 500.0, 78)));
    const auto x = white_noise(5000, 79);
    CHECK(run(*cab, x, {128}) == x);
    // mix = 0.5 with normalize off: half dry + half the convolution.
    auto half = std::make_unique<CabStage>();
    half->set_param(CabStage::kMix, 0.5f);
    half->set_param(CabStage::kNormalize, 0.0f);
    half->prepare(kSpec);
    const auto h = decaying_noise(3000, 500.0, 80);
    half->set_impulse_response(make_ir(h));
    auto ref = naive_convolve(x, h);
    ref.resize(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        ref[i] = 0.5 * x[i] + 0.5 * ref[i];
    }
    CHECK(peak_relative_error(run(*half, x, {33}), ref) <= 1e-5);
}

TEST_CASE("low and high cut follow the 12 dB/oct Butterworth response (0.05 dB)") {
    // A unit impulse as the IR leaves only the filters.
    auto cab = std::make_unique<CabStage>();
    cab->set_param(CabStage::kNormalize, 0.0f);
    cab->set_param(CabStage::kLowCutHz, 120.0f);
    cab->set_param(CabStage::kHighCutHz, 6000.0f);
    cab->prepare(kSpec);
    cab->set_impulse_response(make_ir({1.0f}));
    const double fs = 48000.0;
    auto butter_db = [&](double f, double fc, bool highpass) {
        // Bilinear Butterworth: the analog response at pre-warped frequencies.
        const double r = std::tan(std::numbers::pi * f / fs) / std::tan(std::numbers::pi * fc / fs);
        const double ratio = highpass ? 1.0 / r : r;
        return -10.0 * std::log10(1.0 + std::pow(ratio, 4.0));
    };
    for (double f : {40.0, 120.0, 500.0, 2000.0, 6000.0, 12000.0}) {
        CAPTURE(f);
        const double expected = butter_db(f, 120.0, true) + butter_db(f, 6000.0, false);
        CHECK(std::abs(sine_gain_db(*cab, f) - expected) <= 0.05);
    }
    // Off again: flat (after the fade).
    cab->set_param(CabStage::kLowCutHz, 0.0f);
    cab->set_param(CabStage::kHighCutHz, 0.0f);
    std::vector<float> settle(4800, 0.0f);
    (void)run(*cab, settle, {64});
    CHECK(std::abs(sine_gain_db(*cab, 40.0)) <= 0.01);
    CHECK(std::abs(sine_gain_db(*cab, 12000.0)) <= 0.01);
}

TEST_CASE("parameter moves are smoothed: no step larger than the signal allows") {
    auto cab = std::make_unique<CabStage>();
    cab->set_param(CabStage::kNormalize, 0.0f);
    cab->prepare(kSpec);
    cab->set_impulse_response(make_ir({1.0f}));
    std::vector<float> dc(9600, 0.5f);
    (void)run(*cab, dc, {64});
    cab->set_param(CabStage::kGainDb, 24.0f); // x15.8 at once
    const auto y = run(*cab, dc, {64});
    float max_step = 0.0f;
    for (std::size_t i = 1; i < y.size(); ++i) {
        max_step = std::max(max_step, std::abs(y[i] - y[i - 1]));
    }
    // A 20 ms linear ramp from 0.5 to 7.9 moves < 0.01 per sample.
    CHECK(max_step < 0.01f);
    CHECK(y.back() == doctest::Approx(0.5 * rigd::core::db_to_gain(24.0)).epsilon(1e-5));
    // The first value after prepare snaps.
    auto fresh = std::make_unique<CabStage>();
    fresh->set_param(CabStage::kGainDb, -12.0f);
    fresh->set_param(CabStage::kNormalize, 0.0f);
    fresh->prepare(kSpec);
    fresh->set_impulse_response(make_ir({1.0f}));
    CHECK(fresh->process_sample(1.0f) == doctest::Approx(rigd::core::db_to_gain(-12.0)).epsilon(1e-6));
}

TEST_CASE("block path matches the per-sample path while every parameter moves") {
    const auto h = decaying_noise(20000, 4000.0, 81);
    const auto x = white_noise(40000, 82);
    auto a = make_cab();
    auto b = make_cab();
    a->set_impulse_response(make_ir(h));
    b->set_impulse_response(make_ir(h));
    std::vector<float> ya;
    std::vector<float> yb;
    const std::vector<std::size_t> pattern = {1, 7, 32, 64, 128, 1000, 4096, 3};
    std::size_t pos = 0;
    int step = 0;
    while (pos < x.size()) {
        const std::size_t n = std::min(pattern[static_cast<std::size_t>(step) % pattern.size()], x.size() - pos);
        // Same moves at the same sample positions for both; every fourth
        // block only, so steady stretches (the block fast path) occur too.
        const float v = static_cast<float>(step % 5);
        for (auto* cab : {a.get(), b.get()}) {
            if (step % 4 != 0) {
                break;
            }
            cab->set_param(CabStage::kGainDb, -3.0f * v);
            cab->set_param(CabStage::kMix, 1.0f - 0.2f * v);
            cab->set_param(CabStage::kNormalize, static_cast<float>(step % 2));
            cab->set_param(CabStage::kLowCutHz, step % 3 == 0 ? 0.0f : 80.0f + 40.0f * v);
            cab->set_param(CabStage::kHighCutHz, step % 4 == 0 ? 0.0f : 3000.0f + 1000.0f * v);
        }
        std::vector<float> chunk(x.begin() + static_cast<std::ptrdiff_t>(pos),
                                 x.begin() + static_cast<std::ptrdiff_t>(pos + n));
        const auto blk = run(*a, chunk, {n});
        const auto smp = run_per_sample(*b, chunk);
        ya.insert(ya.end(), blk.begin(), blk.end());
        yb.insert(yb.end(), smp.begin(), smp.end());
        pos += n;
        ++step;
    }
    std::vector<double> ref(yb.begin(), yb.end());
    CHECK(peak_relative_error(ya, ref) <= 1e-6);
}

TEST_CASE("processing and parameter changes never allocate" * doctest::test_suite("slow")) {
    auto cab = make_cab();
    cab->set_impulse_response(make_ir(decaying_noise(240000, 48000.0, 83))); // 5 s
    std::vector<float> buf = white_noise(4096, 84);
    ScopedAllocationCounter counter;
    for (int rep = 0; rep < 10; ++rep) {
        for (std::size_t n : {1u, 7u, 32u, 64u, 128u, 1000u, 4096u}) {
            cab->set_param(CabStage::kGainDb, static_cast<float>(rep));
            cab->set_param(CabStage::kMix, 0.1f * static_cast<float>(rep));
            cab->set_param(CabStage::kNormalize, static_cast<float>(rep % 2));
            cab->set_param(CabStage::kLowCutHz, rep % 3 == 0 ? 0.0f : 100.0f);
            cab->set_param(CabStage::kHighCutHz, rep % 3 == 1 ? 0.0f : 5000.0f);
            cab->process_block(std::span<float>(buf.data(), n));
            (void)cab->process_sample(0.25f);
        }
    }
    cab->reset();
    CHECK(counter.total() == 0);
}
