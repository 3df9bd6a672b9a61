#pragma once

#include "core/rt.hpp"

#include "core/dsp/halfband_iir.hpp"

#include <array>
#include <cstddef>
#include <span>
#include <vector>

namespace rigd::core::dsp {

// The one up/down-sampler every nonlinear stage uses: a cascade of
// polyphase IIR half-band sections (factor 1, 2, 4, 8 or 16). The first
// section is steep (pass to 0.9 x base Nyquist, stop from 1.1 x, 100 dB
// design: 8 coefficients, 106 dB), later ones only need to keep the base
// band clean (92 dB design), so they have few coefficients. The first
// section's margin is there because a base-rate tone near 0.45 leaves two
// images at the edges of two sections' stopbands and their powers add (with
// a 92 dB first section: -90.8 dB at 8x). Not linear phase: the latency is
// the round trip's group delay at 1 kHz for 48 kHz (1/48 cycle per base
// sample; near DC it is flat, so this holds at 44.1/96 kHz too), rounded.
// It rises towards the band edge (see group_delay_samples()).
//
//   auto hi = os.upsample(block);   // block.size() <= max_block
//   shape(hi);                      // nonlinearity at the high rate
//   os.downsample(block);           // back in place
class Oversampler {
public:
    static constexpr int kMaxFactor = 16;
    static constexpr double kFirstAttenuationDb = 100.0; // first section's design target (checked on the response)
    static constexpr double kAttenuationDb = 92.0;       // later sections; 90 dB required overall
    static constexpr double kPassbandFraction = 0.9; // of the base-rate Nyquist
    static constexpr double kLatencyFrequency = 1.0 / 48.0; // cycles per base sample (1 kHz at 48 kHz)

    // Off the RT thread. factor must be 1, 2, 4, 8 or 16.
    void prepare(int factor, std::size_t max_block);
    void reset() noexcept RIGD_RT;

    [[nodiscard]] int factor() const noexcept { return factor_; }
    [[nodiscard]] std::size_t max_block() const noexcept { return max_block_; }
    // Round-trip latency in base-rate samples: the group delay at
    // kLatencyFrequency, rounded.
    [[nodiscard]] int latency_samples() const noexcept { return latency_; }
    // Round-trip group delay in base-rate samples at f cycles per base
    // sample, from the designed coefficients (double).
    [[nodiscard]] double group_delay_samples(double f) const noexcept;
    // Number of half-band sections (log2 factor) and their coefficient counts.
    [[nodiscard]] int sections() const noexcept { return sections_; }
    [[nodiscard]] const HalfbandIir& section(int s) const noexcept { return section_[static_cast<std::size_t>(s)]; }

    // n = in.size() <= max_block base-rate samples in; returns the n * factor
    // high-rate samples, to be modified in place before downsample().
    [[nodiscard]] std::span<float> upsample(std::span<const float> in) noexcept RIGD_RT;
    // Writes out.size() (the n of the last upsample) base-rate samples.
    void downsample(std::span<float> out) noexcept RIGD_RT;

private:
    int factor_ = 1;
    int sections_ = 0;
    int latency_ = 0;
    std::size_t max_block_ = 0;
    std::array<HalfbandIir, 4> section_{};
    std::array<std::vector<float>, 4> stage_out_{}; // section s output: n * 2^(s+1)
    std::vector<float> base_;                       // factor 1 working copy
};

} // namespace rigd::core::dsp
