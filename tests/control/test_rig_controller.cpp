#include "control/rig_controller.hpp"
#include "core/stages/level_stage.hpp"

#include "alloc_counter.hpp"

#include <doctest/doctest.h>

#include <cmath>

using rigd::control::ControlError;
using rigd::control::Library;
using rigd::control::RigController;
using rigd::core::Engine;
using rigd::core::Preset;
using rigd::core::ProcessSpec;

namespace {

constexpr ProcessSpec kSpec{48000.0, 64, 1};

Preset two_levels(float a_db, float b_db) {
    Preset p;
    p.name = "two";
    p.stages.push_back({.id = "a", .type = "level", .bypass = false, .params = {{"gain_db", a_db}}, .texts = {}});
    p.stages.push_back({.id = "b", .type = "level", .bypass = false, .params = {{"gain_db", b_db}}, .texts = {}});
    return p;
}

struct Fixture {
    rigd::core::StageFactory factory;
    Library library{"/nonexistent/presets", "/nonexistent/models", "/nonexistent/irs"};
    Engine engine{8, 64};
    RigController rig{engine, factory, library};
    std::vector<float> in = std::vector<float>(64, 0.5f);
    std::vector<float> out_l = std::vector<float>(64);
    std::vector<float> out_r = std::vector<float>(64);

    Fixture() {
        factory.add("level", [] { return std::make_unique<rigd::core::stages::LevelStage>(); });
        (void)rig.start(two_levels(-6.0f, 0.0f), kSpec);
    }
    void run(int periods) {
        for (int i = 0; i < periods; ++i) {
            engine.process(in, out_l, out_r);
        }
    }
};

} // namespace

TEST_CASE("controller: values are mirrored for gets, including defaults") {
    Fixture f;
    CHECK(f.rig.param("a", "gain_db") == doctest::Approx(-6.0f));
    CHECK(f.rig.param("b", "gain_db") == doctest::Approx(0.0f));
    f.rig.set_param("b", "gain_db", 3.0f);
    CHECK(f.rig.param("b", "gain_db") == doctest::Approx(3.0f));
    f.run(40);
    CHECK(f.out_l[10] == doctest::Approx(0.5f * std::pow(10.0f, -3.0f / 20.0f)).epsilon(1e-4));
}

TEST_CASE("controller: refused requests send nothing to the audio thread") {
    Fixture f;
    const auto before = f.engine.counters().commands_applied.load();
    CHECK_THROWS_WITH_AS(f.rig.set_param("a", "gain_db", 30.0f), "gain_db: 30 is outside -60..24 dB", ControlError);
    CHECK_THROWS_WITH_AS(f.rig.set_param("a", "gain_db", NAN), "gain_db: value must be a finite number", ControlError);
    CHECK_THROWS_WITH_AS(f.rig.set_param("zz", "gain_db", 0.0f), "no stage with id 'zz'", ControlError);
    CHECK_THROWS_WITH_AS(f.rig.set_param("a", "bass", 0.0f), "stage 'a' (level) has no parameter 'bass'", ControlError);
    CHECK_THROWS_AS(f.rig.set_master_db(13.0f), ControlError);
    CHECK_THROWS_AS(f.rig.set_master_db(-61.0f), ControlError);
    f.run(2);
    CHECK(f.engine.counters().commands_applied.load() == before);
    CHECK(f.rig.param("a", "gain_db") == doctest::Approx(-6.0f));
}

TEST_CASE("controller: a full command queue is reported, never dropped silently") {
    Fixture f; // queue of 8
    int sent = 0;
    bool refused = false;
    for (int i = 0; i < 20 && !refused; ++i) {
        try {
            f.rig.set_param("a", "gain_db", static_cast<float>(-i));
            ++sent;
        } catch (const ControlError& e) {
            refused = std::string(e.what()).find("command queue full") != std::string::npos;
        }
    }
    CHECK(refused);
    CHECK(sent == 8);
    // The mirror holds what was last accepted, which is what the engine gets.
    CHECK(f.rig.param("a", "gain_db") == doctest::Approx(-7.0f));
    f.run(1);
    f.rig.set_param("a", "gain_db", -1.0f); // room again after a period
}

TEST_CASE("controller: loading a preset swaps chains and old ones are deleted off the RT thread") {
    Fixture f;
    (void)f.rig.load_preset(two_levels(-20.0f, 0.0f));
    CHECK(f.rig.param("a", "gain_db") == doctest::Approx(-20.0f));
    f.run(40); // past the chain crossfade
    CHECK(f.out_l[10] == doctest::Approx(0.05f).epsilon(1e-3));
    CHECK(f.rig.collect_retired() == 1);
    const auto snap = f.rig.snapshot();
    REQUIRE(snap.stages.size() == 2);
    CHECK(snap.stages[0].params[0].second == doctest::Approx(-20.0f));
}

TEST_CASE("controller: bypass, master volume and mute reach the engine and allocate nothing there") {
    Fixture f;
    f.rig.set_bypass("a", true);
    f.rig.set_master_db(-6.0f);
    f.rig.set_mute(false);
    CHECK(f.rig.bypass("a"));
    CHECK(f.rig.master_db() == doctest::Approx(-6.0f));
    {
        rigd::test::ScopedAllocationCounter counter;
        f.run(40);
        CHECK(counter.total() == 0);
    }
    CHECK(f.out_l[10] == doctest::Approx(0.5f * std::pow(10.0f, -6.0f / 20.0f)).epsilon(1e-4));
}

TEST_CASE("controller: check_param_value knows whole-number kinds") {
    const rigd::core::ParamInfo order{.name = "order", .unit = "", .min = 1, .max = 4, .default_value = 2,
                                      .kind = rigd::core::ParamKind::integer};
    CHECK_NOTHROW(rigd::control::check_param_value(order, 4.0f));
    CHECK_THROWS_WITH(rigd::control::check_param_value(order, 2.5f), "order: 2.5 is not a whole number");
}

TEST_CASE("controller: switching between real presets is click-free (no step beyond the steady signal's)") {
    // The shipped stages, a driven preset and a clean one, through the
    // engine at 128-frame periods: the equal-power chain crossfade must not
    // add a step larger than either steady sound has.
    const auto& factory = rigd::core::StageFactory::builtin();
    Library library{"/nonexistent/presets", "/nonexistent/models", "/nonexistent/irs"};
    Engine engine;
    RigController rig{engine, factory, library};
    Preset driven;
    driven.name = "driven";
    driven.stages.push_back({.id = "pre", .type = "pre", .bypass = false, .params = {{"gain", 8.0f}}, .texts = {}});
    driven.stages.push_back({.id = "tone", .type = "tone", .bypass = false, .params = {}, .texts = {}});
    Preset clean;
    clean.name = "clean";
    clean.stages.push_back({.id = "vol", .type = "level", .bypass = false, .params = {{"gain_db", -12.0f}}, .texts = {}});
    (void)rig.start(driven, ProcessSpec{48000.0, 128, 1});
    std::vector<float> out;
    std::vector<float> in(128);
    std::vector<float> l(128);
    std::vector<float> r(128);
    std::size_t n = 0;
    for (int period = 0; period < 600; ++period) {
        if (period == 250) {
            (void)rig.load_preset(clean);
        }
        for (auto& s : in) {
            s = static_cast<float>(0.4 * std::sin(2.0 * M_PI * 110.0 * static_cast<double>(n++) / 48000.0));
        }
        engine.process(in, l, r);
        out.insert(out.end(), l.begin(), l.end());
    }
    auto max_step = [&](std::size_t from, std::size_t to) {
        double m = 0.0;
        for (std::size_t i = from + 1; i < to; ++i) {
            m = std::max(m, std::fabs(static_cast<double>(out[i]) - out[i - 1]));
        }
        return m;
    };
    const double before = max_step(4800, 250 * 128);
    const double after = max_step(400 * 128, out.size());
    const double across = max_step(250 * 128 - 1000, 400 * 128);
    INFO("steady before " << before << ", after " << after << ", across " << across);
    CHECK(across <= std::max(before, after) * 1.05);
    CHECK(rig.collect_retired() == 1);
}
