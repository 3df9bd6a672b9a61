#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rigd::control {

// Makes untrusted bytes (OSC addresses and strings, URLs, file names) safe
// for one log line, visibly and unambiguously:
//   '\' -> "\\", newline/CR/tab -> "\n" "\r" "\t", other control bytes and
//   bytes that are not UTF-8 -> "\xHH", C1 controls, line/paragraph
//   separators, bidi overrides and BOM -> "\u{HHHH}"; other UTF-8 is kept.
// Output longer than max_bytes is cut at a whole character with the marker
// "\[N more bytes]" (a backslash never starts anything else but an escape).
[[nodiscard]] std::string escape_for_log(std::string_view text, std::size_t max_bytes = 200);

} // namespace rigd::control
