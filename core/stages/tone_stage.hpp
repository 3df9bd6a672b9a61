#pragma once

#include "core/dsp/biquad_df1.hpp"
#include "core/dsp/control_rate.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/dsp/tone_stack_circuit.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <array>

namespace rigd::core::stages {

// `tone`: amp tone stack plus presence.
//  - british / american: the passive three-knob stack (Marshall JCM800 /
//    Fender '59 Bassman component values), its exact third-order transfer
//    function discretised by the bilinear transform. Knob 0..2 maps to pot
//    rotation (bass and treble audio taper, mid linear); the stack's
//    insertion loss is made up so that all knobs at noon peak at 0 dB.
//  - modern: active three band (low shelf 120 Hz, bell 700 Hz, high shelf
//    2.2 kHz), +-12 dB, 1 = flat.
//  - flat: no tone shaping.
// Presence is a high shelf (+-6 dB, 1 = flat) at 6 / 5 / 4 / 5 kHz.
// Knobs glide; a model switch crossfades old -> new over kFadeMs.
class ToneStage final : public Stage {
public:
    static constexpr std::string_view kType = "tone";
    static constexpr double kGlideMs = 30.0;
    static constexpr double kFadeMs = 10.0;
    enum Param : std::size_t { kModel, kBass, kMid, kTreble, kPresence };
    enum Model : int { kModern, kBritish, kAmerican, kFlat };

    ToneStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;

    // Pot rotation for a knob value (0..2), as the circuit model sees it.
    [[nodiscard]] static double audio_taper(double rotation) noexcept;
    // Mid wiper position m for a mid knob value (0..2).
    [[nodiscard]] static double mid_position(double knob) noexcept;
    [[nodiscard]] static const dsp::ToneStackCircuit* circuit_for(int model) noexcept;
    // Gain applied after the passive stack of `model` (1 for the others).
    [[nodiscard]] static double makeup_gain(int model) noexcept RIGD_RT;

private:
    struct Bank {
        int model = kModern;
        std::array<double, 4> b{}; // third-order section (classic models)
        std::array<double, 3> a{}; // a1..a3
        std::array<double, 3> xs{}; // direct form I state: x[n-1..n-3]
        std::array<double, 3> ys{}; // y[n-1..n-3]
        std::array<dsp::BiquadDf1D, 3> band{}; // modern
        dsp::BiquadDf1D presence;
        double makeup = 1.0;
        void design(double bass, double mid, double treble, double presence_knob, double sample_rate_hz) noexcept RIGD_RT;
        void reset() noexcept RIGD_RT;
        void process(std::span<float> block) noexcept RIGD_RT;
    };

    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    void run(std::span<float> block) noexcept;

    double sample_rate_hz_ = 48000.0;
    dsp::ControlRate control_;
    std::array<dsp::LinearSmoother, 4> knob_{}; // bass, mid, treble, presence
    Bank current_;
    Bank previous_;
    float fade_ = 1.0f;
    float fade_step_ = 1.0f;
    int want_model_ = kModern;
};

} // namespace rigd::core::stages
