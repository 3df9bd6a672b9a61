#pragma once

#include "control/library.hpp"
#include "control/osc_message.hpp"
#include "control/preset_manager.hpp"
#include "control/rig_controller.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rigd::control {

class Feedback;
class Recorder;
struct RecordState;

// What /rig/status reports; filled in by the daemon (JACK side).
struct Status {
    float dsp_load_percent = 0.0f;
    std::uint64_t xruns = 0;
    int sample_rate_hz = 0;
    int period_frames = 0;
    bool audio_running = true;
};

// One incoming message and where it came from.
struct Request {
    OscMessage message;
    std::string source_url;  // osc.udp://host:port/ of the sender ("" for MIDI)
    std::string source_host; // numeric
    // Replies that come later (errors found on the worker, /rig/debug/chain).
    std::function<void(const OscMessage&)> later;
};

// How an address behaves; decides /rig/get's filter, MIDI learn and dumps.
enum class Access {
    query,  // answers only, never acts
    value,  // with arguments it sets, bare it answers the value
    action, // acts, even when sent bare
};

// The rig's OSC address space, independent of the transport: every address
// is declared once in the route table (address, arguments, access, MIDI
// learnable, handler) and dispatch, /rig/get's read-only filter, MIDI learn,
// /rig/dump and the README's OSC tables (checked by a test) derive from it.
// Lives on the control loop; a refused message throws ControlError with the
// reason (the transport answers /rig/error) and nothing refused reaches the
// RT thread.
class AddressSpace {
public:
    struct Hooks {
        std::function<Status()> status;
        std::function<std::vector<OscArg>()> info; // name, version, client, ports, osc port
        // MIDI learn of an address with its range; empty when MIDI is off.
        std::function<void(const std::string& address, float min, float max, bool toggle)> midi_learn;
        std::function<std::vector<OscMessage>()> midi_list;
        // Takes (/rig/record/...): both empty when there is no recorder.
        // record_start queues a take of that name ("" for the default).
        std::function<void(const std::string& name)> record_start = {};
        Recorder* recorder = nullptr;
        // Is a numeric host inside osc.allow (reply URLs must be).
        std::function<bool(std::string_view host)> allowed;
        // Sends to a URL without blocking (the network sender).
        std::function<void(const std::string& url, const OscMessage& m)> send;
    };

    struct Route;
    using Handler = std::vector<OscMessage> (AddressSpace::*)(const Request&, const std::vector<std::string>& parts);
    struct Route {
        std::string_view address;   // "/rig/stage/<id>/<param>": <...> matches one segment
        std::string_view arguments; // as the README spells them
        Access access;
        bool learnable; // MIDI learn may map a CC to it
        float min;      // learn range of a global value
        float max;
        bool toggle;
        Handler handler;
    };

    AddressSpace(RigController& rig, PresetManager& presets, const Library& library, Feedback* feedback,
                 Hooks hooks);

    // Handles one message; returns the replies for the sender.
    std::vector<OscMessage> handle(const Request& request);
    // The same for MIDI and tests: no sender.
    std::vector<OscMessage> handle(const OscMessage& message);

    // Every current value, as /rig/dump sends it (derived from the routes).
    [[nodiscard]] std::vector<OscMessage> dump();

    [[nodiscard]] static std::span<const Route> routes();
    // The route an address falls under (nullptr: none), with its segments.
    [[nodiscard]] static const Route* match(std::string_view address, std::vector<std::string>& parts);

    // Addresses the OSC layer spells for typed rig events.
    [[nodiscard]] static std::string stage_address(std::string_view id, std::string_view leaf);

private:
    std::vector<OscMessage> ping(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> status(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> info(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> dump_route(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> get(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> subscribe(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> unsubscribe(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> master_volume(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> master_mute(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> rig_bypass(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> tuner(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> oversample(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> stage_bypass(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> stage_norm(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> stage_param(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> chain_list(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> chain_add(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> chain_remove(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> chain_move(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> chain_replace(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> models_list(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> irs_list(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> presets_list(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> preset_load(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> preset_step(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> preset_save(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> preset_current(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> preset_delete(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> midi_learn(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> midi_list(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> debug_chain(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> record_start(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> record_stop(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> record_toggle(const Request&, const std::vector<std::string>&);
    std::vector<OscMessage> record_state(const Request&, const std::vector<std::string>&);

public:
    // What /rig/record answers and subscribers get when a take starts,
    // stops or every second while it runs.
    [[nodiscard]] static OscMessage record_message(const RecordState& s);

private:

    // Stage ids an <id> segment names (an OSC pattern when setting).
    [[nodiscard]] std::vector<std::string> stage_ids(const std::string& pattern, bool setting) const;
    [[nodiscard]] std::vector<OscMessage> list_reply(const std::string& path,
                                                     const std::vector<std::string>& items) const;
    [[nodiscard]] OscMessage current_preset() const;
    [[nodiscard]] std::string checked_url(const std::string& url) const;
    [[nodiscard]] RigController::ErrorSink late_errors(const Request& r) const;

    RigController& rig_;
    PresetManager& presets_;
    const Library& library_;
    Feedback* feedback_;
    Hooks hooks_;
};

} // namespace rigd::control
