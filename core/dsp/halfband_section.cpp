#include "core/dsp/halfband_section.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace rigd::core::dsp {

namespace {

// Odd-offset taps of a Kaiser-windowed half-band sinc with 4P - 1 taps,
// normalised so they sum to exactly 1/2 (both branches pass DC at unity).
std::vector<double> kaiser_halfband(int p, double beta) {
    const int m = 2 * p - 1; // centre index, odd
    const double i0_beta = std::cyl_bessel_i(0.0, beta);
    std::vector<double> taps(static_cast<std::size_t>(2 * p));
    double sum = 0.0;
    for (int i = 0; i < 2 * p; ++i) {
        const int t = 2 * i - m; // odd offsets -(2P-1)..(2P-1)
        const double x = static_cast<double>(t) / static_cast<double>(m + 1);
        const double w = std::cyl_bessel_i(0.0, beta * std::sqrt(std::max(0.0, 1.0 - x * x))) / i0_beta;
        const double u = 0.5 * std::numbers::pi * static_cast<double>(t);
        taps[static_cast<std::size_t>(i)] = 0.5 * std::sin(u) / u * w;
        sum += taps[static_cast<std::size_t>(i)];
    }
    for (double& h : taps) {
        h *= 0.5 / sum;
    }
    return taps;
}

// Worst stopband magnitude in dB over [0.25 + width/2, 0.5].
double stopband_db(const std::vector<double>& taps, double width) {
    const int p = static_cast<int>(taps.size() / 2);
    double worst = 0.0;
    constexpr int kGrid = 2048;
    for (int g = 0; g <= kGrid; ++g) {
        const double f = 0.25 + 0.5 * width + (0.25 - 0.5 * width) * g / kGrid;
        double h = 0.5;
        for (int i = p; i < 2 * p; ++i) { // positive odd offsets t = 2(i - p) + 1
            const double t = 2.0 * (i - p) + 1.0;
            h += 2.0 * taps[static_cast<std::size_t>(i)] * std::cos(2.0 * std::numbers::pi * f * t);
        }
        worst = std::max(worst, std::fabs(h));
    }
    return 20.0 * std::log10(std::max(worst, 1e-30));
}

} // namespace

void HalfbandSection::design(double transition_width, double attenuation_db) {
    if (!(transition_width > 0.0 && transition_width < 0.5)) {
        throw std::invalid_argument("HalfbandSection: transition width must be in (0, 0.5)");
    }
    // Kaiser's beta for the target, then the shortest length that reaches it
    // (checked on the designed taps: Kaiser's length formula is loose for
    // short filters). The half-band's passband deviation equals its
    // stopband deviation, so ripple is ~1e-5 dB at 95 dB.
    const double beta = 0.1102 * (attenuation_db - 8.7);
    const double estimate = (attenuation_db - 7.95) / (14.36 * transition_width);
    int p = std::max(1, static_cast<int>(std::floor((estimate + 2.0) / 4.0)) - 3);
    taps_ = kaiser_halfband(p, beta);
    while (stopband_db(taps_, transition_width) > -attenuation_db && p < 256) {
        taps_ = kaiser_halfband(++p, beta);
    }
    p_ = p;
    // Stored reversed (newest sample last in the buffers, so index j of the
    // window pairs with tap 2P-1-j); symmetric anyway.
    up_taps_.resize(taps_.size());
    down_taps_.resize(taps_.size());
    for (std::size_t i = 0; i < taps_.size(); ++i) {
        up_taps_[i] = static_cast<float>(2.0 * taps_[taps_.size() - 1 - i]);
        down_taps_[i] = static_cast<float>(taps_[taps_.size() - 1 - i]);
    }
}

void HalfbandSection::prepare(std::size_t max_low_rate_block) {
    max_block_ = max_low_rate_block;
    const auto hist = static_cast<std::size_t>(2 * p_ - 1);
    up_buf_.assign(hist + max_block_, 0.0f);
    even_buf_.assign(hist + max_block_, 0.0f);
    odd_buf_.assign(static_cast<std::size_t>(p_) + max_block_, 0.0f);
    acc_.assign(max_block_, 0.0f);
}

void HalfbandSection::reset() noexcept {
    std::fill(up_buf_.begin(), up_buf_.end(), 0.0f);
    std::fill(even_buf_.begin(), even_buf_.end(), 0.0f);
    std::fill(odd_buf_.begin(), odd_buf_.end(), 0.0f);
}

void HalfbandSection::fir(const float* buf, const float* taps, std::size_t ntaps, float* acc,
                          std::size_t n) noexcept {
    const float t0 = taps[0];
    for (std::size_t m = 0; m < n; ++m) {
        acc[m] = t0 * buf[m];
    }
    for (std::size_t j = 1; j < ntaps; ++j) {
        const float t = taps[j];
        const float* b = buf + j;
        for (std::size_t m = 0; m < n; ++m) {
            acc[m] += t * b[m];
        }
    }
}

void HalfbandSection::upsample(std::span<const float> in, std::span<float> out) noexcept {
    const std::size_t n = in.size();
    const auto hist = static_cast<std::size_t>(2 * p_ - 1);
    float* buf = up_buf_.data();
    std::copy(in.begin(), in.end(), buf + hist);
    fir(buf, up_taps_.data(), up_taps_.size(), acc_.data(), n);
    // Odd outputs: the centre tap (1/2, doubled) on a pure delay of P - 1.
    const std::size_t centre = static_cast<std::size_t>(p_);
    for (std::size_t m = 0; m < n; ++m) {
        out[2 * m] = acc_[m];
        out[2 * m + 1] = buf[m + centre];
    }
    std::copy(buf + n, buf + n + hist, buf);
}

void HalfbandSection::downsample(std::span<const float> in, std::span<float> out) noexcept {
    const std::size_t n = out.size();
    const auto hist = static_cast<std::size_t>(2 * p_ - 1);
    const auto p = static_cast<std::size_t>(p_);
    float* even = even_buf_.data();
    float* odd = odd_buf_.data();
    for (std::size_t m = 0; m < n; ++m) {
        even[hist + m] = in[2 * m];
        odd[p + m] = in[2 * m + 1];
    }
    fir(even, down_taps_.data(), down_taps_.size(), acc_.data(), n);
    for (std::size_t m = 0; m < n; ++m) {
        out[m] = acc_[m] + 0.5f * odd[m];
    }
    std::copy(even + n, even + n + hist, even);
    std::copy(odd + n, odd + n + p, odd);
}

} // namespace rigd::core::dsp
