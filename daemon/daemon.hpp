#pragma once

#include "control/address_space.hpp"
#include "control/config.hpp"
#include "control/control_loop.hpp"
#include "control/worker.hpp"
#include "control/feedback.hpp"
#include "control/library.hpp"
#include "control/midi_router.hpp"
#include "control/net_filter.hpp"
#include "control/osc_server.hpp"
#include "control/preset_manager.hpp"
#include "control/recorder.hpp"
#include "control/rig_controller.hpp"
#include "control/tuner_feed.hpp"
#include "core/engine.hpp"
#include "core/stage_factory.hpp"
#include "core/record_tap.hpp"
#include "core/tuner/input_tap.hpp"
#include "daemon/jack_host.hpp"
#include "daemon/systemd_notifier.hpp"

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

namespace rigd::daemon {

// The running rig. Members are declared in the order they are built, so they
// are destroyed in reverse: the OSC server and the JACK client (the threads
// that post to the control loop or read the engine) go first, the control
// loop and the worker are stopped before the model they serve, and the
// engine outlives everything that sends it commands.
class Daemon {
public:
    // Builds everything up to (not including) joining JACK. Throws on a bad
    // osc.allow (std::invalid_argument).
    Daemon(control::Config config, std::filesystem::path config_file);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Starts the control loop, OSC and MIDI, joins JACK (waiting for a
    // server that is not there yet, and again whenever it goes away, with
    // the rig's whole state kept), and runs until SIGINT/SIGTERM (exit 0).
    // SIGHUP re-reads the config. Returns the exit code.
    int run();

    // Signal handlers store here (async-signal-safe).
    static std::atomic<int> signal_received;
    static std::atomic<int> reload_requested;

private:
    void tick();
    void reload_config();
    void report_counters();
    void start_model(const core::ProcessSpec& spec);
    void wire_control();
    // Main thread: a new JACK client, or nullptr (logged once per outage).
    std::unique_ptr<JackHost> try_connect();
    // Main thread: activates `host`, restores connections, hands it to the loop.
    bool attach(std::unique_ptr<JackHost> host);
    void detach_lost_host();
    void supervise();
    void notify_status();
    void install_shipped_files();
    void shut_down();

    control::Config config_;
    std::filesystem::path config_file_;
    const core::StageFactory& factory_;
    control::Library library_;
    core::Engine engine_;
    control::Worker worker_;
    control::ControlLoop loop_;
    control::RigController rig_;
    control::PresetManager presets_;
    control::Feedback feedback_;
    std::unique_ptr<control::AddressSpace> space_;
    core::tuner::InputTap tap_{16384};
    core::RecordTap record_tap_{std::size_t{1} << 18}; // 5.4 s at 48 kHz for the writer to fall behind by
    std::unique_ptr<control::Recorder> recorder_;
    std::unique_ptr<control::TunerFeed> tuner_feed_;
    std::unique_ptr<control::MidiRouter> midi_;
    std::unique_ptr<JackHost> host_; // owned by the control loop once attached
    std::unique_ptr<control::OscServer> osc_;
    SystemdNotifier notifier_;

    // Main-thread state of the JACK supervision.
    JackHost* watched_ = nullptr; // the attached host (main thread's view)
    std::vector<JackHost::Connection> connections_;
    bool waiting_logged_ = false;
    bool ready_sent_ = false;
    std::uint64_t outages_ = 0;

    // Control-loop state.
    std::chrono::steady_clock::time_point next_feedback_{};
    std::chrono::steady_clock::time_point next_report_{};
    std::uint64_t xruns_ = 0;
    std::uint64_t nonfinite_input_ = 0;
    std::uint64_t nonfinite_stage_ = 0;
    std::uint64_t rejected_ = 0;
    std::uint64_t overflow_ = 0;
    std::uint64_t osc_dropped_ = 0;
    std::uint64_t midi_dropped_ = 0;
    std::uint64_t loop_dropped_ = 0;
    std::uint64_t sender_full_ = 0;
    std::uint64_t sender_slow_ = 0;
};

} // namespace rigd::daemon
