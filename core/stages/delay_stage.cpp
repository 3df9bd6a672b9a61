#include "core/stages/delay_stage.hpp"

#include "core/dsp/sanitize.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace rigd::core::stages {

namespace {
constexpr float kLowpassOffHz = 20000.0f;
constexpr std::array kParams{
    ParamInfo{.name = "time_ms", .unit = "ms", .min = 0.0f, .max = 2000.0f, .default_value = 300.0f},
    ParamInfo{.name = "feedback", .unit = "", .min = 0.0f, .max = 0.95f, .default_value = 0.3f},
    ParamInfo{.name = "mix", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.5f},
    ParamInfo{.name = "lowpass_hz", .unit = "Hz", .min = 500.0f, .max = kLowpassOffHz, .default_value = kLowpassOffHz},
};
} // namespace

DelayStage::DelayStage() { init_params(); }

std::span<const ParamInfo> DelayStage::params() const noexcept RIGD_RT { return kParams; }

float DelayStage::lowpass_coeff(float hz) const noexcept {
    if (hz >= kLowpassOffHz) {
        return 1.0f; // y += 1 * (x - y): no filtering
    }
    return static_cast<float>(1.0 - std::exp(-2.0 * std::numbers::pi * hz / sample_rate_hz_));
}

void DelayStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    const auto need = static_cast<std::size_t>(std::ceil(kMaxTimeMs * 0.001 * sample_rate_hz_)) + 4;
    std::size_t size = 1;
    while (size < need) {
        size <<= 1;
    }
    buffer_.assign(size, 0.0f);
    mask_ = size - 1;
    delay_samples_.prepare(sample_rate_hz_, kTimeGlideMs);
    feedback_.prepare(sample_rate_hz_, kGlideMs);
    mix_.prepare(sample_rate_hz_, kGlideMs);
    lp_coeff_.prepare(sample_rate_hz_, kGlideMs);
    reset();
}

// O(1): the line is not cleared (up to 2^17 floats); reads older than
// written_ return 0 instead, exactly what a cleared line would give.
void DelayStage::reset() noexcept RIGD_RT {
    written_ = 0;
    write_ = 0;
    lp_state_ = 0.0f;
    delay_samples_.snap(static_cast<float>(param(kTime) * 0.001 * sample_rate_hz_));
    feedback_.snap(param(kFeedback));
    mix_.snap(param(kMix));
    lp_coeff_.snap(lowpass_coeff(param(kLowpass)));
}

void DelayStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    switch (index) {
    case kTime: {
        // The read position moves at most kMaxTimeSlew samples per sample
        // (pitch bent by at most that factor either way), so a long jump
        // glides for longer than kTimeGlideMs instead of racing through
        // the buffer (guarded by "parameter changes: ... do not click").
        const auto target = static_cast<float>(value * 0.001 * sample_rate_hz_);
        const double distance = std::fabs(static_cast<double>(target - delay_samples_.current()));
        delay_samples_.set_target_over(target, static_cast<std::int32_t>(std::ceil(distance / kMaxTimeSlew)));
        break;
    }
    case kFeedback:
        feedback_.set_target(value);
        break;
    case kMix:
        mix_.set_target(value);
        break;
    default:
        lp_coeff_.set_target(lowpass_coeff(value));
        break;
    }
}

// kFull: the whole line has been written since reset(), so no read needs
// the age check (the common case; process_block picks it once per block).
template <bool kFull>
float DelayStage::tick(float x) noexcept RIGD_RT {
    x = dsp::sanitize(x);
    // At least one sample: the feedback path needs a real delay.
    const float d = std::max(1.0f, delay_samples_.next());
    const auto whole = static_cast<std::size_t>(d);
    const float frac = d - static_cast<float>(whole);
    // buffer_[write_ - k] was written k samples ago: valid for k <= written_.
    const float a = kFull || whole <= written_ ? buffer_[(write_ - whole) & mask_] : 0.0f;
    const float b = kFull || whole < written_ ? buffer_[(write_ - whole - 1) & mask_] : 0.0f;
    const float wet = a + frac * (b - a);
    lp_state_ += lp_coeff_.next() * (wet - lp_state_);
    buffer_[write_] = x + feedback_.next() * lp_state_;
    write_ = (write_ + 1) & mask_;
    if constexpr (!kFull) {
        written_ += written_ <= mask_ ? 1 : 0; // saturates at the line's size
    }
    const float m = mix_.next();
    return x + m * (wet - x);
}

float DelayStage::process_sample(float x) noexcept RIGD_RT { return written_ > mask_ ? tick<true>(x) : tick<false>(x); }

void DelayStage::process_block(std::span<float> block) noexcept RIGD_RT {
    if (written_ > mask_) {
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
