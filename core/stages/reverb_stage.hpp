#pragma once

#include "core/dsp/linear_smoother.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <array>
#include <vector>

namespace rigd::core::stages {

// `reverb`: mono Freeverb (Schroeder-Moorer: 8 damped feedback combs in
// parallel, 4 allpasses in series; Jezar's tunings, scaled from 44.1 kHz).
// room sets the comb feedback 0.7 + 0.28 room, damping the one-pole in each
// comb loop (0.4 damping); out = (1 - mix) x + mix wet. All three glide.
class ReverbStage final : public Stage {
public:
    static constexpr std::string_view kType = "reverb";
    static constexpr std::size_t kCombs = 8;
    static constexpr std::size_t kAllpasses = 4;
    static constexpr double kGlideMs = 20.0;
    enum Param : std::size_t { kRoom, kDamping, kMix };

    ReverbStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;

private:
    struct Line {
        std::vector<float> buffer;
        std::size_t pos = 0;
        float store = 0.0f; // comb damping state
    };
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    template <bool kFull>
    float tick(float x) noexcept RIGD_RT;

    std::array<Line, kCombs> comb_{};
    std::array<Line, kAllpasses> allpass_{};
    std::size_t longest_ = 0; // longest line
    std::size_t written_ = 0; // samples since reset(), saturating at longest_
    dsp::LinearSmoother feedback_;
    dsp::LinearSmoother damp_;
    dsp::LinearSmoother mix_;
};

} // namespace rigd::core::stages
