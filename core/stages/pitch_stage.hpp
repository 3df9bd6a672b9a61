#pragma once

#include "core/rt.hpp"

#include "core/dsp/linear_smoother.hpp"
#include "core/stage.hpp"

#include <atomic>
#include <cstddef>
#include <vector>

namespace rigd::core::stages {

// `pitch`: a pitch shifter for alternate tunings, meant first in the chain
// like a pedal. Method: a delay line read by a tap that moves at the pitch
// ratio (every frequency, so every interval of a chord, is scaled exactly),
// spliced back by a lag chosen where the input correlates best with itself
// (a period of the note, refined to a fraction of a sample), with a short
// linear crossfade between the two in-phase taps. Chosen over a phase
// vocoder because its latency is a few ms instead of a whole FFT frame (the
// reference's 2048/512 vocoder adds 42 ms) and it keeps transients sharp;
// see README "Stages" for the measurements. The read delay sweeps over
// about one period of the note: latency_samples() is the mean delay for a
// note in the middle of the search range (about 137 Hz) at the current
// shift. out = (1 - mix) x + mix shifted, with the dry path not delayed.
class PitchStage final : public Stage {
public:
    static constexpr std::string_view kType = "pitch";
    static constexpr double kFadeMs = 3.0;     // splice crossfade
    static constexpr double kSpanMs = 20.0;    // lags searched: periods down to 50 Hz, chords' common ones
    static constexpr double kCorrMs = 6.0;     // correlation window
    static constexpr double kGlideMs = 20.0;   // mix
    static constexpr double kMinDelay = 2.0;   // the cubic read needs two newer samples
    enum Param : std::size_t { kSemitones, kCents, kMix };

    PitchStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;
    [[nodiscard]] int latency_samples() const noexcept override {
        return latency_samples_.load(std::memory_order_relaxed);
    }

    // The pitch ratio the parameters ask for (2^((semitones + cents/100)/12)).
    [[nodiscard]] double ratio() const noexcept { return ratio_; }

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    void update_ratio() noexcept RIGD_RT;
    [[nodiscard]] float tick(float x) noexcept RIGD_RT;
    [[nodiscard]] float read(double delay) const noexcept RIGD_RT;
    void splice() noexcept RIGD_RT;
    void rest() noexcept RIGD_RT;
    [[nodiscard]] double min_lag() const noexcept RIGD_RT;

    double sample_rate_hz_ = 48000.0;
    std::vector<float> buffer_;
    std::vector<float> scratch_; // the stretch of input a splice correlates
    std::vector<float> corr_;    // one normalised correlation per searched lag
    std::size_t mask_ = 0;
    std::size_t write_ = 0; // index of the newest sample
    std::size_t zero_run_ = 0; // consecutive zero inputs, up to the line's length
    double ratio_ = 1.0;
    double delay_ = 0.0;     // current tap, in samples behind the newest one
    double old_delay_ = 0.0; // tap fading out
    int fade_left_ = 0;
    int fade_samples_ = 1;
    double span_ = 0.0;
    double max_delay_ = 0.0;
    double down_trigger_ = 0.0;
    int corr_len_ = 1;
    dsp::LinearSmoother mix_;
    std::atomic<int> latency_samples_{0};
};

} // namespace rigd::core::stages
