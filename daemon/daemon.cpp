#include "daemon/daemon.hpp"

#include "control/log_limiter.hpp"
#include "control/preset_file.hpp"
#include "rigd_config.h"

#include <spdlog/spdlog.h>

#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <cstdlib>
#include <thread>

namespace rigd::daemon {

std::atomic<int> Daemon::signal_received{0};
std::atomic<int> Daemon::reload_requested{0};

namespace {

using namespace std::chrono_literals;

core::Preset empty_preset() {
    core::Preset p;
    p.name = "empty";
    return p;
}

control::NetFilter make_filter(const std::vector<std::string>& allow) {
    return allow.empty() ? control::NetFilter() : control::NetFilter(allow);
}

// Start-up preset: a path (contains '/' or names an existing file) or a name
// in the presets folder. A preset that fails to load is logged and the rig
// starts with an empty chain, so audio still passes.
core::Preset startup_preset(const std::string& name, const control::Library& library, bool& absolute,
                            std::string& file) {
    absolute = false;
    file.clear();
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
            file = path.stem().string();
        }
        return control::load_preset_file(path, core::StageFactory::builtin());
    } catch (const std::exception& e) {
        spdlog::error("start-up preset: {}; starting with an empty chain", e.what());
        file.clear();
        return empty_preset();
    }
}

bool under_sanitizer() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

// Model weights, IR spectra and delay lines must never be paged out under
// the audio thread.
void lock_memory() {
    if (under_sanitizer()) {
        spdlog::info("memory not locked (sanitizer build: its shadow memory cannot be locked)");
        return;
    }
    if (mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
        spdlog::info("memory locked (mlockall)");
        return;
    }
    rlimit limit{};
    getrlimit(RLIMIT_MEMLOCK, &limit);
    spdlog::warn("mlockall refused: RLIMIT_MEMLOCK is {} bytes; the audio thread may page-fault "
                 "(raise it: LimitMEMLOCK=infinity in the unit, or memlock in limits.conf)",
                 limit.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(limit.rlim_cur));
}

} // namespace

Daemon::Daemon(control::Config config, std::filesystem::path config_file)
    : config_(std::move(config)),
      config_file_(std::move(config_file)),
      factory_(core::StageFactory::builtin()),
      library_(config_.presets_dir, config_.models_dir, config_.irs_dir),
      rig_(engine_, factory_, library_,
           control::Executors{[this](std::function<void()> f) { worker_.post(std::move(f)); },
                              [this](std::function<void()> f) { (void)loop_.post(std::move(f)); }}),
      presets_(rig_, library_, factory_,
               control::Executors{[this](std::function<void()> f) { worker_.post(std::move(f)); },
                                  [this](std::function<void()> f) { (void)loop_.post(std::move(f)); }}),
      feedback_(rig_, &engine_.counters(), [this](const std::string& url, const control::OscMessage& m) {
          if (osc_) {
              osc_->send_to(url, m);
          }
      }) {
    (void)make_filter(config_.osc_allow); // throws now on a bad list
}

Daemon::~Daemon() { shut_down(); }

void Daemon::start_model(const core::ProcessSpec& device) {
    bool absolute = false;
    std::string file;
    const core::Preset preset = startup_preset(config_.preset, library_, absolute, file);
    core::ProcessSpec spec = device;
    spec.oversample = preset.oversample;
    // The control loop is not running yet: this thread is the model's owner.
    try {
        for (const auto& w : rig_.start(preset, spec, file, absolute)) {
            spdlog::warn("preset '{}': {}", preset.name, w);
        }
    } catch (const std::exception& e) {
        spdlog::error("{}; starting with an empty chain", e.what());
        (void)rig_.start(empty_preset(), spec);
    }
    spdlog::info("preset '{}' ({} stage(s)) at {} Hz, period {}", rig_.preset_name(), rig_.stages().size(),
                 spec.sample_rate_hz, spec.max_block_size);
    tuner_feed_ = std::make_unique<control::TunerFeed>(tap_, spec.sample_rate_hz);
    engine_.set_input_tap(&tap_);
    engine_.set_record_tap(&record_tap_);
}

std::unique_ptr<JackHost> Daemon::try_connect() {
    try {
        auto host = std::make_unique<JackHost>(config_, engine_);
        waiting_logged_ = false;
        return host;
    } catch (const std::exception& e) {
        if (!waiting_logged_) {
            spdlog::warn("{}; waiting for it (the rig keeps its state and answers OSC meanwhile)", e.what());
            waiting_logged_ = true;
        }
        return nullptr;
    }
}

bool Daemon::attach(std::unique_ptr<JackHost> host) {
    try {
        // The JACK callbacks only record a new period or rate; the control
        // loop rebuilds while the old chain plays on (chunked by the engine).
        host->activate([this](double rate, std::size_t period) {
            (void)loop_.post([this, rate, period] {
                spdlog::info("JACK now runs at {} Hz, period {}: re-preparing the chain off the audio thread", rate,
                             period);
                core::ProcessSpec s = rig_.spec();
                s.sample_rate_hz = rate;
                s.max_block_size = period;
                rig_.reprepare(s);
                tuner_feed_->set_sample_rate(rate);
            });
        });
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return false;
    }
    host->connect(connections_); // what was connected before an outage
    const double rate = host->sample_rate_hz();
    const std::size_t period = host->period_frames();
    watched_ = host.get();
    loop_.call([this, &host, rate, period] {
        host_ = std::move(host);
        const auto spec = rig_.spec();
        if (spec.sample_rate_hz != rate || spec.max_block_size != period) {
            spdlog::info("JACK runs at {} Hz, period {}: re-preparing the chain", rate, period);
            core::ProcessSpec s = spec;
            s.sample_rate_hz = rate;
            s.max_block_size = period;
            rig_.reprepare(s);
            tuner_feed_->set_sample_rate(rate);
        }
    });
    spdlog::info("JACK client '{}' active at {} Hz, period {}", watched_->client_name(), rate, period);
    return true;
}

void Daemon::detach_lost_host() {
    const std::string reason = watched_->shutdown_reason();
    spdlog::error("the JACK server shut down ({}); keeping the rig and reconnecting",
                  reason.empty() ? "it stopped running our client" : reason);
    ++outages_;
    std::unique_ptr<JackHost> lost;
    loop_.call([this, &lost] { lost = std::move(host_); });
    watched_ = nullptr;
    // Never freed: JACK gives no way to join the dead client's threads (a
    // late callback could still run on it), and closing it could block on
    // the dead connection. A few hundred bytes per outage, kept reachable.
    static auto* graveyard = new std::vector<std::unique_ptr<JackHost>>();
    graveyard->push_back(std::move(lost));
}

void Daemon::install_shipped_files() {
    // First start of an installed rig: an empty (or missing) presets or IRs
    // folder gets the shipped ones; a folder with anything in it is the
    // user's and is never touched.
    const char* override_dir = std::getenv("RIGD_DATA_DIR"); // a staged install (tests, packages)
    const std::filesystem::path shipped = override_dir != nullptr ? override_dir : RIGD_DATA_DIR;
    for (const auto& [name, target] : {std::pair<std::string, std::filesystem::path>{"presets", config_.presets_dir},
                                       {"irs", config_.irs_dir}}) {
        std::error_code ec;
        const auto source = shipped / name;
        if (!std::filesystem::is_directory(source, ec)) {
            continue;
        }
        if (std::filesystem::exists(target, ec) && !std::filesystem::is_empty(target, ec)) {
            continue;
        }
        std::filesystem::create_directories(target, ec);
        std::filesystem::copy(source, target,
                              std::filesystem::copy_options::recursive | std::filesystem::copy_options::skip_existing, ec);
        if (ec) {
            spdlog::warn("could not copy the shipped {} into {}: {}", name, target.string(), ec.message());
        } else {
            spdlog::info("first start: copied the shipped {} into {}", name, target.string());
        }
    }
}

int Daemon::run() {
    lock_memory();
    install_shipped_files();
    auto host = try_connect();
    const core::ProcessSpec device = host ? core::ProcessSpec{host->sample_rate_hz(), host->period_frames(), 1}
                                          : core::ProcessSpec{48000.0, 256, 1}; // until a server comes
    start_model(device);
    wire_control();
    // Built before the loop runs (its tick reads osc_), started after (its
    // requests go to the loop).
    osc_ = std::make_unique<control::OscServer>(loop_, *space_, make_filter(config_.osc_allow));
    loop_.start([this] { tick(); }, 1ms);
    try {
        osc_->start(config_.osc_port, config_.osc_tcp);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    (void)loop_.call([this] {
        for (const auto& url : config_.osc_subscribers) {
            feedback_.subscribe(url, 0);
        }
    });
    spdlog::info("OSC listening on port {} (UDP{})", osc_->port(), config_.osc_tcp ? " and TCP" : "");
    {
        std::string nets;
        std::vector<std::string> seen;
        for (const auto& n : make_filter(config_.osc_allow).networks()) {
            if (std::find(seen.begin(), seen.end(), n) == seen.end()) { // loopback is also a local subnet
                seen.push_back(n);
                nets += (nets.empty() ? "" : ", ") + n;
            }
        }
        spdlog::info("OSC accepts messages from {}", nets);
    }
    if (host && !attach(std::move(host))) {
        return 1;
    }
    supervise();
    spdlog::info("signal {} received: shutting down", signal_received.load());
    notifier_.stopping();
    shut_down();
    return 0;
}

void Daemon::supervise() {
    auto backoff = 100ms;
    auto next_try = std::chrono::steady_clock::now();
    auto next_status = std::chrono::steady_clock::now();
    auto next_snapshot = std::chrono::steady_clock::now();
    auto next_watchdog = std::chrono::steady_clock::now();
    std::uint64_t last_periods = engine_.counters().periods.load();
    std::uint64_t last_beat = loop_.heartbeat();
    std::uint64_t progress_periods = last_periods;
    auto last_progress = std::chrono::steady_clock::now();
    auto attached_at = std::chrono::steady_clock::now();
    while (signal_received.load() == 0) {
        std::this_thread::sleep_for(10ms);
        const auto now = std::chrono::steady_clock::now();
        if (reload_requested.exchange(0) != 0) {
            notifier_.reloading();
            reload_config();
            notifier_.ready();
        }
        const std::uint64_t periods_now = engine_.counters().periods.load();
        if (periods_now != progress_periods) {
            progress_periods = periods_now;
            last_progress = now;
        }
        if (watched_ != nullptr && !watched_->server_gone() && !watched_->in_process() &&
            now - last_progress > 1500ms && now - attached_at > 1500ms) {
            // No period for 1.5 s and our callback is not running: the
            // server dropped us without a notice (PipeWire does that).
            watched_->abandon();
        }
        if (watched_ != nullptr && watched_->server_gone()) {
            detach_lost_host();
            backoff = 100ms;
            next_try = now + backoff;
            next_status = now;
        }
        if (watched_ == nullptr && now >= next_try) {
            if (auto host = try_connect(); host && attach(std::move(host))) {
                backoff = 100ms;
                next_status = now;
                attached_at = now;
            } else {
                backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2000ms); // 100 ms doubling to 2 s
                next_try = now + backoff;
            }
        }
        if (watched_ != nullptr && now >= next_snapshot) {
            auto current = watched_->connections();
            if (!current.empty()) {
                connections_ = std::move(current);
            }
            next_snapshot = now + 2s;
        }
        const std::uint64_t periods = engine_.counters().periods.load();
        const bool audio_alive = periods != last_periods;
        if (!ready_sent_ && watched_ != nullptr && audio_alive) {
            notifier_.ready(); // JACK joined, ports connected, the start-up preset plays
            ready_sent_ = true;
            spdlog::info("audio running");
            next_status = now; // say so at once
        }
        // WATCHDOG=1 only while the audio thread advances (or, with no
        // server, while we wait for one) and the control loop turns.
        const auto interval = notifier_.watchdog_interval();
        if (interval.count() > 0 && now >= next_watchdog) {
            const std::uint64_t beat = loop_.heartbeat();
            const bool loop_alive = beat != last_beat;
            if (loop_alive && (audio_alive || watched_ == nullptr)) {
                notifier_.watchdog();
            }
            last_beat = beat;
            last_periods = periods;
            next_watchdog = now + std::chrono::duration_cast<std::chrono::milliseconds>(interval / 3);
        } else if (interval.count() == 0) {
            last_periods = periods;
        }
        if (now >= next_status) {
            notify_status();
            next_status = now + 2s;
        }
    }
}

void Daemon::notify_status() {
    if (!notifier_.enabled()) {
        return;
    }
    std::string text;
    try {
        text = loop_.call([this] {
            const std::string preset = rig_.preset_file().empty() ? rig_.preset_name() : rig_.preset_file();
            if (!host_) {
                return fmt::format("preset '{}'{}; waiting for the JACK server", preset,
                                   rig_.dirty() ? " (edited)" : "");
            }
            return fmt::format("preset '{}'{}; DSP {:.1f}%; {} xruns; JACK {} Hz, period {}", preset,
                               rig_.dirty() ? " (edited)" : "", host_->dsp_load_percent(), host_->xruns(),
                               static_cast<int>(host_->sample_rate_hz()), host_->period_frames());
        });
    } catch (const std::exception&) {
        return;
    }
    notifier_.status(text);
}

void Daemon::wire_control() {
    control::AddressSpace::Hooks hooks;
    if (config_.midi_enabled) {
        hooks.midi_learn = [this](const std::string& address, float min, float max, bool toggle) {
            midi_->learn(address, min, max, toggle);
        };
        hooks.midi_list = [this] { return midi_->list(); };
    }
    hooks.status = [this] {
        if (!host_) { // the server is gone: what the rig is prepared for
            return control::Status{.dsp_load_percent = 0.0f,
                                   .xruns = xruns_,
                                   .sample_rate_hz = static_cast<int>(rig_.spec().sample_rate_hz),
                                   .period_frames = static_cast<int>(rig_.spec().max_block_size),
                                   .audio_running = false};
        }
        return control::Status{.dsp_load_percent = host_->dsp_load_percent(),
                               .xruns = host_->xruns(),
                               .sample_rate_hz = static_cast<int>(host_->sample_rate_hz()),
                               .period_frames = static_cast<int>(host_->period_frames()),
                               .audio_running = !host_->server_gone()};
    };
    hooks.info = [this] {
        using control::OscArg;
        const std::string client = host_ ? host_->client_name() : config_.client_name;
        return std::vector<OscArg>{OscArg::of(std::string("rigd")), OscArg::of(std::string(RIGD_VERSION)),
                                   OscArg::of(client), OscArg::of(client + ":" + config_.input_port),
                                   OscArg::of(client + ":" + config_.output_left_port),
                                   OscArg::of(client + ":" + config_.output_right_port),
                                   OscArg::of(static_cast<std::int32_t>(osc_ ? osc_->port() : 0))};
    };
    hooks.allowed = [this](std::string_view host) { return osc_ && osc_->allows(host); };
    hooks.send = [this](const std::string& url, const control::OscMessage& m) {
        if (osc_) {
            osc_->send_to(url, m);
        }
    };
    recorder_ = std::make_unique<control::Recorder>(
        record_tap_, [this](std::function<void()> f) { (void)loop_.post(std::move(f)); },
        control::Recorder::Events{
            [this](const control::RecordState& s) { feedback_.changed(control::AddressSpace::record_message(s)); },
            [this](const std::string& error) {
                spdlog::error("{}", error);
                feedback_.changed(control::OscMessage{
                    "/rig/error", {control::OscArg::of(std::string("/rig/record")), control::OscArg::of(error)}});
            }});
    hooks.recorder = recorder_.get();
    hooks.record_start = [this](const std::string& name) {
        // On the control loop: the model as it plays now is the take's preset.
        recorder_->start(config_.recordings_dir, name, control::format_preset(rig_.snapshot(), factory_),
                         static_cast<int>(host_->sample_rate_hz()));
    };
    space_ = std::make_unique<control::AddressSpace>(rig_, presets_, library_, &feedback_, std::move(hooks));
    feedback_.set_space(space_.get());
    rig_.set_listener(&feedback_);
    feedback_.set_tuner_reading([this] { return tuner_feed_->reading(); });

    midi_ = std::make_unique<control::MidiRouter>(*space_, presets_, config_.midi_map, config_.midi_program_channel);
    midi_->set_writer([this](std::function<void()> f) { worker_.post(std::move(f)); });
    if (config_.midi_enabled) {
        try {
            midi_->load();
        } catch (const std::exception& e) {
            spdlog::error("MIDI mappings: {}; starting with none", e.what());
        }
        midi_->set_learned_hook([this](const control::OscMessage& m) { feedback_.changed(m); });
        try {
            midi_->set_preset_mappings(rig_.snapshot().midi);
        } catch (const std::exception& e) {
            spdlog::error("preset MIDI mappings: {}", e.what());
        }
        presets_.set_loaded_hook([this](const std::string& name, const std::vector<std::string>& warnings) {
            spdlog::info("preset '{}' loaded", name);
            for (const auto& w : warnings) {
                spdlog::warn("preset '{}': {}", name, w);
            }
            try {
                midi_->set_preset_mappings(rig_.snapshot().midi);
            } catch (const std::exception& e) {
                spdlog::error("preset '{}' MIDI mappings: {}", name, e.what());
            }
        });
    }

}

void Daemon::tick() {
    // On the control loop, every ms.
    const auto now = std::chrono::steady_clock::now();
    if (host_) {
        while (const auto event = host_->pop_midi()) {
            midi_->handle(*event);
        }
    }
    rig_.pump();
    if (now >= next_feedback_) {
        feedback_.tick(now);
        next_feedback_ = now + 5ms;
    }
    if (now >= next_report_) {
        report_counters(); // at most one line per counter per second
        next_report_ = now + 1s;
    }
}

void Daemon::report_counters() {
    auto check = [](const char* what, std::uint64_t now, std::uint64_t& last) {
        if (now < last) {
            last = now; // a new JACK client counts from zero
        }
        if (now != last) {
            spdlog::warn("{} {} (total {})", now - last, what, now);
            last = now;
        }
    };
    auto& c = engine_.counters();
    if (host_) {
        check("xrun(s)", host_->xruns(), xruns_);
        check("MIDI event(s) dropped (queue full)", host_->midi_dropped(), midi_dropped_);
    }
    check("non-finite input sample(s) zeroed", c.nonfinite_input.load(), nonfinite_input_);
    check("stage reset(s) after non-finite output", c.nonfinite_stage.load(), nonfinite_stage_);
    check("chain edit(s) refused by the audio thread", c.commands_rejected.load(), rejected_);
    check("retired object(s) leaked (retire queue full)", c.retire_overflow.load(), overflow_);
    check("control request(s) dropped (control queue full)", loop_.dropped(), loop_dropped_);

    if (osc_) {
        check("OSC message(s) from outside the allowed networks dropped", osc_->dropped(), osc_dropped_);
        const auto sender = osc_->sender_stats();
        check("OSC message(s) to a target whose queue was full dropped", sender.dropped_queue_full, sender_full_);
        check("OSC target(s) that stopped reading dropped", sender.dropped_slow_target, sender_slow_);
    }
    control::LogLimiter::shared().flush(); // summaries of what a flood held back
}

void Daemon::reload_config() {
    if (config_file_.empty()) {
        spdlog::info("SIGHUP: no config file to re-read");
        return;
    }
    control::Config fresh;
    try {
        fresh = control::load_config_file(config_file_);
    } catch (const std::exception& e) {
        spdlog::error("SIGHUP: {}; keeping the running configuration", e.what());
        return;
    }
    try {
        osc_->set_filter(make_filter(fresh.osc_allow));
    } catch (const std::exception& e) {
        spdlog::error("SIGHUP: osc.allow: {}; keeping the old list", e.what());
        fresh.osc_allow = config_.osc_allow;
    }
    if (fresh.log_level != config_.log_level) {
        spdlog::set_level(spdlog::level::from_str(fresh.log_level));
    }
    const auto old_subscribers = config_.osc_subscribers;
    (void)loop_.call([this, &fresh, &old_subscribers] {
        for (const auto& url : old_subscribers) {
            (void)feedback_.unsubscribe(url);
        }
        for (const auto& url : fresh.osc_subscribers) {
            try {
                feedback_.subscribe(url, 0);
            } catch (const std::exception& e) {
                spdlog::error("SIGHUP: osc.subscribers: {}", e.what());
            }
        }
    });
    auto unchanged = [](const char* key, bool same) {
        if (!same) {
            spdlog::warn("SIGHUP: {} changed; it takes effect at the next start", key);
        }
    };
    unchanged("[jack]", fresh.client_name == config_.client_name && fresh.server_name == config_.server_name &&
                            fresh.input_port == config_.input_port &&
                            fresh.output_left_port == config_.output_left_port &&
                            fresh.output_right_port == config_.output_right_port &&
                            fresh.connect_input == config_.connect_input &&
                            fresh.connect_left == config_.connect_left &&
                            fresh.connect_right == config_.connect_right && fresh.auto_connect == config_.auto_connect);
    unchanged("osc.port / osc.tcp", fresh.osc_port == config_.osc_port && fresh.osc_tcp == config_.osc_tcp);
    unchanged("[midi]", fresh.midi_enabled == config_.midi_enabled && fresh.midi_port == config_.midi_port &&
                            fresh.midi_program_channel == config_.midi_program_channel &&
                            fresh.midi_map == config_.midi_map);
    unchanged("[paths]", fresh.presets_dir == config_.presets_dir && fresh.models_dir == config_.models_dir &&
                             fresh.irs_dir == config_.irs_dir && fresh.recordings_dir == config_.recordings_dir);
    unchanged("rig.preset", fresh.preset == config_.preset);
    config_.osc_allow = fresh.osc_allow;
    config_.osc_subscribers = fresh.osc_subscribers;
    config_.log_level = fresh.log_level;
    spdlog::info("SIGHUP: configuration re-read (osc.allow, osc.subscribers, rig.log_level applied)");
}

void Daemon::shut_down() {
    // The order matters and is the reverse of start-up: no new requests, no
    // audio, then the loop and the worker, before the model they serve.
    if (osc_) {
        osc_->stop();
    }
    if (watched_ != nullptr) {
        watched_->deactivate(); // the loop may still read it: deactivate only
    }
    loop_.stop();
    // After the loop: a take in progress is closed as a valid file, and
    // nothing it would report can run against a recorder that is gone.
    recorder_.reset();
    // A model parse or IR load cannot be interrupted; a clean stop must
    // still come within 2 s (SIGTERM), so do not wait for it.
    if (!worker_.stop(1200ms)) {
        spdlog::warn("a file load is still running: exiting without waiting for it");
        spdlog::shutdown();
        std::_Exit(signal_received.load() != 0 ? 0 : 1);
    }
    host_.reset();
    watched_ = nullptr; // shut_down runs again from the destructor
    rig_.set_listener(nullptr);
    while (auto r = engine_.try_pop_retired()) {
        // deleted here: the audio thread is gone
    }
}

} // namespace rigd::daemon
