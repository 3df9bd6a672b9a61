#pragma once

#include "core/dsp/biquad_df1.hpp"
#include "core/dsp/control_rate.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <array>

namespace rigd::core::stages {

// `eq`: 16-band graphic EQ. Each band is a peaking biquad (cookbook,
// bandwidth 0.625 octave, designed and run in double so the 25 Hz band stays
// exact). Gains glide in dB; a band resting at 0 dB is skipped entirely.
class EqStage final : public Stage {
public:
    static constexpr std::string_view kType = "eq";
    static constexpr std::size_t kBands = 16;
    static constexpr std::array<double, kBands> kCentreHz{25,   40,   63,   100,  160,  250,   400,   630,
                                                          1000, 1600, 2500, 4000, 6300, 10000, 16000, 20000};
    static constexpr double kBandwidthOct = 0.625;
    static constexpr double kGlideMs = 30.0;

    EqStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    void update_band(std::size_t band) noexcept;

    double sample_rate_hz_ = 48000.0;
    dsp::ControlRate control_;
    std::array<dsp::LinearSmoother, kBands> gain_db_{};
    std::array<dsp::BiquadDf1D, kBands> filter_{};
    std::array<bool, kBands> active_{};
};

} // namespace rigd::core::stages
