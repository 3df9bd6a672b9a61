#pragma once

#include "core/rt.hpp"

#include <array>
#include <complex>
#include <span>

namespace rigd::core::dsp {

// One 2x step of the oversampler: a polyphase IIR half-band, the sum of two
// allpass paths H(z) = (A0(z^2) + z^-1 A1(z^2)) / 2, each path a chain of
// first-order allpasses (a + z^-2) / (1 + a z^-2) run at the low rate. The
// coefficients are the elliptic (Valenzuela-Constantinides) half-band
// design, computed in double: equiripple stopband, a passband flat to
// ~1e-9 dB (power complementary), and a group delay of a few samples
// instead of the ~2P of a linear-phase FIR of the same steepness. Phase is
// not linear: the delay rises towards the band edge.
class HalfbandIir {
public:
    static constexpr int kMaxCoefs = 12;

    // passband_edge in cycles per high-rate sample (< 0.25; the stopband
    // starts at 0.5 - passband_edge). Picks the fewest coefficients whose
    // designed stopband (checked on the response in double) reaches
    // attenuation_db. Throws std::invalid_argument if the edge is out of
    // range or kMaxCoefs cannot reach the target. even_blocks: every block
    // this section sees has an even length and starts at an even sample
    // (true after the first section), so it may run two samples per step.
    void design(double passband_edge, double attenuation_db, bool even_blocks = false);
    void reset() noexcept RIGD_RT;

    // in: n low-rate samples -> out: 2n high-rate samples.
    void upsample(std::span<const float> in, std::span<float> out) noexcept RIGD_RT;
    // in: 2n high-rate samples -> out: n low-rate samples.
    void downsample(std::span<const float> in, std::span<float> out) noexcept RIGD_RT;

    [[nodiscard]] int coefficient_count() const noexcept { return count_; }
    // Designed coefficients, ascending (even indices in path 0, odd in path 1).
    [[nodiscard]] std::span<const double> coefficients() const noexcept {
        return {coef_.data(), static_cast<std::size_t>(count_)};
    }
    // H at f cycles per high-rate sample, in double (design checks, latency).
    [[nodiscard]] std::complex<double> response(double f) const noexcept;
    // Worst |H| in dB over the stopband [0.5 - passband_edge, 0.5].
    [[nodiscard]] double stopband_db() const noexcept;

private:
    int count_ = 0;
    double passband_edge_ = 0.0;
    bool even_blocks_ = false;
    std::array<double, kMaxCoefs> coef_{};
    std::array<float, kMaxCoefs> coef_f_{};
    // Allpass chain state. Up: path inputs share x[n-1] (in1), then each
    // section's previous output. Down: the same per path, plus the odd
    // high-rate sample held back one step (the z^-1 of path 1).
    std::array<float, kMaxCoefs + 2> up_state_{};
    std::array<float, kMaxCoefs + 3> down_state_{};
};

} // namespace rigd::core::dsp
