#pragma once

#include "core/dsp/biquad.hpp"
#include "core/dsp/control_rate.hpp"
#include "core/dsp/dc_blocker.hpp"
#include "core/dsp/envelope_follower.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/dsp/oversampler.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <array>

namespace rigd::core::stages {

// `sat`: three-band saturator. Linkwitz-Riley 4th-order crossovers at low_hz
// and high_hz split the signal (the low band also passes the high_hz LP+HP
// pair, an allpass that keeps the three bands in phase, so they sum flat).
// Per band, with d = drive: at the device rate a peak follower (1 ms /
// 50 ms) and u = band (1 + 9 d) / (1 + d env); oversampled
// v = u + d (u / (1 + |u|) - u); back at the device rate v (1 + 0.5 d env),
// a 15 Hz DC blocker and the band level. Drive 0 is therefore linear (the
// bands sum back to the input, allpass-shaped), drive 1 is the full curve.
// Crossover frequencies glide (coefficients updated without resetting
// state); drives and levels glide per sample.
class SatStage final : public Stage {
public:
    static constexpr std::string_view kType = "sat";
    static constexpr std::size_t kChunk = 128;
    static constexpr std::size_t kBands = 3;
    static constexpr double kGlideMs = 20.0;
    enum Param : std::size_t { kLowHz, kHighHz, kLowDrive, kMidDrive, kHighDrive, kLowLevel, kMidLevel, kHighLevel };

    SatStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;
    [[nodiscard]] int latency_samples() const noexcept override { return os_[0].latency_samples(); }

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    void design_crossovers(double low_hz, double high_hz) noexcept;
    void process_chunk(std::span<float> chunk) noexcept;

    double sample_rate_hz_ = 48000.0;
    dsp::ControlRate control_;
    dsp::LinearSmoother log2_low_, log2_high_; // per control tick
    std::array<dsp::LinearSmoother, kBands> drive_{};
    std::array<dsp::LinearSmoother, kBands> level_{};
    // LR4 = two identical Butterworth sections.
    std::array<dsp::Biquad, 2> low_lp_{}, low_hp_{}, high_lp_{}, high_hp_{}, ap_lp_{}, ap_hp_{};
    std::array<dsp::Oversampler, kBands> os_{};
    std::array<dsp::EnvelopeFollower, kBands> env_{};
    std::array<dsp::DcBlocker, kBands> dc_{};
    std::array<std::array<float, kChunk>, kBands> band_{};
    std::array<std::array<float, kChunk>, kBands> post_{};
    std::array<float, kChunk> amount_{}; // drive per device-rate sample of the band being shaped
};

} // namespace rigd::core::stages
