#pragma once

#include "core/dsp/linear_smoother.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

namespace rigd::core::stages {

// `level`: a plain gain in dB, ramped so that moving it never clicks.
class LevelStage final : public Stage {
public:
    static constexpr std::string_view kType = "level";

    LevelStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;

    dsp::LinearSmoother gain_;
};

} // namespace rigd::core::stages
