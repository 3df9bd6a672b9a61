#include "core/stages/reverb_stage.hpp"

#include "core/dsp/sanitize.hpp"

#include <algorithm>
#include <cmath>

namespace rigd::core::stages {

namespace {
constexpr std::array kParams{
    ParamInfo{.name = "room", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.5f},
    ParamInfo{.name = "damping", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.5f},
    ParamInfo{.name = "mix", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.2f},
};
constexpr std::array<int, ReverbStage::kCombs> kCombTuning{1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617};
constexpr std::array<int, ReverbStage::kAllpasses> kAllpassTuning{556, 441, 341, 225};
constexpr double kTuningRate = 44100.0;
constexpr float kInputGain = 0.015f;
constexpr float kWetGain = 3.0f;
constexpr float kAllpassFeedback = 0.5f;

float feedback_for(float room) { return 0.7f + 0.28f * room; }
float damp_for(float damping) { return 0.4f * damping; }
} // namespace

ReverbStage::ReverbStage() { init_params(); }

std::span<const ParamInfo> ReverbStage::params() const noexcept RIGD_RT { return kParams; }

void ReverbStage::prepare(const ProcessSpec& spec) {
    const double scale = spec.sample_rate_hz / kTuningRate;
    auto len = [&](int tuning) { return std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(tuning * scale))); };
    for (std::size_t i = 0; i < kCombs; ++i) {
        comb_[i].buffer.assign(len(kCombTuning[i]), 0.0f);
    }
    for (std::size_t i = 0; i < kAllpasses; ++i) {
        allpass_[i].buffer.assign(len(kAllpassTuning[i]), 0.0f);
    }
    longest_ = 0;
    for (const Line& l : comb_) {
        longest_ = std::max(longest_, l.buffer.size());
    }
    for (const Line& l : allpass_) {
        longest_ = std::max(longest_, l.buffer.size());
    }
    feedback_.prepare(spec.sample_rate_hz, kGlideMs);
    damp_.prepare(spec.sample_rate_hz, kGlideMs);
    mix_.prepare(spec.sample_rate_hz, kGlideMs);
    reset();
}

// O(lines): the lines are not cleared; a line reads 0 until it has been
// written all the way round since the reset, exactly what a cleared line
// would give.
void ReverbStage::reset() noexcept RIGD_RT {
    written_ = 0;
    for (Line& l : comb_) {
        l.pos = 0;
        l.store = 0.0f;
    }
    for (Line& l : allpass_) {
        l.pos = 0;
    }
    feedback_.snap(feedback_for(param(kRoom)));
    damp_.snap(damp_for(param(kDamping)));
    mix_.snap(param(kMix));
}

void ReverbStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    switch (index) {
    case kRoom:
        feedback_.set_target(feedback_for(value));
        break;
    case kDamping:
        damp_.set_target(damp_for(value));
        break;
    default:
        mix_.set_target(value);
        break;
    }
}

// kFull: every line has been written all the way round since reset(), so no
// read needs the check (the common case; process_block picks it per block).
template <bool kFull>
float ReverbStage::tick(float x) noexcept RIGD_RT {
    x = dsp::sanitize(x);
    const float fb = feedback_.next();
    const float damp = damp_.next();
    const float in = x * kInputGain;
    float wet = 0.0f;
    // A line's read at pos was written buffer.size() samples ago.
    for (Line& c : comb_) {
        const float out = kFull || written_ >= c.buffer.size() ? c.buffer[c.pos] : 0.0f;
        c.store = out * (1.0f - damp) + c.store * damp;
        c.buffer[c.pos] = in + c.store * fb;
        c.pos = c.pos + 1 == c.buffer.size() ? 0 : c.pos + 1;
        wet += out;
    }
    for (Line& a : allpass_) {
        const float buffered = kFull || written_ >= a.buffer.size() ? a.buffer[a.pos] : 0.0f;
        a.buffer[a.pos] = wet + buffered * kAllpassFeedback;
        a.pos = a.pos + 1 == a.buffer.size() ? 0 : a.pos + 1;
        wet = buffered - wet;
    }
    if constexpr (!kFull) {
        written_ += written_ < longest_ ? 1 : 0;
    }
    const float m = mix_.next();
    return x + m * (kWetGain * wet - x);
}

float ReverbStage::process_sample(float x) noexcept RIGD_RT { return written_ >= longest_ ? tick<true>(x) : tick<false>(x); }

void ReverbStage::process_block(std::span<float> block) noexcept RIGD_RT {
    if (written_ >= longest_) {
        for (float& v : block) {
            v = tick<true>(v);
        }
        return;
    }
    for (float& v : block) {
        v = tick<false>(v);
    }
}

} // namespace rigd::core::stages
