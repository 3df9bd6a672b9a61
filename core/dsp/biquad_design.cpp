#include "core/dsp/biquad_design.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace rigd::core::dsp {

namespace {

constexpr double kPi = std::numbers::pi;

BiquadCoeffs normalise(double b0, double b1, double b2, double a0, double a1, double a2) noexcept RIGD_RT {
    const double inv = 1.0 / a0;
    return {b0 * inv, b1 * inv, b2 * inv, a1 * inv, a2 * inv};
}

} // namespace

std::complex<double> BiquadCoeffs::response(double freq_hz, double sample_rate_hz) const noexcept {
    const double w = 2.0 * kPi * freq_hz / sample_rate_hz;
    const std::complex<double> z1 = std::polar(1.0, -w);
    const std::complex<double> z2 = z1 * z1;
    return (b0 + b1 * z1 + b2 * z2) / (1.0 + a1 * z1 + a2 * z2);
}

double clamp_design_freq(double freq_hz, double sample_rate_hz) noexcept RIGD_RT {
    return std::clamp(freq_hz, 1e-5 * sample_rate_hz, 0.499 * sample_rate_hz);
}

BiquadCoeffs design_lowpass(double freq_hz, double q, double sample_rate_hz) noexcept RIGD_RT {
    const double w0 = 2.0 * kPi * clamp_design_freq(freq_hz, sample_rate_hz) / sample_rate_hz;
    const double c = std::cos(w0);
    const double alpha = std::sin(w0) / (2.0 * q);
    return normalise((1.0 - c) * 0.5, 1.0 - c, (1.0 - c) * 0.5, 1.0 + alpha, -2.0 * c, 1.0 - alpha);
}

BiquadCoeffs design_highpass(double freq_hz, double q, double sample_rate_hz) noexcept RIGD_RT {
    const double w0 = 2.0 * kPi * clamp_design_freq(freq_hz, sample_rate_hz) / sample_rate_hz;
    const double c = std::cos(w0);
    const double alpha = std::sin(w0) / (2.0 * q);
    return normalise((1.0 + c) * 0.5, -(1.0 + c), (1.0 + c) * 0.5, 1.0 + alpha, -2.0 * c, 1.0 - alpha);
}

BiquadCoeffs design_lowpass1(double freq_hz, double sample_rate_hz) noexcept RIGD_RT {
    // H(s) = 1 / (1 + s/wc), s = K (1 - z^-1)/(1 + z^-1), K = 1/tan(w0/2).
    const double k = std::tan(kPi * clamp_design_freq(freq_hz, sample_rate_hz) / sample_rate_hz);
    return normalise(k, k, 0.0, k + 1.0, k - 1.0, 0.0);
}

BiquadCoeffs design_highpass1(double freq_hz, double sample_rate_hz) noexcept RIGD_RT {
    const double k = std::tan(kPi * clamp_design_freq(freq_hz, sample_rate_hz) / sample_rate_hz);
    return normalise(1.0, -1.0, 0.0, k + 1.0, k - 1.0, 0.0);
}

BiquadCoeffs design_peaking_q(double freq_hz, double gain_db, double q, double sample_rate_hz) noexcept RIGD_RT {
    const double w0 = 2.0 * kPi * clamp_design_freq(freq_hz, sample_rate_hz) / sample_rate_hz;
    const double a = std::pow(10.0, gain_db / 40.0);
    const double c = std::cos(w0);
    const double alpha = std::sin(w0) / (2.0 * q);
    return normalise(1.0 + alpha * a, -2.0 * c, 1.0 - alpha * a, 1.0 + alpha / a, -2.0 * c, 1.0 - alpha / a);
}

BiquadCoeffs design_peaking(double freq_hz, double gain_db, double bandwidth_oct, double sample_rate_hz) noexcept RIGD_RT {
    const double w0 = 2.0 * kPi * clamp_design_freq(freq_hz, sample_rate_hz) / sample_rate_hz;
    const double s = std::sin(w0);
    const double alpha = s * std::sinh(std::numbers::ln2 / 2.0 * bandwidth_oct * w0 / s);
    return design_peaking_q(freq_hz, gain_db, s / (2.0 * alpha), sample_rate_hz);
}

BiquadCoeffs design_low_shelf(double freq_hz, double gain_db, double sample_rate_hz) noexcept RIGD_RT {
    const double w0 = 2.0 * kPi * clamp_design_freq(freq_hz, sample_rate_hz) / sample_rate_hz;
    const double a = std::pow(10.0, gain_db / 40.0);
    const double c = std::cos(w0);
    const double alpha = std::sin(w0) / 2.0 * std::sqrt(2.0); // S = 1
    const double sa = 2.0 * std::sqrt(a) * alpha;
    return normalise(a * ((a + 1.0) - (a - 1.0) * c + sa), 2.0 * a * ((a - 1.0) - (a + 1.0) * c),
                     a * ((a + 1.0) - (a - 1.0) * c - sa), (a + 1.0) + (a - 1.0) * c + sa,
                     -2.0 * ((a - 1.0) + (a + 1.0) * c), (a + 1.0) + (a - 1.0) * c - sa);
}

BiquadCoeffs design_high_shelf(double freq_hz, double gain_db, double sample_rate_hz) noexcept RIGD_RT {
    const double w0 = 2.0 * kPi * clamp_design_freq(freq_hz, sample_rate_hz) / sample_rate_hz;
    const double a = std::pow(10.0, gain_db / 40.0);
    const double c = std::cos(w0);
    const double alpha = std::sin(w0) / 2.0 * std::sqrt(2.0);
    const double sa = 2.0 * std::sqrt(a) * alpha;
    return normalise(a * ((a + 1.0) + (a - 1.0) * c + sa), -2.0 * a * ((a - 1.0) + (a + 1.0) * c),
                     a * ((a + 1.0) + (a - 1.0) * c - sa), (a + 1.0) - (a - 1.0) * c + sa,
                     2.0 * ((a - 1.0) - (a + 1.0) * c), (a + 1.0) - (a - 1.0) * c - sa);
}

double butterworth_q(int order, int section) noexcept RIGD_RT {
    // Pole pairs at angles (2k+1) pi / (2n) from the imaginary axis.
    const double theta = (2.0 * section + 1.0) * kPi / (2.0 * order);
    return 1.0 / (2.0 * std::sin(theta));
}

} // namespace rigd::core::dsp
