#pragma once

#include "control/errors.hpp"
#include "core/preset.hpp"
#include "core/stage_factory.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace rigd::control {

// Parses TOML preset text. Every value is checked against the stage type's
// declared parameters; anything wrong throws FileError naming `origin`, the
// stage and the key.
[[nodiscard]] core::Preset parse_preset(std::string_view toml_text, const std::filesystem::path& origin,
                                        const core::StageFactory& factory);
[[nodiscard]] core::Preset load_preset_file(const std::filesystem::path& path, const core::StageFactory& factory);

// Canonical TOML text for a preset: stable key order and number formatting,
// so save -> load -> save is byte-identical.
[[nodiscard]] std::string format_preset(const core::Preset& preset, const core::StageFactory& factory);

// Atomic write: temp file in the same folder, fsync, rename, fsync the
// folder. Either the old file or the complete new one is on disk.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// Stage ids appear in OSC addresses: letters, digits, '_' and '-'.
[[nodiscard]] bool is_valid_stage_id(std::string_view id) noexcept;

} // namespace rigd::control
