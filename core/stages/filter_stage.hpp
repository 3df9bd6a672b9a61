#pragma once

#include "core/dsp/biquad_df1.hpp"
#include "core/dsp/control_rate.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <array>

namespace rigd::core::stages {

// `filter`: Butterworth high- or low-pass of order 1..4 (bilinear, pre-warped
// at the cutoff, so the response is the analog Butterworth curve on the
// warped axis). The cutoff glides in log frequency; switching mode or order
// crossfades the old and new filters over kFadeMs.
class FilterStage final : public Stage {
public:
    static constexpr std::string_view kType = "filter";
    static constexpr double kGlideMs = 30.0;
    static constexpr double kFadeMs = 10.0;
    enum Param : std::size_t { kMode, kCutoff, kOrder };

    FilterStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;

private:
    struct Bank {
        std::array<dsp::BiquadDf1D, 2> section{}; // double: low cutoffs at high orders
        int sections = 0;
        int mode = 0;
        int order = 2;
        void design(double cutoff_hz, double sample_rate_hz) noexcept RIGD_RT;
        void reset() noexcept RIGD_RT;
        void process(std::span<float> block) noexcept RIGD_RT;
        [[nodiscard]] float process(float x) noexcept RIGD_RT;
    };

    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    void run(std::span<float> block) noexcept;

    double sample_rate_hz_ = 48000.0;
    dsp::ControlRate control_;
    dsp::LinearSmoother log2_cutoff_; // per control tick
    Bank current_;
    Bank previous_;
    float fade_ = 1.0f; // 1 = only current_
    float fade_step_ = 1.0f;
    int want_mode_ = 0;
    int want_order_ = 2;
};

} // namespace rigd::core::stages
