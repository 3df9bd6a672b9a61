#pragma once

#include "core/dsp/linear_smoother.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <cstddef>
#include <vector>

namespace rigd::core::stages {

// `delay`: feedback delay line at the device rate. The delay time glides
// (at least kTimeGlideMs, and no faster than kMaxTimeSlew; linear-
// interpolated reads, so moving it bends pitch like a tape delay instead of
// zippering); feedback passes an optional one-pole
// low-pass (lowpass_hz at its maximum = off). out = (1 - mix) x + mix wet.
class DelayStage final : public Stage {
public:
    static constexpr std::string_view kType = "delay";
    static constexpr double kMaxTimeMs = 2000.0;
    static constexpr double kTimeGlideMs = 200.0; // shortest glide
    static constexpr double kMaxTimeSlew = 0.5;   // delay change per sample: pitch within 0.5x..1.5x
    static constexpr double kGlideMs = 20.0;
    enum Param : std::size_t { kTime, kFeedback, kMix, kLowpass };

    DelayStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    [[nodiscard]] float lowpass_coeff(float hz) const noexcept;
    template <bool kFull>
    float tick(float x) noexcept RIGD_RT;

    double sample_rate_hz_ = 48000.0;
    std::vector<float> buffer_;
    std::size_t mask_ = 0;
    std::size_t write_ = 0;
    std::size_t written_ = 0; // samples written since reset(), saturating at the size
    dsp::LinearSmoother delay_samples_;
    dsp::LinearSmoother feedback_;
    dsp::LinearSmoother mix_;
    dsp::LinearSmoother lp_coeff_;
    float lp_state_ = 0.0f;
};

} // namespace rigd::core::stages
