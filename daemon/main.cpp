#include "control/address_space.hpp"
#include "control/config.hpp"
#include "control/feedback.hpp"
#include "control/net_filter.hpp"
#include "control/preset_manager.hpp"
#include "control/library.hpp"
#include "control/midi_router.hpp"
#include "control/tuner_feed.hpp"
#include "control/osc_server.hpp"
#include "control/preset_file.hpp"
#include "control/rig_controller.hpp"
#include "core/engine.hpp"
#include "core/stage_factory.hpp"
#include "core/tuner/input_tap.hpp"
#include "daemon/cli.hpp"
#include "daemon/jack_host.hpp"
#include "daemon/render.hpp"
#include "rigd_config.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace {

std::atomic<int> g_signal{0};

rigd::core::Preset empty_preset() {
    rigd::core::Preset p;
    p.name = "empty";
    return p;
}
static_assert(std::atomic<int>::is_always_lock_free); // set from a signal handler

extern "C" void on_signal(int sig) { g_signal.store(sig); }

// Start-up preset: a path (contains '/' or names an existing file) or a name
// in the presets folder. A preset that fails to load is logged and the rig
// starts with an empty chain, so audio still passes.
rigd::core::Preset startup_preset(const std::string& name, const rigd::control::Library& library, bool& absolute,
                                  std::string& folder_name) {
    absolute = false;
    folder_name.clear();
    if (name.empty()) {
        spdlog::info("no start-up preset: starting with an empty chain");
        return empty_preset();
    }
    try {
        std::filesystem::path path;
        if (name.find('/') != std::string::npos || std::filesystem::is_regular_file(name)) {
            path = name;
            absolute = true;
        } else {
            path = library.resolve_preset(name);
            folder_name = path.stem().string();
        }
        return rigd::control::load_preset_file(path, rigd::core::StageFactory::builtin());
    } catch (const std::exception& e) {
        spdlog::error("start-up preset: {}; starting with an empty chain", e.what());
        folder_name.clear();
        return empty_preset();
    }
}

// Reports what the RT thread counted since the last look (it cannot log).
class CounterReporter {
public:
    void report(rigd::core::EngineCounters& c, std::uint64_t xruns) {
        check("xrun(s)", xruns, xruns_);
        check("non-finite input sample(s) zeroed", c.nonfinite_input.load(), nonfinite_input_);
        check("stage reset(s) after non-finite output", c.nonfinite_stage.load(), nonfinite_stage_);
        check("command(s) rejected by the audio thread", c.commands_rejected.load(), rejected_);
        check("retired object(s) leaked (retire queue full)", c.retire_overflow.load(), overflow_);
    }

private:
    static void check(const char* what, std::uint64_t now, std::uint64_t& last) {
        if (now != last) {
            spdlog::warn("{} {} (total {})", now - last, what, now);
            last = now;
        }
    }
    std::uint64_t xruns_ = 0;
    std::uint64_t nonfinite_input_ = 0;
    std::uint64_t nonfinite_stage_ = 0;
    std::uint64_t rejected_ = 0;
    std::uint64_t overflow_ = 0;
};

int run(const rigd::control::Config& config) {
    using namespace std::chrono_literals;
    const auto& factory = rigd::core::StageFactory::builtin();
    const rigd::control::Library library(config.presets_dir, config.models_dir, config.irs_dir);
    bool absolute = false;
    std::string folder_name;
    const rigd::core::Preset preset = startup_preset(config.preset, library, absolute, folder_name);

    std::unique_ptr<rigd::control::NetFilter> filter;
    try {
        filter = config.osc_allow.empty() ? std::make_unique<rigd::control::NetFilter>()
                                          : std::make_unique<rigd::control::NetFilter>(config.osc_allow);
    } catch (const std::exception& e) {
        spdlog::error("osc.allow: {}", e.what());
        return 1;
    }

    rigd::core::Engine engine;
    rigd::control::RigController rig(engine, factory, library);
    std::unique_ptr<rigd::daemon::JackHost> host;
    try {
        host = std::make_unique<rigd::daemon::JackHost>(config, engine);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    const rigd::core::ProcessSpec spec{host->sample_rate_hz(), host->period_frames(), preset.oversample};
    try {
        for (const auto& w : rig.start(preset, spec, absolute)) {
            spdlog::warn("preset '{}': {}", preset.name, w);
        }
    } catch (const std::exception& e) {
        spdlog::error("{}; starting with an empty chain", e.what());
        folder_name.clear();
        (void)rig.start(empty_preset(), spec);
    }
    spdlog::info("preset '{}' ({} stage(s)) at {} Hz, period {}", rig.preset_name(), rig.stage_ids().size(),
                 spec.sample_rate_hz, spec.max_block_size);

    rigd::control::PresetManager presets(rig, library, factory);
    presets.set_current_name(folder_name);
    rigd::control::MidiRouter* midi_for_presets = nullptr;
    presets.set_loaded_hook([&rig, &midi_for_presets](const std::string& name, const std::vector<std::string>& warnings) {
        spdlog::info("preset '{}' loaded", name);
        for (const auto& w : warnings) {
            spdlog::warn("preset '{}': {}", name, w);
        }
        if (midi_for_presets != nullptr) {
            try {
                midi_for_presets->set_preset_mappings(rig.snapshot().midi);
            } catch (const std::exception& e) {
                spdlog::error("preset '{}' MIDI mappings: {}", name, e.what());
            }
        }
    });

    rigd::control::OscServer* osc_ptr = nullptr;
    rigd::control::MidiRouter* midi_ptr = nullptr;
    rigd::control::AddressSpace::Hooks hooks;
    if (config.midi_enabled) {
        hooks.midi_learn = [&midi_ptr](const std::string& address, float min, float max, bool toggle) {
            midi_ptr->learn(address, min, max, toggle);
        };
        hooks.midi_list = [&midi_ptr] { return midi_ptr->list(); };
    }
    hooks.status = [&host] {
        return rigd::control::Status{.dsp_load_percent = host->dsp_load_percent(),
                                     .xruns = host->xruns(),
                                     .sample_rate_hz = static_cast<int>(host->sample_rate_hz()),
                                     .period_frames = static_cast<int>(host->period_frames())};
    };
    hooks.info = [&host, &config, &osc_ptr] {
        using rigd::control::OscArg;
        const std::string client = host->client_name();
        return std::vector<OscArg>{OscArg::of(std::string("rigd")), OscArg::of(std::string(RIGD_VERSION)),
                                   OscArg::of(client), OscArg::of(client + ":" + config.input_port),
                                   OscArg::of(client + ":" + config.output_left_port),
                                   OscArg::of(client + ":" + config.output_right_port),
                                   OscArg::of(static_cast<std::int32_t>(osc_ptr != nullptr ? osc_ptr->port() : 0))};
    };
    rigd::control::AddressSpace space(rig, presets, library, hooks);
    rigd::control::Feedback feedback(space, rig, &engine.counters(),
                                     [&osc_ptr](const std::string& url, const rigd::control::OscMessage& m) {
                                         if (osc_ptr != nullptr) {
                                             osc_ptr->send_to(url, m);
                                         }
                                     });
    rig.set_listener(&feedback);
    rigd::control::OscServer osc(space, &feedback, *filter);

    // The tuner reads the input on the feedback thread; the RT thread only
    // copies each period into the tap.
    rigd::core::tuner::InputTap tap(16384);
    engine.set_input_tap(&tap);
    rigd::control::TunerFeed tuner_feed(tap, host->sample_rate_hz());
    feedback.set_tuner_reading([&tuner_feed] { return tuner_feed.reading(); });

    rigd::control::MidiRouter midi(space, presets, config.midi_map, config.midi_program_channel);
    if (config.midi_enabled) {
        try {
            midi.load();
        } catch (const std::exception& e) {
            spdlog::error("MIDI mappings: {}; starting with none", e.what());
        }
        midi.set_learned_hook([&feedback](const rigd::control::OscMessage& m) { feedback.changed(m); });
        try {
            midi.set_preset_mappings(rig.snapshot().midi);
        } catch (const std::exception& e) {
            spdlog::error("preset MIDI mappings: {}", e.what());
        }
        midi_ptr = &midi;
        midi_for_presets = &midi;
    }

    try {
        host->activate([&rig](double rate, std::size_t period) {
            auto s = rig.spec();
            s.sample_rate_hz = rate;
            s.max_block_size = period;
            spdlog::info("JACK now runs at {} Hz, period {}: re-preparing the chain", rate, period);
            for (const auto& w : rig.reprepare(s)) {
                spdlog::warn("{}", w);
            }
        });
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    spdlog::info("JACK client '{}' active", host->client_name());

    try {
        osc.start(config.osc_port, config.osc_tcp);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        rig.set_listener(nullptr);
        host->deactivate();
        return 1;
    }
    osc_ptr = &osc;
    feedback.start();
    for (const auto& url : config.osc_subscribers) {
        feedback.subscribe(url, 0);
    }
    spdlog::info("OSC listening on port {} (UDP{})", osc.port(), config.osc_tcp ? " and TCP" : "");

    CounterReporter reporter;
    auto next_report = std::chrono::steady_clock::now();
    std::uint64_t dropped = 0;
    std::uint64_t midi_dropped = 0;
    while (g_signal.load() == 0 && !host->server_gone()) {
        std::this_thread::sleep_for(5ms); // MIDI footswitch latency is this plus one period
        while (const auto event = host->pop_midi()) {
            midi.handle(*event);
        }
        rig.collect_retired();
        // At most one line per counter per second, however busy the RT side is.
        if (std::chrono::steady_clock::now() >= next_report) {
            reporter.report(engine.counters(), host->xruns());
            if (host->midi_dropped() != midi_dropped) {
                spdlog::warn("{} MIDI event(s) dropped (queue full)", host->midi_dropped() - midi_dropped);
                midi_dropped = host->midi_dropped();
            }
            if (osc.dropped() != dropped) {
                spdlog::warn("{} OSC message(s) from outside the allowed networks dropped (total {})",
                             osc.dropped() - dropped, osc.dropped());
                dropped = osc.dropped();
            }
            next_report += 1s;
        }
    }
    feedback.stop();
    osc.stop();
    osc_ptr = nullptr;
    presets.set_loaded_hook(nullptr);
    rig.set_listener(nullptr);
    if (host->server_gone()) {
        spdlog::error("the JACK server shut down ({}); exiting", host->shutdown_reason());
        return 1;
    }
    spdlog::info("signal {} received: shutting down", g_signal.load());
    host->deactivate();
    host.reset();
    rig.collect_retired();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    using rigd::daemon::Options;
    Options options;
    try {
        options = rigd::daemon::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const rigd::daemon::UsageError& e) {
        std::fprintf(stderr, "rigd: %s\n\n%s", e.what(), rigd::daemon::usage_text().c_str());
        return 64;
    }
    if (options.mode == Options::Mode::help) {
        std::fputs(rigd::daemon::usage_text().c_str(), stdout);
        return 0;
    }
    if (options.mode == Options::Mode::version) {
        std::printf("rigd %s\n", RIGD_VERSION);
        return 0;
    }

    spdlog::set_default_logger(spdlog::stderr_color_mt("rigd"));
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e [%^%l%$] %v");
    rigd::control::Config config;
    if (!options.config.empty()) {
        try {
            config = rigd::control::load_config_file(options.config);
        } catch (const std::exception& e) {
            spdlog::error("config: {}", e.what());
            return 78;
        }
    }
    if (!options.preset.empty()) {
        config.preset = options.preset;
    }
    if (options.osc_port) {
        config.osc_port = *options.osc_port;
    }
    if (options.log_level) {
        if (!rigd::control::is_valid_log_level(*options.log_level)) {
            spdlog::error("--log-level: '{}' is not one of trace, debug, info, warn, error, critical, off",
                          *options.log_level);
            return 64;
        }
        config.log_level = *options.log_level;
    }
    spdlog::set_level(spdlog::level::from_str(config.log_level));

    if (options.mode == Options::Mode::render) {
        return rigd::daemon::render(options, config);
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    spdlog::info("rigd {} starting", RIGD_VERSION);
    return run(config);
}
