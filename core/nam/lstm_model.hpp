#pragma once

#include "core/nam/nam_file.hpp"
#include "core/nam/nam_kernels.hpp"
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
// layers use compile-time sizes (nam_kernels.cpp); the general path gives the
// same output.
class LstmModel final : public NamModel {
public:
    LstmModel(const LstmConfig& config, const std::vector<float>& weights, double sample_rate_hz,
              NamMetadata metadata, const NamBuildOptions& options);

    void prepare(std::size_t max_block) override;
    void reset() noexcept RIGD_RT override;
    void process_buffer(const float* in, float* out, std::size_t n) noexcept RIGD_RT override;
    [[nodiscard]] std::size_t prewarm_samples() const noexcept override;
    [[nodiscard]] std::string_view kernel_name() const noexcept override { return kernel_name_; }

private:
    void save_reset_state() override;

    std::vector<float> w_;
    std::vector<std::size_t> w_offset_;
    std::vector<float> b_;
    std::vector<float> state_; // per layer h then c
    std::vector<float> initial_state_;
    std::vector<float> reset_state_;
    std::vector<float> head_w_;
    LstmView view_;
    LstmKernel kernel_ = nullptr;
    std::string kernel_name_;
};

} // namespace rigd::core::nam
