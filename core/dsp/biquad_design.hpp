#pragma once

#include "core/rt.hpp"

#include <complex>

// Second-order section design in double precision (bilinear transform with
// the analog prototype pre-warped at its characteristic frequency, after
// R. Bristow-Johnson's cookbook). Coefficients are normalised (a0 = 1).
namespace rigd::core::dsp {

struct BiquadCoeffs {
    double b0 = 1.0;
    double b1 = 0.0;
    double b2 = 0.0;
    double a1 = 0.0;
    double a2 = 0.0;

    // H(e^{j 2 pi f / fs}).
    [[nodiscard]] std::complex<double> response(double freq_hz, double sample_rate_hz) const noexcept;
    [[nodiscard]] double magnitude(double freq_hz, double sample_rate_hz) const noexcept {
        return std::abs(response(freq_hz, sample_rate_hz));
    }
};

[[nodiscard]] BiquadCoeffs design_lowpass(double freq_hz, double q, double sample_rate_hz) noexcept RIGD_RT;
[[nodiscard]] BiquadCoeffs design_highpass(double freq_hz, double q, double sample_rate_hz) noexcept RIGD_RT;
// First-order sections (b2 = a2 = 0).
[[nodiscard]] BiquadCoeffs design_lowpass1(double freq_hz, double sample_rate_hz) noexcept RIGD_RT;
[[nodiscard]] BiquadCoeffs design_highpass1(double freq_hz, double sample_rate_hz) noexcept RIGD_RT;
// Peaking bell; bandwidth in octaves (cookbook's BW form).
[[nodiscard]] BiquadCoeffs design_peaking(double freq_hz, double gain_db, double bandwidth_oct,
                                          double sample_rate_hz) noexcept RIGD_RT;
[[nodiscard]] BiquadCoeffs design_peaking_q(double freq_hz, double gain_db, double q,
                                            double sample_rate_hz) noexcept RIGD_RT;
// Shelves with shelf slope S = 1 (steepest without overshoot).
[[nodiscard]] BiquadCoeffs design_low_shelf(double freq_hz, double gain_db, double sample_rate_hz) noexcept RIGD_RT;
[[nodiscard]] BiquadCoeffs design_high_shelf(double freq_hz, double gain_db, double sample_rate_hz) noexcept RIGD_RT;

// Q of section k (0-based) of an order-n Butterworth filter built from
// second-order sections (odd orders add one first-order section).
[[nodiscard]] double butterworth_q(int order, int section) noexcept RIGD_RT;

// Keeps design frequencies strictly inside (0, Nyquist).
[[nodiscard]] double clamp_design_freq(double freq_hz, double sample_rate_hz) noexcept RIGD_RT;

} // namespace rigd::core::dsp
