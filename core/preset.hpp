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

// A whole rig: what a preset file holds and what the control side mirrors.
struct Preset {
    std::string name;
    int oversample = 1;
    std::optional<float> master_db;
    std::vector<StageConfig> stages;
};

} // namespace rigd::core
