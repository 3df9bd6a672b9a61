#pragma once

#include "core/nam/nam_file.hpp"
#include "core/nam/nam_model.hpp"
#include "core/rt.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace rigd::core::nam {

// WaveNet with the whole format 0.6/0.7 feature set (bottleneck, per-layer
// kernel sizes and activations, gating none/gated/blended, grouped convs,
// head1x1, layer1x1, FiLMs, causal conv heads, the post-stack head and a
// condition_dsp). Rows are channels, frames contiguous: every operation is a
// loop over the block's frames (vectorised), one output row at a time, with
// the reference's summation order (taps outer, input channels inner, bias
// last). Grouped weights are stored dense with zero blocks, which the loops
// skip.
class GeneralWaveNetModel final : public NamModel {
public:
    GeneralWaveNetModel(const WaveNetConfig& config, const std::vector<float>& weights, double sample_rate_hz,
                        NamMetadata metadata, const NamBuildOptions& options);
    ~GeneralWaveNetModel() override;

    void prepare(std::size_t max_block) override;
    void reset() noexcept RIGD_RT override;
    void process_buffer(const float* in, float* out, std::size_t n) noexcept RIGD_RT override;
    [[nodiscard]] std::size_t prewarm_samples() const noexcept override;
    [[nodiscard]] std::string_view kernel_name() const noexcept override { return kernel_name_; }

    // Runs up to chunk() frames and leaves every output channel in
    // output_rows() (output_stride() floats apart): the condition_dsp use.
    void run_chunk(const float* in, std::size_t n) noexcept RIGD_RT;
    [[nodiscard]] const float* output_rows() const noexcept { return output_; }
    [[nodiscard]] std::size_t output_stride() const noexcept { return stride_; }
    [[nodiscard]] int output_channels() const noexcept { return out_channels_; }
    [[nodiscard]] std::size_t chunk() const noexcept { return chunk_; }

    struct Impl;

private:
    void save_reset_state() override;

    std::unique_ptr<Impl> impl_;
    std::string kernel_name_;
    std::size_t chunk_ = 0;
    std::size_t stride_ = 0;
    int out_channels_ = 1;
    const float* output_ = nullptr;
};

} // namespace rigd::core::nam
