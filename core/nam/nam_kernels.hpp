#pragma once

#include "core/nam/activation.hpp"
#include "core/rt.hpp"

#include <cstddef>

// The inference kernels behind WaveNetModel and LstmModel, as plain
// functions over raw-pointer views. nam_kernels.cpp is compiled once per
// instruction set (baseline, and in a non-native x86-64 build also AVX2+FMA
// and AVX-512); kernel_table() picks the best one the CPU supports.
namespace rigd::core::nam {

struct WaveNetLayerView {
    float* buffer = nullptr; // row 0 of this layer's input history
    int dilation = 1;
    int history = 0; // (K-1) * dilation frames kept before the block
    int stride = 0;  // floats per channel row
    int write = 0;   // frame index of the block's first frame
    const float* conv_w = nullptr; // (g*C) x (K*C + 1) row-major: taps (oldest first) then the condition
    const float* conv_b = nullptr; // g*C
    const float* mix_w = nullptr;  // C x C
    const float* mix_b = nullptr;  // C
    const float* packed = nullptr; // conv then 1x1 in the kernel set's own layout (wavenet_pack), or null
};

struct WaveNetArrayView {
    int input_size = 1;
    int channels = 1;
    int kernel_size = 1;
    int head_size = 1;
    bool gated = false;
    Activation activation = Activation::tanh;
    float negative_slope = 0.01f;
    const float* rechannel_w = nullptr; // C x input_size
    const float* head_w = nullptr;      // head_size x C
    const float* head_b = nullptr;      // head_size
    WaveNetLayerView* layers = nullptr;
    int layer_count = 0;
    const float* packed = nullptr; // rechannel then head in the kernel set's own layout, or null
};

struct WaveNetScratch {
    const float* cond = nullptr; // 1 row: the model input
    float* act = nullptr;        // g*C rows
    float* array_out = nullptr;  // C rows
    const float** ptrs = nullptr; // room for max(K*C + 1, input_size) pointers
    int stride = 0;               // floats per scratch row
};

// One layer array over nvec vectors of frames: input rows -> layers -> head
// (written to head_out, head_size rows). skip holds C rows (zero for the
// first array, the previous head for later ones). Unless `last`, the last
// layer's output goes to scratch.array_out for the next array.
using WaveNetArrayKernel = void (*)(WaveNetArrayView& array, const WaveNetScratch& scratch, int nvec,
                                    const float* input, int input_stride, float* skip, float* head_out,
                                    bool last) noexcept RIGD_RT;

struct LstmView {
    int layers = 1;
    int hidden = 1;
    int padded = 0;                      // hidden rounded up to the SIMD width
    const float* w = nullptr;            // per layer: columns [x, h], each 4 padded gate blocks (i, f, g, o)
    const std::size_t* w_offset = nullptr; // per layer into w
    const float* b = nullptr;            // per layer, 4 * padded
    float* state = nullptr;              // per layer h then c, padded each
    const float* head_w = nullptr;       // padded
    float head_b = 0.0f;
};

using LstmKernel = void (*)(LstmView& lstm, const float* in, float* out, std::size_t n) noexcept RIGD_RT;

// The general (format 0.6/0.7) WaveNet's kernels, over rows of frames (row
// r of a buffer at rows + r * stride); np is a multiple of the table's lanes.
struct DenseView {
    int in = 0;
    int out = 0;
    int taps = 1;
    int dilation = 1;
    const float* w = nullptr; // [tap][out][in], dense (zero blocks for groups)
    const float* b = nullptr; // out biases, or none
};

struct ActivationView {
    Activation type = Activation::tanh;
    float negative_slope = 0.01f;
    const float* slopes = nullptr; // PReLU, per row (or one for all)
    int slope_count = 0;
    float min_val = -1.0f;
    float max_val = 1.0f;
    float min_slope = 0.01f;
    float max_slope = 0.01f;
};

struct GeneralWaveNetKernels {
    // out = W * in (+ b); taps read in - (taps-1-t)*dilation.
    void (*dense)(const DenseView& m, const float* in, std::size_t in_stride, float* out, std::size_t out_stride,
                  std::size_t np) noexcept RIGD_RT = nullptr;
    // z = act(conv(in) + b + mixin(cond)); skip += z (z, skip: `stride`).
    void (*plain_conv)(const DenseView& conv, const float* in, std::size_t in_stride, const DenseView& mixin,
                       const float* cond, const ActivationView& act, float* z, float* skip, std::size_t stride,
                       std::size_t np) noexcept RIGD_RT = nullptr;
    // next = x + W * z + b.
    void (*residual)(const DenseView& m, const float* z, const float* x, float* next, std::size_t stride,
                     std::size_t np) noexcept RIGD_RT = nullptr;
    void (*activate)(float* rows, std::size_t stride, int count, const ActivationView& a,
                     std::size_t np) noexcept RIGD_RT = nullptr;
};

struct NamKernelTable {
    const char* isa = "";
    int lanes = 4;
    // Fixed-size kernel when one exists for (channels, kernel, activation,
    // gating) and `allow_fixed`, else the general one; `fixed` says which.
    WaveNetArrayKernel (*wavenet)(const WaveNetArrayView& array, bool allow_fixed, bool& fixed) = nullptr;
    LstmKernel (*lstm)(int hidden, int layers, bool allow_fixed, bool& fixed) = nullptr;
    GeneralWaveNetKernels general;
    // Optional (null: the kernels read the row-major weights above). Returns
    // the floats an array's weights take in this kernel set's own layout;
    // with dst, writes them there and points the views' `packed` at them.
    // Called off the RT thread, before `wavenet`.
    std::size_t (*wavenet_pack)(WaveNetArrayView& array, float* dst) = nullptr;
};

// The best kernel set for this CPU (off the RT thread; cached). In a
// dispatching build the environment variable RIGD_NAM_ISA=baseline|avx2
// caps the choice, for benchmarks and tests.
[[nodiscard]] const NamKernelTable& kernel_table();

} // namespace rigd::core::nam
