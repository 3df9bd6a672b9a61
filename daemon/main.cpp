#include "control/config.hpp"
#include "daemon/cli.hpp"
#include "daemon/daemon.hpp"
#include "daemon/import_preset.hpp"
#include "daemon/render.hpp"
#include "rigd_config.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

static_assert(std::atomic<int>::is_always_lock_free); // set from a signal handler

extern "C" void on_signal(int sig) { rigd::daemon::Daemon::signal_received.store(sig); }
extern "C" void on_hangup(int) { rigd::daemon::Daemon::reload_requested.store(1); }
// Test-only (RIGD_TEST_HOOKS=1): SIGUSR2 hangs or releases the audio thread.
extern "C" void on_stall_toggle(int) {
    rigd::daemon::JackHost::stall_for_testing.store(!rigd::daemon::JackHost::stall_for_testing.load());
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
    if (options.mode == Options::Mode::import_preset) {
        return rigd::daemon::run_import_preset(options.input, options.output, rigd::core::StageFactory::builtin());
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
    std::signal(SIGHUP, on_hangup);
    std::signal(SIGPIPE, SIG_IGN);
    if (const char* hooks = std::getenv("RIGD_TEST_HOOKS"); hooks != nullptr && std::string(hooks) == "1") {
        std::signal(SIGUSR2, on_stall_toggle);
    }
    spdlog::info("rigd {} starting", RIGD_VERSION);
    try {
        rigd::daemon::Daemon daemon(std::move(config), options.config);
        return daemon.run();
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
}
