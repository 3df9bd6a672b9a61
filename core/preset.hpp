#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rigd::core {

// One stage as a preset describes it. Values are already validated and in
// native units (choices as their index, toggles as 0/1).
struct StageConfig {
    std::string id;
    std::string type;
    bool bypass = false;
    std::vector<std::pair<std::string, float>> params;
    std::vector<std::pair<std::string, std::string>> texts; // file names
};

// A MIDI CC mapping a preset carries for its own footswitches (the control
// layer validates and applies it; see control/midi_map.hpp).
struct MidiBinding {
    int channel = 0; // 0 = any
    int cc = 0;
    std::string address;
    float min = 0.0f;
    float max = 1.0f;
    std::string mode = "continuous"; // continuous, toggle, momentary
    friend bool operator==(const MidiBinding&, const MidiBinding&) = default;
};

// A whole rig: what a preset file holds and what the control side mirrors.
struct Preset {
    std::string name;
    int oversample = 1;
    std::optional<float> master_db;
    std::vector<StageConfig> stages;
    std::vector<MidiBinding> midi;
};

} // namespace rigd::core
