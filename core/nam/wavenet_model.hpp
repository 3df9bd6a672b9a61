#pragma once

#include "core/nam/nam_file.hpp"
#include "core/nam/nam_model.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace rigd::core::nam {

// A1 WaveNet (layer arrays of dilated causal convolutions, Tanh or another
// pointwise activation, optional gating). Every convolution of a block is one
// tiled matrix product over the whole block (time is the vector axis); the
// activation, the skip sum and the residual are fused into the tile
// epilogues. Arrays of a common layout (channels 16/12/8/6/4/2, kernel 3,
// Tanh, not gated) run kernels with compile-time sizes; everything else runs
// the same code with runtime sizes, giving the same output.
class WaveNetModel final : public NamModel {
public:
    WaveNetModel(const WaveNetConfig& config, const std::vector<float>& weights, double sample_rate_hz,
                 NamMetadata metadata, const NamBuildOptions& options);

    void prepare(std::size_t max_block) override;
    void reset() noexcept override;
    void process_buffer(const float* in, float* out, std::size_t n) noexcept override;
    [[nodiscard]] std::size_t prewarm_samples() const noexcept override;
    [[nodiscard]] std::string_view kernel_name() const noexcept override { return kernel_name_; }

private:
    struct Layer {
        int dilation = 1;
        std::size_t buffer = 0; // offset of row 0 in state_
        int history = 0;        // (K-1) * dilation frames kept before the block
        int stride = 0;         // floats per channel row
        int write = 0;          // frame index of the block's first frame
        std::vector<float> conv_w; // (g*C) x J row-major, J = K*C + 1: tap-major, then the condition
        std::vector<float> conv_b; // g*C
        std::vector<float> mix_w;  // C x C (layer 1x1)
        std::vector<float> mix_b;  // C
    };
    struct LayerArray;
    using ArrayRunner = void (WaveNetModel::*)(LayerArray&, int, const float*, int, float*, float*, bool) noexcept;
    struct LayerArray {
        WaveNetLayerArrayConfig config;
        std::vector<Layer> layers;
        std::vector<float> rechannel_w; // C x input_size
        std::vector<float> head_w;      // head_size x C
        std::vector<float> head_b;      // head_size (zeros when the file has none)
        ArrayRunner run = nullptr;
    };

    // One layer array over nvec vectors of frames: input rows -> layers ->
    // head (written to head_out); the last layer's output goes to array_out_
    // unless `last`.
    template <int kC, int kK>
    void run_array(LayerArray& array, int nvec, const float* input, int input_stride, float* skip,
                   float* head_out, bool last) noexcept;
    void process_chunk(const float* in, float* out, std::size_t n) noexcept;
    void save_reset_state() override;

    std::vector<LayerArray> arrays_;
    float head_scale_ = 1.0f;
    std::string kernel_name_;
    std::size_t chunk_ = 0;  // frames per internal chunk (<= max_block_)
    std::size_t scratch_stride_ = 0;

    std::vector<float> state_;       // every layer's input history + block
    std::vector<float> reset_state_; // state_ after prewarm
    std::vector<int> reset_writes_;
    std::vector<float> cond_;        // 1 x stride: the input (the condition)
    std::vector<float> act_;         // g*C x stride: pre-activation / activation
    std::vector<float> skip_;        // per array C x stride, stacked
    std::vector<std::size_t> skip_offset_;
    std::vector<float> array_out_;   // C x stride: last layer output -> next array
    std::vector<float> head_out_;    // 1 x stride
    std::vector<const float*> ptrs_; // per-product input rows
};

} // namespace rigd::core::nam
