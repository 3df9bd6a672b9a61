#include "control/address_space.hpp"
#include "control/feedback.hpp"
#include "core/stages/level_stage.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace rigd::control;
using Clock = Feedback::Clock;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    rigd::core::StageFactory factory;
    Library library{"/nonexistent/presets", "/nonexistent/models", "/nonexistent/irs"};
    rigd::core::Engine engine{64, 64};
    RigController rig{engine, factory, library};
    PresetManager presets{rig, library, factory, Executors::inline_for_testing()};
    std::vector<std::pair<std::string, OscMessage>> sent;
    Feedback feedback{rig, &engine.counters(),
                      [this](const std::string& url, const OscMessage& m) { sent.emplace_back(url, m); }};
    AddressSpace space{rig, presets, library, &feedback, {}};

    Fixture() {
        factory.add("level", [] { return std::make_unique<rigd::core::stages::LevelStage>(); });
        rigd::core::Preset p;
        p.name = "t";
        p.stages.push_back({.id = "vol", .type = "level", .bypass = false, .params = {}, .texts = {}});
        (void)rig.start(p, {48000.0, 64, 1});
        rig.set_listener(&feedback);
        feedback.set_space(&space);
    }
    std::vector<float> values_at(const std::string& url, const std::string& path) const {
        std::vector<float> out;
        for (const auto& [u, m] : sent) {
            if (u == url && m.path == path) {
                out.push_back(m.args.at(0).f);
            }
        }
        return out;
    }
};

} // namespace

TEST_CASE("feedback: subscribing sends the full dump at once") {
    Fixture f;
    f.feedback.subscribe("osc.udp://127.0.0.1:9001/", 60);
    CHECK(f.values_at("osc.udp://127.0.0.1:9001/", "/rig/stage/vol/gain_db") == std::vector<float>{0.0f});
    CHECK(f.values_at("osc.udp://127.0.0.1:9001/", "/rig/master/volume") == std::vector<float>{0.0f});
}

TEST_CASE("feedback: changes are coalesced, latest wins, at most 30 Hz per address, to every subscriber") {
    Fixture f;
    f.feedback.subscribe("osc.udp://a:1/", 60);
    f.feedback.subscribe("osc.udp://b:2/", 60);
    f.sent.clear();
    auto t = Clock::now();
    f.rig.set_param("vol", "gain_db", -1.0f);
    f.feedback.tick(t);
    for (int i = 2; i <= 10; ++i) {
        f.rig.set_param("vol", "gain_db", -static_cast<float>(i));
        f.feedback.tick(t + std::chrono::milliseconds(i)); // within 33 ms: held back
    }
    CHECK(f.values_at("osc.udp://a:1/", "/rig/stage/vol/gain_db") == std::vector<float>{-1.0f});
    f.feedback.tick(t + 34ms);
    CHECK(f.values_at("osc.udp://a:1/", "/rig/stage/vol/gain_db") == std::vector<float>{-1.0f, -10.0f});
    CHECK(f.values_at("osc.udp://b:2/", "/rig/stage/vol/gain_db") == std::vector<float>{-1.0f, -10.0f});
    CHECK(f.values_at("osc.udp://a:1/", "/rig/stage/vol/gain_db/norm").back() ==
          doctest::Approx((-10.0 + 60.0) / 84.0));
    f.feedback.tick(t + 200ms); // nothing new: nothing sent again
    CHECK(f.values_at("osc.udp://a:1/", "/rig/stage/vol/gain_db").size() == 2);
}

TEST_CASE("feedback: meters at 20 Hz in dBFS, leases expire, static subscribers stay") {
    Fixture f;
    f.feedback.subscribe("osc.udp://lease:1/", 1);
    f.feedback.subscribe("osc.udp://static:2/", 0);
    f.sent.clear();
    f.engine.counters().peak_out.store(0.5f);
    const auto t = Clock::now();
    f.feedback.tick(t);
    const auto out = f.values_at("osc.udp://static:2/", "/rig/meter/out");
    REQUIRE(out.size() == 1);
    CHECK(out[0] == doctest::Approx(-6.0206).epsilon(1e-4));
    CHECK(f.engine.counters().meter_reset.load());
    f.feedback.tick(t + 10ms); // next meter only 50 ms later
    CHECK(f.values_at("osc.udp://static:2/", "/rig/meter/out").size() == 1);
    f.feedback.tick(t + 2s);
    CHECK(f.feedback.subscribers() == std::vector<std::string>{"osc.udp://static:2/"});
    CHECK(f.feedback.unsubscribe("osc.udp://static:2/"));
    CHECK_FALSE(f.feedback.unsubscribe("osc.udp://static:2/"));
    CHECK_THROWS_AS(f.feedback.subscribe("osc.udp://x:1/", -1), ControlError);
}

TEST_CASE("feedback: a preset load or chain edit sends everything again") {
    Fixture f;
    f.feedback.subscribe("osc.udp://a:1/", 60);
    f.sent.clear();
    f.rig.add_stage("level", "boost", 0);
    f.feedback.tick(Clock::now());
    CHECK(f.values_at("osc.udp://a:1/", "/rig/stage/boost/gain_db") == std::vector<float>{0.0f});
    CHECK(f.values_at("osc.udp://a:1/", "/rig/stage/vol/gain_db") == std::vector<float>{0.0f});
}
