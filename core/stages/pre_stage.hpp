#pragma once

#include "core/dsp/clippers.hpp"
#include "core/dsp/dc_blocker.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/dsp/one_pole.hpp"
#include "core/dsp/oversampler.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

namespace rigd::core::stages {

// `pre`: tube preamp stage, run at the oversampled rate.
//   s = (tanh(d1 x + bias) - tanh(bias)) * min(cosh^2(bias), 4),  d1 = 1 + 1.8 gain
//   s = one-pole low-pass 10 kHz (inter-stage, against fizz)
//   y = clipper(d2 s),                                           d2 = 1 + 0.3 gain
// then back at the device rate a 15 Hz DC blocker. The cosh^2 term keeps the
// small-signal level steady across the bias range. Gain and bias glide; a
// clipper switch crossfades the two curves over kFadeMs.
class PreStage final : public Stage {
public:
    static constexpr std::string_view kType = "pre";
    static constexpr std::size_t kChunk = 128;
    static constexpr double kGlideMs = 20.0;
    static constexpr double kFadeMs = 10.0;
    static constexpr double kInterStageHz = 10000.0;
    static constexpr double kDcHz = 15.0;
    enum Param : std::size_t { kGain, kBias, kClipper };

    PreStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;
    [[nodiscard]] int latency_samples() const noexcept override { return os_.latency_samples(); }

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    void set_targets() noexcept;
    void shape(std::span<float> hi) noexcept;

    dsp::Oversampler os_;
    dsp::OnePoleLowpass lpf_;
    dsp::DcBlocker dc_;
    dsp::LinearSmoother drive1_, drive2_, bias_, bias_offset_, bias_scale_; // at the high rate
    const dsp::TriodeTable* triode_ = nullptr;
    dsp::ClipperKind clipper_ = dsp::ClipperKind::soft;
    dsp::ClipperKind previous_clipper_ = dsp::ClipperKind::soft;
    dsp::ClipperKind want_clipper_ = dsp::ClipperKind::soft;
    float fade_ = 1.0f;
    float fade_step_ = 1.0f;
};

} // namespace rigd::core::stages
