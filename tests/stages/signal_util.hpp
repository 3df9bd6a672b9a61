#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <vector>

// Measurement helpers for the stage tests (double precision references).
namespace rigd::test {

inline std::vector<float> sine(std::size_t n, double freq_cycles_per_sample, double amplitude, double phase = 0.0) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        x[i] = static_cast<float>(
            amplitude * std::sin(2.0 * std::numbers::pi * freq_cycles_per_sample * static_cast<double>(i) + phase));
    }
    return x;
}

struct SineFit {
    double amplitude = 0.0;
    double phase = 0.0;
    double residual_rms = 0.0; // what is left after removing the fitted sine
};

// Least-squares fit of a*sin + b*cos (+ offset) at a known frequency.
inline SineFit fit_sine(std::span<const float> y, double freq_cycles_per_sample) {
    double ss = 0, sc = 0, cc = 0, ys = 0, yc = 0, s1 = 0, c1 = 0, y1 = 0;
    const auto n = static_cast<double>(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double w = 2.0 * std::numbers::pi * freq_cycles_per_sample * static_cast<double>(i);
        const double s = std::sin(w);
        const double c = std::cos(w);
        ss += s * s;
        sc += s * c;
        cc += c * c;
        ys += y[i] * s;
        yc += y[i] * c;
        s1 += s;
        c1 += c;
        y1 += y[i];
    }
    // Solve the 3x3 normal equations [ss sc s1; sc cc c1; s1 c1 n] [a b d] = [ys yc y1].
    const double m[3][4] = {{ss, sc, s1, ys}, {sc, cc, c1, yc}, {s1, c1, n, y1}};
    double a[3][4];
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 4; ++c) {
            a[r][c] = m[r][c];
        }
    }
    for (int k = 0; k < 3; ++k) {
        int piv = k;
        for (int r = k + 1; r < 3; ++r) {
            if (std::fabs(a[r][k]) > std::fabs(a[piv][k])) {
                piv = r;
            }
        }
        for (int c = 0; c < 4; ++c) {
            std::swap(a[k][c], a[piv][c]);
        }
        for (int r = 0; r < 3; ++r) {
            if (r != k && a[k][k] != 0.0) {
                const double f = a[r][k] / a[k][k];
                for (int c = 0; c < 4; ++c) {
                    a[r][c] -= f * a[k][c];
                }
            }
        }
    }
    const double sa = a[0][3] / a[0][0];
    const double cb = a[1][3] / a[1][1];
    const double d = a[2][3] / a[2][2];
    SineFit out;
    out.amplitude = std::hypot(sa, cb);
    out.phase = std::atan2(cb, sa);
    double r2 = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double w = 2.0 * std::numbers::pi * freq_cycles_per_sample * static_cast<double>(i);
        const double e = y[i] - (sa * std::sin(w) + cb * std::cos(w) + d);
        r2 += e * e;
    }
    out.residual_rms = std::sqrt(r2 / n);
    return out;
}

inline double rms(std::span<const float> y) {
    double s = 0.0;
    for (const float v : y) {
        s += static_cast<double>(v) * v;
    }
    return y.empty() ? 0.0 : std::sqrt(s / static_cast<double>(y.size()));
}

inline double to_db(double g) { return 20.0 * std::log10(g); }

} // namespace rigd::test
