#pragma once

#include "core/dsp/halfband_section.hpp"

#include <array>
#include <cstddef>
#include <span>
#include <vector>

namespace rigd::core::dsp {

// The one up/down-sampler every nonlinear stage uses: a cascade of
// polyphase half-band FIR sections (factor 1, 2, 4, 8 or 16). The first
// section is steep (pass to 0.9 x base Nyquist, stop from 1.1 x, 92 dB
// design), later ones only need to clear the images of what the first
// passes, so they are short. Linear phase; the round trip is padded at the
// high rate to a whole number of base-rate samples (latency_samples()).
//
//   auto hi = os.upsample(block);   // block.size() <= max_block
//   shape(hi);                      // nonlinearity at the high rate
//   os.downsample(block);           // back in place
class Oversampler {
public:
    static constexpr int kMaxFactor = 16;
    static constexpr double kAttenuationDb = 92.0; // design target (checked on the taps), 90 dB required
    static constexpr double kPassbandFraction = 0.9; // of the base-rate Nyquist

    // Off the RT thread. factor must be 1, 2, 4, 8 or 16.
    void prepare(int factor, std::size_t max_block);
    void reset() noexcept;

    [[nodiscard]] int factor() const noexcept { return factor_; }
    [[nodiscard]] std::size_t max_block() const noexcept { return max_block_; }
    // Round-trip latency in base-rate samples.
    [[nodiscard]] int latency_samples() const noexcept { return latency_; }

    // n = in.size() <= max_block base-rate samples in; returns the n * factor
    // high-rate samples, to be modified in place before downsample().
    [[nodiscard]] std::span<float> upsample(std::span<const float> in) noexcept;
    // Writes out.size() (the n of the last upsample) base-rate samples.
    void downsample(std::span<float> out) noexcept;

private:
    int factor_ = 1;
    int sections_ = 0;
    int latency_ = 0;
    std::size_t max_block_ = 0;
    std::size_t pad_ = 0; // high-rate samples of extra delay
    std::array<HalfbandSection, 4> section_{};
    std::array<std::vector<float>, 4> stage_out_{}; // section s output: n * 2^(s+1)
    std::vector<float> base_;                       // factor 1 working copy
    std::vector<float> pad_buf_;                    // pad_ history + high-rate block
};

} // namespace rigd::core::dsp
