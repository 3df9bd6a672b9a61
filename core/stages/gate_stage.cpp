#include "core/stages/gate_stage.hpp"

#include "core/db.hpp"
#include "core/dsp/one_pole.hpp"
#include "core/dsp/sanitize.hpp"

#include <algorithm>
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

std::span<const ParamInfo> GateStage::params() const noexcept RIGD_RT { return kParams; }

void GateStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    detector_.set_times(kDetectorAttackMs, kDetectorReleaseMs, sample_rate_hz_);
    floor_.prepare(sample_rate_hz_, kFloorRampMs);
    reset();
}

void GateStage::reset() noexcept RIGD_RT {
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

void GateStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    if (index == kRatio) {
        floor_.set_target(1.0f / value);
    }
    dirty_ = true;
}

void GateStage::run(std::span<float> x) noexcept {
    const std::size_t n = x.size();
    for (float& v : x) {
        v = dsp::sanitize(v);
    }
    float* env = env_.data();
    detector_.process(x, env);
    const float threshold = threshold_;
    int closed = 0; // int, not bool: GCC vectorises this reduction
    for (std::size_t k = 0; k < n; ++k) {
        closed |= env[k] <= threshold ? 1 : 0;
    }
    const bool all_open = closed == 0;
    const bool floor_moving = floor_.is_smoothing();
    if (all_open && state_ == 1.0f && !floor_moving) {
        // Open and settled: the loop below would leave every sample at gain
        // exactly 1 and the state at exactly 1.
        hold_left_ = hold_samples_;
        return;
    }
    // Locals: stores to x could alias float members and force reloads.
    const float attack = attack_, release = release_;
    const std::int32_t hold_samples = hold_samples_;
    std::int32_t hold = hold_left_;
    float state = state_;
    float floor = floor_.current();
    for (std::size_t k = 0; k < n; ++k) {
        const bool open = env[k] > threshold;
        hold = open ? hold_samples : (hold > 0 ? hold - 1 : 0);
        // target 1: 1 + attack (state - 1); target 0: release state (state is
        // in [0, 1], so these are the attack/release cases of the one-pole).
        state = (open || hold > 0) ? 1.0f + attack * (state - 1.0f) : release * state;
        if (floor_moving) {
            floor = floor_.next();
        }
        const float gain = state >= 0.999f ? 1.0f : floor + (1.0f - floor) * state;
        x[k] *= gain;
    }
    hold_left_ = hold;
    state_ = state;
}

void GateStage::process_block(std::span<float> block) noexcept RIGD_RT {
    if (dirty_) {
        update_coeffs();
    }
    for (std::size_t i = 0; i < block.size(); i += kChunk) {
        run(block.subspan(i, std::min(kChunk, block.size() - i)));
    }
}

float GateStage::process_sample(float x) noexcept RIGD_RT {
    float b[1] = {x};
    process_block(b);
    return b[0];
}

} // namespace rigd::core::stages
