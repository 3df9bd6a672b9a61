#include "core/engine.hpp"
#include "core/stages/level_stage.hpp"
#include "core/record_tap.hpp"
#include "core/tuner/input_tap.hpp"

#include "alloc_counter.hpp"
#include "test_stages.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

using rigd::core::AmplifierChain;
using rigd::core::Command;
using rigd::core::Engine;
using rigd::core::ProcessSpec;
using rigd::core::Stage;
using rigd::core::stages::LevelStage;
using rigd::test::ScopedAllocationCounter;

namespace {

constexpr ProcessSpec kSpec{48000.0, 128, 1};

struct Rig {
    Engine engine;
    rigd::core::StageHandle level{1};
    std::vector<float> in = std::vector<float>(128, 0.5f);
    std::vector<float> left = std::vector<float>(128);
    std::vector<float> right = std::vector<float>(128);

    explicit Rig(float level_db = 0.0f) {
        auto chain = std::make_unique<AmplifierChain>();
        chain->prepare(kSpec);
        auto s = std::make_unique<LevelStage>();
        s->set_param(0, level_db);
        s->prepare(kSpec);
        chain->append(std::move(s), false, level);
        engine.prepare(kSpec, std::move(chain));
    }
    void periods(int n) {
        for (int i = 0; i < n; ++i) {
            engine.process(in, left, right);
        }
    }
    std::unique_ptr<Stage> prepared_level(float db) const {
        auto s = std::make_unique<LevelStage>();
        s->set_param(0, db);
        s->prepare(kSpec);
        return s;
    }
};

} // namespace

TEST_CASE("engine: mono chain output goes to both outputs at master 0 dB") {
    Rig rig(-6.0f);
    rig.periods(1);
    const float g = std::pow(10.0f, -6.0f / 20.0f);
    CHECK(rig.left[5] == doctest::Approx(0.5f * g));
    CHECK(rig.right[127] == doctest::Approx(0.5f * g));
    CHECK(rig.engine.counters().peak_in.load() == doctest::Approx(0.5f));
    CHECK(rig.engine.counters().peak_out.load() == doctest::Approx(0.5f * g));
}

TEST_CASE("engine: master volume and mute ramp to their targets") {
    Rig rig;
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::set_master_db, .value = -20.0f}));
    rig.periods(1);
    CHECK(rig.left[0] > 0.45f); // ramp starts near the old value: no step
    rig.periods(20);
    CHECK(rig.left[100] == doctest::Approx(0.05f).epsilon(1e-3));
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::set_mute, .value = 1.0f}));
    rig.periods(20);
    CHECK(rig.left[100] == 0.0f);
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::set_mute, .value = 0.0f}));
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::set_tuner, .value = 1.0f}));
    rig.periods(20);
    CHECK(rig.left[100] == 0.0f); // the tuner mutes too
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::set_tuner, .value = 0.0f}));
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::set_rig_bypass, .value = 1.0f}));
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::set_master_db, .value = 0.0f}));
    rig.periods(20);
    CHECK(rig.left[100] == doctest::Approx(0.5f));
}

TEST_CASE("engine: applying every command type allocates nothing and retires off the RT thread") {
    Rig rig;
    auto extra = rig.prepared_level(-3.0f).release();
    auto fresh = rig.prepared_level(-12.0f).release();
    auto new_chain = std::make_unique<AmplifierChain>();
    new_chain->prepare(kSpec);
    new_chain->append(rig.prepared_level(-1.0f));
    AmplifierChain* chain_ptr = new_chain.release();
    const std::vector<Command> commands{
        {.type = Command::Type::set_param, .stage = rig.level, .index = 0, .value = -2.0f},
        {.type = Command::Type::set_bypass, .stage = rig.level, .value = 1.0f},
        {.type = Command::Type::set_bypass, .stage = rig.level, .value = 0.0f},
        {.type = Command::Type::insert_stage, .fresh_handle = {7}, .anchor = rig.level, .fresh = extra},
        {.type = Command::Type::move_stage, .stage = {7}, .anchor = {}},
        {.type = Command::Type::replace_stage, .stage = rig.level, .fresh_handle = {8}, .fresh = fresh},
        {.type = Command::Type::remove_stage, .stage = {7}},
        {.type = Command::Type::set_master_db, .value = -3.0f},
        {.type = Command::Type::set_mute, .value = 1.0f},
        {.type = Command::Type::set_rig_bypass, .value = 1.0f},
        {.type = Command::Type::set_tuner, .value = 1.0f},
        {.type = Command::Type::swap_chain, .chain = chain_ptr},
    };
    for (const Command& c : commands) {
        REQUIRE(rig.engine.try_send(c));
        ScopedAllocationCounter counter;
        rig.periods(12); // long enough for every ramp and fade to finish
        INFO("command type " << static_cast<int>(c.type));
        CHECK(counter.total() == 0);
    }
    CHECK(rig.engine.counters().commands_applied.load() == commands.size());
    CHECK(rig.engine.counters().commands_rejected.load() == 0);
    // replaced level, removed extra, the old chain: all handed back to us.
    int retired = 0;
    while (auto r = rig.engine.try_pop_retired()) {
        ++retired;
    }
    CHECK(retired == 3);
    CHECK(rig.engine.is_idle());
}

TEST_CASE("engine: a chain swap crossfades with equal power and defers a second swap") {
    Rig rig(0.0f);
    auto make = [&](float db) {
        auto c = std::make_unique<AmplifierChain>();
        c->prepare(kSpec);
        c->append(rig.prepared_level(db));
        return c.release();
    };
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::swap_chain, .chain = make(0.0f)}));
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::swap_chain, .chain = make(-6.0f)}));
    rig.periods(1);
    // During an equal-power fade of two identical signals the sum is
    // cos+sin > 1: sample 64 of the first period is 64/fade_samples in.
    const double fade_samples = Engine::kChainFadeMs * 48.0;
    const double theta = 64.0 / fade_samples * M_PI / 2.0;
    CHECK(rig.left[64] == doctest::Approx(0.5 * (std::cos(theta) + std::sin(theta))).epsilon(1e-3));
    CHECK(rig.engine.counters().commands_deferred.load() >= 1);
    rig.periods(40);
    CHECK(rig.left[100] == doctest::Approx(0.5f * std::pow(10.0f, -6.0f / 20.0f)).epsilon(1e-4));
    int retired = 0;
    while (auto r = rig.engine.try_pop_retired()) {
        ++retired;
    }
    CHECK(retired == 2);
}

TEST_CASE("engine: non-finite input is zeroed and counted") {
    Rig rig;
    rig.in[3] = std::nanf("");
    rig.in[4] = INFINITY;
    rig.periods(1);
    CHECK(rig.left[3] == 0.0f);
    CHECK(std::isfinite(rig.left[4]));
    CHECK(rig.engine.counters().nonfinite_input.load() == 2);
}

TEST_CASE("engine: a rejected insert hands the stage back for retirement, never leaks it") {
    Rig rig;
    // An insert before a stage that is not there is refused and reported.
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::insert_stage,
                                       .fresh_handle = {5},
                                       .anchor = {404},
                                       .fresh = rig.prepared_level(0.0f).release(),
                                       .seq = 9}));
    rig.periods(2);
    CHECK(rig.engine.counters().commands_rejected.load() == 1);
    const auto report = rig.engine.try_pop_report();
    REQUIRE(report.has_value());
    CHECK(report->kind == rigd::core::EngineReport::Kind::rejected);
    CHECK(report->seq == 9);
    int retired = 0;
    while (auto r = rig.engine.try_pop_retired()) {
        ++retired;
    }
    CHECK(retired == 1);
}

TEST_CASE("engine: remove and insert at 64 stages land in order, nothing refused") {
    Rig rig;
    for (std::uint64_t h = 2; h <= AmplifierChain::kCapacity; ++h) {
        REQUIRE(rig.engine.try_send(Command{.type = Command::Type::insert_stage,
                                           .fresh_handle = {h},
                                           .fresh = rig.prepared_level(0.0f).release()}));
        if (h % 32 == 0) {
            rig.periods(1);
        }
    }
    rig.periods(2);
    // Remove one and insert another at once: the slot is still ramping out.
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::remove_stage, .stage = {3}, .seq = 1}));
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::insert_stage,
                                       .fresh_handle = {100},
                                       .fresh = rig.prepared_level(-6.0f).release(),
                                       .seq = 2}));
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::set_param, .stage = {100}, .index = 0, .value = -3.0f}));
    ScopedAllocationCounter counter;
    rig.periods(10);
    CHECK(counter.total() == 0);
    CHECK(rig.engine.counters().commands_rejected.load() == 0);
    CHECK(rig.engine.chain_for_testing()->find_stage({100})->param(0) == doctest::Approx(-3.0f));
    int applied = 0;
    while (auto r = rig.engine.try_pop_report()) {
        applied += r->kind == rigd::core::EngineReport::Kind::applied ? 1 : 0;
    }
    CHECK(applied >= 2);
    while (auto r = rig.engine.try_pop_retired()) {
    }
}

TEST_CASE("engine: a swapped chain's spec becomes the engine's") {
    Rig rig(0.0f);
    auto chain = std::make_unique<AmplifierChain>();
    const ProcessSpec bigger{96000.0, 512, 1};
    chain->prepare(bigger);
    chain->append(rig.prepared_level(0.0f));
    std::vector<float> in(512, 0.25f);
    std::vector<float> l(512);
    std::vector<float> r(512);
    rig.engine.process(in, l, r); // a longer period than prepared, before the new chain comes
    CHECK(l[511] == doctest::Approx(0.25f));
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::swap_chain, .chain = chain.release()}));
    ScopedAllocationCounter counter;
    rig.engine.process(in, l, r);
    CHECK(counter.total() == 0);
    CHECK(rig.engine.spec().sample_rate_hz == 96000.0);
    CHECK(rig.engine.spec().max_block_size == 512);
    for (int i = 0; i < 10; ++i) {
        rig.engine.process(in, l, r);
    }
    CHECK(l[300] == doctest::Approx(0.25f));
    while (auto x = rig.engine.try_pop_retired()) {
    }
}

TEST_CASE("engine: the audio thread reports the order it runs") {
    Rig rig;
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::insert_stage,
                                       .fresh_handle = {2},
                                       .anchor = rig.level,
                                       .fresh = rig.prepared_level(0.0f).release()}));
    REQUIRE(rig.engine.try_send(Command{.type = Command::Type::report_chain, .seq = 77}));
    ScopedAllocationCounter counter;
    rig.periods(1);
    CHECK(counter.total() == 0);
    std::optional<rigd::core::EngineReport> chain;
    while (auto r = rig.engine.try_pop_report()) {
        if (r->kind == rigd::core::EngineReport::Kind::chain) {
            chain = r;
        }
    }
    REQUIRE(chain.has_value());
    CHECK(chain->seq == 77);
    REQUIRE(chain->count == 2);
    CHECK(chain->stages[0].value == 2);
    CHECK(chain->stages[1].value == 1);
    CHECK_FALSE(chain->idle); // the new stage is still ramping in
}

TEST_CASE("engine: periods longer than the prepared block are processed whole") {
    Rig rig(-6.0f);
    std::vector<float> in(300, 0.25f);
    std::vector<float> l(300);
    std::vector<float> r(300);
    rig.engine.process(in, l, r);
    CHECK(l[299] == doctest::Approx(0.25f * std::pow(10.0f, -6.0f / 20.0f)));
    CHECK(r[150] == l[150]);
}

#include "core/denormals.hpp"

#include <thread>

TEST_CASE("denormals: flushing on a thread turns subnormal results into zero") {
    std::thread t([] {
        rigd::core::flush_denormals_on_this_thread();
        CHECK(rigd::core::denormals_are_flushed());
        volatile float tiny = 1e-30f;
        volatile float scale = 1e-10f;
        const float product = tiny * scale; // 1e-40 is subnormal in float
        CHECK(product == 0.0f);
    });
    t.join();
}

TEST_CASE("engine: the input tap gets every period's input without allocating") {
    Rig rig;
    rigd::core::tuner::InputTap tap(1024);
    rig.engine.set_input_tap(&tap);
    for (std::size_t i = 0; i < rig.in.size(); ++i) {
        rig.in[i] = static_cast<float>(i);
    }
    {
        ScopedAllocationCounter counter;
        rig.periods(3);
        CHECK(counter.total() == 0);
    }
    std::vector<float> latest(128);
    REQUIRE(tap.read_latest(latest) == 128);
    CHECK(latest[0] == 0.0f);
    CHECK(latest[127] == 127.0f);
    CHECK(tap.samples_written() == 3 * 128);
}

TEST_CASE("engine: the record tap gets the input as received and both outputs, only while armed, without allocating") {
    Rig rig(-6.0f);
    rigd::core::RecordTap tap(1024);
    rig.engine.set_record_tap(&tap);
    for (std::size_t i = 0; i < rig.in.size(); ++i) {
        rig.in[i] = static_cast<float>(i) / 128.0f;
    }
    rig.in[5] = std::numeric_limits<float>::quiet_NaN(); // the DI keeps even what the chain refuses
    std::vector<float> di(1024), l(1024), r(1024);
    {
        ScopedAllocationCounter counter;
        rig.periods(1);
        (void)tap.arm();
        rig.periods(2);
        (void)tap.disarm();
        rig.periods(1);
        CHECK(counter.total() == 0);
    }
    REQUIRE(tap.read(di, l, r) == 256);
    CHECK(std::isnan(di[5]));
    CHECK(di[127] == rig.in[127]);
    CHECK(l[127] == rig.left[127]);
    CHECK(r[127] == rig.right[127]);
    CHECK(l[127] == doctest::Approx(rig.in[127] * std::pow(10.0f, -6.0f / 20.0f)));
}
