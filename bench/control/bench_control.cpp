// Control-plane latencies (issue 5): OSC set -> audible, preset switch
// request -> new preset fully audible, feedback delivery to a subscriber.
#include "control/address_space.hpp"
#include "control/control_loop.hpp"
#include "control/feedback.hpp"
#include "control/library.hpp"
#include "control/net_filter.hpp"
#include "control/osc_server.hpp"
#include "control/preset_file.hpp"
#include "control/preset_manager.hpp"
#include "control/rig_controller.hpp"
#include "control/worker.hpp"
#include "core/engine.hpp"
#include "core/stage_factory.hpp"
#include "rigd_config.h"

#include <benchmark/benchmark.h>
#include <lo/lo.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

namespace {

using namespace rigd;
namespace fs = std::filesystem;
constexpr core::ProcessSpec kSpec{48000.0, 128, 1};
constexpr double kPeriodUs = 128.0 / 48000.0 * 1e6;

fs::path fixtures() { return fs::path(RIGD_SOURCE_DIR) / "fixtures"; }

// The control plane wired as the daemon wires it: a control loop owning the
// model, a worker for builds and files, the engine driven by the benchmark
// (or an audio thread).
struct Rig {
    control::Library library{fixtures() / "presets", fixtures() / "models", fixtures() / "irs"};
    core::Engine engine;
    control::Worker worker;
    control::ControlLoop loop;
    control::Executors exec{[this](std::function<void()> f) { worker.post(std::move(f)); },
                            [this](std::function<void()> f) { (void)loop.post(std::move(f)); }};
    control::RigController rig{engine, core::StageFactory::builtin(), library, exec};
    control::PresetManager presets{rig, library, core::StageFactory::builtin(), exec};
    control::OscServer* server = nullptr;
    control::Feedback feedback{rig, &engine.counters(), [this](const std::string& url, const control::OscMessage& m) {
                                   if (server != nullptr) {
                                       server->send_to(url, m);
                                   }
                               }};
    control::AddressSpace space{rig, presets, library, &feedback, {}};
    std::vector<float> in = std::vector<float>(128, 0.25f);
    std::vector<float> l = std::vector<float>(128);
    std::vector<float> r = std::vector<float>(128);

    explicit Rig(const std::string& preset) {
        (void)rig.start(control::load_preset_file(library.resolve_preset(preset), core::StageFactory::builtin()),
                        kSpec, preset);
        feedback.set_space(&space);
        rig.set_listener(&feedback);
        loop.start(
            [this] {
                rig.pump();
                feedback.tick(std::chrono::steady_clock::now());
            },
            std::chrono::milliseconds(1));
    }
    ~Rig() {
        loop.stop();
        (void)worker.stop(std::chrono::seconds(10));
    }
    void period() { engine.process(in, l, r); }
};

// Periods from an OSC set to the first period whose output shows it, and
// the time the control side spends on the message.
void BM_OscSetToAudible(benchmark::State& state) {
    Rig rig("clean");
    for (int i = 0; i < 50; ++i) {
        rig.period();
    }
    float db = -6.0f;
    double periods_total = 0.0;
    for (auto _ : state) {
        const float before = rig.l[64];
        db = db == -6.0f ? -12.0f : -6.0f;
        const auto t0 = std::chrono::steady_clock::now();
        rig.loop.call([&] { (void)rig.space.handle(control::OscMessage{"/rig/master/volume", {control::OscArg::of(db)}}); });
        const auto t1 = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
        int periods = 0;
        do {
            rig.period();
            ++periods;
        } while (rig.l[64] == before && periods < 100);
        periods_total += periods;
        for (int i = 0; i < 10; ++i) {
            rig.period(); // let the ramp finish
        }
    }
    state.counters["periods_to_audible"] = periods_total / static_cast<double>(state.iterations());
}
BENCHMARK(BM_OscSetToAudible)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(200);

// From /rig/preset/load to the new preset alone in the output: worker
// read + build time plus the engine's 20 ms crossfade, with audio running.
void BM_PresetSwitch(benchmark::State& state, const char* from, const char* to) {
    Rig rig(from);
    std::atomic<bool> run{true};
    // The engine is only asked about itself from its own (audio) thread,
    // which publishes the last period it ended idle.
    std::atomic<std::uint64_t> periods{0};
    std::atomic<std::uint64_t> idle_after{0};
    std::thread audio([&] {
        while (run.load()) {
            rig.period();
            const std::uint64_t n = periods.fetch_add(1) + 1;
            if (rig.engine.is_idle()) {
                idle_after.store(n);
            }
            std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int>(kPeriodUs)));
        }
    });
    bool forward = true;
    double build_s = 0.0;
    for (auto _ : state) {
        const std::string target = forward ? to : from;
        forward = !forward;
        const auto t0 = std::chrono::steady_clock::now();
        rig.loop.call([&] { rig.presets.request_load(target, nullptr); });
        // File read, chain built and prepared, handed to the engine.
        while (!rig.loop.call([&] { return rig.rig.preset_file() == target && !rig.rig.has_pending_work(); })) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        const auto t1 = std::chrono::steady_clock::now();
        const std::uint64_t handed_over = periods.load();
        while (idle_after.load() <= handed_over) { // the crossfade, in (simulated) real time
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        const auto t2 = std::chrono::steady_clock::now();
        build_s += std::chrono::duration<double>(t1 - t0).count();
        state.SetIterationTime(std::chrono::duration<double>(t2 - t0).count());
    }
    state.counters["build_ms"] = build_s * 1e3 / static_cast<double>(state.iterations());
    state.counters["fade_ms"] = core::Engine::kChainFadeMs;
    run = false;
    audio.join();
}
BENCHMARK_CAPTURE(BM_PresetSwitch, clean_to_crunch, "clean", "crunch")
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(20);
BENCHMARK_CAPTURE(BM_PresetSwitch, crunch_to_demo_with_cab, "crunch", "demo")
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(20);

// A script changes a value over UDP; a subscribed phone receives the change:
// the whole path through liblo, the controller and the feedback thread.
void BM_FeedbackDelivery(benchmark::State& state) {
    Rig rig("clean");
    control::OscServer server(rig.loop, rig.space, control::NetFilter());
    server.start(0, false);
    rig.server = &server;
    const std::string port = std::to_string(server.port());
    lo_server phone = lo_server_new_with_proto(nullptr, LO_UDP, nullptr);
    std::atomic<int> got{0};
    lo_server_add_method(
        phone, "/rig/master/volume", nullptr,
        [](const char*, const char*, lo_arg**, int, lo_message, void* user) {
            static_cast<std::atomic<int>*>(user)->fetch_add(1);
            return 0;
        },
        &got);
    lo_address daemon = lo_address_new("127.0.0.1", port.c_str());
    lo_send_from(daemon, phone, LO_TT_IMMEDIATE, "/rig/subscribe", "");
    // Take the dump (meters keep coming at 20 Hz, so bound it by time).
    const auto drain_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (std::chrono::steady_clock::now() < drain_until) {
        lo_server_recv_noblock(phone, 20);
    }
    lo_address script_to = lo_address_new("127.0.0.1", port.c_str());
    float db = -6.0f;
    for (auto _ : state) {
        got = 0;
        db = db == -6.0f ? -7.0f : -6.0f;
        std::this_thread::sleep_for(std::chrono::milliseconds(40)); // past the 30 Hz rate limit
        const auto t0 = std::chrono::steady_clock::now();
        lo_send(script_to, "/rig/master/volume", "f", db);
        while (got.load() == 0) {
            lo_server_recv_noblock(phone, 100);
        }
        const auto t1 = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
        rig.period();
    }
    server.stop();
    rig.server = nullptr;
    lo_address_free(daemon);
    lo_address_free(script_to);
    lo_server_free(phone);
}
BENCHMARK(BM_FeedbackDelivery)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(50);

} // namespace

BENCHMARK_MAIN();
