#pragma once

#include "control/address_space.hpp"
#include "control/midi_map.hpp"
#include "control/preset_manager.hpp"

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace rigd::control {

// Turns MIDI from the footswitch board into rig actions: program change
// loads the preset with that index, mapped CCs set the mapped address
// through the same AddressSpace OSC uses (so subscribers see MIDI changes
// too). Called on the control loop. Mappings come from two places: learned ones, saved at once and
// atomically to `file`, and the current preset's own [[midi]] tables.
class MidiRouter {
public:
    MidiRouter(AddressSpace& space, PresetManager& presets, std::filesystem::path file, int program_channel);

    // Reads the mappings file if it exists; a bad file throws FileError and
    // leaves the map empty.
    void load();
    void handle(const MidiEvent& event);
    void learn(const std::string& address, float min, float max, bool toggle);
    // The current preset's own mappings (used with the learned ones; a
    // preset load replaces them). Throws ControlError on a bad binding.
    void set_preset_mappings(const std::vector<core::MidiBinding>& bindings);
    [[nodiscard]] std::vector<OscMessage> list() const;
    // Where the mappings file is written (the worker); unset: at once.
    void set_writer(std::function<void(std::function<void()>)> work) { work_ = std::move(work); }
    // Who hears about learned mappings (feedback to subscribers).
    void set_learned_hook(std::function<void(const OscMessage&)> hook);

private:
    void save_locked() const;

    AddressSpace& space_;
    PresetManager& presets_;
    std::filesystem::path file_;
    mutable std::mutex mutex_;
    MidiMap map_;        // learned, saved to file_
    MidiMap preset_map_; // from the current preset
    std::function<void(const OscMessage&)> learned_hook_;
    std::function<void(std::function<void()>)> work_;
};

} // namespace rigd::control
