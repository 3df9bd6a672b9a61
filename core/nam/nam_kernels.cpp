// WaveNet and LSTM kernels. Compiled once per instruction set: everything
// here has internal linkage or lives in the RIGD_NAM_ISA namespace (see
// simd.hpp), and no standard-library template is instantiated, so nothing
// compiled for a newer ISA can be shared with baseline code.
#include "core/nam/nam_kernels.hpp"

#include "core/nam/simd.hpp"

#include <cstddef>

namespace rigd::core::nam {
inline namespace RIGD_NAM_ISA {

namespace {

using simd::kLanes;
using simd::VecF;

// Register tile of the products: kRowTile output channels x kVecTile vectors
// of frames (16 accumulators on AVX-512's 32 registers, 8 on 16-register
// ISAs). Measured alternatives in bench/nam/RESULTS.md.
constexpr int kRowTile = 4;
constexpr int kVecTile = kLanes >= 16 ? 4 : 2;

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
    int v = 0;
    for (; v + kVecTile <= nvec; v += kVecTile) {
        tile<R, kVecTile, kJ>(w, ldw, r0, ptrs, j_count, v * kLanes, init, epi);
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
                   int input_stride, float* skip, float* head_out, bool last) noexcept {
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

constexpr int kMaxLstmVecs = 512 * 4 / kLanes; // hidden sizes up to 512

template <int kH, int kLayers>
void lstm_run(LstmView& m, const float* in, float* out, std::size_t n) noexcept {
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
#pragma GCC unroll 32
                for (int j = 0; j < kH; ++j) {
                    const VecF uj = simd::lane(hidden[l][j / kLanes], j % kLanes);
#pragma GCC unroll 16
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
#pragma GCC unroll 16
            for (int q = 0; q < gv; ++q) {
                VecF sum;
                if constexpr (kPartials == 4) {
                    sum = (acc[0][q] + acc[1][q]) + (acc[2][q] + acc[3][q]);
                } else {
                    sum = acc[0][q] + acc[1][q];
                }
                acc[0][q] = simd::tanh(sum);
            }
            // Blocks: [0, nv) i, [nv, 2nv) f, [2nv, 3nv) g, [3nv, 4nv) o.
            // sigmoid(z) = (1 + tanh(z/2)) / 2; the 1/2 is in the weights.
#pragma GCC unroll 8
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
        float y = m.head_b;
        if constexpr (kH > 0) {
            VecF prod = VecF{};
            for (int q = 0; q < kCellVecs; ++q) {
                prod += simd::load(m.head_w + q * kLanes) * hidden[kLayers - 1][q];
            }
            for (int i = 0; i < kLanes; ++i) {
                y += prod[i];
            }
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

#define RIGD_NAM_STRINGIFY2(x) #x
#define RIGD_NAM_STRINGIFY(x) RIGD_NAM_STRINGIFY2(x)

} // namespace

namespace {
constexpr NamKernelTable kTable{RIGD_NAM_STRINGIFY(RIGD_NAM_ISA), kLanes, &pick_wavenet, &pick_lstm};
} // namespace

const NamKernelTable& kernels_for_this_isa() { return kTable; }

} // namespace RIGD_NAM_ISA
} // namespace rigd::core::nam
