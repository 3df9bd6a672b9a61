// WaveNet and LSTM kernels. Compiled once per instruction set: everything
// here has internal linkage or lives in the RIGD_NAM_ISA namespace (see
// simd.hpp), and no standard-library template is instantiated, so nothing
// compiled for a newer ISA can be shared with baseline code.
#include "core/nam/nam_kernels.hpp"

#include "core/nam/simd.hpp"
#include "core/rt.hpp"

#include <cstddef>

namespace rigd::core::nam {
inline namespace RIGD_NAM_ISA {

namespace {

using simd::kLanes;
using simd::VecF;

// Register tile of the products: kRowTile output channels x kVecTile vectors
// of frames (16 accumulators on AVX-512's 32 registers, 8 on 16-register
// ISAs). AVX-512 with 8 rows or more: 8 x 2 (two frame loads and eight weight
// broadcasts per 16 FMAs) beat 4 x 4 (four and four) by about 9% on the
// standard model and 13% on lite: the 64-byte frame loads, not the FMAs,
// bound the loop. Fewer rows keep 4 vectors (row_tile). Measured
// alternatives in bench/nam/RESULTS.md.
constexpr int kRowTile = kLanes >= 16 ? 8 : 4;
constexpr int kVecTile = 2;

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
    default: // the 0.6/0.7 activations run on the general WaveNet only
        break;
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
    // Explicit unrolling keeps acc in registers at -O2 too (a generic
    // package build), not only at -O3.
    VecF acc[R][V];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) {
            acc[r][v] = init(r0 + r, t0 + v * kLanes);
        }
    }
    const int nj = kJ > 0 ? kJ : j_count;
    const float* wr = w + static_cast<std::ptrdiff_t>(r0) * ldw;
    for (int j = 0; j < nj; ++j) {
        const float* p = ptrs[j] + t0;
        VecF x[V];
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) {
            x[v] = simd::load(p + v * kLanes);
#if defined(__x86_64__)
            __asm__("" : "+v"(x[v])); // in a register for all R rows (see dense_tile)
#endif
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const VecF wv = simd::splat(wr[r * ldw + j]);
#pragma GCC unroll 8
            for (int v = 0; v < V; ++v) {
                acc[r][v] += wv * x[v];
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) {
            epi(r0 + r, t0 + v * kLanes, acc[r][v]);
        }
    }
}

template <int R, int kJ, class Init, class Epi>
inline void row_tile(const float* w, int ldw, int r0, const float* const* ptrs, int j_count, int nvec, Init& init,
                     Epi& epi) noexcept {
    // 16 accumulators (8 on 16-register ISAs): 8 rows x 2 vectors, else 4 vectors.
    constexpr int kV = R >= 8 ? kVecTile : (kLanes >= 16 ? 4 : 2);
    int v = 0;
    for (; v + kV <= nvec; v += kV) {
        tile<R, kV, kJ>(w, ldw, r0, ptrs, j_count, v * kLanes, init, epi);
    }
    for (; v < nvec; ++v) {
        tile<R, 1, kJ>(w, ldw, r0, ptrs, j_count, v * kLanes, init, epi);
    }
}

// out rows = W (rows x j_count, row-major) times the input rows ptrs[j],
// over nvec vectors of frames.
template <int kJ, int kRows, class Init, class Epi>
inline void gemm(const float* w, int rows_rt, const float* const* ptrs, int j_count, int nvec, Init init,
                 Epi epi) noexcept {
    const int rows = kRows > 0 ? kRows : rows_rt;
    const int ldw = kJ > 0 ? kJ : j_count;
    int r0 = 0;
    for (; r0 + kRowTile <= rows; r0 += kRowTile) {
        row_tile<kRowTile, kJ>(w, ldw, r0, ptrs, j_count, nvec, init, epi);
    }
    if (kRowTile > 4 && rows - r0 >= 4) {
        row_tile<4, kJ>(w, ldw, r0, ptrs, j_count, nvec, init, epi);
        r0 += 4;
    }
    if (rows - r0 >= 2) {
        row_tile<2, kJ>(w, ldw, r0, ptrs, j_count, nvec, init, epi);
        r0 += 2;
    }
    if (rows - r0 >= 1) {
        row_tile<1, kJ>(w, ldw, r0, ptrs, j_count, nvec, init, epi);
    }
}

template <int kC, int kK>
void wavenet_array(WaveNetArrayView& array, const WaveNetScratch& scratch, int nvec, const float* input,
                   int input_stride, float* skip, float* head_out, bool last) noexcept RIGD_RT {
    const int ch = kC > 0 ? kC : array.channels;
    const int k = kK > 0 ? kK : array.kernel_size;
    const int j_count = k * ch + 1;
    constexpr int kJ = kC > 0 ? kK * kC + 1 : 0;
    const int ss = scratch.stride;
    const float** ptrs = scratch.ptrs;
    const auto zero = [](int, int) noexcept { return VecF{}; };

    // Rechannel the array input into the first layer's buffer.
    {
        const WaveNetLayerView& first = array.layers[0];
        float* x0 = first.buffer + first.write;
        const int stride0 = first.stride;
        for (int i = 0; i < array.input_size; ++i) {
            ptrs[i] = input + i * input_stride;
        }
        gemm<0, kC>(array.rechannel_w, ch, ptrs, array.input_size, nvec, zero,
                    [&](int r, int t, VecF acc) noexcept { simd::store(x0 + r * stride0 + t, acc); });
    }

    float* act = scratch.act;
    for (int li = 0; li < array.layer_count; ++li) {
        const WaveNetLayerView& layer = array.layers[li];
        const float* x = layer.buffer + layer.write;
        const int lstride = layer.stride;
        // Tap 0 is the oldest input, (K-1)*d frames back.
        for (int tap = 0; tap < k; ++tap) {
            const int offset = (k - 1 - tap) * layer.dilation;
            for (int i = 0; i < ch; ++i) {
                ptrs[tap * ch + i] = x + i * lstride - offset;
            }
        }
        ptrs[k * ch] = scratch.cond;
        const float* conv_b = layer.conv_b;
        const auto bias = [conv_b](int r, int) noexcept { return simd::splat(conv_b[r]); };
        if (!array.gated) {
            const Activation fn = array.activation;
            const float slope = array.negative_slope;
            gemm<kJ, kC>(layer.conv_w, ch, ptrs, j_count, nvec, bias, [&](int r, int t, VecF z) noexcept {
                const VecF a = kC > 0 ? simd::tanh(z) : activate(z, fn, slope);
                simd::store(act + r * ss + t, a);
                float* s = skip + r * ss + t;
                simd::store(s, simd::load(s) + a);
            });
        } else {
            gemm<0, 0>(layer.conv_w, 2 * ch, ptrs, j_count, nvec, bias,
                       [&](int r, int t, VecF z) noexcept { simd::store(act + r * ss + t, z); });
            for (int r = 0; r < ch; ++r) {
                for (int v = 0; v < nvec; ++v) {
                    const int t = v * kLanes;
                    const VecF a = activate(simd::load(act + r * ss + t), array.activation, array.negative_slope) *
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
        if (li + 1 < array.layer_count) {
            const WaveNetLayerView& next = array.layers[li + 1];
            dest = next.buffer + next.write;
            dest_stride = next.stride;
        } else if (!last) {
            dest = scratch.array_out;
        } else {
            continue;
        }
        for (int i = 0; i < ch; ++i) {
            ptrs[i] = act + i * ss;
        }
        const float* mix_b = layer.mix_b;
        gemm<kC, kC>(
            layer.mix_w, ch, ptrs, ch, nvec, [mix_b](int r, int) noexcept { return simd::splat(mix_b[r]); },
            [&](int r, int t, VecF acc) noexcept {
                simd::store(dest + r * dest_stride + t, acc + simd::load(x + r * lstride + t));
            });
    }

    for (int i = 0; i < ch; ++i) {
        ptrs[i] = skip + i * ss;
    }
    const float* head_b = array.head_b;
    gemm<kC, 0>(
        array.head_w, array.head_size, ptrs, ch, nvec,
        [head_b](int r, int) noexcept { return simd::splat(head_b[r]); },
        [&](int r, int t, VecF acc) noexcept { simd::store(head_out + r * ss + t, acc); });
}

WaveNetArrayKernel pick_wavenet(const WaveNetArrayView& a, bool allow_fixed, bool& fixed) {
    fixed = false;
    if (allow_fixed && !a.gated && a.kernel_size == 3 && a.activation == Activation::tanh) {
        fixed = true;
        switch (a.channels) {
        case 16: return &wavenet_array<16, 3>;
        case 12: return &wavenet_array<12, 3>;
        case 8: return &wavenet_array<8, 3>;
        case 6: return &wavenet_array<6, 3>;
        case 4: return &wavenet_array<4, 3>;
        case 2: return &wavenet_array<2, 3>;
        default: break;
        }
    }
    fixed = false;
    return &wavenet_array<0, 0>;
}

// The lanes' sum as a tree (halves added), off the recurrence but a serial
// chain of kLanes adds per sample otherwise.
[[nodiscard]] inline float hsum(VecF v) noexcept {
    using V4 = float __attribute__((vector_size(4 * sizeof(float))));
#if defined(__AVX512F__)
    using V8 = float __attribute__((vector_size(8 * sizeof(float))));
    const V8 a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                 __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    const V4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
#elif defined(__AVX__)
    const V4 b = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
#else
    const V4 b = v;
#endif
    return (b[0] + b[2]) + (b[1] + b[3]);
}

constexpr int kMaxLstmVecs = 512 * 4 / kLanes; // hidden sizes up to 512

template <int kH, int kLayers>
void lstm_run(LstmView& m, const float* in, float* out, std::size_t n) noexcept RIGD_RT {
    const int h = kH > 0 ? kH : m.hidden;
    const int layers = kLayers > 0 ? kLayers : m.layers;
    constexpr int kP = kH > 0 ? (kH + kLanes - 1) / kLanes * kLanes : 0;
    const int p = kP > 0 ? kP : m.padded;
    const int nv = p / kLanes; // vectors per gate block
    const int gates = 4 * p;
    constexpr int kGateVecs = kP > 0 ? 4 * kP / kLanes : kMaxLstmVecs;
    // Fixed sizes keep h and c in registers across samples; four partial
    // sums per gate vector keep the FMA chains short (the recurrence is
    // latency-bound).
    constexpr int kPartials = kH > 0 ? 4 : 2;
    const int gv = 4 * nv;
    float* state = m.state;
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
            const float* w = m.w + m.w_offset[l];
            const float* b = m.b + static_cast<std::ptrdiff_t>(l) * gates;
            float* hs = state + static_cast<std::ptrdiff_t>(l) * 2 * p;
            float* cs = hs + p;
            VecF acc[kPartials][kGateVecs];
#pragma GCC unroll 16
            for (int q = 0; q < gv; ++q) {
                acc[0][q] = simd::load(b + q * kLanes);
#pragma GCC unroll 4
                for (int k = 1; k < kPartials; ++k) {
                    acc[k][q] = VecF{};
                }
            }
            // Columns: the layer input, then the recurrent h.
            if constexpr (kH > 0) {
                // h stays in registers: lanes are broadcast with shuffles
                // (a scalar reload of a just-stored vector stalls on
                // store-to-load forwarding).
                if (l == 0) {
                    const VecF uj = simd::splat(x);
#pragma GCC unroll 16
                    for (int q = 0; q < gv; ++q) {
                        acc[0][q] += uj * simd::load(w + q * kLanes);
                    }
                } else {
#pragma GCC unroll 32
                    for (int j = 0; j < kH; ++j) {
                        const VecF uj = simd::lane(hidden[l - 1][j / kLanes], j % kLanes);
#pragma GCC unroll 16
                        for (int q = 0; q < gv; ++q) {
                            acc[j % kPartials][q] += uj * simd::load(w + j * gates + q * kLanes);
                        }
                    }
                }
                const float* wh = w + in_count * gates;
                // i, f and g first: the cell update waits for them, while o
                // is needed only after tanh(c) (its FMAs fill in later).
#pragma GCC unroll 32
                for (int j = 0; j < kH; ++j) {
                    const VecF uj = simd::lane(hidden[l][j / kLanes], j % kLanes);
#pragma GCC unroll 16
                    for (int q = 0; q < 3 * nv; ++q) {
                        acc[j % kPartials][q] += uj * simd::load(wh + j * gates + q * kLanes);
                    }
                }
#pragma GCC unroll 32
                for (int j = 0; j < kH; ++j) {
                    const VecF uj = simd::lane(hidden[l][j / kLanes], j % kLanes);
#pragma GCC unroll 16
                    for (int q = 3 * nv; q < gv; ++q) {
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
#pragma GCC unroll 16
            for (int q = 0; q < gv; ++q) {
                VecF sum;
                if constexpr (kPartials == 4) {
                    sum = (acc[0][q] + acc[1][q]) + (acc[2][q] + acc[3][q]);
                } else {
                    sum = acc[0][q] + acc[1][q];
                }
                if constexpr (kH > 0) {
                    acc[0][q] = sum; // the activations below
                } else {
                    acc[0][q] = simd::tanh(sum);
                }
            }
            if constexpr (kH > 0) {
                // The recurrence's critical path runs through the gate
                // activations, the cell update and tanh(c). Halved tanh for
                // f, g and o (the 1/2 folded into the fit) turns
                // c = (1/2 + tf/2) c + (1/2 + ti/2) tg into two independent
                // FMAs and an add: fma(tf/2, c, c/2) + fma(ti, tg/2, tg/2).
#pragma GCC unroll 8
                for (int q = 0; q < kCellVecs; ++q) {
                    const VecF ti = simd::tanh_short_latency(acc[0][q]);
                    const VecF htf = simd::tanh_short_latency<1>(acc[0][kCellVecs + q]);
                    const VecF htg = simd::tanh_short_latency<1>(acc[0][2 * kCellVecs + q]);
                    const VecF hto = simd::tanh_short_latency<1>(acc[0][3 * kCellVecs + q]);
                    const VecF c_old = cell[l][q];
                    const VecF c = (htf * c_old + 0.5f * c_old) + (ti * htg + htg);
                    cell[l][q] = c;
                    hidden[l][q] = (0.5f + hto) * simd::tanh_short_latency(c);
                }
                layer_in = hs;
                in_count = h;
                continue;
            }
            // Blocks: [0, nv) i, [nv, 2nv) f, [2nv, 3nv) g, [3nv, 4nv) o.
            // sigmoid(z) = (1 + tanh(z/2)) / 2; the 1/2 is in the weights.
#pragma GCC unroll 8
            for (int q = 0; q < nv; ++q) {
                const VecF ig = 0.5f + 0.5f * acc[0][q];
                const VecF fg = 0.5f + 0.5f * acc[0][nv + q];
                const VecF gg = acc[0][2 * nv + q];
                const VecF og = 0.5f + 0.5f * acc[0][3 * nv + q];
                const VecF c = fg * simd::load(cs + q * kLanes) + ig * gg;
                simd::store(cs + q * kLanes, c);
                simd::store(hs + q * kLanes, og * simd::tanh(c));
            }
            layer_in = hs;
            in_count = h;
        }
        float y = m.head_b;
        if constexpr (kH > 0) {
            VecF prod = VecF{};
            for (int q = 0; q < kCellVecs; ++q) {
                prod += simd::load(m.head_w + q * kLanes) * hidden[kLayers - 1][q];
            }
            y += hsum(prod);
        } else {
            const float* hl = state + static_cast<std::ptrdiff_t>(layers - 1) * 2 * p;
            for (int i = 0; i < h; ++i) {
                y += m.head_w[i] * hl[i];
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

LstmKernel pick_lstm(int hidden, int layers, bool allow_fixed, bool& fixed) {
    fixed = true;
    if (allow_fixed) {
        switch (hidden * 10 + layers) {
        case 31: return &lstm_run<3, 1>; // NAM Core's example 1x3
        case 41: return &lstm_run<4, 1>;
        case 81: return &lstm_run<8, 1>;
        case 82: return &lstm_run<8, 2>;
        case 121: return &lstm_run<12, 1>;
        case 122: return &lstm_run<12, 2>;
        case 161: return &lstm_run<16, 1>;
        case 162: return &lstm_run<16, 2>;
        default: break;
        }
    }
    fixed = false;
    return &lstm_run<0, 0>;
}

// Register tile: R output rows x V vectors of frames, summed over taps
// (outer) and input rows (inner), then over an optional second 1x1 source
// (the input mixin) after the bias; epi(row, frame, value) stores.
template <int R, int V, int kIn, class Epi>
inline void dense_tile(const DenseView& m, const float* in, std::size_t in_stride, const DenseView* m2,
                       const float* in2, std::size_t in2_stride, int o0, std::size_t f0, Epi& epi) noexcept {
    VecF acc[R][V];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) {
            acc[r][v] = VecF{};
        }
    }
    const auto add = [&]<int kN>(const DenseView& d, const float* src, std::size_t stride) noexcept {
        const int n_in = kN > 0 ? kN : d.in;
        for (int t = 0; t < d.taps; ++t) {
            const std::ptrdiff_t back = static_cast<std::ptrdiff_t>(d.taps - 1 - t) * d.dilation;
            const float* wt = d.w + static_cast<std::size_t>((t * d.out + o0) * n_in);
            const float* xt = src + f0 - back;
#pragma GCC unroll 16
            for (int i = 0; i < n_in; ++i) {
                const float* x = xt + static_cast<std::size_t>(i) * stride;
                VecF xv[V];
#pragma GCC unroll 8
                for (int v = 0; v < V; ++v) {
                    xv[v] = simd::load(x + v * kLanes);
#if defined(__x86_64__)
                    // Keep the frames in a register for all R rows: without this GCC
                    // reloads them as a memory operand of every FMA (loads, not FMAs,
                    // then bound the tile).
                    __asm__("" : "+v"(xv[v]));
#endif
                }
#pragma GCC unroll 8
                for (int r = 0; r < R; ++r) {
                    const VecF wv = simd::splat(wt[r * n_in + i]);
#pragma GCC unroll 8
                    for (int v = 0; v < V; ++v) {
                        acc[r][v] += wv * xv[v];
                    }
                }
            }
        }
    };
    add.template operator()<kIn>(m, in, in_stride);
    if (m.b != nullptr) {
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const VecF bv = simd::splat(m.b[static_cast<std::size_t>(o0 + r)]);
#pragma GCC unroll 8
            for (int v = 0; v < V; ++v) {
                acc[r][v] += bv;
            }
        }
    }
    if (m2 != nullptr) {
        add.template operator()<0>(*m2, in2, in2_stride); // after the conv's bias, as the reference adds conv + mixin
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) {
            epi(o0 + r, f0 + static_cast<std::size_t>(v * kLanes), acc[r][v]);
        }
    }
}

template <int R, int kIn, class Epi>
inline void dense_rows(const DenseView& m, const float* in, std::size_t in_stride, const DenseView* m2,
                       const float* in2, std::size_t in2_stride, int o0, std::size_t np, Epi& epi) noexcept {
    // 16 accumulators (8 on 16-register ISAs): 8 rows x 2 vectors or 4 x 4.
    constexpr int kV = R == 8 ? (kLanes >= 16 ? 2 : 1) : (kLanes >= 16 ? 4 : 2);
    std::size_t f = 0;
    for (; f + kV * kLanes <= np; f += kV * kLanes) {
        dense_tile<R, kV, kIn>(m, in, in_stride, m2, in2, in2_stride, o0, f, epi);
    }
    for (; f < np; f += kLanes) {
        dense_tile<R, 1, kIn>(m, in, in_stride, m2, in2, in2_stride, o0, f, epi);
    }
}

// epi(row, frame, W * in (+ W2 * in2) + bias) over np frames (a multiple of
// kLanes). Taps read in - (taps-1-t)*dilation: `in` is the block's first frame.
// kIn > 0 fixes W's input rows at compile time (the same sums, unrolled).
template <int kIn, class Epi>
void dense_apply_n(const DenseView& m, const float* in, std::size_t in_stride, const DenseView* m2, const float* in2,
                   std::size_t in2_stride, std::size_t np, Epi& epi) noexcept {
    int o = 0;
    for (; o + 8 <= m.out; o += 8) {
        dense_rows<8, kIn>(m, in, in_stride, m2, in2, in2_stride, o, np, epi);
    }
    for (; o + 4 <= m.out; o += 4) {
        dense_rows<4, kIn>(m, in, in_stride, m2, in2, in2_stride, o, np, epi);
    }
    switch (m.out - o) {
    case 3: dense_rows<3, kIn>(m, in, in_stride, m2, in2, in2_stride, o, np, epi); break;
    case 2: dense_rows<2, kIn>(m, in, in_stride, m2, in2, in2_stride, o, np, epi); break;
    case 1: dense_rows<1, kIn>(m, in, in_stride, m2, in2, in2_stride, o, np, epi); break;
    default: break;
    }
}

// The A2 widths (3 and 8 channels) and the A1 ones get compile-time sizes.
template <class Epi>
void dense_apply(const DenseView& m, const float* in, std::size_t in_stride, const DenseView* m2, const float* in2,
                 std::size_t in2_stride, std::size_t np, Epi epi) noexcept {
    switch (m.in) {
    case 3: dense_apply_n<3>(m, in, in_stride, m2, in2, in2_stride, np, epi); break;
    case 4: dense_apply_n<4>(m, in, in_stride, m2, in2, in2_stride, np, epi); break;
    case 8: dense_apply_n<8>(m, in, in_stride, m2, in2, in2_stride, np, epi); break;
    case 16: dense_apply_n<16>(m, in, in_stride, m2, in2, in2_stride, np, epi); break;
    default: dense_apply_n<0>(m, in, in_stride, m2, in2, in2_stride, np, epi); break;
    }
}

// out rows = W * in rows (+ bias).
void apply_dense(const DenseView& m, const float* in, std::size_t in_stride, float* out, std::size_t out_stride,
                 std::size_t np) noexcept {
    dense_apply(m, in, in_stride, nullptr, nullptr, 0, np, [out, out_stride](int r, std::size_t f, VecF v) noexcept {
        simd::store(out + static_cast<std::size_t>(r) * out_stride + f, v);
    });
}

// tanh with NAM's rational "fast tanh" (Fasttanh activations only).
[[nodiscard]] inline VecF nam_fast_tanh(VecF x) noexcept {
    const VecF ax = x < 0.0f ? -x : x;
    const VecF x2 = x * x;
    const VecF num =
        x * (2.45550750702956f + 2.45550750702956f * ax + (0.893229853513558f + 0.821226666969744f * ax) * x2);
    const VecF inner = x + 0.814642734961073f * x * ax;
    const VecF ainner = inner < 0.0f ? -inner : inner;
    return num / (2.44506634652299f + (2.44506634652299f + x2) * ainner);
}

[[nodiscard]] inline VecF activate(VecF x, const ActivationView& a, float slope) noexcept {
    switch (a.type) {
    case Activation::tanh:
        return simd::tanh(x);
    case Activation::fast_tanh:
        return nam_fast_tanh(x);
    case Activation::relu:
        return x > 0.0f ? x : simd::splat(0.0f);
    case Activation::hardtanh: {
        const VecF lo = x < -1.0f ? simd::splat(-1.0f) : x;
        return lo > 1.0f ? simd::splat(1.0f) : lo;
    }
    case Activation::leaky_hardtanh: {
        const VecF below = (x - a.min_val) * a.min_slope + a.min_val;
        const VecF above = (x - a.max_val) * a.max_slope + a.max_val;
        const VecF mid = x > a.max_val ? above : x;
        return x < a.min_val ? below : mid;
    }
    case Activation::leaky_relu:
        return x > 0.0f ? x : x * a.negative_slope;
    case Activation::prelu:
        return x > 0.0f ? x : x * slope;
    case Activation::sigmoid:
        return simd::sigmoid(x);
    case Activation::silu:
        return x * simd::sigmoid(x);
    case Activation::hardswish: {
        const VecF mid = x * (x + 3.0f) * (1.0f / 6.0f);
        const VecF hi = x >= 3.0f ? x : mid;
        return x <= -3.0f ? simd::splat(0.0f) : hi;
    }
    case Activation::softsign: {
        const VecF ax = x < 0.0f ? -x : x;
        return x / (1.0f + ax);
    }
    }
    return x;
}

[[nodiscard]] inline float prelu_slope(const ActivationView& a, int row) noexcept {
    if (a.type != Activation::prelu || a.slope_count == 0) {
        return 0.0f;
    }
    return a.slope_count == 1 ? a.slopes[0] : a.slopes[row];
}

void activate_rows(float* rows, std::size_t stride, int count, const ActivationView& a,
                   std::size_t np) noexcept RIGD_RT {
    for (int r = 0; r < count; ++r) {
        float* x = rows + static_cast<std::size_t>(r) * stride;
        const float slope = prelu_slope(a, r);
        for (std::size_t f = 0; f < np; f += kLanes) {
            simd::store(x + f, activate(simd::load(x + f), a, slope));
        }
    }
}


// The general WaveNet's entry points.
void general_dense(const DenseView& m, const float* in, std::size_t in_stride, float* out, std::size_t out_stride,
                   std::size_t np) noexcept RIGD_RT {
    apply_dense(m, in, in_stride, out, out_stride, np);
}

template <int kAct>
void plain_conv_act(const DenseView& conv, const float* in, std::size_t in_stride, const DenseView& mixin,
                    const float* cond, const ActivationView& act, float* z, float* skip, std::size_t stride,
                    std::size_t np) noexcept RIGD_RT {
    dense_apply(conv, in, in_stride, &mixin, cond, stride, np,
                [&act, z, skip, stride](int r, std::size_t f, VecF v) noexcept {
                    VecF a;
                    if constexpr (kAct == 0) {
                        a = v > 0.0f ? v : v * act.negative_slope;
                    } else if constexpr (kAct == 1) {
                        (void)act;
                        a = simd::tanh(v);
                    } else {
                        a = activate(v, act, prelu_slope(act, r));
                    }
                    const std::size_t at = static_cast<std::size_t>(r) * stride + f;
                    simd::store(z + at, a);
                    simd::store(skip + at, simd::load(skip + at) + a);
                });
}

// The activation is picked once per layer, not per vector.
void general_plain_conv(const DenseView& conv, const float* in, std::size_t in_stride, const DenseView& mixin,
                        const float* cond, const ActivationView& act, float* z, float* skip, std::size_t stride,
                        std::size_t np) noexcept RIGD_RT {
    if (act.type == Activation::leaky_relu) {
        plain_conv_act<0>(conv, in, in_stride, mixin, cond, act, z, skip, stride, np);
    } else if (act.type == Activation::tanh) {
        plain_conv_act<1>(conv, in, in_stride, mixin, cond, act, z, skip, stride, np);
    } else {
        plain_conv_act<2>(conv, in, in_stride, mixin, cond, act, z, skip, stride, np);
    }
}

void general_residual(const DenseView& m, const float* z, const float* x, float* next, std::size_t stride,
                      std::size_t np) noexcept RIGD_RT {
    dense_apply(m, z, stride, nullptr, nullptr, 0, np, [x, next, stride](int r, std::size_t f, VecF v) noexcept {
        const std::size_t at = static_cast<std::size_t>(r) * stride + f;
        simd::store(next + at, simd::load(x + at) + v);
    });
}

#define RIGD_NAM_STRINGIFY2(x) #x
#define RIGD_NAM_STRINGIFY(x) RIGD_NAM_STRINGIFY2(x)

} // namespace

namespace {
constexpr NamKernelTable kTable{
    RIGD_NAM_STRINGIFY(RIGD_NAM_ISA), kLanes, &pick_wavenet, &pick_lstm,
    GeneralWaveNetKernels{&general_dense, &general_plain_conv, &general_residual, &activate_rows}};
} // namespace

const NamKernelTable& kernels_for_this_isa() { return kTable; }

} // namespace RIGD_NAM_ISA
} // namespace rigd::core::nam
