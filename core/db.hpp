#pragma once

#include <cmath>
#include <limits>

namespace rigd::core {

// Decibel conversions shared by every stage and the control layer.
[[nodiscard]] inline double db_to_gain(double db) noexcept { return std::pow(10.0, db / 20.0); }
[[nodiscard]] inline float db_to_gain(float db) noexcept { return std::pow(10.0f, db / 20.0f); }
[[nodiscard]] inline double gain_to_db(double gain) noexcept {
    return gain > 0.0 ? 20.0 * std::log10(gain) : -std::numeric_limits<double>::infinity();
}

} // namespace rigd::core
