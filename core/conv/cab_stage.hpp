#pragma once

#include "core/conv/cut_filter.hpp"
#include "core/conv/impulse_response.hpp"
#include "core/conv/partitioned_convolver.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <optional>
#include <string>
#include <vector>

namespace rigd::core::conv {

// `cab`: a cabinet impulse response, convolved with zero added latency.
//
//   y = gain * ((1 - mix) * x + mix * norm * cuts(ir * x))
//
// norm is the IR's energy normalisation gain when `normalize` is on (1 when
// off), cuts the optional low/high cut filters. Without an IR the wet path is
// the input itself. The IR is loaded, resampled, trimmed to `max_ms` and
// transformed in set_text / prepare (off the RT thread); a new IR at runtime
// comes as a new stage that the chain crossfades to.
class CabStage final : public Stage {
public:
    static constexpr std::string_view kType = "cab";
    enum Param : std::size_t { kGainDb, kMix, kNormalize, kMaxMs, kLowCutHz, kHighCutHz, kParamCount };
    static constexpr std::size_t kIrText = 0;

    CabStage();

    [[nodiscard]] std::string_view type() const noexcept override { return kType; }
    [[nodiscard]] std::span<const ParamInfo> params() const noexcept RIGD_RT override;
    [[nodiscard]] std::span<const TextParamInfo> text_params() const noexcept override;

    void prepare(const ProcessSpec& spec) override;
    void reset() noexcept RIGD_RT override;
    float process_sample(float x) noexcept RIGD_RT override;
    void process_block(std::span<float> block) noexcept RIGD_RT override;

    // Loads `resolved` (a WAV file) as the IR, named `value` in presets.
    // Throws IrLoadError (naming the file) and keeps the previous IR.
    void set_text(std::size_t index, std::string_view value, const std::filesystem::path& resolved) override;
    [[nodiscard]] std::string text(std::size_t index) const override;

    // Plain API (tests, offline tools): use `ir` as the response, as if it
    // had been loaded from a file.
    void set_impulse_response(ImpulseResponse ir, std::string name = {});

    [[nodiscard]] bool has_ir() const noexcept { return ir_length_ > 0; }
    // Taps of the response in use (after resampling and trimming).
    [[nodiscard]] std::size_t ir_length() const noexcept { return ir_length_; }
    [[nodiscard]] float normalization_gain() const noexcept { return norm_gain_; }

private:
    void on_param_changed(std::size_t index, float value) noexcept RIGD_RT override;
    // Resample/trim `source` for the prepared rate and build a convolver;
    // commits only when everything succeeded.
    void build(const ImpulseResponse& source);
    [[nodiscard]] float mix_sample(float x, float wet) noexcept;

    std::optional<ImpulseResponse> source_; // as loaded, at the file's rate
    std::string ir_name_;
    PartitionedConvolver convolver_;
    std::size_t ir_length_ = 0;
    float norm_gain_ = 1.0f;
    double built_rate_hz_ = 0.0;
    float built_max_ms_ = -1.0f;

    ProcessSpec spec_{};
    bool prepared_ = false;
    std::vector<float> dry_;
    dsp::LinearSmoother gain_;
    dsp::LinearSmoother mix_;
    dsp::LinearSmoother norm_;
    CutFilter low_cut_{CutFilter::Kind::low_cut};
    CutFilter high_cut_{CutFilter::Kind::high_cut};
};

} // namespace rigd::core::conv
