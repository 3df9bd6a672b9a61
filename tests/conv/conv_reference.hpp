#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace rigd::test {

// Naive direct convolution in double precision: the independent reference
// the partitioned convolver is checked against. Output has x.size() +
// h.size() - 1 samples.
inline std::vector<double> naive_convolve(const std::vector<float>& x, const std::vector<float>& h) {
    std::vector<double> y(x.size() + h.size() - 1, 0.0);
    std::vector<double> hd(h.begin(), h.end());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double xi = x[i];
        if (xi == 0.0) {
            continue;
        }
        double* yi = y.data() + i;
        for (std::size_t k = 0; k < hd.size(); ++k) {
            yi[k] += xi * hd[k];
        }
    }
    return y;
}

// A cabinet-like test response: noise under an exponential decay.
inline std::vector<float> decaying_noise(std::size_t n, double decay_samples, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> h(n);
    for (std::size_t i = 0; i < n; ++i) {
        h[i] = u(rng) * static_cast<float>(std::exp(-static_cast<double>(i) / decay_samples));
    }
    return h;
}

inline std::vector<float> white_noise(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> x(n);
    for (float& v : x) {
        v = u(rng);
    }
    return x;
}

// max |a - b| / max |b| over b's length (a is zero beyond its own length).
template <typename A>
inline double peak_relative_error(const A& a, const std::vector<double>& b) {
    double peak = 0.0;
    double err = 0.0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        const double ai = i < a.size() ? static_cast<double>(a[i]) : 0.0;
        peak = std::max(peak, std::abs(b[i]));
        err = std::max(err, std::abs(ai - b[i]));
    }
    return peak > 0.0 ? err / peak : err;
}

} // namespace rigd::test
