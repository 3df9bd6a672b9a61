// aarch64 NEON kernels for the A1 WaveNet and the LSTM (built only for
// aarch64; nam_kernel_dispatch.cpp picks this table there). Every Tanh,
// non-gated A1 layer array runs here (fixed sizes for K = 3 and the usual
// channel counts, runtime sizes otherwise, the same sums either way); gated
// or other activations, LSTM sizes without a fixed instance and the general
// (0.6/0.7) WaveNet run the vector-extension kernels of nam_kernels.cpp.
//
// WaveNet products: time is the vector axis, as in nam_kernels.cpp, but a
// register tile holds up to 8 output channels x 3 vectors of frames (24 of
// the 32 registers): per input row, one post-incrementing LD1 brings the
// tile's frames, one LDP the tile's weights for that row (packed at load
// time: per row tile, per input row, the tile's channels side by side), and
// every accumulator takes its weight by lane (FMLA by element). About 1.1
// instructions per FMA, against ~3 for the generic code on NEON.
#include "core/nam/nam_kernels.hpp"

#include "core/nam/simd_neon.hpp"
#include "core/rt.hpp"

#include <arm_neon.h>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace rigd::core::nam {

namespace isa_default {
const NamKernelTable& kernels_for_this_isa();
}

namespace isa_neon {
namespace {

// Everything inside a register tile must inline: an outlined lambda would
// pass the accumulators through memory.
#define RIGD_NEON_INLINE __attribute__((always_inline))
#define RIGD_NEON_INLINE_FN [[gnu::always_inline]]

template <int N>
using Int = std::integral_constant<int, N>;

// f(Int<0>{}), ..., f(Int<N-1>{}): indices usable as lane numbers.
template <int N, class F>
RIGD_NEON_INLINE_FN inline void unroll(F&& f) noexcept {
    [&]<int... I>(std::integer_sequence<int, I...>) noexcept RIGD_NEON_INLINE { (f(Int<I>{}), ...); }(std::make_integer_sequence<int, N>{});
}

// f(j) for j < kN (unrolled) or, with kN == 0, for j < n (a loop).
template <int kN, class F>
RIGD_NEON_INLINE_FN inline void repeat(int n, F&& f) noexcept {
    if constexpr (kN > 0) {
        unroll<kN>([&](auto j) noexcept RIGD_NEON_INLINE { f(static_cast<int>(j)); });
    } else {
        for (int j = 0; j < n; ++j) {
            f(j);
        }
    }
}

constexpr int kMaxTileRows = 8;

// Vectors of frames per tile: 8x3 or 6x4 accumulators, leaving room for the
// row's frames and two weight registers.
[[nodiscard]] constexpr int vec_tile(int rows) noexcept { return rows >= 7 ? 3 : 4; }
// Weight registers per input row: the tile's rows padded to 4 lanes.
[[nodiscard]] constexpr int weight_regs(int rows) noexcept { return (rows + 3) / 4; }

// Packed layout of a rows x cols matrix: row tiles of 8 (the last one holds
// the rest); within a tile, for each column, the tile's rows padded to a
// multiple of 4. Tile r0 starts at r0 * cols.
[[nodiscard]] std::size_t packed_floats(int rows, int cols) noexcept {
    return static_cast<std::size_t>((rows + 3) / 4 * 4) * static_cast<std::size_t>(cols);
}

void pack(const float* m, int rows, int cols, float* dst) noexcept {
    for (int r0 = 0; r0 < rows; r0 += kMaxTileRows) {
        const int rt = rows - r0 < kMaxTileRows ? rows - r0 : kMaxTileRows;
        const int width = 4 * weight_regs(rt);
        for (int j = 0; j < cols; ++j) {
            for (int r = 0; r < width; ++r) {
                *dst++ = r < rt ? m[static_cast<std::ptrdiff_t>(r0 + r) * cols + j] : 0.0f;
            }
        }
    }
}

// V vectors at p, then p += step_bytes: one LD1 with register post-index.
template <int V>
RIGD_NEON_INLINE_FN inline void load_step(const float*& p, std::ptrdiff_t step_bytes, float32x4_t (&x)[V]) noexcept {
    static_assert(V >= 1 && V <= 4);
#if defined(__GNUC__) && !defined(__clang__)
    // GCC does not fold the increment into LD1 (an ADD per row otherwise).
    // %S0..%V0 name the consecutive registers of a multi-vector operand.
    // volatile keeps the loads in program order: GCC's pre-allocation
    // scheduler would otherwise hoist a whole unrolled product's loads and
    // spill most of them.
    const auto& mem = *reinterpret_cast<const float(*)[4 * V]>(p);
    if constexpr (V == 1) {
        __asm__ volatile("ld1 {%S0.4s}, [%1], %2" : "=w"(x[0]), "+r"(p) : "r"(step_bytes), "m"(mem));
    } else if constexpr (V == 2) {
        float32x4x2_t t;
        __asm__ volatile("ld1 {%S0.4s - %T0.4s}, [%1], %2" : "=w"(t), "+r"(p) : "r"(step_bytes), "m"(mem));
        x[0] = t.val[0];
        x[1] = t.val[1];
    } else if constexpr (V == 3) {
        float32x4x3_t t;
        __asm__ volatile("ld1 {%S0.4s - %U0.4s}, [%1], %2" : "=w"(t), "+r"(p) : "r"(step_bytes), "m"(mem));
        x[0] = t.val[0];
        x[1] = t.val[1];
        x[2] = t.val[2];
    } else {
        float32x4x4_t t;
        __asm__ volatile("ld1 {%S0.4s - %V0.4s}, [%1], %2" : "=w"(t), "+r"(p) : "r"(step_bytes), "m"(mem));
        x[0] = t.val[0];
        x[1] = t.val[1];
        x[2] = t.val[2];
        x[3] = t.val[3];
    }
#else
    unroll<V>([&](auto v) noexcept RIGD_NEON_INLINE { x[v] = vld1q_f32(p + 4 * v); });
    p += step_bytes / static_cast<std::ptrdiff_t>(sizeof(float));
#endif
}

// The V vectors at q += x, then q += step_bytes: LD1, FADDs, ST1 in one
// asm block (a tuple built from separate vectors would go through the stack).
template <int V>
RIGD_NEON_INLINE_FN inline void add_into_step(float*& q, std::ptrdiff_t step_bytes, const float32x4_t (&x)[V]) noexcept {
    static_assert(V >= 1 && V <= 3);
#if defined(__GNUC__) && !defined(__clang__)
    auto& mem = *reinterpret_cast<float(*)[4 * V]>(q);
    if constexpr (V == 1) {
        float32x4_t t;
        __asm__ volatile("ld1 {%S1.4s}, [%0]\n\t"
                         "fadd %S1.4s, %S1.4s, %S4.4s\n\t"
                         "st1 {%S1.4s}, [%0], %3"
                         : "+r"(q), "=&w"(t), "+m"(mem)
                         : "r"(step_bytes), "w"(x[0]));
    } else if constexpr (V == 2) {
        float32x4x2_t t;
        __asm__ volatile("ld1 {%S1.4s - %T1.4s}, [%0]\n\t"
                         "fadd %S1.4s, %S1.4s, %S4.4s\n\t"
                         "fadd %T1.4s, %T1.4s, %S5.4s\n\t"
                         "st1 {%S1.4s - %T1.4s}, [%0], %3"
                         : "+r"(q), "=&w"(t), "+m"(mem)
                         : "r"(step_bytes), "w"(x[0]), "w"(x[1]));
    } else {
        float32x4x3_t t;
        __asm__ volatile("ld1 {%S1.4s - %U1.4s}, [%0]\n\t"
                         "fadd %S1.4s, %S1.4s, %S4.4s\n\t"
                         "fadd %T1.4s, %T1.4s, %S5.4s\n\t"
                         "fadd %U1.4s, %U1.4s, %S6.4s\n\t"
                         "st1 {%S1.4s - %U1.4s}, [%0], %3"
                         : "+r"(q), "=&w"(t), "+m"(mem)
                         : "r"(step_bytes), "w"(x[0]), "w"(x[1]), "w"(x[2]));
    }
#else
    unroll<V>([&](auto v) noexcept RIGD_NEON_INLINE { vst1q_f32(q + 4 * v, vaddq_f32(vld1q_f32(q + 4 * v), x[v])); });
    q += step_bytes / static_cast<std::ptrdiff_t>(sizeof(float));
#endif
}

// Input rows of a product at a fixed stride; kCount > 0 fixes their number.
template <int kCount>
struct Rows {
    const float* base;
    int stride; // floats
    int count;

    template <int V, class F>
    RIGD_NEON_INLINE_FN inline void each(int t0, F&& f) const noexcept {
        const float* p = base + t0;
        const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(stride) * static_cast<std::ptrdiff_t>(sizeof(float));
        repeat<kCount>(count, [&](int) noexcept RIGD_NEON_INLINE {
            float32x4_t x[V];
            load_step<V>(p, step, x);
            f(x);
        });
    }
};

// Rows, each also added into the row of `sum` with the same index (sum rows
// at the same stride): the skip sum rides along with the 1x1's loads of the
// activations (one LD1/ST1 per row and vector tile). Only for tiles of at
// most 3 vectors (rows >= 7: registers to spare); V = 4 tiles are never
// given this source.
template <int kCount>
struct RowsAddingTo {
    const float* base;
    int stride;
    int count;
    float* sum;

    template <int V, class F>
    RIGD_NEON_INLINE_FN inline void each(int t0, F&& f) const noexcept {
        const float* p = base + t0;
        float* q = sum + t0;
        const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(stride) * static_cast<std::ptrdiff_t>(sizeof(float));
        repeat<kCount>(count, [&](int) noexcept RIGD_NEON_INLINE {
            float32x4_t x[V];
            load_step<V>(p, step, x);
            if constexpr (V <= 3) {
                add_into_step<V>(q, step, x);
            }
            f(x);
        });
    }
};

// The dilated convolution's input rows: K taps of C rows (tap 0 the oldest,
// (K-1)*d frames back), then the condition: nam_kernels.cpp's column order.
// kC, kK > 0 fix the sizes.
template <int kC, int kK>
struct ConvRows {
    const float* x;
    int stride;
    int dilation;
    const float* cond;
    int channels;
    int kernel;

    template <int V, class F>
    RIGD_NEON_INLINE_FN inline void each(int t0, F&& f) const noexcept {
        const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(stride) * static_cast<std::ptrdiff_t>(sizeof(float));
        const int k = kK > 0 ? kK : kernel;
        repeat<kK>(k, [&](int tap) noexcept RIGD_NEON_INLINE {
            const float* p = x + t0 - (k - 1 - tap) * dilation;
            repeat<kC>(channels, [&](int) noexcept RIGD_NEON_INLINE {
                float32x4_t xv[V];
                load_step<V>(p, step, xv);
                f(xv);
            });
        });
        float32x4_t c[V];
        unroll<V>([&](auto v) noexcept RIGD_NEON_INLINE { c[v] = vld1q_f32(cond + t0 + 4 * v); });
        f(c);
    }
};

// Tile initialisers: a row's V accumulators before the sums.
struct ZeroInit {
    template <int V>
    RIGD_NEON_INLINE_FN void row(int, int, float32x4_t (&acc)[V]) const noexcept {
        unroll<V>([&](auto v) noexcept RIGD_NEON_INLINE { acc[v] = vdupq_n_f32(0.0f); });
    }
};

struct BiasInit { // the row's bias
    const float* bias;
    template <int V>
    RIGD_NEON_INLINE_FN void row(int r, int, float32x4_t (&acc)[V]) const noexcept {
        const float32x4_t b = vld1q_dup_f32(bias + r);
        unroll<V>([&](auto v) noexcept RIGD_NEON_INLINE { acc[v] = b; });
    }
    // Tiles of whole quads of rows (r0 a multiple of 4): one load per four
    // biases, then a lane broadcast per row.
    template <int V, int kR>
    RIGD_NEON_INLINE_FN void row_in_quad(int r0, Int<kR>, float32x4_t (&acc)[V]) const noexcept {
        const float32x4_t b = vdupq_laneq_f32(vld1q_f32(bias + r0 + kR / 4 * 4), kR % 4);
        unroll<V>([&](auto v) noexcept RIGD_NEON_INLINE { acc[v] = b; });
    }
};

// Tile epilogues: what happens to a row's V result vectors.
struct Store { // rows at base, stride floats apart
    float* base;
    std::ptrdiff_t stride;
    template <int V>
    RIGD_NEON_INLINE_FN void row(int r, int t0, const float32x4_t (&acc)[V]) const noexcept {
        float* d = base + r * stride + t0;
        unroll<V>([&](auto v) noexcept RIGD_NEON_INLINE { vst1q_f32(d + 4 * v, acc[v]); });
    }
};

struct AddStore { // dest rows = acc + x rows (the residual, added last as in nam_kernels.cpp)
    float* dest;
    std::ptrdiff_t dest_stride;
    const float* x;
    std::ptrdiff_t x_stride;
    template <int V>
    RIGD_NEON_INLINE_FN void row(int r, int t0, const float32x4_t (&acc)[V]) const noexcept {
        float* d = dest + r * dest_stride + t0;
        const float* s = x + r * x_stride + t0;
        unroll<V>([&](auto v) noexcept RIGD_NEON_INLINE { vst1q_f32(d + 4 * v, vaddq_f32(acc[v], vld1q_f32(s + 4 * v))); });
    }
};

// R output rows from r0 x V vectors from frame t0: acc = init.row(...), then
// acc += w[row][j] * input row j for every j in order (the summation order
// of nam_kernels.cpp), then epi.row(row, first frame, the row's V vectors).
template <int R, int V, class Src, class Init, class Epi>
RIGD_NEON_INLINE_FN inline void tile(const float* wp, const Src& src_ref, int r0, int t0, Init& init_ref,
                                     Epi& epi_ref) noexcept {
    constexpr int kW = weight_regs(R);
    // Local copies: GCC keeps their fields in registers, where through the
    // references it reloads them after every store.
    const Src src = src_ref;
    const Init init = init_ref;
    const Epi epi = epi_ref;
    float32x4_t acc[R][V];
    unroll<R>([&](auto r) noexcept RIGD_NEON_INLINE {
        if constexpr (R % 4 == 0 && std::is_same_v<Init, BiasInit>) {
            init.template row_in_quad<V>(r0, r, acc[r]);
        } else {
            init.template row<V>(r0 + r, t0, acc[r]);
        }
    });
    src.template each<V>(t0, [&](const float32x4_t(&x)[V]) noexcept RIGD_NEON_INLINE {
        float32x4_t w[kW];
        unroll<kW>([&](auto q) noexcept RIGD_NEON_INLINE { w[q] = vld1q_f32(wp + 4 * q); });
        wp += 4 * kW;
        unroll<R>([&](auto r) noexcept RIGD_NEON_INLINE {
            unroll<V>([&](auto v) noexcept RIGD_NEON_INLINE { acc[r][v] = vfmaq_laneq_f32(acc[r][v], x[v], w[r / 4], r % 4); });
        });
    });
    unroll<R>([&](auto r) noexcept RIGD_NEON_INLINE { epi.template row<V>(r0 + r, t0, acc[r]); });
}

template <int R, class Src, class Init, class Epi>
inline void row_tile(const float* wp, const Src& src, int r0, int nvec, Init& init, Epi& epi) noexcept {
    constexpr int kV = vec_tile(R);
    int v = 0;
    for (; v + kV <= nvec; v += kV) {
        tile<R, kV>(wp, src, r0, 4 * v, init, epi);
    }
    // The tail runs the same sums per frame: output does not depend on
    // where a frame falls in the block.
    switch (nvec - v) {
    case 3:
        if constexpr (kV > 3) {
            tile<R, 3>(wp, src, r0, 4 * v, init, epi);
        }
        break;
    case 2: tile<R, 2>(wp, src, r0, 4 * v, init, epi); break;
    case 1: tile<R, 1>(wp, src, r0, 4 * v, init, epi); break;
    default: break;
    }
}

template <int R, class Src, class Init, class Epi>
inline void row_tile_rt(int rt, const float* wp, const Src& src, int r0, int nvec, Init& init, Epi& epi) noexcept {
    if constexpr (R >= 1) {
        if (rt == R) {
            row_tile<R>(wp, src, r0, nvec, init, epi);
        } else {
            row_tile_rt<R - 1>(rt, wp, src, r0, nvec, init, epi);
        }
    }
}

// out rows = packed matrix (rows x cols) times the input rows, over nvec
// vectors of frames; kRows > 0 fixes the row count (and the tiles). The
// first row tile reads its inputs through src0, the others through src.
template <int kRows, class Src0, class Src, class Init, class Epi>
inline void gemm(const float* packed, int rows_rt, int cols, const Src0& src0, const Src& src, int nvec, Init init,
                 Epi epi) noexcept {
    if constexpr (kRows > 0) {
        unroll<(kRows + kMaxTileRows - 1) / kMaxTileRows>([&](auto tile_index) noexcept RIGD_NEON_INLINE {
            constexpr int kR0 = tile_index * kMaxTileRows;
            constexpr int kR = kRows - kR0 < kMaxTileRows ? kRows - kR0 : kMaxTileRows;
            const float* wp = packed + static_cast<std::ptrdiff_t>(kR0) * cols;
            if constexpr (kR0 == 0) {
                row_tile<kR>(wp, src0, kR0, nvec, init, epi);
            } else {
                row_tile<kR>(wp, src, kR0, nvec, init, epi);
            }
        });
    } else {
        for (int r0 = 0; r0 < rows_rt; r0 += kMaxTileRows) {
            const int rt = rows_rt - r0 < kMaxTileRows ? rows_rt - r0 : kMaxTileRows;
            const float* wp = packed + static_cast<std::ptrdiff_t>(r0) * cols;
            if (r0 == 0) {
                row_tile_rt<kMaxTileRows>(rt, wp, src0, r0, nvec, init, epi);
            } else {
                row_tile_rt<kMaxTileRows>(rt, wp, src, r0, nvec, init, epi);
            }
        }
    }
}

template <int kRows, class Src, class Init, class Epi>
inline void gemm(const float* packed, int rows_rt, int cols, const Src& src, int nvec, Init init, Epi epi) noexcept {
    gemm<kRows>(packed, rows_rt, cols, src, src, nvec, init, epi);
}

// rows of act = tanh(rows of act), and with kSkip, skip rows += them. A pass
// of its own rather than the product's tile epilogue: with 24 accumulators
// live there, GCC reloads the tanh constants for every vector (and so it
// would here too, inlined into the big array function).
template <bool kSkip>
[[gnu::noinline]] void tanh_rows(float* act, float* skip, int rows, int stride, int nvec) noexcept {
    neon::TanhConstants k;
    k.keep_in_registers();
    for (int r = 0; r < rows; ++r) {
        float* a = act + static_cast<std::ptrdiff_t>(r) * stride;
        float* s = skip + static_cast<std::ptrdiff_t>(r) * stride;
        const auto one = [&](int v) noexcept RIGD_NEON_INLINE {
            const float32x4_t z = neon::tanh(vld1q_f32(a + 4 * v), k);
            vst1q_f32(a + 4 * v, z);
            if constexpr (kSkip) {
                vst1q_f32(s + 4 * v, vaddq_f32(vld1q_f32(s + 4 * v), z));
            }
        };
        int v = 0;
        for (; v + 2 <= nvec; v += 2) {
            one(v);
            one(v + 1);
        }
        for (; v < nvec; ++v) {
            one(v);
        }
    }
}

// One layer array (see WaveNetArrayKernel): Tanh, not gated, with the
// view's packed weights; kC, kK > 0 fix the channels and kernel size (the
// same sums in the same order either way).
template <int kC, int kK>
void wavenet_array(WaveNetArrayView& array, const WaveNetScratch& scratch, int nvec, const float* input,
                   int input_stride, float* skip, float* head_out, bool last) noexcept RIGD_RT {
    const int ch = kC > 0 ? kC : array.channels;
    const int k = kK > 0 ? kK : array.kernel_size;
    const int j_count = k * ch + 1;
    const int ss = scratch.stride;
    // With 7 or more channels (row tiles of 3 vectors: registers to spare)
    // the 1x1's first row tile also adds the activations into skip.
    const bool skip_in_mix = vec_tile(ch < kMaxTileRows ? ch : kMaxTileRows) <= 3;

    {
        const WaveNetLayerView& first = array.layers[0];
        gemm<kC>(array.packed, ch, array.input_size, Rows<0>{input, input_stride, array.input_size}, nvec, ZeroInit{},
                 Store{first.buffer + first.write, first.stride});
    }

    float* act = scratch.act;
    for (int li = 0; li < array.layer_count; ++li) {
        const WaveNetLayerView& layer = array.layers[li];
        const float* x = layer.buffer + layer.write;
        const int lstride = layer.stride;
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
        }

        gemm<kC>(layer.packed, ch, j_count, ConvRows<kC, kK>{x, lstride, layer.dilation, scratch.cond, ch, k}, nvec,
                 BiasInit{layer.conv_b}, Store{act, ss});
        const bool skip_here = dest == nullptr || !skip_in_mix;
        if (skip_here) {
            tanh_rows<true>(act, skip, ch, ss, nvec);
        } else {
            tanh_rows<false>(act, skip, ch, ss, nvec);
        }
        if (dest == nullptr) {
            continue;
        }
        const float* mix_w = layer.packed + packed_floats(ch, j_count);
        const BiasInit mix_b{layer.mix_b};
        const AddStore out{dest, dest_stride, x, lstride};
        if (skip_here) {
            gemm<kC>(mix_w, ch, ch, Rows<kC>{act, ss, ch}, nvec, mix_b, out);
        } else {
            gemm<kC>(mix_w, ch, ch, RowsAddingTo<kC>{act, ss, ch, skip}, Rows<kC>{act, ss, ch}, nvec, mix_b, out);
        }
    }

    gemm<0>(array.packed + packed_floats(ch, array.input_size), array.head_size, ch, Rows<0>{skip, ss, ch}, nvec,
            BiasInit{array.head_b}, Store{head_out, ss});
}

std::size_t pack_wavenet(WaveNetArrayView& a, float* dst) {
    const int ch = a.channels;
    const int g = a.gated ? 2 : 1;
    const int j_count = a.kernel_size * ch + 1;
    std::size_t total = packed_floats(ch, a.input_size) + packed_floats(a.head_size, ch);
    for (int l = 0; l < a.layer_count; ++l) {
        total += packed_floats(g * ch, j_count) + packed_floats(ch, ch);
    }
    if (dst == nullptr) {
        return total;
    }
    a.packed = dst;
    pack(a.rechannel_w, ch, a.input_size, dst);
    dst += packed_floats(ch, a.input_size);
    pack(a.head_w, a.head_size, ch, dst);
    dst += packed_floats(a.head_size, ch);
    for (int l = 0; l < a.layer_count; ++l) {
        WaveNetLayerView& layer = a.layers[l];
        layer.packed = dst;
        pack(layer.conv_w, g * ch, j_count, dst);
        dst += packed_floats(g * ch, j_count);
        pack(layer.mix_w, ch, ch, dst);
        dst += packed_floats(ch, ch);
    }
    return total;
}

WaveNetArrayKernel pick_wavenet(const WaveNetArrayView& a, bool allow_fixed, bool& fixed) {
    if (a.packed == nullptr || a.gated || a.activation != Activation::tanh) {
        return isa_default::kernels_for_this_isa().wavenet(a, allow_fixed, fixed);
    }
    fixed = false;
    if (allow_fixed && a.kernel_size == 3) {
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

// LSTM, H hidden units in L layers (compile-time): per sample and layer,
// gates = b + W [x, h] with the gate blocks (i, f, g, o, each H padded to 4)
// in 4H/4 accumulators, each column's weight vectors (one LD1 for four)
// multiplied by one lane of the input (FMLA by element: no broadcasts). Past
// H = 4 the gates then go through a small buffer to the tanh (sigmoid(z) =
// (1 + tanh(z/2)) / 2, the 1/2 folded into the weights at load time) and the
// cell update, so that the tanh constants have registers (16 accumulators
// leave none). h and c stay in registers across samples.
template <int kH, int kLayers>
void lstm_run(LstmView& m, const float* in, float* out, std::size_t n) noexcept RIGD_RT {
    constexpr int kP = (kH + 3) / 4 * 4;
    constexpr int kNV = kP / 4;  // vectors per gate block
    constexpr int kGV = 4 * kNV; // gate vectors
    constexpr int kGates = 4 * kP;
    float* state = m.state;
    float32x4_t hidden[kLayers][kNV];
    float32x4_t cell[kLayers][kNV];
    const float* w[kLayers];
    const float* b[kLayers];
    for (int l = 0; l < kLayers; ++l) {
        w[l] = m.w + m.w_offset[l];
        b[l] = m.b + static_cast<std::ptrdiff_t>(l) * kGates;
        for (int q = 0; q < kNV; ++q) {
            hidden[l][q] = vld1q_f32(state + 2 * l * kP + 4 * q);
            cell[l][q] = vld1q_f32(state + (2 * l + 1) * kP + 4 * q);
        }
    }
    const float* head_w = m.head_w;
    const float head_b = m.head_b;
    [[maybe_unused]] float gates[kGV * 4];
    // H <= 4: the tanh constants stay in registers for the whole run.
    neon::TanhConstants k_small;
    if constexpr (kNV == 1) {
        k_small.keep_in_registers();
    }

    for (std::size_t t = 0; t < n; ++t) {
        const float32x4_t xv = vld1q_dup_f32(in + t);
        unroll<kLayers>([&](auto l) noexcept RIGD_NEON_INLINE {
            float32x4_t acc[kGV];
            // The kGV (a multiple of 4) weight or bias vectors at p, to f(q, v).
            const auto quads = [&](const float* p, auto&& f) noexcept RIGD_NEON_INLINE {
                unroll<kGV / 4>([&](auto g) noexcept RIGD_NEON_INLINE {
                    float32x4_t v[4];
                    load_step<4>(p, 64, v); // (a float32x4x4_t from vld1q_f32_x4 goes through the stack)
                    unroll<4>([&](auto i) noexcept RIGD_NEON_INLINE { f(4 * g + i, v[i]); });
                });
            };
            quads(b[l], [&](int q, float32x4_t v) noexcept RIGD_NEON_INLINE { acc[q] = v; });
            // Columns: the layer input (x, or the layer below's h), then h.
            if constexpr (l == 0) {
                quads(w[l], [&](int q, float32x4_t v) noexcept RIGD_NEON_INLINE {
                    acc[q] = vfmaq_laneq_f32(acc[q], v, xv, 0);
                });
            } else {
                unroll<kH>([&](auto j) noexcept RIGD_NEON_INLINE {
                    quads(w[l] + j * kGates, [&](int q, float32x4_t v) noexcept RIGD_NEON_INLINE {
                        acc[q] = vfmaq_laneq_f32(acc[q], v, hidden[l - 1][j / 4], j % 4);
                    });
                });
            }
            const float* wh = w[l] + (l == 0 ? 1 : kH) * kGates;
            unroll<kH>([&](auto j) noexcept RIGD_NEON_INLINE {
                quads(wh + j * kGates, [&](int q, float32x4_t v) noexcept RIGD_NEON_INLINE {
                    acc[q] = vfmaq_laneq_f32(acc[q], v, hidden[l][j / 4], j % 4);
                });
            });
            // One H = 4 block stays in registers; larger ones go through
            // `gates`.
            constexpr bool kInRegs = kNV == 1;
            if constexpr (!kInRegs) {
                unroll<kGV>([&](auto q) noexcept RIGD_NEON_INLINE { vst1q_f32(gates + 4 * q, acc[q]); });
            }
            neon::TanhConstants k = k_small;
            if constexpr (!kInRegs) {
                k.keep_in_registers(); // materialised here, not held across the products
            }
            const float32x4_t half = vdupq_n_f32(0.5f);
            unroll<kNV>([&](auto q) noexcept RIGD_NEON_INLINE {
                const auto gate = [&](int block) noexcept RIGD_NEON_INLINE {
                    if constexpr (kInRegs) {
                        return neon::tanh(acc[block], k);
                    } else {
                        return neon::tanh(vld1q_f32(gates + 4 * (block * kNV + q)), k);
                    }
                };
                // With the gates' tanh values ti, tf, to (sigmoid = (1 + t) / 2):
                // c = ((1 + tf) c + (1 + ti) g) / 2, h = (1 + to) tanh(c) / 2.
                const float32x4_t ti = gate(0);
                const float32x4_t tf = gate(1);
                const float32x4_t g = gate(2);
                const float32x4_t to = gate(3);
                const float32x4_t c_f = vfmaq_f32(cell[l][q], cell[l][q], tf);
                const float32x4_t c = vmulq_f32(vaddq_f32(c_f, vfmaq_f32(g, g, ti)), half);
                cell[l][q] = c;
                const float32x4_t tc = neon::tanh(c, k);
                hidden[l][q] = vmulq_f32(vfmaq_f32(tc, tc, to), half);
            });
        });
        float32x4_t prod = vmulq_f32(vld1q_f32(head_w), hidden[kLayers - 1][0]);
        unroll<kNV - 1>([&](auto q) noexcept RIGD_NEON_INLINE {
            prod = vfmaq_f32(prod, vld1q_f32(head_w + 4 * (q + 1)), hidden[kLayers - 1][q + 1]);
        });
        out[t] = head_b + vaddvq_f32(prod);
    }
    for (int l = 0; l < kLayers; ++l) {
        for (int q = 0; q < kNV; ++q) {
            vst1q_f32(state + 2 * l * kP + 4 * q, hidden[l][q]);
            vst1q_f32(state + (2 * l + 1) * kP + 4 * q, cell[l][q]);
        }
    }
}

LstmKernel pick_lstm(int hidden, int layers, bool allow_fixed, bool& fixed) {
    if (allow_fixed) {
        fixed = true;
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
    return isa_default::kernels_for_this_isa().lstm(hidden, layers, allow_fixed, fixed);
}

} // namespace

const NamKernelTable& kernels_for_this_isa() {
    static const NamKernelTable table = [] {
        NamKernelTable t = isa_default::kernels_for_this_isa();
        t.isa = "neon";
        t.wavenet = &pick_wavenet;
        t.wavenet_pack = &pack_wavenet;
        t.lstm = &pick_lstm;
        return t;
    }();
    return table;
}

} // namespace isa_neon
} // namespace rigd::core::nam
