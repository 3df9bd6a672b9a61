#pragma once

#include <lo/lo_osc_types.h>

#include <cstring>

namespace rigd::control {

// liblo's handler arguments point into the packet, where OSC aligns values
// to 4 bytes only; lo_arg has 8-byte members, so `argv[i]->f` is a misaligned
// member access (undefined; UBSan stops on it). Copy the bytes instead.
template <class T>
[[nodiscard]] T lo_arg_value(const lo_arg* a) noexcept {
    T v;
    std::memcpy(&v, static_cast<const void*>(a), sizeof v);
    return v;
}

// A string or symbol argument (NUL-terminated in the packet).
[[nodiscard]] inline const char* lo_arg_string(const lo_arg* a) noexcept { return reinterpret_cast<const char*>(a); }

} // namespace rigd::control
