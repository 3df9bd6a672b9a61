#pragma once

#include "core/dsp/control_rate.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

namespace rigd::core::stages {

// `trem`: tremolo. A phase accumulator at rate_hz drives sin, shaped by
// tanh(k sin) / tanh(k) with k = 0.001 + 11.999 shape (sine -> near
// square); gain = 1 - depth (1 - (0.5 shaped + 0.5)), so depth 1 swings
// between silence and unity. Depth glides per sample, shape per control
// tick; the LFO itself is not smoothed so square edges stay sharp.
class TremStage final : public Stage {
public:
    static constexpr std::string_view kType = "trem";
    static constexpr double kGlideMs = 30.0;
    enum Param : std::size_t { kRate, kDepth, kShape };

    TremStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    void update_shape() noexcept;

    double sample_rate_hz_ = 48000.0;
    dsp::ControlRate control_;
    dsp::LinearSmoother depth_;
    dsp::LinearSmoother shape_; // per control tick
    double phase_ = 0.0;
    double increment_ = 0.0;
    float k_ = 0.001f;
    float inv_norm_ = 1.0f;
};

} // namespace rigd::core::stages
