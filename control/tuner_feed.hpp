#pragma once

#include "control/osc_message.hpp"
#include "core/tuner/input_tap.hpp"
#include "core/tuner/pitch_detector.hpp"

#include <optional>
#include <vector>

namespace rigd::control {

// The tuner's view for subscribers: reads the newest input from the tap the
// RT thread fills, detects the pitch and phrases it as
// /rig/tuner/note s:note i:octave f:cents f:hz (or /rig/tuner/note s:"-"
// when nothing is in tune range). One thread only (the control loop).
class TunerFeed {
public:
    TunerFeed(core::tuner::InputTap& tap, double sample_rate_hz);
    [[nodiscard]] std::optional<OscMessage> reading();
    // The device rate changed (same thread as reading()).
    void set_sample_rate(double sample_rate_hz) { detector_.prepare(sample_rate_hz); }

private:
    core::tuner::InputTap& tap_;
    core::tuner::PitchDetector detector_;
    std::vector<float> window_;
};

} // namespace rigd::control
