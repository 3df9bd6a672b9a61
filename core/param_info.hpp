#pragma once

#include <span>
#include <string_view>

namespace rigd::core {

enum class ParamKind {
    continuous, // any float in [min, max]
    integer,    // whole numbers in [min, max]
    toggle,     // 0 or 1 (presets write true/false)
    choice,     // index into choices (presets write the name)
};

// Static description of one float parameter. Stages keep these in constexpr
// arrays so the control thread may read them while the RT thread runs.
struct ParamInfo {
    std::string_view name;
    std::string_view unit; // "dB", "Hz", "ms", "" ...
    float min = 0.0f;
    float max = 1.0f;
    float default_value = 0.0f;
    ParamKind kind = ParamKind::continuous;
    std::span<const std::string_view> choices = {};

    [[nodiscard]] constexpr float clamp(float v) const noexcept {
        // NaN compares false both ways: fall back to the default.
        if (!(v >= min)) {
            return v != v ? default_value : min;
        }
        return v > max ? max : v;
    }
    [[nodiscard]] constexpr bool in_range(float v) const noexcept { return v >= min && v <= max; }
};

// A parameter whose value is text: a file name resolved in a configured
// folder ("models", "irs"). Changing it builds a new stage off the RT thread.
struct TextParamInfo {
    std::string_view name;
    std::string_view folder;
};

} // namespace rigd::core
