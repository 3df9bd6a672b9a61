#include "core/stages/gate_stage.hpp"

#include "core/db.hpp"
#include "core/dsp/one_pole.hpp"
#include "core/dsp/sanitize.hpp"

#include <array>
#include <cmath>

namespace rigd::core::stages {

namespace {
constexpr std::array kParams{
    ParamInfo{.name = "threshold_db", .unit = "dB", .min = -80.0f, .max = 0.0f, .default_value = -40.0f},
    ParamInfo{.name = "ratio", .unit = "", .min = 1.0f, .max = 100.0f, .default_value = 10.0f},
    ParamInfo{.name = "attack_ms", .unit = "ms", .min = 0.1f, .max = 100.0f, .default_value = 1.0f},
    ParamInfo{.name = "hold_ms", .unit = "ms", .min = 0.0f, .max = 500.0f, .default_value = 10.0f},
    ParamInfo{.name = "release_ms", .unit = "ms", .min = 1.0f, .max = 1000.0f, .default_value = 100.0f},
};
constexpr double kFloorRampMs = 20.0;
} // namespace

GateStage::GateStage() { init_params(); }

std::span<const ParamInfo> GateStage::params() const noexcept { return kParams; }

void GateStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    detector_.set_times(kDetectorAttackMs, kDetectorReleaseMs, sample_rate_hz_);
    floor_.prepare(sample_rate_hz_, kFloorRampMs);
    reset();
}

void GateStage::reset() noexcept {
    detector_.reset();
    floor_.snap(1.0f / param(kRatio));
    hold_left_ = 0;
    state_ = 0.0f;
    update_coeffs();
}

void GateStage::update_coeffs() noexcept {
    threshold_ = db_to_gain(param(kThreshold));
    attack_ = dsp::time_constant_coeff(param(kAttack), sample_rate_hz_);
    release_ = dsp::time_constant_coeff(param(kRelease), sample_rate_hz_);
    hold_samples_ = static_cast<std::int32_t>(std::lround(param(kHold) * 0.001 * sample_rate_hz_));
    dirty_ = false;
}

void GateStage::on_param_changed(std::size_t index, float value) noexcept {
    if (index == kRatio) {
        floor_.set_target(1.0f / value);
    }
    dirty_ = true;
}

float GateStage::step(float x) noexcept {
    x = dsp::sanitize(x);
    const float env = detector_.process(x);
    const bool open = env > threshold_;
    if (open) {
        hold_left_ = hold_samples_;
    } else if (hold_left_ > 0) {
        --hold_left_;
    }
    const float target = (open || hold_left_ > 0) ? 1.0f : 0.0f;
    const float c = target > state_ ? attack_ : release_;
    state_ = target + c * (state_ - target);
    const float floor = floor_.next();
    const float gain = state_ >= 0.999f ? 1.0f : floor + (1.0f - floor) * state_;
    return x * gain;
}

void GateStage::process_block(std::span<float> block) noexcept {
    if (dirty_) {
        update_coeffs();
    }
    for (float& v : block) {
        v = step(v);
    }
}

float GateStage::process_sample(float x) noexcept {
    if (dirty_) {
        update_coeffs();
    }
    return step(x);
}

} // namespace rigd::core::stages
