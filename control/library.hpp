#pragma once

#include "control/errors.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rigd::control {

// The folders of presets, models and IRs on disk. Names given over OSC or in
// presets resolve only inside their folder: absolute paths, '..' and links
// leading outside are refused (ControlError).
class Library {
public:
    Library(std::filesystem::path presets, std::filesystem::path models, std::filesystem::path irs);

    // folder is "presets", "models" or "irs". With allow_absolute (a preset
    // named on the command line), absolute paths are taken as they are.
    [[nodiscard]] std::filesystem::path resolve(std::string_view folder, std::string_view name,
                                                bool allow_absolute = false) const;
    // Preset names may omit ".toml".
    [[nodiscard]] std::filesystem::path resolve_preset(std::string_view name) const;
    [[nodiscard]] const std::filesystem::path& folder(std::string_view folder) const;
    // Sorted file names in a folder with the given extension ("" = any).
    [[nodiscard]] std::vector<std::string> list(std::string_view folder, std::string_view extension) const;

private:
    std::filesystem::path presets_;
    std::filesystem::path models_;
    std::filesystem::path irs_;
};

} // namespace rigd::control
