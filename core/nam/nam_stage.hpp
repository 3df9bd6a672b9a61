#pragma once

#include "core/dsp/linear_smoother.hpp"
#include "core/nam/model_rate_adapter.hpp"
#include "core/nam/nam_file.hpp"
#include "core/nam/nam_model.hpp"
#include "core/stage.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rigd::core::nam {

// `nam`: a neural amp model (.nam: WaveNet, LSTM or SlimmableContainer) with
// input/output gain, dry/wet mix and optional loudness normalisation. `size`
// (0..1) picks the submodel of a SlimmableContainer or the width of a
// slimmable WaveNet: every submodel is prewarmed at load and a change
// crossfades on the audio thread without allocating. With no model the stage
// passes audio through. A model trained at another rate than the device runs
// at its own rate behind a resampler (latency_samples() reports the delay,
// status() the mismatch). Changing the model is done by the control layer
// building a new, prewarmed stage and replacing this one (the chain
// crossfades); set_text() is never called while the stage is processing.
class NamStage final : public Stage {
public:
    static constexpr std::string_view kType = "nam";
    static constexpr double kNormalizeTargetDb = -18.0;
    static constexpr double kRampMs = 20.0;

    enum Param : std::size_t { kInputGainDb, kOutputGainDb, kMix, kNormalize, kSize };

    NamStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept override;
    [[nodiscard]] std::span<const TextParamInfo> text_params() const noexcept override;

    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;
    [[nodiscard]] int latency_samples() const noexcept override;

    // Loads, builds and (if prepared) prewarms the model; on any error the
    // previous model stays. Throws NamLoadError.
    void set_text(std::size_t index, std::string_view value, const std::filesystem::path& resolved) override;
    [[nodiscard]] std::string text(std::size_t index) const override;

    // Off the RT thread: for the control layer, logs and OSC.
    [[nodiscard]] bool has_model() const noexcept { return model_ != nullptr; }
    [[nodiscard]] const NamMetadata* metadata() const noexcept;
    [[nodiscard]] std::optional<double> model_sample_rate_hz() const noexcept;
    [[nodiscard]] bool is_resampling() const noexcept { return adapter_.active(); }
    // One line: model, architecture, kernels, rates and any resampling.
    [[nodiscard]] std::string status() const;
    // Linear gain normalize applies for this model (1 without loudness).
    [[nodiscard]] float normalize_gain() const noexcept { return normalize_gain_; }

private:
    void on_param_changed(std::size_t index, float value) noexcept override;
    void update_output_target() noexcept;
    void prepare_model();

    std::unique_ptr<NamModel> model_;
    std::string model_name_;
    std::string architecture_;
    float normalize_gain_ = 1.0f;
    ModelRateAdapter adapter_;
    ProcessSpec spec_{};
    bool prepared_ = false;

    dsp::LinearSmoother input_gain_;
    dsp::LinearSmoother output_gain_;
    dsp::LinearSmoother mix_;
    std::vector<float> dry_;       // max_block_size
    std::vector<float> dry_delay_; // aligns dry with the resampled wet
    std::size_t dry_delay_pos_ = 0;
};

} // namespace rigd::core::nam
