#include "core/nam/lstm_model.hpp"

#include "core/nam/nam_load_error.hpp"
#include "core/nam/simd.hpp"

#include <algorithm>

namespace rigd::core::nam {

namespace {
using simd::kLanes;
using simd::VecF;
constexpr int kMaxVecs = 512 * 4 / kLanes; // hidden sizes up to 512
} // namespace

LstmModel::LstmModel(const LstmConfig& config, const std::vector<float>& weights, double sample_rate_hz,
                     NamMetadata metadata, const NamBuildOptions& options)
    : NamModel(sample_rate_hz, std::move(metadata)), layers_(config.num_layers), hidden_(config.hidden_size) {
    if (config.input_size != 1 || hidden_ < 1 || hidden_ > 512 || layers_ < 1) {
        throw NamLoadError("(LSTM)", "unsupported LSTM sizes");
    }
    padded_ = (hidden_ + kLanes - 1) / kLanes * kLanes;
    const std::size_t h = static_cast<std::size_t>(hidden_);
    const std::size_t p = static_cast<std::size_t>(padded_);
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
    state_.assign(static_cast<std::size_t>(layers_) * 2 * p, 0.0f);
    b_.assign(static_cast<std::size_t>(layers_) * gates, 0.0f);
    for (int l = 0; l < layers_; ++l) {
        const std::size_t in = l == 0 ? 1 : h;
        const std::size_t cols = in + h;
        w_offset_.push_back(w_.size());
        w_.resize(w_.size() + cols * gates, 0.0f);
        float* w = w_.data() + w_offset_.back();
        const float* src = take(4 * h * cols); // rows i, f, g, o blocks; columns [x, h]
        for (std::size_t gate = 0; gate < 4; ++gate) {
            // sigmoid gates get x/2 (exact in binary floating point).
            const float scale = gate == 2 ? 1.0f : 0.5f;
            for (std::size_t r = 0; r < h; ++r) {
                for (std::size_t c = 0; c < cols; ++c) {
                    w[c * gates + gate * p + r] = scale * src[(gate * h + r) * cols + c];
                }
            }
        }
        const float* bias = take(4 * h);
        float* b = b_.data() + static_cast<std::size_t>(l) * gates;
        for (std::size_t gate = 0; gate < 4; ++gate) {
            const float scale = gate == 2 ? 1.0f : 0.5f;
            for (std::size_t r = 0; r < h; ++r) {
                b[gate * p + r] = scale * bias[gate * h + r];
            }
        }
        const float* h0 = take(h);
        const float* c0 = take(h);
        float* s = state_.data() + static_cast<std::size_t>(l) * 2 * p;
        std::copy(h0, h0 + h, s);
        std::copy(c0, c0 + h, s + p);
    }
    head_w_.assign(p, 0.0f);
    const float* hw = take(h);
    std::copy(hw, hw + h, head_w_.begin());
    head_b_ = *take(1);
    if (pos != weights.size()) {
        throw NamLoadError("(LSTM)", "more weights than the config uses");
    }
    initial_state_ = state_;
    reset_state_ = state_;

    runner_ = &LstmModel::run<0, 0>;
    bool fixed = false;
    if (options.allow_fixed_kernels && (layers_ == 1 || layers_ == 2)) {
        fixed = true;
        const int key = hidden_ * 10 + layers_;
        switch (key) {
        case 81: runner_ = &LstmModel::run<8, 1>; break;
        case 82: runner_ = &LstmModel::run<8, 2>; break;
        case 121: runner_ = &LstmModel::run<12, 1>; break;
        case 122: runner_ = &LstmModel::run<12, 2>; break;
        case 161: runner_ = &LstmModel::run<16, 1>; break;
        case 162: runner_ = &LstmModel::run<16, 2>; break;
        default: fixed = false; break;
        }
    }
    kernel_name_ = "lstm " + std::to_string(layers_) + "x" + std::to_string(hidden_) +
                   (fixed ? " fixed" : " dynamic");
}

std::size_t LstmModel::prewarm_samples() const noexcept {
    // The reference: half a second at the model's rate.
    return static_cast<std::size_t>(0.5 * sample_rate_hz());
}

void LstmModel::prepare(std::size_t max_block) {
    max_block_ = std::max<std::size_t>(1, max_block);
    state_ = initial_state_;
    reset_state_ = initial_state_;
}

void LstmModel::save_reset_state() { reset_state_ = state_; }

void LstmModel::reset() noexcept { std::copy(reset_state_.begin(), reset_state_.end(), state_.begin()); }

void LstmModel::process_buffer(const float* in, float* out, std::size_t n) noexcept {
    (this->*runner_)(in, out, n);
}

template <int kH, int kLayers>
void LstmModel::run(const float* in, float* out, std::size_t n) noexcept {
    const int h = kH > 0 ? kH : hidden_;
    const int layers = kLayers > 0 ? kLayers : layers_;
    constexpr int kP = kH > 0 ? (kH + kLanes - 1) / kLanes * kLanes : 0;
    const int p = kP > 0 ? kP : padded_;
    const int nv = p / kLanes; // vectors per gate block
    const int gates = 4 * p;
    constexpr int kGateVecs = kP > 0 ? 4 * kP / kLanes : kMaxVecs;
    // Fixed sizes keep c in registers across samples; four partial sums per
    // gate vector keep the FMA chains short (the recurrence is latency-bound).
    constexpr int kPartials = kH > 0 ? 4 : 2;
    const int gv = 4 * nv;
    float* state = state_.data();
    constexpr int kCellLayers = kLayers > 0 ? kLayers : 1;
    constexpr int kCellVecs = kP > 0 ? kP / kLanes : 1;
    VecF cell[kCellLayers][kCellVecs];
    VecF hidden[kCellLayers][kCellVecs];
    if constexpr (kH > 0) {
        for (int l = 0; l < kLayers; ++l) {
            for (int q = 0; q < kCellVecs; ++q) {
                hidden[l][q] = simd::load(state + 2 * l * p + q * kLanes);
                cell[l][q] = simd::load(state + (2 * l + 1) * p + q * kLanes);
            }
        }
    }

    for (std::size_t t = 0; t < n; ++t) {
        float x = in[t];
        const float* layer_in = &x;
        int in_count = 1;
        for (int l = 0; l < layers; ++l) {
            const float* w = w_.data() + w_offset_[static_cast<std::size_t>(l)];
            const float* b = b_.data() + static_cast<std::size_t>(l) * static_cast<std::size_t>(gates);
            float* hs = state + static_cast<std::ptrdiff_t>(l) * 2 * p;
            float* cs = hs + p;
            VecF acc[kPartials][kGateVecs];
            for (int q = 0; q < gv; ++q) {
                acc[0][q] = simd::load(b + q * kLanes);
                for (int k = 1; k < kPartials; ++k) {
                    acc[k][q] = VecF{};
                }
            }
            // Columns: the layer input, then the recurrent h. Input columns
            // go to partial 0; h columns round-robin over all partials
            // (unrolled so the accumulators stay in registers).
            if constexpr (kH > 0) {
                // h stays in registers: lanes are broadcast with shuffles
                // (a scalar reload of a just-stored vector stalls on
                // store-to-load forwarding).
                if (l == 0) {
                    const VecF uj = simd::splat(x);
                    for (int q = 0; q < gv; ++q) {
                        acc[0][q] += uj * simd::load(w + q * kLanes);
                    }
                } else {
#pragma GCC unroll 32
                    for (int j = 0; j < kH; ++j) {
                        const VecF uj = simd::lane(hidden[l - 1][j / kLanes], j % kLanes);
                        for (int q = 0; q < gv; ++q) {
                            acc[j % kPartials][q] += uj * simd::load(w + j * gates + q * kLanes);
                        }
                    }
                }
                const float* wh = w + in_count * gates;
#pragma GCC unroll 32
                for (int j = 0; j < kH; ++j) {
                    const VecF uj = simd::lane(hidden[l][j / kLanes], j % kLanes);
                    for (int q = 0; q < gv; ++q) {
                        acc[j % kPartials][q] += uj * simd::load(wh + j * gates + q * kLanes);
                    }
                }
            } else {
                for (int j = 0; j < in_count; ++j) {
                    const VecF uj = simd::splat(layer_in[j]);
                    for (int q = 0; q < gv; ++q) {
                        acc[0][q] += uj * simd::load(w + j * gates + q * kLanes);
                    }
                }
                const float* wh = w + in_count * gates;
                int j = 0;
                for (; j + kPartials <= h; j += kPartials) {
                    for (int k = 0; k < kPartials; ++k) {
                        const VecF uj = simd::splat(hs[j + k]);
                        for (int q = 0; q < gv; ++q) {
                            acc[k][q] += uj * simd::load(wh + (j + k) * gates + q * kLanes);
                        }
                    }
                }
                for (; j < h; ++j) {
                    const VecF uj = simd::splat(hs[j]);
                    for (int q = 0; q < gv; ++q) {
                        acc[1][q] += uj * simd::load(wh + j * gates + q * kLanes);
                    }
                }
            }
            for (int q = 0; q < gv; ++q) {
                VecF sum = acc[0][q];
                if constexpr (kPartials == 4) {
                    sum = (acc[0][q] + acc[1][q]) + (acc[2][q] + acc[3][q]);
                } else {
                    sum = acc[0][q] + acc[1][q];
                }
                acc[0][q] = simd::tanh(sum);
            }
            // Blocks: [0, nv) i, [nv, 2nv) f, [2nv, 3nv) g, [3nv, 4nv) o.
            for (int q = 0; q < nv; ++q) {
                const VecF ig = 0.5f + 0.5f * acc[0][q];
                const VecF fg = 0.5f + 0.5f * acc[0][nv + q];
                const VecF gg = acc[0][2 * nv + q];
                const VecF og = 0.5f + 0.5f * acc[0][3 * nv + q];
                if constexpr (kH > 0) {
                    const VecF c = fg * cell[l][q] + ig * gg;
                    cell[l][q] = c;
                    hidden[l][q] = og * simd::tanh(c);
                } else {
                    const VecF c = fg * simd::load(cs + q * kLanes) + ig * gg;
                    simd::store(cs + q * kLanes, c);
                    simd::store(hs + q * kLanes, og * simd::tanh(c));
                }
            }
            layer_in = hs;
            in_count = h;
        }
        float y = head_b_;
        if constexpr (kH > 0) {
            VecF prod = VecF{};
            for (int q = 0; q < kCellVecs; ++q) {
                prod += simd::load(head_w_.data() + q * kLanes) * hidden[kLayers - 1][q];
            }
            for (int i = 0; i < kLanes; ++i) {
                y += prod[i];
            }
        } else {
            const float* hl = state + static_cast<std::ptrdiff_t>(layers - 1) * 2 * p;
            for (int i = 0; i < h; ++i) {
                y += head_w_[static_cast<std::size_t>(i)] * hl[i];
            }
        }
        out[t] = y;
    }
    if constexpr (kH > 0) {
        for (int l = 0; l < kLayers; ++l) {
            for (int q = 0; q < kCellVecs; ++q) {
                simd::store(state + 2 * l * p + q * kLanes, hidden[l][q]);
                simd::store(state + (2 * l + 1) * p + q * kLanes, cell[l][q]);
            }
        }
    }
}

} // namespace rigd::core::nam
