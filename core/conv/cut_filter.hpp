#pragma once

#include "core/rt.hpp"

#include "core/dsp/biquad.hpp"
#include "core/dsp/linear_smoother.hpp"

#include <span>

namespace rigd::core::conv {

// The cab's optional low cut / high cut: a 12 dB/octave Butterworth
// high-pass or low-pass. Cutoff 0 means off (exactly bypassed once faded
// out). Cutoff moves glide in log frequency with coefficients redesigned
// every kTickSamples samples (counted from prepare/reset, so block lengths do
// not matter); switching on or off crossfades with the unfiltered signal.
class CutFilter {
public:
    enum class Kind { low_cut, high_cut };
    static constexpr int kTickSamples = 16;
    static constexpr double kGlideMs = 50.0;
    static constexpr double kFadeMs = 20.0;

    explicit CutFilter(Kind kind) noexcept : kind_(kind) {}

    void prepare(double sample_rate_hz) noexcept;
    void reset() noexcept RIGD_RT;
    // RT-safe; <= 0 switches the filter off.
    void set_cutoff(float cutoff_hz) noexcept RIGD_RT;

    [[nodiscard]] bool active() const noexcept RIGD_RT { return wet_.target() > 0.0f || wet_.is_smoothing(); }
    [[nodiscard]] float process_sample(float x) noexcept RIGD_RT;
    void process(std::span<float> block) noexcept RIGD_RT;

private:
    void design(float log2_hz) noexcept RIGD_RT;

    Kind kind_;
    double sample_rate_hz_ = 48000.0;
    dsp::BiquadD biquad_; // double: a float TDF-II at 20 Hz..1 kHz / 48 kHz is noisy (poles near z = 1)
    dsp::LinearSmoother log2_cutoff_;
    dsp::LinearSmoother wet_;
    float requested_hz_ = 0.0f;
    int tick_left_ = 0;
    bool redesign_ = true;
};

} // namespace rigd::core::conv
