#pragma once

#include "core/dsp/envelope_follower.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <array>
#include <cstdint>

namespace rigd::core::stages {

// `gate`: noise gate with a finite floor. A fast peak detector (0.1 ms
// attack, 10 ms release) opens the gate when it exceeds the threshold; the
// gate stays open for hold_ms after the level drops, then closes. The
// open/closed state moves with attack_ms rising and release_ms falling
// (one-pole, 1 - 1/e times), and the gain is 1/ratio + (1 - 1/ratio) state,
// exactly 1 once state >= 0.999: a closed gate attenuates by 20 log10(ratio).
class GateStage final : public Stage {
public:
    static constexpr std::string_view kType = "gate";
    static constexpr double kDetectorAttackMs = 0.1;
    static constexpr double kDetectorReleaseMs = 10.0;
    static constexpr std::size_t kChunk = 128;
    enum Param : std::size_t { kThreshold, kRatio, kAttack, kHold, kRelease };

    GateStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    void update_coeffs() noexcept;
    void run(std::span<float> x) noexcept;

    double sample_rate_hz_ = 48000.0;
    dsp::EnvelopeFollower detector_;
    dsp::LinearSmoother floor_; // 1 / ratio
    float threshold_ = 0.01f;
    float attack_ = 0.0f;
    float release_ = 0.0f;
    std::int32_t hold_samples_ = 0;
    std::int32_t hold_left_ = 0;
    float state_ = 0.0f;
    bool dirty_ = true;
    std::array<float, kChunk> env_{}; // detector output of the current chunk
};

} // namespace rigd::core::stages
