#pragma once

#include "core/nam/nam_file.hpp"
#include "core/nam/nam_model.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace rigd::core::nam {

// Stacked LSTM + linear head. The recurrence is per sample by nature; each
// step is a (4H x (I+H)) matrix-vector product in registers plus one vector
// tanh over all gates (sigmoid(x) = (1 + tanh(x/2)) / 2 with the 1/2 folded
// into the i, f, o weights at load time). Gate blocks are padded to the SIMD
// width; padded lanes stay exactly zero. Hidden sizes 8/12/16 with 1 or 2
// layers use compile-time sizes; the general path gives the same output.
class LstmModel final : public NamModel {
public:
    LstmModel(const LstmConfig& config, const std::vector<float>& weights, double sample_rate_hz,
              NamMetadata metadata, const NamBuildOptions& options);

    void prepare(std::size_t max_block) override;
    void reset() noexcept override;
    void process_buffer(const float* in, float* out, std::size_t n) noexcept override;
    [[nodiscard]] std::size_t prewarm_samples() const noexcept override;
    [[nodiscard]] std::string_view kernel_name() const noexcept override { return kernel_name_; }

private:
    using Runner = void (LstmModel::*)(const float*, float*, std::size_t) noexcept;
    template <int kH, int kLayers>
    void run(const float* in, float* out, std::size_t n) noexcept;
    void save_reset_state() override;

    int layers_ = 1;
    int hidden_ = 1;
    int padded_ = 0; // hidden size rounded up to the SIMD width
    // Per layer, column-major: column j holds the 4 padded gate blocks
    // (i, f, g, o) for input j; inputs are [x (I columns), h (H columns)].
    std::vector<float> w_;
    std::vector<std::size_t> w_offset_;
    std::vector<float> b_;      // per layer, 4 * padded_
    std::vector<float> state_;  // per layer h then c, padded_ each
    std::vector<float> initial_state_;
    std::vector<float> reset_state_;
    std::vector<float> head_w_; // padded_
    float head_b_ = 0.0f;
    Runner runner_ = nullptr;
    std::string kernel_name_;
};

} // namespace rigd::core::nam
