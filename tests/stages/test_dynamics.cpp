// Gate and compressor against their definitions, driven with constant (DC)
// levels so the peak detector settles exactly on the input level.
#include "core/stages/comp_stage.hpp"
#include "core/stages/gate_stage.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using rigd::core::ProcessSpec;
namespace st = rigd::core::stages;

namespace {
constexpr double kFs = 48000.0;
double db(double g) { return 20.0 * std::log10(g); }

// Independent double-precision static curve (hard or quadratic soft knee).
double expected_gain_db(double level_db, double t, double ratio, double knee) {
    const double over = level_db - t;
    const double slope = 1.0 / ratio - 1.0;
    if (2.0 * over <= -knee) return 0.0;
    if (2.0 * over >= knee) return slope * over;
    return slope * (over + knee / 2.0) * (over + knee / 2.0) / (2.0 * knee);
}
} // namespace

TEST_CASE("comp: static curve within 0.02 dB, hard and soft knee") {
    for (const float knee : {0.0f, 12.0f}) {
        for (double level_db = -50.0; level_db <= 0.0; level_db += 2.5) {
            st::CompStage c;
            c.set_param(st::CompStage::kThreshold, -20.0f);
            c.set_param(st::CompStage::kRatio, 4.0f);
            c.set_param(st::CompStage::kKnee, knee);
            c.set_param(st::CompStage::kMakeup, 3.0f);
            c.prepare(ProcessSpec{kFs, 128, 1});
            const auto a = static_cast<float>(std::pow(10.0, level_db / 20.0));
            float y = 0.0f;
            for (int i = 0; i < 48000; ++i) {
                y = c.process_sample(a);
            }
            CAPTURE(knee);
            CAPTURE(level_db);
            CHECK(std::fabs(db(y / a) - (expected_gain_db(level_db, -20.0, 4.0, knee) + 3.0)) < 0.02);
        }
    }
}

TEST_CASE("comp: attack and release follow the one-pole detector definition within 0.05 dB") {
    st::CompStage c;
    c.set_param(st::CompStage::kThreshold, -30.0f);
    c.set_param(st::CompStage::kRatio, 4.0f);
    c.set_param(st::CompStage::kAttack, 5.0f);
    c.set_param(st::CompStage::kRelease, 50.0f);
    c.prepare(ProcessSpec{kFs, 128, 1});
    const double ca = std::exp(-1.0 / (kFs * 0.005));
    const double cr = std::exp(-1.0 / (kFs * 0.050));
    const float lo = 0.01f, hi = 1.0f; // -40 dB, 0 dB
    for (int i = 0; i < 48000; ++i) {
        (void)c.process_sample(lo);
    }
    double env = lo;
    double worst = 0.0;
    for (int i = 0; i < 4800; ++i) { // attack
        env = hi + ca * (env - hi);
        const double y = c.process_sample(hi);
        worst = std::max(worst, std::fabs(db(y / hi) - expected_gain_db(db(env), -30.0, 4.0, 0.0)));
    }
    for (int i = 0; i < 24000; ++i) { // release
        env = lo + cr * (env - lo);
        const double y = c.process_sample(lo);
        worst = std::max(worst, std::fabs(db(y / lo) - expected_gain_db(db(env), -30.0, 4.0, 0.0)));
    }
    CHECK(worst < 0.05);
}

TEST_CASE("gate: open passes at unity, closed attenuates by 20 log10(ratio); attack, hold and release times") {
    st::GateStage g;
    g.set_param(st::GateStage::kThreshold, -40.0f);
    g.set_param(st::GateStage::kRatio, 10.0f);
    g.set_param(st::GateStage::kAttack, 2.0f);
    g.set_param(st::GateStage::kHold, 20.0f);
    g.set_param(st::GateStage::kRelease, 50.0f);
    g.prepare(ProcessSpec{kFs, 128, 1});
    const float quiet = 0.001f; // -60 dB, below threshold
    const float loud = 0.1f;    // -20 dB
    float y = 0.0f;
    for (int i = 0; i < 48000; ++i) {
        y = g.process_sample(quiet);
    }
    CHECK(db(y / quiet) == doctest::Approx(-20.0).epsilon(1e-4));
    // Attack: the state reaches 1 - 1/e of the way within attack_ms (+ the
    // 0.1 ms detector), i.e. gain 0.1 + 0.9 (1 - 1/e).
    const double mark = 0.1 + 0.9 * (1.0 - std::exp(-1.0));
    int n = 0;
    while (g.process_sample(loud) / loud < mark && n < 48000) {
        ++n;
    }
    CHECK(n / kFs * 1000.0 == doctest::Approx(2.0).epsilon(0.1));
    for (int i = 0; i < 48000; ++i) {
        y = g.process_sample(loud);
    }
    CHECK(y == loud);
    // Release: the detector (10 ms) falls from 0.1 towards 0.001 and crosses
    // the 0.01 threshold after 10 ms ln(0.099 / 0.009); then hold 20 ms, then
    // the state decays with 50 ms to 1/e.
    const double expect_ms = 10.0 * std::log(0.099 / 0.009) + 20.0 + 50.0;
    const double mark_r = 0.1 + 0.9 * std::exp(-1.0);
    n = 0;
    while (g.process_sample(quiet) / quiet > mark_r && n < 96000) {
        ++n;
    }
    CHECK(n / kFs * 1000.0 == doctest::Approx(expect_ms).epsilon(0.02));
}
