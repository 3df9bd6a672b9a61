#include "control/rig_controller.hpp"
#include "core/stages/level_stage.hpp"

#include "alloc_counter.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <vector>

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

TEST_CASE("controller: a burst of sets never fills the queue and the last value lands") {
    Fixture f; // command queue of 8
    for (int i = 0; i < 2000; ++i) {
        CHECK_NOTHROW(f.rig.set_param("a", "gain_db", static_cast<float>(-(i % 50))));
        CHECK_NOTHROW(f.rig.set_master_db(static_cast<float>(-(i % 40))));
        if (i % 100 == 0) {
            f.rig.pump();
            f.run(1);
        }
    }
    f.rig.set_param("a", "gain_db", -12.0f);
    f.rig.set_master_db(-1.0f);
    for (int i = 0; i < 10; ++i) {
        f.rig.pump();
        f.run(1);
    }
    CHECK_FALSE(f.rig.has_pending_work());
    CHECK(f.rig.stats().sets_coalesced > 0);
    CHECK(f.engine.counters().commands_rejected.load() == 0);
    f.run(40);
    // a: -12 dB, b: 0 dB, master -1 dB.
    CHECK(f.out_l[10] == doctest::Approx(0.5f * std::pow(10.0f, -13.0f / 20.0f)).epsilon(1e-4));
}

TEST_CASE("controller: loading a preset swaps chains and old ones are deleted off the RT thread") {
    Fixture f;
    f.rig.load_preset(two_levels(-20.0f, 0.0f), "two", {});
    CHECK(f.rig.param("a", "gain_db") == doctest::Approx(-20.0f));
    CHECK(f.rig.preset_file() == "two");
    f.run(40); // past the chain crossfade
    CHECK(f.out_l[10] == doctest::Approx(0.05f).epsilon(1e-3));
    f.rig.pump();
    CHECK_FALSE(f.engine.try_pop_retired()); // the old chain went to the worker to be deleted
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
            rig.load_preset(clean, "clean", {});
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
    rig.pump();
    CHECK_FALSE(engine.try_pop_retired());
}

namespace {

// The order the audio thread runs, asked over the report queue.
std::vector<std::string> audio_order(Fixture& f, bool& idle) {
    std::optional<std::vector<std::string>> ids;
    f.rig.query_audio_chain([&](std::vector<std::string> got, bool is_idle) {
        ids = std::move(got);
        idle = is_idle;
    });
    for (int i = 0; i < 5000 && !ids; ++i) {
        f.rig.pump();
        f.run(1);
        f.rig.pump();
    }
    INFO("applied " << f.engine.counters().commands_applied.load() << " deferred "
                    << f.engine.counters().commands_deferred.load() << " rejected "
                    << f.engine.counters().commands_rejected.load() << " reports dropped "
                    << f.engine.counters().reports_dropped.load() << " pending " << f.rig.has_pending_work() << " chain " << f.engine.chain_for_testing()->size() << "/"
                    << f.engine.chain_for_testing()->visible_size() << " model " << f.rig.stages().size()
                    << " idle " << f.engine.chain_for_testing()->is_idle());
    REQUIRE(ids.has_value());
    return *ids;
}

std::vector<std::string> settle_and_read_order(Fixture& f) {
    bool idle = false;
    std::vector<std::string> order;
    for (int i = 0; i < 50 && !idle; ++i) {
        for (int k = 0; k < 5; ++k) {
            f.rig.pump();
            f.run(1);
        }
        order = audio_order(f, idle);
    }
    CHECK(idle);
    return order;
}

} // namespace

TEST_CASE("controller: remove the first stage and add one, a thousand times, at 20 and 64 stages") {
    // Regression: the audio thread refused inserts into slots still ramping
    // out while the controller kept the new stage: it was then freed and used.
    for (const std::size_t size : {20u, 64u}) {
        Fixture f;
        for (std::size_t i = 2; i < size; ++i) {
            f.rig.add_stage("level", "s" + std::to_string(i), std::nullopt);
        }
        f.rig.pump();
        f.run(2);
        int next = 1000;
        for (int i = 0; i < 1000; ++i) {
            const std::string first = f.rig.stage_ids().front();
            f.rig.remove_stage(first);
            f.rig.add_stage("level", "n" + std::to_string(next++), std::nullopt);
            f.rig.set_param(f.rig.stage_ids().back(), "gain_db", -1.0f);
            f.rig.pump();
            if (i % 3 == 0) {
                f.run(1);
            }
        }
        const auto order = settle_and_read_order(f);
        CHECK(order == f.rig.stage_ids());
        CHECK(f.engine.counters().commands_rejected.load() == 0);
        CHECK(f.rig.stats().rejected_by_audio == 0);
        CHECK(f.rig.stages().size() == size);
    }
}

TEST_CASE("controller: quick moves leave the audio in the order the model reports") {
    Fixture f;
    for (int i = 0; i < 10; ++i) {
        f.rig.add_stage("level", "m" + std::to_string(i), std::nullopt);
    }
    std::uint32_t seed = 7;
    for (int i = 0; i < 300; ++i) {
        seed = seed * 1664525u + 1013904223u;
        const auto ids = f.rig.stage_ids();
        f.rig.move_stage(ids[(seed >> 8) % ids.size()], (seed >> 16) % ids.size());
        f.rig.pump();
        if (seed % 4 == 0) {
            f.run(1);
        }
    }
    CHECK(settle_and_read_order(f) == f.rig.stage_ids());
    CHECK(f.engine.counters().commands_rejected.load() == 0);
}

TEST_CASE("controller: a save issued after a load waits for it; the loaded preset is current") {
    Fixture f;
    // Builds that complete later: jobs wait here until released.
    std::vector<std::function<void()>> jobs;
    Engine engine{64, 64};
    rigd::core::StageFactory factory;
    factory.add("level", [] { return std::make_unique<rigd::core::stages::LevelStage>(); });
    Library library{"/nonexistent/presets", "/nonexistent/models", "/nonexistent/irs"};
    RigController rig{engine, factory, library,
                      rigd::control::Executors{[&](std::function<void()> j) { jobs.push_back(std::move(j)); },
                                               [](std::function<void()> p) { p(); }}};
    (void)rig.start(two_levels(0.0f, 0.0f), kSpec, "first");
    Preset second = two_levels(-3.0f, -3.0f);
    second.name = "Second";
    rig.load_preset(second, "second", {});
    CHECK(rig.preset_file() == "first"); // still playing the first
    REQUIRE(rig.pending_preset_file().has_value());
    CHECK(*rig.pending_preset_file() == "second");
    std::string saved_file;
    std::string saved_name;
    rig.when_settled([&] {
        saved_file = rig.preset_file();
        saved_name = rig.snapshot().name;
    });
    CHECK(saved_file.empty()); // not yet: the load is pending
    while (!jobs.empty()) {
        auto j = std::move(jobs.front());
        jobs.erase(jobs.begin());
        j();
    }
    CHECK(saved_file == "second");
    CHECK(saved_name == "Second");
    CHECK(rig.preset_file() == "second");
}

TEST_CASE("controller: a stage edited while its new file builds gets the edit") {
    std::vector<std::function<void()>> jobs;
    Engine engine{64, 64};
    rigd::core::StageFactory factory;
    factory.add("level", [] { return std::make_unique<rigd::core::stages::LevelStage>(); });
    Library library{"/nonexistent/presets", "/nonexistent/models", "/nonexistent/irs"};
    RigController rig{engine, factory, library,
                      rigd::control::Executors{[&](std::function<void()> j) { jobs.push_back(std::move(j)); },
                                               [](std::function<void()> p) { p(); }}};
    (void)rig.start(two_levels(0.0f, 0.0f), kSpec);
    rig.add_stage("level", "late", 0);
    rig.set_param("late", "gain_db", -9.0f); // before its build is done
    rig.set_bypass("late", true);
    REQUIRE(jobs.size() == 1);
    jobs.front()();
    jobs.clear();
    std::vector<float> in(64, 0.5f);
    std::vector<float> l(64);
    std::vector<float> r(64);
    for (int i = 0; i < 20; ++i) {
        rig.pump();
        engine.process(in, l, r);
    }
    const auto* chain = engine.chain_for_testing();
    REQUIRE(chain->size() == 3);
    CHECK(chain->stage_at(0)->param(0) == doctest::Approx(-9.0f));
    CHECK(chain->bypassed_at(0));
    CHECK(engine.counters().commands_rejected.load() == 0);
}
