// The stage contract, checked for every type core/stages registers: block
// length invariance (1, 7, 64, 128, 4096 against the per-sample path, also
// across parameter changes and oversampling), reset, no allocation while
// processing or setting parameters, recovery from NaN/Inf input, parameter
// declarations and refusals.
#include "core/chain_builder.hpp"
#include "core/stage_factory.hpp"

#include "alloc_counter.hpp"
#include "signal_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

using rigd::core::ParamKind;
using rigd::core::ProcessSpec;
using rigd::core::Stage;
using rigd::core::StageFactory;

namespace {

using Settings = std::vector<std::pair<std::string, float>>;

struct Case {
    std::string type;
    Settings before; // applied before prepare
    Settings after;  // applied mid-stream
};

const std::vector<Case>& cases() {
    static const std::vector<Case> c = {
        {"filter", {{"mode", 0}, {"cutoff_hz", 120}, {"order", 2}}, {{"mode", 1}, {"cutoff_hz", 3000}, {"order", 4}}},
        {"gate", {{"threshold_db", -30}}, {{"threshold_db", -50}, {"ratio", 30}, {"hold_ms", 50}}},
        {"comp", {{"threshold_db", -20}, {"knee_db", 6}}, {{"threshold_db", -30}, {"ratio", 8}, {"makeup_db", 6}}},
        {"pre", {{"gain", 6}, {"clipper", 0}}, {{"gain", 9}, {"bias", 0.4f}, {"clipper", 5}}},
        {"tone", {{"model", 0}, {"bass", 1.5f}}, {{"model", 1}, {"mid", 0.3f}, {"treble", 1.6f}, {"presence", 1.5f}}},
        {"eq", {{"band_0", 6}, {"band_8", -4}}, {{"band_0", 0}, {"band_12", 9}, {"band_15", -12}}},
        {"sat", {{"mid_drive", 0.6f}}, {{"low_hz", 120}, {"high_hz", 4000}, {"high_drive", 0.9f}, {"low_level", 1.5f}}},
        {"power", {{"drive", 0.6f}, {"class", 1}}, {{"drive", 0.9f}, {"class", 0}, {"sag", 0.8f}}},
        {"level", {{"gain_db", -6}}, {{"gain_db", 6}}},
        {"delay", {{"time_ms", 20}, {"feedback", 0.5f}}, {{"time_ms", 35}, {"mix", 0.8f}, {"lowpass_hz", 3000}}},
        {"reverb", {{"room", 0.8f}}, {{"room", 0.3f}, {"damping", 0.9f}, {"mix", 0.6f}}},
        {"trem", {{"rate_hz", 7}, {"depth", 0.8f}}, {{"rate_hz", 3}, {"shape", 1.0f}, {"depth", 0.3f}}},
        {"pitch", {{"semitones", 5}}, {{"semitones", -7}, {"cents", 20}, {"mix", 0.7f}}},
    };
    return c;
}

StageFactory basic_factory() {
    StageFactory f;
    rigd::core::register_basic_stages(f);
    return f;
}

void apply(Stage& s, const Settings& settings) {
    for (const auto& [name, value] : settings) {
        const std::size_t i = s.find_param(name);
        REQUIRE_MESSAGE(i != Stage::npos, name);
        s.set_param(i, value);
    }
}

std::unique_ptr<Stage> make(const Case& c, int oversample, std::size_t max_block = 4096) {
    static const StageFactory factory = basic_factory();
    auto s = factory.create(c.type);
    apply(*s, c.before);
    s->prepare(ProcessSpec{48000.0, max_block, oversample});
    return s;
}

// Loud guitar-ish tones, a near-silent stretch (gates close), loud again.
std::vector<float> test_signal(std::size_t n) {
    std::vector<float> x(n);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> noise(-1.0f, 1.0f);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / 48000.0;
        double v = 0.5 * std::sin(2 * M_PI * 110 * t) + 0.25 * std::sin(2 * M_PI * 220.5 * t) +
                   0.1 * std::sin(2 * M_PI * 1234 * t) + 0.02 * noise(rng);
        if (i > n / 4 && i < n / 2) {
            v *= 0.001;
        }
        x[i] = static_cast<float>(v);
    }
    return x;
}

// Processes x in blocks of `block`, applying c.after at sample `change_at`.
std::vector<float> run(Stage& s, const Case& c, std::vector<float> x, std::size_t block, std::size_t change_at) {
    auto segment = [&](std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to; i += block) {
            const std::size_t n = std::min(block, to - i);
            if (block == 1) {
                x[i] = s.process_sample(x[i]);
            } else {
                s.process_block(std::span<float>(x.data() + i, n));
            }
        }
    };
    segment(0, change_at);
    apply(s, c.after);
    segment(change_at, x.size());
    return x;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
    }
    return m;
}

bool all_finite(const std::vector<float>& y) {
    return std::all_of(y.begin(), y.end(), [](float v) { return std::isfinite(v); });
}

bool is_nonlinear(const std::string& type) { return type == "pre" || type == "power" || type == "sat"; }

} // namespace

TEST_CASE("stage contract: every basic type is registered") {
    const auto f = basic_factory();
    for (const char* t : {"filter", "gate", "comp", "pre", "tone", "eq", "sat", "power", "level", "delay", "reverb", "trem", "pitch"}) {
        CHECK_MESSAGE(f.has(t), t);
    }
}

TEST_CASE("stage contract: block lengths 1, 7, 64, 128, 4096 match the per-sample path within 1e-6") {
    const auto x = test_signal(12288);
    const std::size_t change_at = 4096;
    for (const Case& c : cases()) {
        for (const int os : is_nonlinear(c.type) ? std::vector<int>{1, 2, 4, 16} : std::vector<int>{1, 4}) {
            CAPTURE(c.type);
            CAPTURE(os);
            auto ref_stage = make(c, os);
            const auto ref = run(*ref_stage, c, x, 1, change_at);
            CHECK(all_finite(ref));
            CHECK(rigd::test::rms(ref) > 1e-3); // the stage passes signal at all
            for (const std::size_t block : {7u, 64u, 128u, 4096u}) {
                CAPTURE(block);
                auto s = make(c, os);
                CHECK(max_diff(run(*s, c, x, block, change_at), ref) <= 1e-6);
            }
        }
    }
}

TEST_CASE("stage contract: reset returns to the just-prepared state") {
    const auto x = test_signal(6000);
    for (const Case& c : cases()) {
        CAPTURE(c.type);
        auto s = make(c, is_nonlinear(c.type) ? 4 : 1, 128);
        auto first = x;
        for (std::size_t i = 0; i < first.size(); i += 128) {
            s->process_block(std::span<float>(first.data() + i, std::min<std::size_t>(128, first.size() - i)));
        }
        s->reset();
        auto second = x;
        for (std::size_t i = 0; i < second.size(); i += 128) {
            s->process_block(std::span<float>(second.data() + i, std::min<std::size_t>(128, second.size() - i)));
        }
        CHECK(max_diff(first, second) <= 1e-6);
    }
}

TEST_CASE("stage contract: processing and parameter changes do not allocate") {
    const auto x = test_signal(4096);
    std::mt19937 rng(3);
    for (const Case& c : cases()) {
        CAPTURE(c.type);
        for (const int os : {1, 16}) {
            auto s = make(c, os, 256);
            auto y = x;
            rigd::test::ScopedAllocationCounter counter;
            for (std::size_t i = 0; i < y.size(); i += 256) {
                const auto infos = s->params();
                for (std::size_t p = 0; p < infos.size(); ++p) {
                    std::uniform_real_distribution<float> d(infos[p].min, infos[p].max);
                    s->set_param(p, d(rng));
                }
                s->process_block(std::span<float>(y.data() + i, 256));
                (void)s->process_sample(0.1f);
            }
            s->reset();
            CHECK(counter.total() == 0);
        }
    }
}

TEST_CASE("stage contract: NaN/Inf input does not poison the state") {
    const auto x = test_signal(8192);
    for (const Case& c : cases()) {
        CAPTURE(c.type);
        auto s = make(c, is_nonlinear(c.type) ? 4 : 1, 128);
        auto y = x;
        y[1000] = std::numeric_limits<float>::quiet_NaN();
        y[1001] = std::numeric_limits<float>::infinity();
        y[1002] = -std::numeric_limits<float>::infinity();
        y[1003] = 1e30f;
        for (std::size_t i = 0; i < y.size(); i += 128) {
            s->process_block(std::span<float>(y.data() + i, 128));
        }
        // From the next block on the output is finite and the stage still works.
        const std::vector<float> after(y.begin() + 1024, y.end());
        CHECK(all_finite(after));
        CHECK(rigd::test::rms(std::vector<float>(y.end() - 2048, y.end())) > 1e-3);
    }
}

TEST_CASE("stage contract: parameter declarations, clamping and refusals") {
    const auto f = basic_factory();
    for (const Case& c : cases()) {
        CAPTURE(c.type);
        auto s = f.create(c.type);
        CHECK(s->type() == c.type);
        const auto infos = s->params();
        REQUIRE(!infos.empty());
        for (std::size_t i = 0; i < infos.size(); ++i) {
            const auto& p = infos[i];
            CAPTURE(p.name);
            CHECK(p.min < p.max);
            CHECK(p.in_range(p.default_value));
            CHECK(s->param(i) == p.default_value);
            CHECK(s->find_param(p.name) == i);
            if (p.kind == ParamKind::choice) {
                CHECK(p.min == 0.0f);
                CHECK(static_cast<std::size_t>(p.max) + 1 == p.choices.size());
            }
            s->set_param(i, p.max + 1000.0f);
            CHECK(s->param(i) == p.max);
            s->set_param(i, p.min - 1000.0f);
            CHECK(s->param(i) == p.min);
            s->set_param(i, std::numeric_limits<float>::quiet_NaN());
            CHECK(s->param(i) == p.default_value);
            // The control layer refuses out-of-range values with a clear error.
            rigd::core::StageConfig cfg{"x", c.type, false, {{std::string(p.name), p.max + 1.0f}}, {}};
            std::vector<std::string> warnings;
            CHECK_THROWS_AS((void)rigd::core::build_stage(cfg, f, ProcessSpec{}, {}, warnings),
                            rigd::core::ChainBuildError);
        }
        CHECK(s->find_param("no_such_param") == Stage::npos);
    }
}

TEST_CASE("stage contract: latency is the oversampler's for nonlinear stages, the delay line's for pitch, zero otherwise") {
    for (const Case& c : cases()) {
        CAPTURE(c.type);
        for (const int os : {1, 8}) {
            auto s = make(c, os, 128);
            if ((is_nonlinear(c.type) && os > 1) || c.type == "pitch") {
                CHECK(s->latency_samples() > 0);
            } else {
                CHECK(s->latency_samples() == 0);
            }
        }
    }
}
