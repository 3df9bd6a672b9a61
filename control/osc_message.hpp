#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rigd::control {

// An OSC argument as the control layer sees it: transport-neutral, so the
// address space serves OSC, MIDI mappings and /rig/get alike.
struct OscArg {
    enum class Type { int32, float32, string };
    Type type = Type::float32;
    std::int32_t i = 0;
    float f = 0.0f;
    std::string s;

    [[nodiscard]] static OscArg of(std::int32_t v) { return {Type::int32, v, 0.0f, {}}; }
    [[nodiscard]] static OscArg of(float v) { return {Type::float32, 0, v, {}}; }
    [[nodiscard]] static OscArg of(std::string v) { return {Type::string, 0, 0.0f, std::move(v)}; }
    [[nodiscard]] bool is_number() const noexcept { return type != Type::string; }
    [[nodiscard]] double number() const noexcept { return type == Type::int32 ? i : f; }
    friend bool operator==(const OscArg&, const OscArg&) = default;
};

struct OscMessage {
    std::string path;
    std::vector<OscArg> args;
    friend bool operator==(const OscMessage&, const OscMessage&) = default;
};

} // namespace rigd::control
