#pragma once

#include <vector>

namespace rigd::core::nam {

// Pointwise activations of WaveNet layers. The A1 kernels run the first five;
// the general WaveNet (format 0.6/0.7) runs all of them.
enum class Activation {
    tanh,
    relu,
    hardtanh,
    sigmoid,
    leaky_relu,
    fast_tanh,      // NAM's rational approximation ("Fasttanh")
    leaky_hardtanh, // identity in [min_val, max_val], slopes outside
    prelu,          // leaky ReLU with one slope per channel
    silu,           // x * sigmoid(x)
    hardswish,
    softsign,       // x / (1 + |x|)
};

// An activation with its parameters, as a 0.6/0.7 file states it.
struct ActivationSpec {
    Activation type = Activation::tanh;
    float negative_slope = 0.01f;       // leaky_relu
    std::vector<float> negative_slopes; // prelu: one per channel, or a single one for all
    float min_val = -1.0f;              // leaky_hardtanh
    float max_val = 1.0f;
    float min_slope = 0.01f;
    float max_slope = 0.01f;
};

} // namespace rigd::core::nam
