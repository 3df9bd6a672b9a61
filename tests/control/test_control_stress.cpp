// The control plane under several threads at once, as the daemon runs it:
// OSC-like requests from four threads, an audio thread running the engine,
// MIDI, preset loads and saves, subscriptions. Built into the control suite
// and run under ThreadSanitizer by `scripts/check tsan`.
#include "control/feedback.hpp"
#include "control/midi_router.hpp"
#include "control/preset_file.hpp"
#include "core/stages/level_stage.hpp"
#include "live_space.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

using namespace rigd::control;
using namespace std::chrono_literals;

namespace {

std::string preset_text(const std::string& name, int stages) {
    std::string t = "name = \"" + name + "\"\n";
    for (int i = 0; i < stages; ++i) {
        t += "\n[[stage]]\nid = \"p" + std::to_string(i) + "\"\ntype = \"level\"\ngain_db = -" +
             std::to_string(i) + ".0\n";
    }
    return t;
}

} // namespace

TEST_CASE("control stress: four OSC threads, MIDI, presets, saves and an audio thread end in agreement") {
    const auto dir = std::filesystem::temp_directory_path() / ("rigd-stress-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "presets");
    for (int p = 0; p < 3; ++p) {
        std::ofstream(dir / "presets" / ("p" + std::to_string(p) + ".toml")) << preset_text("P" + std::to_string(p), 3 + p);
    }
    rigd::core::StageFactory factory;
    factory.add("level", [] { return std::make_unique<rigd::core::stages::LevelStage>(); });
    Library library{dir / "presets", dir / "models", dir / "irs"};
    rigd::core::Engine engine{64, 64};
    Worker worker;
    ControlLoop loop;
    const Executors exec{[&](std::function<void()> f) { worker.post(std::move(f)); },
                         [&](std::function<void()> f) { (void)loop.post(std::move(f)); }};
    RigController rig{engine, factory, library, exec};
    PresetManager presets{rig, library, factory, exec};
    std::atomic<int> feedback_messages{0};
    Feedback feedback{rig, &engine.counters(), [&](const std::string&, const OscMessage&) { ++feedback_messages; }};
    AddressSpace space{rig, presets, library, &feedback, AddressSpace::Hooks{}};
    feedback.set_space(&space);
    rig.set_listener(&feedback);
    MidiRouter midi(space, presets, dir / "midi.toml", 0);
    midi.set_writer([&](std::function<void()> f) { worker.post(std::move(f)); });
    (void)rig.start(rigd::core::Preset{}, {48000.0, 64, 1});
    loop.start(
        [&] {
            rig.pump();
            feedback.tick(std::chrono::steady_clock::now());
        },
        1ms);

    std::atomic<bool> stop{false};
    std::thread audio_thread([&] {
        std::vector<float> in(64, 0.1f);
        std::vector<float> l(64);
        std::vector<float> r(64);
        while (!stop.load()) {
            engine.process(in, l, r);
            std::this_thread::sleep_for(200us);
        }
    });
    std::atomic<int> requests{0};
    std::atomic<int> refused{0};
    auto post = [&](OscMessage m) {
        ++requests;
        (void)loop.post([&, m = std::move(m)] {
            try {
                (void)space.handle(Request{m, "osc.udp://127.0.0.1:9/", "127.0.0.1", [](const OscMessage&) {}});
            } catch (const ControlError&) {
                ++refused; // unknown ids after someone removed them: expected
            }
        });
    };
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&, t] {
            std::uint32_t seed = 1234u + static_cast<std::uint32_t>(t);
            for (int i = 0; i < 1500; ++i) {
                seed = seed * 1664525u + 1013904223u;
                const std::string id = "t" + std::to_string(t) + "_" + std::to_string((seed >> 8) % 6);
                switch ((seed >> 16) % 10) {
                case 0:
                    post({"/rig/chain/add", {OscArg::of(std::string("level")), OscArg::of(id)}});
                    break;
                case 1:
                    post({"/rig/chain/remove", {OscArg::of(id)}});
                    break;
                case 2:
                    post({"/rig/chain/move", {OscArg::of(id), OscArg::of(static_cast<std::int32_t>((seed >> 4) % 3))}});
                    break;
                case 3:
                    if (i % 50 == 0) {
                        post({t % 2 == 0 ? "/rig/preset/next" : "/rig/preset/prev", {}});
                    }
                    break;
                case 4:
                    if (i % 200 == 0) {
                        post({"/rig/preset/save", {}});
                    }
                    break;
                case 5:
                    post({"/rig/subscribe", {OscArg::of(static_cast<std::int32_t>(9000 + t))}});
                    break;
                case 6:
                    post({"/rig/stage/*/bypass", {OscArg::of(static_cast<std::int32_t>(seed & 1))}});
                    break;
                default:
                    post({"/rig/stage/" + id + "/gain_db", {OscArg::of(-static_cast<float>((seed >> 3) % 40))}});
                    post({"/rig/master/volume", {OscArg::of(-static_cast<float>((seed >> 5) % 30))}});
                    break;
                }
                if (i % 100 == 0) {
                    std::this_thread::sleep_for(1ms);
                }
            }
        });
    }
    std::thread footswitch([&] {
        for (int i = 0; i < 300; ++i) {
            (void)loop.post([&, i] { midi.handle(MidiEvent{0xB0, 7, static_cast<std::uint8_t>(i % 128)}); });
            if (i % 40 == 0) {
                (void)loop.post([&] { midi.handle(MidiEvent{0xC0, 1, 0}); }); // program change: preset 1
            }
            std::this_thread::sleep_for(300us);
        }
    });
    for (auto& c : clients) {
        c.join();
    }
    footswitch.join();

    // Let everything settle, then ask the audio thread for its order.
    std::vector<std::string> model;
    std::vector<std::string> audio;
    bool idle = false;
    for (int attempt = 0; attempt < 200 && !idle; ++attempt) {
        worker.wait_idle();
        std::this_thread::sleep_for(20ms);
        std::promise<std::pair<std::vector<std::string>, bool>> got;
        auto future = got.get_future();
        loop.call([&] {
            model = rig.stage_ids();
            rig.query_audio_chain([&](std::vector<std::string> ids, bool is_idle) {
                got.set_value({std::move(ids), is_idle && !rig.has_pending_work()});
            });
        });
        REQUIRE(future.wait_for(5s) == std::future_status::ready);
        auto [ids, now_idle] = future.get();
        audio = std::move(ids);
        idle = now_idle && audio == loop.call([&] { return rig.stage_ids(); });
    }
    CHECK(idle);
    CHECK(audio == model);
    loop.stop();
    stop = true;
    audio_thread.join();
    CHECK(engine.counters().commands_rejected.load() == 0);
    CHECK(rig.stats().rejected_by_audio == 0);
    CHECK(requests.load() > 4000);
    MESSAGE("requests " << requests.load() << ", refused " << refused.load() << ", feedback messages "
                        << feedback_messages.load() << ", values coalesced " << rig.stats().sets_coalesced);
    (void)worker.stop(5s);
    std::filesystem::remove_all(dir);
}
