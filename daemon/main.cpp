#include "control/config.hpp"
#include "control/library.hpp"
#include "control/osc_server.hpp"
#include "control/preset_file.hpp"
#include "control/rig_controller.hpp"
#include "core/engine.hpp"
#include "core/stage_factory.hpp"
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
rigd::core::Preset startup_preset(const std::string& name, const rigd::control::Library& library, bool& absolute) {
    absolute = false;
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
        }
        return rigd::control::load_preset_file(path, rigd::core::StageFactory::builtin());
    } catch (const std::exception& e) {
        spdlog::error("start-up preset: {}; starting with an empty chain", e.what());
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
    const rigd::core::Preset preset = startup_preset(config.preset, library, absolute);

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
        (void)rig.start(empty_preset(), spec);
    }
    spdlog::info("preset '{}' ({} stage(s)) at {} Hz, period {}", preset.name, rig.stage_ids().size(),
                 spec.sample_rate_hz, spec.max_block_size);

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

    rigd::control::OscServer osc(rig, [&host] {
        return rigd::control::Status{.dsp_load_percent = host->dsp_load_percent(),
                                     .xruns = host->xruns(),
                                     .sample_rate_hz = static_cast<int>(host->sample_rate_hz()),
                                     .period_frames = static_cast<int>(host->period_frames())};
    });
    try {
        osc.start(config.osc_port);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        host->deactivate();
        return 1;
    }
    spdlog::info("OSC listening on UDP port {}", osc.port());

    CounterReporter reporter;
    auto next_report = std::chrono::steady_clock::now();
    while (g_signal.load() == 0 && !host->server_gone()) {
        std::this_thread::sleep_for(20ms);
        rig.collect_retired();
        // At most one line per counter per second, however busy the RT side is.
        if (std::chrono::steady_clock::now() >= next_report) {
            reporter.report(engine.counters(), host->xruns());
            next_report += 1s;
        }
    }
    osc.stop();
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
