#pragma once

#include "control/library.hpp"
#include "control/osc_message.hpp"
#include "control/preset_manager.hpp"
#include "control/rig_controller.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rigd::control {

// What /rig/status reports; filled in by the daemon (JACK side).
struct Status {
    float dsp_load_percent = 0.0f;
    std::uint64_t xruns = 0;
    int sample_rate_hz = 0;
    int period_frames = 0;
};

// The rig's OSC address space, independent of the transport: the OSC server,
// MIDI mappings and /rig/get all come through handle(). A refused message
// throws ControlError with the reason (the transport answers /rig/error);
// nothing refused reaches the RT thread.
class AddressSpace {
public:
    struct Hooks {
        std::function<Status()> status;
        std::function<std::vector<OscArg>()> info; // name, version, client, ports, osc port
        // MIDI learn of an address with its range; empty when MIDI is off.
        std::function<void(const std::string& address, float min, float max, bool toggle)> midi_learn;
        std::function<std::vector<OscMessage>()> midi_list;
    };

    AddressSpace(RigController& rig, PresetManager& presets, const Library& library, Hooks hooks);

    // Handles one message; returns the replies for the sender. Errors that
    // only show later (a preset that fails while building) go to `late_error`.
    std::vector<OscMessage> handle(const OscMessage& in, const PresetManager::ErrorSink& late_error);

    // Every current value, as /rig/dump sends it.
    [[nodiscard]] std::vector<OscMessage> dump() const;

private:
    std::vector<OscMessage> handle_stage(const OscMessage& in, const std::string& id_pattern,
                                         const std::string& leaf);
    std::vector<OscMessage> handle_chain(const OscMessage& in, const std::string& verb);
    std::vector<OscMessage> handle_preset(const OscMessage& in, const std::string& verb,
                                          const PresetManager::ErrorSink& late_error);
    [[nodiscard]] std::vector<OscMessage> list_reply(const std::string& path,
                                                     const std::vector<std::string>& items) const;
    [[nodiscard]] OscMessage current_preset() const;

    RigController& rig_;
    PresetManager& presets_;
    const Library& library_;
    Hooks hooks_;
};

} // namespace rigd::control
