#include "core/stages/trem_stage.hpp"

#include "core/dsp/fast_math.hpp"
#include "core/dsp/sanitize.hpp"

#include <array>
#include <cmath>

namespace rigd::core::stages {

namespace {
constexpr std::array kParams{
    ParamInfo{.name = "rate_hz", .unit = "Hz", .min = 0.1f, .max = 20.0f, .default_value = 5.0f},
    ParamInfo{.name = "depth", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.5f},
    ParamInfo{.name = "shape", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.0f},
};
} // namespace

TremStage::TremStage() { init_params(); }

std::span<const ParamInfo> TremStage::params() const noexcept RIGD_RT { return kParams; }

void TremStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    depth_.prepare(sample_rate_hz_, kGlideMs);
    shape_.prepare(dsp::ControlRate::rate_hz(sample_rate_hz_), kGlideMs);
    reset();
}

void TremStage::reset() noexcept RIGD_RT {
    phase_ = 0.0;
    increment_ = param(kRate) / sample_rate_hz_;
    depth_.snap(param(kDepth));
    shape_.snap(param(kShape));
    update_shape();
    control_.reset();
}

void TremStage::update_shape() noexcept {
    k_ = 0.001f + 11.999f * shape_.current();
    inv_norm_ = 1.0f / dsp::fast_tanh(k_); // same curve as the numerator: peaks exactly at 1
}

void TremStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    switch (index) {
    case kRate:
        increment_ = value / sample_rate_hz_; // phase stays continuous
        break;
    case kDepth:
        depth_.set_target(value);
        break;
    default:
        shape_.set_target(value);
        break;
    }
}

void TremStage::process_block(std::span<float> block) noexcept RIGD_RT {
    std::size_t i = 0;
    while (i < block.size()) {
        bool tick = false;
        const std::size_t n = control_.next_segment(block.size() - i, tick);
        if (tick && shape_.is_smoothing()) {
            (void)shape_.next();
            update_shape();
        }
        for (float& v : block.subspan(i, n)) {
            const float s = dsp::fast_sin_2pi(static_cast<float>(phase_));
            phase_ += increment_;
            phase_ -= phase_ >= 1.0 ? 1.0 : 0.0;
            const float shaped = dsp::fast_tanh(k_ * s) * inv_norm_;
            const float m = 0.5f * shaped + 0.5f;
            v = dsp::sanitize(v) * (1.0f - depth_.next() * (1.0f - m));
        }
        i += n;
    }
}

float TremStage::process_sample(float x) noexcept RIGD_RT {
    float b[1] = {x};
    process_block(b);
    return b[0];
}

} // namespace rigd::core::stages
