#include "control/log_text.hpp"

#include <cstdint>
#include <cstdio>

namespace rigd::control {

namespace {

// Length of the well-formed UTF-8 sequence at text[i] and its code point;
// 0 when the bytes there are not one (overlong, surrogate, out of range, cut).
std::size_t utf8_sequence(std::string_view text, std::size_t i, std::uint32_t& cp) {
    const auto b0 = static_cast<std::uint8_t>(text[i]);
    std::size_t len = 0;
    std::uint32_t min = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        len = 2, cp = b0 & 0x1fu, min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        len = 3, cp = b0 & 0x0fu, min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        len = 4, cp = b0 & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > text.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<std::uint8_t>(text[i + k]);
        if ((b & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (b & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

// Code points that move the cursor, end a line or reorder text on a terminal.
bool is_invisible_control(std::uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

} // namespace

std::string escape_for_log(std::string_view text, std::size_t max_bytes) {
    std::string out;
    out.reserve(text.size() < max_bytes ? text.size() + 8 : max_bytes + 24);
    char unit[16];
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<std::uint8_t>(text[i]);
        std::size_t consumed = 1;
        std::string_view piece;
        if (b == '\\') {
            piece = "\\\\";
        } else if (b == '\n') {
            piece = "\\n";
        } else if (b == '\r') {
            piece = "\\r";
        } else if (b == '\t') {
            piece = "\\t";
        } else if (b < 0x20 || b == 0x7f) {
            std::snprintf(unit, sizeof unit, "\\x%02x", b);
            piece = unit;
        } else if (b < 0x80) {
            piece = text.substr(i, 1);
        } else {
            std::uint32_t cp = 0;
            const std::size_t len = utf8_sequence(text, i, cp);
            if (len == 0) {
                std::snprintf(unit, sizeof unit, "\\x%02x", b);
                piece = unit;
            } else {
                consumed = len;
                if (is_invisible_control(cp)) {
                    std::snprintf(unit, sizeof unit, "\\u{%04x}", static_cast<unsigned>(cp));
                    piece = unit;
                } else {
                    piece = text.substr(i, len);
                }
            }
        }
        if (out.size() + piece.size() > max_bytes) {
            out += "\\[" + std::to_string(text.size() - i) + " more bytes]";
            return out;
        }
        out += piece;
        i += consumed;
    }
    return out;
}

} // namespace rigd::control
