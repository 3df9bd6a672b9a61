#pragma once

#include <cstddef>

namespace rigd::core {

// What a stage is prepared for. sample_rate_hz is the device rate; nonlinear
// stages run internally at sample_rate_hz * oversample, everything else at the
// device rate. Blocks passed to process_block are never longer than
// max_block_size (device-rate frames).
struct ProcessSpec {
    double sample_rate_hz = 48000.0;
    std::size_t max_block_size = 128;
    int oversample = 1; // 1, 2, 4, 8 or 16

    friend bool operator==(const ProcessSpec&, const ProcessSpec&) = default;
};

} // namespace rigd::core
