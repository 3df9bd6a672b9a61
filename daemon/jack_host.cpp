#include "daemon/jack_host.hpp"

#include "core/denormals.hpp"

#include <spdlog/spdlog.h>

#include <cstring>
#include <stdexcept>
#include <vector>

namespace rigd::daemon {

namespace {

std::vector<std::string> physical_ports(jack_client_t* client, unsigned long flags) {
    std::vector<std::string> out;
    const char** ports = jack_get_ports(client, nullptr, JACK_DEFAULT_AUDIO_TYPE, JackPortIsPhysical | flags);
    if (ports != nullptr) {
        for (const char** p = ports; *p != nullptr; ++p) {
            out.emplace_back(*p);
        }
        jack_free(static_cast<void*>(ports));
    }
    return out;
}

// libjack prints to stderr on every failed connect; while rigd waits for a
// server that is noise, so its messages go to the debug log.
extern "C" void jack_message(const char* text) { spdlog::debug("libjack: {}", text != nullptr ? text : ""); }

} // namespace

JackHost::JackHost(const control::Config& config, core::Engine& engine) : config_(config), engine_(engine) {
    jack_set_error_function(&jack_message);
    jack_set_info_function(&jack_message);
    jack_status_t status{};
    const int options = JackNoStartServer | (config.server_name.empty() ? 0 : JackServerName);
    client_ = config.server_name.empty()
                  ? jack_client_open(config.client_name.c_str(), static_cast<jack_options_t>(options), &status)
                  : jack_client_open(config.client_name.c_str(), static_cast<jack_options_t>(options), &status,
                                     config.server_name.c_str());
    if (client_ == nullptr) {
        throw std::runtime_error("cannot connect to the JACK server" +
                                 (config.server_name.empty() ? std::string() : " '" + config.server_name + "'") +
                                 " (status 0x" + std::to_string(static_cast<unsigned>(status)) +
                                 "): is jackd or PipeWire's JACK running?");
    }
    client_name_ = jack_get_client_name(client_);
    rate_ = jack_get_sample_rate(client_);
    period_ = jack_get_buffer_size(client_);
    in_ = jack_port_register(client_, config.input_port.c_str(), JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    out_l_ = jack_port_register(client_, config.output_left_port.c_str(), JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    out_r_ =
        jack_port_register(client_, config.output_right_port.c_str(), JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    if (config.midi_enabled) {
        midi_in_ = jack_port_register(client_, config.midi_port.c_str(), JACK_DEFAULT_MIDI_TYPE, JackPortIsInput, 0);
    }
    if (in_ == nullptr || out_l_ == nullptr || out_r_ == nullptr || (config.midi_enabled && midi_in_ == nullptr)) {
        jack_client_close(client_);
        throw std::runtime_error("cannot register JACK ports");
    }
}

JackHost::~JackHost() {
    deactivate();
    if (client_ != nullptr && !server_gone()) {
        jack_client_close(client_);
    }
}

double JackHost::sample_rate_hz() const noexcept { return rate_.load(); }
std::size_t JackHost::period_frames() const noexcept { return period_.load(); }

void JackHost::activate(SpecChanged on_spec_changed) {
    on_spec_changed_ = std::move(on_spec_changed);
    jack_set_process_callback(client_, &JackHost::process, this);
    jack_set_buffer_size_callback(client_, &JackHost::on_buffer_size, this);
    jack_set_sample_rate_callback(client_, &JackHost::on_sample_rate, this);
    jack_set_xrun_callback(client_, &JackHost::on_xrun, this);
    jack_on_info_shutdown(client_, &JackHost::on_shutdown, this);
    if (jack_activate(client_) != 0) {
        throw std::runtime_error("cannot activate the JACK client");
    }
    active_ = true;
    connect_ports();
}

void JackHost::deactivate() noexcept {
    if (active_.exchange(false) && !server_gone()) {
        jack_deactivate(client_);
    }
}

void JackHost::connect_ports() {
    auto connect = [this](const std::string& from, const std::string& to) {
        const int rc = jack_connect(client_, from.c_str(), to.c_str());
        if (rc != 0 && rc != EEXIST) {
            spdlog::warn("JACK: cannot connect {} -> {}", from, to);
        } else {
            spdlog::info("JACK: connected {} -> {}", from, to);
        }
    };
    const std::string in_name = jack_port_name(in_);
    const std::string l_name = jack_port_name(out_l_);
    const std::string r_name = jack_port_name(out_r_);
    std::vector<std::string> capture = config_.connect_input;
    std::vector<std::string> left = config_.connect_left;
    std::vector<std::string> right = config_.connect_right;
    if (config_.auto_connect) {
        if (capture.empty()) {
            const auto p = physical_ports(client_, JackPortIsOutput);
            if (!p.empty()) {
                capture.push_back(p[0]);
            }
        }
        const auto playback = physical_ports(client_, JackPortIsInput);
        if (left.empty() && !playback.empty()) {
            left.push_back(playback[0]);
        }
        if (right.empty() && playback.size() > 1) {
            right.push_back(playback[1]);
        }
    }
    for (const auto& p : capture) {
        connect(p, in_name);
    }
    for (const auto& p : left) {
        connect(l_name, p);
    }
    for (const auto& p : right) {
        connect(r_name, p);
    }
}

std::atomic<bool> JackHost::stall_for_testing{false};

std::vector<JackHost::Connection> JackHost::connections() const {
    std::vector<Connection> out;
    for (jack_port_t* port : {in_, out_l_, out_r_, midi_in_}) {
        if (port == nullptr) {
            continue;
        }
        const std::string ours = jack_port_name(port);
        const bool input = (jack_port_flags(port) & JackPortIsInput) != 0;
        const char** others = jack_port_get_all_connections(client_, port);
        if (others == nullptr) {
            continue;
        }
        for (const char** o = others; *o != nullptr; ++o) {
            out.emplace_back(input ? std::string(*o) : ours, input ? ours : std::string(*o));
        }
        jack_free(static_cast<void*>(others));
    }
    return out;
}

void JackHost::connect(const std::vector<Connection>& connections) {
    for (const auto& [from, to] : connections) {
        const int rc = jack_connect(client_, from.c_str(), to.c_str());
        if (rc != 0 && rc != EEXIST) {
            spdlog::warn("JACK: cannot restore {} -> {} (the port is gone?)", from, to);
        } else {
            spdlog::info("JACK: restored {} -> {}", from, to);
        }
    }
}

void JackHost::abandon() noexcept {
    abandoned_.store(true, std::memory_order_release);
    server_gone_.store(true, std::memory_order_release);
    active_ = false;
}

int JackHost::process(jack_nframes_t frames, void* arg) noexcept {
    auto* self = static_cast<JackHost*>(arg);
    if (self->abandoned_.load(std::memory_order_acquire)) {
        return 0; // another client drives the engine now
    }
    self->in_process_.store(true, std::memory_order_relaxed);
    while (stall_for_testing.load(std::memory_order_relaxed)) {
        // Test-only (RIGD_TEST_HOOKS): a hung audio thread.
    }
    core::flush_denormals_on_this_thread();
    if (self->midi_in_ != nullptr) {
        void* midi = jack_port_get_buffer(self->midi_in_, frames);
        const std::uint32_t count = jack_midi_get_event_count(midi);
        for (std::uint32_t i = 0; i < count; ++i) {
            jack_midi_event_t ev;
            if (jack_midi_event_get(&ev, midi, i) != 0 || ev.size < 2) {
                continue;
            }
            const std::uint8_t kind = ev.buffer[0] & 0xF0;
            if (kind != 0xB0 && kind != 0xC0) {
                continue; // only CC and program change drive the rig
            }
            const control::MidiEvent e{ev.buffer[0], ev.buffer[1], ev.size > 2 ? ev.buffer[2] : std::uint8_t{0}};
            if (!self->midi_queue_.try_push(e)) {
                self->midi_dropped_.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }
    const auto* in = static_cast<const float*>(jack_port_get_buffer(self->in_, frames));
    auto* l = static_cast<float*>(jack_port_get_buffer(self->out_l_, frames));
    auto* r = static_cast<float*>(jack_port_get_buffer(self->out_r_, frames));
    self->engine_.process(std::span<const float>(in, frames), std::span<float>(l, frames),
                          std::span<float>(r, frames));
    self->in_process_.store(false, std::memory_order_relaxed);
    return 0;
}

int JackHost::on_buffer_size(jack_nframes_t frames, void* arg) noexcept {
    auto* self = static_cast<JackHost*>(arg);
    if (self->period_.exchange(frames) != frames && self->on_spec_changed_) {
        try {
            self->on_spec_changed_(self->rate_.load(), frames);
        } catch (const std::exception& e) {
            spdlog::error("re-prepare for period {} failed: {}", frames, e.what());
        }
    }
    return 0;
}

int JackHost::on_sample_rate(jack_nframes_t rate, void* arg) noexcept {
    auto* self = static_cast<JackHost*>(arg);
    if (self->rate_.exchange(rate) != rate && self->on_spec_changed_) {
        try {
            self->on_spec_changed_(rate, self->period_.load());
        } catch (const std::exception& e) {
            spdlog::error("re-prepare for {} Hz failed: {}", rate, e.what());
        }
    }
    return 0;
}

int JackHost::on_xrun(void* arg) noexcept {
    static_cast<JackHost*>(arg)->xruns_.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

void JackHost::on_shutdown(jack_status_t, const char* reason, void* arg) noexcept {
    auto* self = static_cast<JackHost*>(arg);
    // Only a flag and a fixed buffer: the main loop logs it.
    if (reason != nullptr) {
        std::strncpy(self->shutdown_reason_, reason, sizeof self->shutdown_reason_ - 1);
    }
    self->server_gone_.store(true, std::memory_order_release);
}

std::string JackHost::shutdown_reason() const { return shutdown_reason_; }

float JackHost::dsp_load_percent() const noexcept { return jack_cpu_load(client_); }

} // namespace rigd::daemon
