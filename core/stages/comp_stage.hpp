#pragma once

#include "core/dsp/envelope_follower.hpp"
#include "core/dsp/fast_math.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <array>

namespace rigd::core::stages {

// `comp`: feed-forward peak compressor. A peak follower on |x| (attack_ms
// rising, release_ms falling, 1 - 1/e times) feeds a static curve in dB:
// above threshold the level rises 1/ratio dB per dB, with an optional soft
// knee of knee_db centred on the threshold (quadratic, as in Giannoulis,
// Massberg & Reiss 2012). Threshold, ratio, knee and makeup glide.
class CompStage final : public Stage {
public:
    static constexpr std::string_view kType = "comp";
    static constexpr std::size_t kChunk = 128;
    enum Param : std::size_t { kThreshold, kRatio, kAttack, kRelease, kMakeup, kKnee };

    CompStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;

    // The static curve: gain change in dB for a detector level in dB.
    // Branch-free so the block loop vectorises: the knee term is always
    // computed (inf/NaN when knee_db = 0, then never selected).
    [[nodiscard]] static float gain_db(float level_db, float threshold_db, float slope, float knee_db) noexcept {
        const float over = level_db - threshold_db;
        const float k = over + 0.5f * knee_db;
        const float soft = slope * k * k / (2.0f * knee_db);
        const float hard = slope * over;
        const float twice = 2.0f * over;
        return dsp::select_bits(twice <= -knee_db, 0.0f, dsp::select_bits(twice >= knee_db, hard, soft));
    }

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    void run(std::span<float> x) noexcept;

    double sample_rate_hz_ = 48000.0;
    dsp::EnvelopeFollower env_;
    dsp::LinearSmoother threshold_db_;
    dsp::LinearSmoother slope_; // 1/ratio - 1
    dsp::LinearSmoother knee_db_;
    dsp::LinearSmoother makeup_db_;
    bool dirty_ = true;
    std::array<float, kChunk> env_buf_{}; // detector output of the current chunk
};

} // namespace rigd::core::stages
