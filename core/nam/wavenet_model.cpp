#include "core/nam/wavenet_model.hpp"

#include "core/nam/nam_load_error.hpp"

#include <algorithm>
#include <cstring>

namespace rigd::core::nam {

namespace {

// Each layer buffer holds its history plus this many chunks before it is
// rewound (history copied back to the front).
constexpr std::size_t kRewindChunks = 4;
constexpr std::size_t kMaxChunk = 512;
constexpr std::size_t kRowAlign = 16; // floats: keeps rows 64-byte aligned in offset

[[nodiscard]] constexpr std::size_t round_up(std::size_t n, std::size_t m) noexcept { return (n + m - 1) / m * m; }

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
    const NamKernelTable& kernels = kernel_table();
    lanes_ = kernels.lanes;
    kernel_name_ = "wavenet ";
    kernel_name_ += kernels.isa; // (+= : g++ 12 warns falsely on string + const char*)
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
            LayerWeights lw;
            lw.conv_w.assign(g * ch * j_count, 0.0f);
            // File order: [out][in][tap]; ours: row = out, column = tap * C + in.
            const float* cw = take(g * ch * ch * k);
            for (std::size_t o = 0; o < g * ch; ++o) {
                for (std::size_t i = 0; i < ch; ++i) {
                    for (std::size_t tap = 0; tap < k; ++tap) {
                        lw.conv_w[o * j_count + tap * ch + i] = cw[(o * ch + i) * k + tap];
                    }
                }
            }
            const float* cb = take(g * ch);
            lw.conv_b.assign(cb, cb + g * ch);
            const float* mix = take(g * ch); // input mixin: the condition column
            for (std::size_t o = 0; o < g * ch; ++o) {
                lw.conv_w[o * j_count + k * ch] = mix[o];
            }
            const float* w1 = take(ch * ch);
            lw.mix_w.assign(w1, w1 + ch * ch);
            const float* b1 = take(ch);
            lw.mix_b.assign(b1, b1 + ch);
            arr.weights.push_back(std::move(lw));
            WaveNetLayerView view;
            view.dilation = d;
            arr.layers.push_back(view);
        }
        const std::size_t hs = static_cast<std::size_t>(c.head_size);
        const float* hw = take(hs * ch);
        arr.head_w.assign(hw, hw + hs * ch);
        arr.head_b.assign(hs, 0.0f);
        if (c.head_bias) {
            const float* hb = take(hs);
            arr.head_b.assign(hb, hb + hs);
        }
        arrays_.push_back(std::move(arr));
    }
    head_scale_ = *take(1);
    if (pos != weights.size()) {
        throw NamLoadError("(WaveNet)", "more weights than the config uses");
    }
    // Views point into the vectors above: fill them once everything moved.
    for (LayerArray& arr : arrays_) {
        const WaveNetLayerArrayConfig& c = arr.config;
        for (std::size_t l = 0; l < arr.layers.size(); ++l) {
            arr.layers[l].conv_w = arr.weights[l].conv_w.data();
            arr.layers[l].conv_b = arr.weights[l].conv_b.data();
            arr.layers[l].mix_w = arr.weights[l].mix_w.data();
            arr.layers[l].mix_b = arr.weights[l].mix_b.data();
        }
        arr.view.input_size = c.input_size;
        arr.view.channels = c.channels;
        arr.view.kernel_size = c.kernel_size;
        arr.view.head_size = c.head_size;
        arr.view.gated = c.gated;
        arr.view.activation = c.activation;
        arr.view.negative_slope = c.negative_slope;
        arr.view.rechannel_w = arr.rechannel_w.data();
        arr.view.head_w = arr.head_w.data();
        arr.view.head_b = arr.head_b.data();
        arr.view.layers = arr.layers.data();
        arr.view.layer_count = static_cast<int>(arr.layers.size());
        if (kernels.wavenet_pack != nullptr) {
            arr.packed.assign(kernels.wavenet_pack(arr.view, nullptr), 0.0f);
            kernels.wavenet_pack(arr.view, arr.packed.data());
        }
        bool fixed = false;
        arr.kernel = kernels.wavenet(arr.view, options.allow_fixed_kernels, fixed);
        kernel_name_ += ' ';
        kernel_name_ += std::to_string(c.channels);
        kernel_name_ += fixed ? "/fixed" : "/dynamic";
    }
}

std::size_t WaveNetModel::prewarm_samples() const noexcept {
    std::size_t n = 1;
    for (const LayerArray& a : arrays_) {
        for (const WaveNetLayerView& l : a.layers) {
            n += static_cast<std::size_t>(a.config.kernel_size - 1) * static_cast<std::size_t>(l.dilation);
        }
    }
    return n;
}

void WaveNetModel::prepare(std::size_t max_block) {
    max_block_ = std::max<std::size_t>(1, max_block);
    chunk_ = std::min(max_block_, kMaxChunk);
    const std::size_t padded = round_up(chunk_, static_cast<std::size_t>(lanes_));
    const std::size_t stride = round_up(padded, kRowAlign);
    std::size_t total = 0;
    std::size_t max_rows = 1;
    std::size_t max_j = 1;
    std::size_t skip_total = 0;
    skip_offset_.clear();
    std::vector<std::size_t> offsets;
    for (LayerArray& a : arrays_) {
        const std::size_t ch = static_cast<std::size_t>(a.config.channels);
        for (WaveNetLayerView& l : a.layers) {
            l.history = (a.config.kernel_size - 1) * l.dilation;
            l.stride = static_cast<int>(round_up(static_cast<std::size_t>(l.history) + kRewindChunks * padded, kRowAlign));
            l.write = l.history;
            offsets.push_back(total);
            total += ch * static_cast<std::size_t>(l.stride);
        }
        max_rows = std::max(max_rows, ch * (a.config.gated ? 2 : 1));
        max_j = std::max({max_j, static_cast<std::size_t>(a.config.kernel_size) * ch + 1,
                          static_cast<std::size_t>(a.config.input_size)});
        skip_offset_.push_back(skip_total);
        skip_total += ch * stride;
    }
    state_.assign(total, 0.0f);
    stale_.clear();
    for (const LayerArray& a : arrays_) {
        for (const WaveNetLayerView& l : a.layers) {
            stale_.emplace_back();
            stale_.back().prepare(a.config.kernel_size, l.dilation);
        }
    }
    std::size_t i = 0;
    for (LayerArray& a : arrays_) {
        for (WaveNetLayerView& l : a.layers) {
            l.buffer = state_.data() + offsets[i++];
        }
    }
    cond_.assign(stride, 0.0f);
    act_.assign(max_rows * stride, 0.0f);
    skip_.assign(skip_total, 0.0f);
    array_out_.assign(max_rows * stride, 0.0f);
    head_out_.assign(stride, 0.0f);
    ptrs_.assign(max_j, nullptr);
    scratch_.cond = cond_.data();
    scratch_.act = act_.data();
    scratch_.array_out = array_out_.data();
    scratch_.ptrs = ptrs_.data();
    scratch_.stride = static_cast<int>(stride);
    save_reset_state();
}

void WaveNetModel::save_reset_state() {
    reset_writes_.clear();
    stale_values_.clear();
    lazy_reset_ = !state_.empty();
    for (const LayerArray& a : arrays_) {
        for (const WaveNetLayerView& l : a.layers) {
            reset_writes_.push_back(l.write);
            stale_values_.emplace_back();
            lazy_reset_ = lazy_reset_ && constant_rows(l.buffer, static_cast<std::size_t>(l.stride), a.config.channels,
                                                       static_cast<std::size_t>(l.write),
                                                       static_cast<std::size_t>(l.history), stale_values_.back());
        }
    }
    reset_state_.clear();
    if (!lazy_reset_) {
        reset_state_ = state_;
    }
    for (StaleHistory& s : stale_) {
        s.clear();
    }
}

void WaveNetModel::reset() noexcept {
    if (reset_writes_.empty()) {
        return; // not prepared
    }
    std::size_t i = 0;
    if (lazy_reset_) {
        for (LayerArray& a : arrays_) {
            for (WaveNetLayerView& l : a.layers) {
                l.write = l.history;
                stale_[i++].reset(l.write);
            }
        }
        return;
    }
    std::copy(reset_state_.begin(), reset_state_.end(), state_.begin());
    for (LayerArray& a : arrays_) {
        for (WaveNetLayerView& l : a.layers) {
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
    const std::size_t padded = round_up(n, static_cast<std::size_t>(lanes_));
    const int nvec = static_cast<int>(padded) / lanes_;
    const std::size_t stride = static_cast<std::size_t>(scratch_.stride);
    std::copy(in, in + n, cond_.begin());
    std::fill(cond_.begin() + static_cast<std::ptrdiff_t>(n), cond_.begin() + static_cast<std::ptrdiff_t>(padded),
              0.0f);
    // Frames past n are computed and discarded: the next chunk overwrites
    // them before anything reads them (test_nam_parity "block output equals
    // per-sample output").
    std::size_t li = 0;
    for (LayerArray& a : arrays_) {
        const std::size_t ch = static_cast<std::size_t>(a.config.channels);
        for (WaveNetLayerView& l : a.layers) {
            StaleHistory& stale = stale_[li];
            if (static_cast<std::size_t>(l.write) + padded > static_cast<std::size_t>(l.stride)) {
                for (std::size_t r = 0; r < ch; ++r) {
                    float* row = l.buffer + r * static_cast<std::size_t>(l.stride);
                    std::memmove(row, row + (l.write - l.history), static_cast<std::size_t>(l.history) * sizeof(float));
                }
                stale.rewind(l.write - l.history);
                l.write = l.history;
            }
            stale.fill(l.buffer, static_cast<std::size_t>(l.stride), a.config.channels, stale_values_[li].data(),
                       l.write, padded);
            ++li;
        }
    }
    std::fill_n(skip_.begin(), static_cast<std::size_t>(arrays_[0].config.channels) * stride, 0.0f);
    const float* input = cond_.data();
    for (std::size_t a = 0; a < arrays_.size(); ++a) {
        const bool last = a + 1 == arrays_.size();
        float* head_out = last ? head_out_.data() : skip_.data() + skip_offset_[a + 1];
        arrays_[a].kernel(arrays_[a].view, scratch_, nvec, input, static_cast<int>(stride),
                          skip_.data() + skip_offset_[a], head_out, last);
        input = array_out_.data();
    }
    const float scale = head_scale_;
    for (std::size_t t = 0; t < n; ++t) {
        out[t] = scale * head_out_[t];
    }
    for (LayerArray& a : arrays_) {
        for (WaveNetLayerView& l : a.layers) {
            l.write += static_cast<int>(n);
        }
    }
}

} // namespace rigd::core::nam
