#pragma once

#include "core/nam/nam_file.hpp"
#include "core/nam/nam_kernels.hpp"
#include "core/nam/nam_model.hpp"
#include "core/nam/stale_history.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace rigd::core::nam {

// A1 WaveNet (layer arrays of dilated causal convolutions, Tanh or another
// pointwise activation, optional gating). Every convolution of a block is one
// tiled matrix product over the whole block (time is the vector axis); the
// activation, the skip sum and the residual are fused into the tile
// epilogues (nam_kernels.cpp). Arrays of a common layout (channels
// 16/12/8/6/4/2, kernel 3, Tanh, not gated) run kernels with compile-time
// sizes; everything else runs the same code with runtime sizes, giving the
// same output.
//
// Each layer keeps its input rows with (K-1)*d frames of history in front of
// the block; every few chunks the history is copied back to the front of the
// row (a "rewind"), so every tap reads one contiguous window. reset() is
// O(layers): the prewarmed history is constant per row and is written into
// the taps' windows as they reach it (StaleHistory).
class WaveNetModel final : public NamModel {
public:
    WaveNetModel(const WaveNetConfig& config, const std::vector<float>& weights, double sample_rate_hz,
                 NamMetadata metadata, const NamBuildOptions& options);

    void prepare(std::size_t max_block) override;
    void reset() noexcept RIGD_RT override;
    void process_buffer(const float* in, float* out, std::size_t n) noexcept RIGD_RT override;
    [[nodiscard]] std::size_t prewarm_samples() const noexcept override;
    [[nodiscard]] std::string_view kernel_name() const noexcept override { return kernel_name_; }
    // reset() costs O(layers), the history filled lazily (tests).
    [[nodiscard]] bool lazy_reset() const noexcept { return lazy_reset_; }

private:
    struct LayerWeights {
        std::vector<float> conv_w; // (g*C) x (K*C + 1)
        std::vector<float> conv_b;
        std::vector<float> mix_w;
        std::vector<float> mix_b;
    };
    struct LayerArray {
        WaveNetLayerArrayConfig config;
        std::vector<LayerWeights> weights;
        std::vector<WaveNetLayerView> layers; // buffers set in prepare()
        std::vector<float> rechannel_w;
        std::vector<float> head_w;
        std::vector<float> head_b;
        std::vector<float> packed; // the kernel set's own weight layout, if it has one
        WaveNetArrayView view;
        WaveNetArrayKernel kernel = nullptr;
    };

    void process_chunk(const float* in, float* out, std::size_t n) noexcept;
    void save_reset_state() override;

    std::vector<LayerArray> arrays_;
    float head_scale_ = 1.0f;
    int lanes_ = 4;
    std::string kernel_name_;
    std::size_t chunk_ = 0; // frames per internal chunk (<= max_block_)

    std::vector<float> state_;       // every layer's input history + block
    std::vector<float> reset_state_; // state_ after prewarm, unless lazy_reset_
    std::vector<int> reset_writes_;
    // O(1) reset: the saved state is constant per row (see StaleHistory).
    bool lazy_reset_ = false;
    std::vector<StaleHistory> stale_;              // per layer, all arrays
    std::vector<std::vector<float>> stale_values_; // per layer: one value per row
    std::vector<float> cond_;        // the input (the condition), 1 row
    std::vector<float> act_;         // pre-activation / activation rows
    std::vector<float> skip_;        // per array C rows, stacked
    std::vector<std::size_t> skip_offset_;
    std::vector<float> array_out_;   // last layer output -> next array
    std::vector<float> head_out_;    // 1 row
    std::vector<const float*> ptrs_; // per-product input rows
    WaveNetScratch scratch_;
};

} // namespace rigd::core::nam
