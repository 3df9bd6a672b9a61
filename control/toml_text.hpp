#pragma once

#include <string>
#include <string_view>

namespace rigd::control {

// TOML text pieces shared by the files we write (presets, MIDI mappings),
// so saved files look alike and round-trip byte for byte.

// Shortest float text that reads back to the same float, always a TOML float.
[[nodiscard]] std::string toml_number(float value);
// A basic TOML string with quotes and escapes.
[[nodiscard]] std::string toml_quote(std::string_view text);

} // namespace rigd::control
