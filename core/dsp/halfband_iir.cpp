#include "core/dsp/halfband_iir.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <stdexcept>
#include <utility>

namespace rigd::core::dsp {

namespace {

using UpFn = void (*)(const float*, float*, const float*, float*, std::size_t) noexcept RIGD_RT;
using DownFn = void (*)(const float*, float*, const float*, float*, std::size_t) noexcept RIGD_RT;

// Elliptic half-band allpass coefficients for `count` coefficients (filter
// order 2 * count + 1) and passband edge fp (cycles per sample), from the
// Jacobi theta-series form of the elliptic design (Valenzuela and
// Constantinides 1983). Ascending.
std::array<double, HalfbandIir::kMaxCoefs> elliptic_halfband(int count, double fp) {
    const double pi = std::numbers::pi;
    const int order = 2 * count + 1;
    const double t = std::tan(pi * fp);
    const double k = t * t; // selectivity: tan(wp / 2) / tan(ws / 2) with ws = pi - wp
    const double kp = std::sqrt(1.0 - k * k);
    const double e = 0.5 * (1.0 - std::sqrt(kp)) / (1.0 + std::sqrt(kp));
    const double q = e + 2.0 * std::pow(e, 5) + 15.0 * std::pow(e, 9) + 150.0 * std::pow(e, 13); // nome
    std::array<double, HalfbandIir::kMaxCoefs> a{};
    for (int i = 1; i <= count; ++i) {
        double num = 0.0;
        double den = 0.0;
        for (int m = 0; m < 16; ++m) {
            const double sign = (m % 2 == 0) ? 1.0 : -1.0;
            num += sign * std::pow(q, m * (m + 1)) * std::sin((2 * m + 1) * pi * i / order);
            if (m > 0) {
                den += sign * std::pow(q, m * m) * std::cos(2.0 * m * pi * i / order);
            }
        }
        const double w = 2.0 * std::pow(q, 0.25) * num / (1.0 + 2.0 * den);
        const double w2 = w * w;
        const double ap = std::sqrt((1.0 - w2 * k) * (1.0 - w2 / k)) / (1.0 + w2);
        a[static_cast<std::size_t>(i - 1)] = (1.0 - ap) / (1.0 + ap);
    }
    // Ascending (insertion sort: std::sort on a prefix trips GCC 12's
    // -Warray-bounds).
    for (std::size_t i = 1; i < static_cast<std::size_t>(count); ++i) {
        for (std::size_t j = i; j > 0 && a[j - 1] > a[j]; --j) {
            std::swap(a[j - 1], a[j]);
        }
    }
    return a;
}

// One path (K first-order allpasses in the low-rate domain, each
// y = a (x - y1) + x1) on one sample: u in, u1 = the previous input; y holds
// each section's previous output (the next section's previous input).
// Written so each recursion through y is a single FMA.
template <std::size_t K>
inline float chain_one(const std::array<float, K>& c, std::array<float, K>& y, float u, float u1) noexcept RIGD_RT {
    for (std::size_t i = 0; i < K; ++i) {
        const float v = u1 + c[i] * u;
        const float out = v - c[i] * y[i];
        u1 = y[i];
        y[i] = out;
        u = out;
    }
    return u;
}

// The same on two samples (ua = u[n], ub = u[n + 1]) per step, both outputs
// computed from y[n - 1] (y[n + 1] = v[n + 1] - a v[n] + a^2 y[n - 1]): the
// recursion advances two samples per FMA, which is what bounds the short
// high-rate sections. Rounds differently from chain_one, so it is only used
// where pairs stay aligned whatever the block split (sections after the
// first see lengths n * 2^s; test "any block split gives the same output").
template <std::size_t K>
inline void chain_pair(const std::array<float, K>& c, const std::array<float, K>& c2, std::array<float, K>& y,
                       float& ua, float& ub, float u1) noexcept {
    for (std::size_t i = 0; i < K; ++i) {
        const float v0 = u1 + c[i] * ua;
        const float v1 = ua + c[i] * ub;
        const float w = v1 - c[i] * v0;
        const float ya = v0 - c[i] * y[i];
        const float yb = w + c2[i] * y[i];
        u1 = y[i];
        y[i] = yb;
        ua = ya;
        ub = yb;
    }
}

template <int N>
struct Paths {
    static constexpr std::size_t kN0 = (N + 1) / 2;
    static constexpr std::size_t kN1 = N / 2;
    std::array<float, kN0> c0{};
    std::array<float, kN1> c1{};
    std::array<float, kN0> c0sq{};
    std::array<float, kN1> c1sq{};
    std::array<float, kN0> y0{};
    std::array<float, kN1> y1{};

    Paths(const float* coef, const float* st) noexcept RIGD_RT {
        for (std::size_t i = 0; i < kN0; ++i) {
            c0[i] = coef[2 * i];
            c0sq[i] = c0[i] * c0[i];
            y0[i] = st[i];
        }
        for (std::size_t i = 0; i < kN1; ++i) {
            c1[i] = coef[2 * i + 1];
            c1sq[i] = c1[i] * c1[i];
            y1[i] = st[kN0 + i];
        }
    }
    void store(float* st) const noexcept RIGD_RT {
        for (std::size_t i = 0; i < kN0; ++i) {
            st[i] = y0[i];
        }
        for (std::size_t i = 0; i < kN1; ++i) {
            st[kN0 + i] = y1[i];
        }
    }
};

// Up: both paths take x; out[2m] = A0 x, out[2m + 1] = A1 x (A1 = 1 when
// N == 1). State: [x1, path 0 outputs..., path 1 outputs...]. Counts are
// template parameters so the state stays in registers. Paired: n is even.
template <int N, bool kPaired>
void up_impl(const float* coef, float* st, const float* in, float* out, std::size_t n) noexcept RIGD_RT {
    Paths<N> p(coef, st + 1);
    float x1 = st[0];
    if constexpr (kPaired) {
        for (std::size_t m = 0; m + 1 < n; m += 2) {
            float a0 = in[m];
            float b0 = in[m + 1];
            float a1 = a0;
            float b1 = b0;
            chain_pair(p.c0, p.c0sq, p.y0, a0, b0, x1);
            chain_pair(p.c1, p.c1sq, p.y1, a1, b1, x1);
            out[2 * m] = a0;
            out[2 * m + 1] = a1;
            out[2 * m + 2] = b0;
            out[2 * m + 3] = b1;
            x1 = in[m + 1];
        }
    } else {
        for (std::size_t m = 0; m < n; ++m) {
            const float x = in[m];
            out[2 * m] = chain_one(p.c0, p.y0, x, x1);
            out[2 * m + 1] = chain_one(p.c1, p.y1, x, x1);
            x1 = x;
        }
    }
    st[0] = x1;
    p.store(st + 1);
}

// Down: out[m] = (A0 applied to in[2m] + A1 applied to in[2m - 1]) / 2.
// State: [even x1, odd x1, held odd sample, path 0 outputs..., path 1
// outputs...]. Paired: n is even.
template <int N, bool kPaired>
void down_impl(const float* coef, float* st, const float* in, float* out, std::size_t n) noexcept RIGD_RT {
    Paths<N> p(coef, st + 3);
    float e1 = st[0];
    float o1 = st[1];
    float hold = st[2];
    if constexpr (kPaired) {
        for (std::size_t m = 0; m + 1 < n; m += 2) {
            float ea = in[2 * m];
            float eb = in[2 * m + 2];
            float oa = hold;
            float ob = in[2 * m + 1];
            hold = in[2 * m + 3];
            const float e_last = eb;
            const float o_last = ob;
            chain_pair(p.c0, p.c0sq, p.y0, ea, eb, e1);
            chain_pair(p.c1, p.c1sq, p.y1, oa, ob, o1);
            out[m] = 0.5f * (ea + oa);
            out[m + 1] = 0.5f * (eb + ob);
            e1 = e_last;
            o1 = o_last;
        }
    } else {
        for (std::size_t m = 0; m < n; ++m) {
            const float e = in[2 * m];
            const float o = hold;
            hold = in[2 * m + 1];
            const float p0 = chain_one(p.c0, p.y0, e, e1);
            const float p1 = chain_one(p.c1, p.y1, o, o1);
            out[m] = 0.5f * (p0 + p1);
            e1 = e;
            o1 = o;
        }
    }
    st[0] = e1;
    st[1] = o1;
    st[2] = hold;
    p.store(st + 3);
}

template <bool kPaired, std::size_t... I>
constexpr std::array<UpFn, sizeof...(I)> make_up_table(std::index_sequence<I...> /*unused*/) {
    return {&up_impl<static_cast<int>(I) + 1, kPaired>...};
}
template <bool kPaired, std::size_t... I>
constexpr std::array<DownFn, sizeof...(I)> make_down_table(std::index_sequence<I...> /*unused*/) {
    return {&down_impl<static_cast<int>(I) + 1, kPaired>...};
}

constexpr auto kUp = make_up_table<false>(std::make_index_sequence<HalfbandIir::kMaxCoefs>{});
constexpr auto kDown = make_down_table<false>(std::make_index_sequence<HalfbandIir::kMaxCoefs>{});
constexpr auto kUpPaired = make_up_table<true>(std::make_index_sequence<HalfbandIir::kMaxCoefs>{});
constexpr auto kDownPaired = make_down_table<true>(std::make_index_sequence<HalfbandIir::kMaxCoefs>{});

} // namespace

void HalfbandIir::design(double passband_edge, double attenuation_db, bool even_blocks) {
    if (!(passband_edge > 0.0 && passband_edge < 0.25)) {
        throw std::invalid_argument("HalfbandIir: passband edge must be in (0, 0.25) cycles per sample");
    }
    passband_edge_ = passband_edge;
    even_blocks_ = even_blocks;
    for (int count = 1; count <= kMaxCoefs; ++count) {
        count_ = count;
        coef_ = elliptic_halfband(count, passband_edge);
        if (stopband_db() <= -attenuation_db) {
            for (std::size_t i = 0; i < coef_.size(); ++i) {
                coef_f_[i] = static_cast<float>(coef_[i]);
            }
            reset();
            return;
        }
    }
    count_ = 0;
    throw std::invalid_argument("HalfbandIir: attenuation target not reachable with 12 coefficients");
}

void HalfbandIir::reset() noexcept RIGD_RT {
    up_state_.fill(0.0f);
    down_state_.fill(0.0f);
}

std::complex<double> HalfbandIir::response(double f) const noexcept {
    const std::complex<double> z1 = std::polar(1.0, -2.0 * std::numbers::pi * f);
    const std::complex<double> z2 = z1 * z1;
    std::complex<double> a0 = 1.0;
    std::complex<double> a1 = 1.0;
    for (int i = 0; i < count_; ++i) {
        const double a = coef_[static_cast<std::size_t>(i)];
        const std::complex<double> s = (a + z2) / (1.0 + a * z2);
        (i % 2 == 0 ? a0 : a1) *= s;
    }
    return 0.5 * (a0 + z1 * a1);
}

double HalfbandIir::stopband_db() const noexcept {
    constexpr int kGrid = 2048;
    double worst = 0.0;
    for (int g = 0; g <= kGrid; ++g) {
        const double f = 0.5 - passband_edge_ + passband_edge_ * g / kGrid;
        worst = std::max(worst, std::abs(response(f)));
    }
    return 20.0 * std::log10(std::max(worst, 1e-30));
}

void HalfbandIir::upsample(std::span<const float> in, std::span<float> out) noexcept RIGD_RT {
    const auto& table = even_blocks_ ? kUpPaired : kUp;
    table[static_cast<std::size_t>(count_ - 1)](coef_f_.data(), up_state_.data(), in.data(), out.data(), in.size());
}

void HalfbandIir::downsample(std::span<const float> in, std::span<float> out) noexcept RIGD_RT {
    const auto& table = even_blocks_ ? kDownPaired : kDown;
    table[static_cast<std::size_t>(count_ - 1)](coef_f_.data(), down_state_.data(), in.data(), out.data(),
                                                out.size());
}

} // namespace rigd::core::dsp
