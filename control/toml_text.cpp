#include "control/toml_text.hpp"

#include <charconv>
#include <cstdio>

namespace rigd::control {

std::string toml_number(float value) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".eEn") == std::string::npos) {
        s += ".0"; // keep it a TOML float
    }
    return s;
}

std::string toml_quote(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

} // namespace rigd::control
