#pragma once

#include "control/config.hpp"
#include "control/midi_map.hpp"
#include "core/spsc_queue.hpp"
#include "core/engine.hpp"
#include "core/rt.hpp"

#include <jack/jack.h>
#include <jack/midiport.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace rigd::daemon {

// The JACK client: one mono input, two outputs. The process callback runs
// the engine once per period and nothing else. Server notifications (buffer
// size, sample rate, xruns, shutdown) arrive on JACK's non-RT thread and are
// turned into counters, flags and re-prepare requests.
class JackHost {
public:
    using SpecChanged = std::function<void(double sample_rate_hz, std::size_t period_frames)>;

    JackHost(const control::Config& config, core::Engine& engine);
    ~JackHost();
    JackHost(const JackHost&) = delete;
    JackHost& operator=(const JackHost&) = delete;

    [[nodiscard]] double sample_rate_hz() const noexcept;
    [[nodiscard]] std::size_t period_frames() const noexcept;

    // Registers callbacks, activates and connects ports. `on_spec_changed`
    // is called (off the RT thread) when the period or rate changes.
    void activate(SpecChanged on_spec_changed);
    void deactivate() noexcept;

    [[nodiscard]] float dsp_load_percent() const noexcept;
    [[nodiscard]] std::uint64_t xruns() const noexcept { return xruns_.load(std::memory_order_relaxed); }
    [[nodiscard]] bool server_gone() const noexcept { return server_gone_.load(std::memory_order_acquire); }
    [[nodiscard]] std::string shutdown_reason() const;
    [[nodiscard]] const std::string& client_name() const noexcept { return client_name_; }
    // Control Change and Program Change messages from the MIDI input port,
    // forwarded by the RT thread as they came (mapping happens off it).
    [[nodiscard]] std::optional<control::MidiEvent> pop_midi() noexcept { return midi_queue_.try_pop(); }
    [[nodiscard]] std::uint64_t midi_dropped() const noexcept { return midi_dropped_.load(); }
    [[nodiscard]] bool has_midi() const noexcept { return midi_in_ != nullptr; }

    // Our ports' connections as "ours other" pairs (input: other -> ours),
    // to restore them after the server comes back. Not on the RT thread.
    using Connection = std::pair<std::string, std::string>; // source, destination
    [[nodiscard]] std::vector<Connection> connections() const;
    void connect(const std::vector<Connection>& connections);

    // The audio thread is inside our callback now (a hang shows as a long
    // "true"; a client the server dropped without telling us as "false"
    // with no periods).
    [[nodiscard]] bool in_process() const noexcept { return in_process_.load(std::memory_order_relaxed); }
    // Gives up on a client whose server stopped calling it without a
    // shutdown notice (PipeWire restarting): it is never closed (that could
    // block on a dead connection) and its callback no longer touches the
    // engine should it ever run again.
    void abandon() noexcept;

    // Test-only: while set, the process callback spins (a hung audio
    // thread, for the watchdog test). Set only with RIGD_TEST_HOOKS=1.
    static std::atomic<bool> stall_for_testing;

private:
    static int process(jack_nframes_t frames, void* self) noexcept RIGD_RT;
    static int on_buffer_size(jack_nframes_t frames, void* self) noexcept;
    static int on_sample_rate(jack_nframes_t rate, void* self) noexcept;
    static int on_xrun(void* self) noexcept;
    static void on_shutdown(jack_status_t code, const char* reason, void* self) noexcept;
    void connect_ports();

    const control::Config& config_;
    core::Engine& engine_;
    jack_client_t* client_ = nullptr;
    jack_port_t* in_ = nullptr;
    jack_port_t* out_l_ = nullptr;
    jack_port_t* out_r_ = nullptr;
    jack_port_t* midi_in_ = nullptr;
    core::SpscQueue<control::MidiEvent> midi_queue_{512};
    std::atomic<std::uint64_t> midi_dropped_{0};
    std::string client_name_;
    SpecChanged on_spec_changed_;
    std::atomic<std::uint64_t> xruns_{0};
    std::atomic<bool> server_gone_{false};
    std::atomic<bool> active_{false};
    std::atomic<bool> in_process_{false};
    std::atomic<bool> abandoned_{false};
    std::atomic<std::uint32_t> rate_{0};
    std::atomic<std::uint32_t> period_{0};
    char shutdown_reason_[256] = {};
};

} // namespace rigd::daemon
