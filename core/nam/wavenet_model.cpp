#include "core/nam/wavenet_model.hpp"

#include "core/nam/nam_load_error.hpp"
#include "core/nam/simd.hpp"

#include <algorithm>
#include <cstring>

namespace rigd::core::nam {

namespace {

using simd::kLanes;
using simd::VecF;

// Register tile of the products: kRowTile output channels x kVecTile vectors
// of frames (16 accumulators on AVX-512's 32 registers, 8 on 16-register ISAs).
constexpr int kRowTile = 4;
constexpr int kVecTile = kLanes >= 16 ? 4 : 2;
// Each layer buffer holds its history plus this many chunks before it is
// rewound (history copied back to the front).
constexpr int kRewindChunks = 4;
constexpr std::size_t kMaxChunk = 512;

[[nodiscard]] constexpr std::size_t round_up(std::size_t n, std::size_t m) noexcept { return (n + m - 1) / m * m; }

[[nodiscard]] inline VecF activate(VecF z, Activation act, float slope) noexcept {
    switch (act) {
    case Activation::tanh:
        return simd::tanh(z);
    case Activation::relu:
        return z > 0.0f ? z : simd::splat(0.0f);
    case Activation::hardtanh: {
        const VecF lo = z > -1.0f ? z : simd::splat(-1.0f);
        return lo < 1.0f ? lo : simd::splat(1.0f);
    }
    case Activation::sigmoid:
        return simd::sigmoid(z);
    case Activation::leaky_relu:
        return z > 0.0f ? z : z * slope;
    }
    return z;
}

// acc[r][v] = init(row, t) + sum_j w[row][j] * ptrs[j][t] for rows r0..r0+R-1
// and V vectors from frame t0, then epi(row, t, acc). kJ > 0 fixes the inner
// length at compile time; the summation order is the same either way, so the
// fixed and the general kernels give identical results.
template <int R, int V, int kJ, class Init, class Epi>
inline void tile(const float* w, int ldw, int r0, const float* const* ptrs, int j_count, int t0, Init& init,
                 Epi& epi) noexcept {
    VecF acc[R][V];
    for (int r = 0; r < R; ++r) {
        for (int v = 0; v < V; ++v) {
            acc[r][v] = init(r0 + r, t0 + v * kLanes);
        }
    }
    const int nj = kJ > 0 ? kJ : j_count;
    const float* wr = w + static_cast<std::ptrdiff_t>(r0) * ldw;
    for (int j = 0; j < nj; ++j) {
        const float* p = ptrs[j] + t0;
        VecF x[V];
        for (int v = 0; v < V; ++v) {
            x[v] = simd::load(p + v * kLanes);
        }
        for (int r = 0; r < R; ++r) {
            const VecF wv = simd::splat(wr[r * ldw + j]);
            for (int v = 0; v < V; ++v) {
                acc[r][v] += wv * x[v];
            }
        }
    }
    for (int r = 0; r < R; ++r) {
        for (int v = 0; v < V; ++v) {
            epi(r0 + r, t0 + v * kLanes, acc[r][v]);
        }
    }
}

template <int R, int kJ, class Init, class Epi>
inline void row_tile(const float* w, int ldw, int r0, const float* const* ptrs, int j_count, int nvec, Init& init,
                     Epi& epi) noexcept {
    int v = 0;
    for (; v + kVecTile <= nvec; v += kVecTile) {
        tile<R, kVecTile, kJ>(w, ldw, r0, ptrs, j_count, v * kLanes, init, epi);
    }
    for (; v < nvec; ++v) {
        tile<R, 1, kJ>(w, ldw, r0, ptrs, j_count, v * kLanes, init, epi);
    }
}

// out rows = W (rows x j_count, row-major, leading dimension j_count) times
// the input rows ptrs[j], over nvec vectors of frames.
template <int kJ, int kRows, class Init, class Epi>
inline void gemm(const float* w, int rows_rt, const float* const* ptrs, int j_count, int nvec, Init init,
                 Epi epi) noexcept {
    const int rows = kRows > 0 ? kRows : rows_rt;
    const int ldw = kJ > 0 ? kJ : j_count;
    int r0 = 0;
    for (; r0 + kRowTile <= rows; r0 += kRowTile) {
        row_tile<kRowTile, kJ>(w, ldw, r0, ptrs, j_count, nvec, init, epi);
    }
    if (rows - r0 >= 2) {
        row_tile<2, kJ>(w, ldw, r0, ptrs, j_count, nvec, init, epi);
        r0 += 2;
    }
    if (rows - r0 >= 1) {
        row_tile<1, kJ>(w, ldw, r0, ptrs, j_count, nvec, init, epi);
    }
}

} // namespace

WaveNetModel::WaveNetModel(const WaveNetConfig& config, const std::vector<float>& weights, double sample_rate_hz,
                           NamMetadata metadata, const NamBuildOptions& options)
    : NamModel(sample_rate_hz, std::move(metadata)) {
    std::size_t pos = 0;
    auto take = [&](std::size_t n) {
        if (pos + n > weights.size()) {
            throw NamLoadError("(WaveNet)", "too few weights for the config");
        }
        const float* p = weights.data() + pos;
        pos += n;
        return p;
    };
    kernel_name_ = "wavenet";
    for (const WaveNetLayerArrayConfig& c : config.layer_arrays) {
        LayerArray arr;
        arr.config = c;
        const std::size_t ch = static_cast<std::size_t>(c.channels);
        const std::size_t k = static_cast<std::size_t>(c.kernel_size);
        const std::size_t g = c.gated ? 2 : 1;
        const std::size_t in = static_cast<std::size_t>(c.input_size);
        const std::size_t j_count = k * ch + 1;
        const float* re = take(ch * in);
        arr.rechannel_w.assign(re, re + ch * in);
        for (const int d : c.dilations) {
            Layer layer;
            layer.dilation = d;
            layer.conv_w.assign(g * ch * j_count, 0.0f);
            const float* cw = take(g * ch * ch * k);
            for (std::size_t o = 0; o < g * ch; ++o) {
                for (std::size_t i = 0; i < ch; ++i) {
                    for (std::size_t tap = 0; tap < k; ++tap) {
                        layer.conv_w[o * j_count + tap * ch + i] = cw[(o * ch + i) * k + tap];
                    }
                }
            }
            const float* cb = take(g * ch);
            layer.conv_b.assign(cb, cb + g * ch);
            const float* mix = take(g * ch);
            for (std::size_t o = 0; o < g * ch; ++o) {
                layer.conv_w[o * j_count + k * ch] = mix[o];
            }
            const float* w1 = take(ch * ch);
            layer.mix_w.assign(w1, w1 + ch * ch);
            const float* b1 = take(ch);
            layer.mix_b.assign(b1, b1 + ch);
            arr.layers.push_back(std::move(layer));
        }
        const std::size_t hs = static_cast<std::size_t>(c.head_size);
        const float* hw = take(hs * ch);
        arr.head_w.assign(hw, hw + hs * ch);
        arr.head_b.assign(hs, 0.0f);
        if (c.head_bias) {
            const float* hb = take(hs);
            arr.head_b.assign(hb, hb + hs);
        }

        arr.run = &WaveNetModel::run_array<0, 0>;
        bool fixed = false;
        if (options.allow_fixed_kernels && !c.gated && c.kernel_size == 3 && c.activation == Activation::tanh) {
            fixed = true;
            switch (c.channels) {
            case 16: arr.run = &WaveNetModel::run_array<16, 3>; break;
            case 12: arr.run = &WaveNetModel::run_array<12, 3>; break;
            case 8: arr.run = &WaveNetModel::run_array<8, 3>; break;
            case 6: arr.run = &WaveNetModel::run_array<6, 3>; break;
            case 4: arr.run = &WaveNetModel::run_array<4, 3>; break;
            case 2: arr.run = &WaveNetModel::run_array<2, 3>; break;
            default: fixed = false; break;
            }
        }
        kernel_name_ += " " + std::to_string(c.channels) + (fixed ? "/fixed" : "/dynamic");
        arrays_.push_back(std::move(arr));
    }
    head_scale_ = *take(1);
    if (pos != weights.size()) {
        throw NamLoadError("(WaveNet)", "more weights than the config uses");
    }
}

std::size_t WaveNetModel::prewarm_samples() const noexcept {
    std::size_t n = 1;
    for (const LayerArray& a : arrays_) {
        for (const Layer& l : a.layers) {
            n += static_cast<std::size_t>(a.config.kernel_size - 1) * static_cast<std::size_t>(l.dilation);
        }
    }
    return n;
}

void WaveNetModel::prepare(std::size_t max_block) {
    max_block_ = std::max<std::size_t>(1, max_block);
    chunk_ = std::min(max_block_, kMaxChunk);
    const std::size_t padded = round_up(chunk_, kLanes);
    scratch_stride_ = round_up(padded, 16);
    std::size_t total = 0;
    std::size_t max_rows = 1;
    std::size_t max_j = 1;
    std::size_t skip_total = 0;
    skip_offset_.clear();
    for (LayerArray& a : arrays_) {
        const std::size_t ch = static_cast<std::size_t>(a.config.channels);
        for (Layer& l : a.layers) {
            l.history = (a.config.kernel_size - 1) * l.dilation;
            l.stride = static_cast<int>(round_up(static_cast<std::size_t>(l.history) + kRewindChunks * padded, 16));
            l.buffer = total;
            l.write = l.history;
            total += ch * static_cast<std::size_t>(l.stride);
        }
        max_rows = std::max(max_rows, ch * (a.config.gated ? 2 : 1));
        max_j = std::max({max_j, static_cast<std::size_t>(a.config.kernel_size) * ch + 1,
                          static_cast<std::size_t>(a.config.input_size)});
        skip_offset_.push_back(skip_total);
        skip_total += ch * scratch_stride_;
    }
    state_.assign(total, 0.0f);
    cond_.assign(scratch_stride_, 0.0f);
    act_.assign(max_rows * scratch_stride_, 0.0f);
    skip_.assign(skip_total, 0.0f);
    array_out_.assign(max_rows * scratch_stride_, 0.0f);
    head_out_.assign(scratch_stride_, 0.0f);
    ptrs_.assign(max_j, nullptr);
    save_reset_state();
}

void WaveNetModel::save_reset_state() {
    reset_state_ = state_;
    reset_writes_.clear();
    for (const LayerArray& a : arrays_) {
        for (const Layer& l : a.layers) {
            reset_writes_.push_back(l.write);
        }
    }
}

void WaveNetModel::reset() noexcept {
    if (reset_state_.size() != state_.size()) {
        return; // not prepared
    }
    std::copy(reset_state_.begin(), reset_state_.end(), state_.begin());
    std::size_t i = 0;
    for (LayerArray& a : arrays_) {
        for (Layer& l : a.layers) {
            l.write = reset_writes_[i++];
        }
    }
}

void WaveNetModel::process_buffer(const float* in, float* out, std::size_t n) noexcept {
    if (chunk_ == 0) {
        std::fill(out, out + n, 0.0f);
        return;
    }
    while (n > 0) {
        const std::size_t len = std::min(n, chunk_);
        process_chunk(in, out, len);
        in += len;
        out += len;
        n -= len;
    }
}

void WaveNetModel::process_chunk(const float* in, float* out, std::size_t n) noexcept {
    const std::size_t padded = round_up(n, kLanes);
    const int nvec = static_cast<int>(padded / kLanes);
    std::copy(in, in + n, cond_.begin());
    std::fill(cond_.begin() + static_cast<std::ptrdiff_t>(n), cond_.begin() + static_cast<std::ptrdiff_t>(padded),
              0.0f);
    // Frames past n are computed and discarded: the next chunk overwrites
    // them before anything reads them (test_nam_parity "block sizes").
    for (LayerArray& a : arrays_) {
        const std::size_t ch = static_cast<std::size_t>(a.config.channels);
        for (Layer& l : a.layers) {
            if (static_cast<std::size_t>(l.write) + padded > static_cast<std::size_t>(l.stride)) {
                float* base = state_.data() + l.buffer;
                for (std::size_t r = 0; r < ch; ++r) {
                    float* row = base + r * static_cast<std::size_t>(l.stride);
                    std::memmove(row, row + (l.write - l.history),
                                 static_cast<std::size_t>(l.history) * sizeof(float));
                }
                l.write = l.history;
            }
        }
    }
    std::fill(skip_.begin(),
              skip_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(arrays_[0].config.channels) *
                                                           scratch_stride_),
              0.0f);
    const float* input = cond_.data();
    for (std::size_t a = 0; a < arrays_.size(); ++a) {
        const bool last = a + 1 == arrays_.size();
        float* head_out = last ? head_out_.data() : skip_.data() + skip_offset_[a + 1];
        (this->*arrays_[a].run)(arrays_[a], nvec, input, static_cast<int>(scratch_stride_),
                                skip_.data() + skip_offset_[a], head_out, last);
        input = array_out_.data();
    }
    const float scale = head_scale_;
    for (std::size_t t = 0; t < n; ++t) {
        out[t] = scale * head_out_[t];
    }
    for (LayerArray& a : arrays_) {
        for (Layer& l : a.layers) {
            l.write += static_cast<int>(n);
        }
    }
}

template <int kC, int kK>
void WaveNetModel::run_array(LayerArray& array, int nvec, const float* input, int input_stride, float* skip,
                             float* head_out, bool last) noexcept {
    const WaveNetLayerArrayConfig& cfg = array.config;
    const int ch = kC > 0 ? kC : cfg.channels;
    const int k = kK > 0 ? kK : cfg.kernel_size;
    const int j_count = k * ch + 1;
    constexpr int kJ = kC > 0 ? kK * kC + 1 : 0;
    const int ss = static_cast<int>(scratch_stride_);
    const float* const* ptrs = ptrs_.data();
    const auto zero = [](int, int) noexcept { return VecF{}; };

    // Rechannel the array input into the first layer's buffer.
    {
        Layer& first = array.layers[0];
        float* x0 = state_.data() + first.buffer + first.write;
        for (int i = 0; i < cfg.input_size; ++i) {
            ptrs_[static_cast<std::size_t>(i)] = input + i * input_stride;
        }
        gemm<0, kC>(array.rechannel_w.data(), ch, ptrs, cfg.input_size, nvec, zero,
                    [&](int r, int t, VecF acc) noexcept { simd::store(x0 + r * first.stride + t, acc); });
    }

    float* act = act_.data();
    const std::size_t layer_count = array.layers.size();
    for (std::size_t li = 0; li < layer_count; ++li) {
        Layer& layer = array.layers[li];
        const float* x = state_.data() + layer.buffer + layer.write;
        // Tap 0 is the oldest input, (K-1)*d frames back.
        for (int tap = 0; tap < k; ++tap) {
            const int offset = (k - 1 - tap) * layer.dilation;
            for (int i = 0; i < ch; ++i) {
                ptrs_[static_cast<std::size_t>(tap * ch + i)] = x + i * layer.stride - offset;
            }
        }
        ptrs_[static_cast<std::size_t>(k * ch)] = cond_.data();
        const auto bias = [&](int r, int) noexcept { return simd::splat(layer.conv_b[static_cast<std::size_t>(r)]); };
        if (!cfg.gated) {
            const Activation fn = cfg.activation;
            const float slope = cfg.negative_slope;
            gemm<kJ, kC>(layer.conv_w.data(), ch, ptrs, j_count, nvec, bias, [&](int r, int t, VecF z) noexcept {
                const VecF a = kC > 0 ? simd::tanh(z) : activate(z, fn, slope);
                simd::store(act + r * ss + t, a);
                float* s = skip + r * ss + t;
                simd::store(s, simd::load(s) + a);
            });
        } else {
            gemm<0, 0>(layer.conv_w.data(), 2 * ch, ptrs, j_count, nvec, bias,
                       [&](int r, int t, VecF z) noexcept { simd::store(act + r * ss + t, z); });
            for (int r = 0; r < ch; ++r) {
                for (int v = 0; v < nvec; ++v) {
                    const int t = v * kLanes;
                    const VecF a = activate(simd::load(act + r * ss + t), cfg.activation, cfg.negative_slope) *
                                   simd::sigmoid(simd::load(act + (r + ch) * ss + t));
                    simd::store(act + r * ss + t, a);
                    float* s = skip + r * ss + t;
                    simd::store(s, simd::load(s) + a);
                }
            }
        }

        // Layer 1x1 plus the residual, into the next layer's buffer (or the
        // next array's input). The last array's last layer feeds nothing.
        float* dest = nullptr;
        int dest_stride = ss;
        if (li + 1 < layer_count) {
            Layer& next = array.layers[li + 1];
            dest = state_.data() + next.buffer + next.write;
            dest_stride = next.stride;
        } else if (!last) {
            dest = array_out_.data();
        } else {
            continue;
        }
        for (int i = 0; i < ch; ++i) {
            ptrs_[static_cast<std::size_t>(i)] = act + i * ss;
        }
        gemm<kC, kC>(
            layer.mix_w.data(), ch, ptrs, ch, nvec,
            [&](int r, int) noexcept { return simd::splat(layer.mix_b[static_cast<std::size_t>(r)]); },
            [&](int r, int t, VecF acc) noexcept {
                simd::store(dest + r * dest_stride + t, acc + simd::load(x + r * layer.stride + t));
            });
    }

    for (int i = 0; i < ch; ++i) {
        ptrs_[static_cast<std::size_t>(i)] = skip + i * ss;
    }
    gemm<kC, 0>(
        array.head_w.data(), cfg.head_size, ptrs, ch, nvec,
        [&](int r, int) noexcept { return simd::splat(array.head_b[static_cast<std::size_t>(r)]); },
        [&](int r, int t, VecF acc) noexcept { simd::store(head_out + r * ss + t, acc); });
}

} // namespace rigd::core::nam
