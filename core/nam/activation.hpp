#pragma once

namespace rigd::core::nam {

// Pointwise activations of A1 WaveNet layer arrays.
enum class Activation { tanh, relu, hardtanh, sigmoid, leaky_relu };

} // namespace rigd::core::nam
