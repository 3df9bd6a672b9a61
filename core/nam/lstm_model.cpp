#include "core/nam/lstm_model.hpp"

#include "core/nam/nam_load_error.hpp"

#include <algorithm>

namespace rigd::core::nam {

LstmModel::LstmModel(const LstmConfig& config, const std::vector<float>& weights, double sample_rate_hz,
                     NamMetadata metadata, const NamBuildOptions& options)
    : NamModel(sample_rate_hz, std::move(metadata)) {
    if (config.input_size != 1 || config.hidden_size < 1 || config.hidden_size > 512 || config.num_layers < 1) {
        throw NamLoadError("(LSTM)", "unsupported LSTM sizes");
    }
    const NamKernelTable& kernels = kernel_table();
    const int lanes = kernels.lanes;
    view_.layers = config.num_layers;
    view_.hidden = config.hidden_size;
    view_.padded = (config.hidden_size + lanes - 1) / lanes * lanes;
    const std::size_t h = static_cast<std::size_t>(config.hidden_size);
    const std::size_t p = static_cast<std::size_t>(view_.padded);
    const std::size_t gates = 4 * p;
    std::size_t pos = 0;
    auto take = [&](std::size_t n) {
        if (pos + n > weights.size()) {
            throw NamLoadError("(LSTM)", "too few weights for the config");
        }
        const float* q = weights.data() + pos;
        pos += n;
        return q;
    };
    const std::size_t layers = static_cast<std::size_t>(config.num_layers);
    state_.assign(layers * 2 * p, 0.0f);
    b_.assign(layers * gates, 0.0f);
    for (std::size_t l = 0; l < layers; ++l) {
        const std::size_t in = l == 0 ? 1 : h;
        const std::size_t cols = in + h;
        w_offset_.push_back(w_.size());
        w_.resize(w_.size() + cols * gates, 0.0f);
        float* w = w_.data() + w_offset_.back();
        const float* src = take(4 * h * cols); // rows: gate blocks i, f, g, o; columns [x, h]
        for (std::size_t gate = 0; gate < 4; ++gate) {
            // sigmoid gates get z/2 (exact in binary floating point).
            const float scale = gate == 2 ? 1.0f : 0.5f;
            for (std::size_t r = 0; r < h; ++r) {
                for (std::size_t c = 0; c < cols; ++c) {
                    w[c * gates + gate * p + r] = scale * src[(gate * h + r) * cols + c];
                }
            }
        }
        const float* bias = take(4 * h);
        float* b = b_.data() + l * gates;
        for (std::size_t gate = 0; gate < 4; ++gate) {
            const float scale = gate == 2 ? 1.0f : 0.5f;
            for (std::size_t r = 0; r < h; ++r) {
                b[gate * p + r] = scale * bias[gate * h + r];
            }
        }
        const float* h0 = take(h);
        const float* c0 = take(h);
        float* s = state_.data() + l * 2 * p;
        std::copy(h0, h0 + h, s);
        std::copy(c0, c0 + h, s + p);
    }
    head_w_.assign(p, 0.0f);
    const float* hw = take(h);
    std::copy(hw, hw + h, head_w_.begin());
    view_.head_b = *take(1);
    if (pos != weights.size()) {
        throw NamLoadError("(LSTM)", "more weights than the config uses");
    }
    initial_state_ = state_;
    reset_state_ = state_;
    view_.w = w_.data();
    view_.w_offset = w_offset_.data();
    view_.b = b_.data();
    view_.state = state_.data();
    view_.head_w = head_w_.data();

    bool fixed = false;
    kernel_ = kernels.lstm(config.hidden_size, config.num_layers, options.allow_fixed_kernels, fixed);
    kernel_name_ = "lstm ";
    kernel_name_ += kernels.isa; // (+= : g++ 12 warns falsely on string + const char*)
    kernel_name_ += ' ';
    kernel_name_ += std::to_string(config.num_layers);
    kernel_name_ += 'x';
    kernel_name_ += std::to_string(config.hidden_size);
    kernel_name_ += fixed ? " fixed" : " dynamic";
}

std::size_t LstmModel::prewarm_samples() const noexcept {
    // The reference: half a second at the model's rate.
    return static_cast<std::size_t>(0.5 * sample_rate_hz());
}

void LstmModel::prepare(std::size_t max_block) {
    max_block_ = std::max<std::size_t>(1, max_block);
    std::copy(initial_state_.begin(), initial_state_.end(), state_.begin());
    reset_state_ = initial_state_;
}

void LstmModel::save_reset_state() { reset_state_ = state_; }

void LstmModel::reset() noexcept { std::copy(reset_state_.begin(), reset_state_.end(), state_.begin()); }

void LstmModel::process_buffer(const float* in, float* out, std::size_t n) noexcept { kernel_(view_, in, out, n); }

} // namespace rigd::core::nam
