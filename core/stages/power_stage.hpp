#pragma once

#include "core/dsp/dc_blocker.hpp"
#include "core/dsp/envelope_follower.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/dsp/oversampler.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <array>

namespace rigd::core::stages {

// `power`: push-pull power amp with supply sag.
//   d = x (1 + 3 drive)
//   env = peak follower on d (10 ms attack, sag_release_ms release)
//   c = max(1 - 0.5 sag env, 0.1)           the sagging ceiling
//   class a:  c tanh(d / c), negative half tanh(0.8 d / c) (asymmetric)
//   class ab/b: crossover dead zone d^3 / (dz^2 + d^2), dz = 0.1 / 0.25,
//               then c tanh(. / c) (symmetric)
// The follower and ceiling run at the device rate (they are slow); the
// curves run oversampled; a 10 Hz DC blocker follows at the device rate.
class PowerStage final : public Stage {
public:
    static constexpr std::string_view kType = "power";
    static constexpr std::size_t kChunk = 128;
    static constexpr double kGlideMs = 20.0;
    static constexpr double kFadeMs = 10.0;
    static constexpr double kSagAttackMs = 10.0;
    static constexpr double kDcHz = 10.0;
    enum Param : std::size_t { kDrive, kClass, kSag, kSagRelease };
    enum Class : int { kClassA, kClassAB, kClassB };

    PowerStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;
    [[nodiscard]] int latency_samples() const noexcept override { return os_.latency_samples(); }

    // The output curve for one driven sample and ceiling (exact tanh).
    [[nodiscard]] static double reference_curve(int amp_class, double driven, double ceiling) noexcept;

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    void shape(std::span<float> hi, std::size_t n) noexcept;

    double sample_rate_hz_ = 48000.0;
    dsp::Oversampler os_;
    dsp::EnvelopeFollower sag_env_;
    dsp::DcBlocker dc_;
    dsp::LinearSmoother drive_;
    dsp::LinearSmoother sag_;
    std::array<float, kChunk> ceiling_{};
    std::array<float, kChunk> env_buf_{};
    int amp_class_ = kClassAB;
    int previous_class_ = kClassAB;
    int want_class_ = kClassAB;
    float fade_ = 1.0f;
    float fade_step_ = 1.0f;
    bool dirty_ = true;
};

} // namespace rigd::core::stages
