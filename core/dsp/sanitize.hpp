#pragma once

#include "core/rt.hpp"

#include <cmath>

namespace rigd::core::dsp {

// Largest input magnitude a stage lets into its state. NaN, +-Inf and
// absurd values become 0 so one bad block cannot poison filter or delay
// state (guarded by "stage contract: NaN/Inf input does not poison the
// state" in tests/stages/test_stage_contract.cpp). One compare per sample.
inline constexpr float kMaxInput = 1.0e4f;

[[nodiscard]] inline float sanitize(float x) noexcept RIGD_RT { return std::fabs(x) <= kMaxInput ? x : 0.0f; }

} // namespace rigd::core::dsp
