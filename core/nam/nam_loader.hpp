#pragma once

#include "core/nam/nam_file.hpp"
#include "core/nam/nam_load_error.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace rigd::core::nam {

// Reads and validates a .nam file (format 0.5.x, WaveNet A1 or LSTM). Off the
// RT thread. Throws NamLoadError naming the file and the problem; never
// returns a partly valid result.
[[nodiscard]] NamFile load_nam_file(const std::filesystem::path& path);

// Same, from JSON text already in memory; `label` names it in errors.
[[nodiscard]] NamFile parse_nam_json(std::string_view text, const std::string& label);

} // namespace rigd::core::nam
