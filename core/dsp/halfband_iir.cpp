#include "core/dsp/halfband_iir.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
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

// Two lanes: the two allpass paths side by side (GCC/clang vector
// extension; one 64-bit NEON register, an SSE register's low half on x86).
// Each lane computes exactly what the one-path scalar code computes, so the
// output is the same; the two paths just share each instruction.
using V2 = float __attribute__((vector_size(8)));

// One path (K first-order allpasses in the low-rate domain, each
// y = a (x - y1) + x1) on one sample: u in, u1 = the previous input; y holds
// each section's previous output (the next section's previous input).
// Written so each recursion through y is a single FMA. On return u1 is the
// last section's previous output (the previous input of a section after it).
template <typename T, std::size_t K>
inline T chain_one(const std::array<T, K>& c, std::array<T, K>& y, T u, T& u1) noexcept RIGD_RT {
    for (std::size_t i = 0; i < K; ++i) {
        const T v = u1 + c[i] * u;
        const T out = v - c[i] * y[i];
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
template <typename T, std::size_t K>
inline void chain_pair(const std::array<T, K>& c, const std::array<T, K>& c2, std::array<T, K>& y, T& ua, T& ub,
                       T& u1) noexcept RIGD_RT {
    for (std::size_t i = 0; i < K; ++i) {
        const T v0 = u1 + c[i] * ua;
        const T v1 = ua + c[i] * ub;
        const T w = v1 - c[i] * v0;
        const T ya = v0 - c[i] * y[i];
        const T yb = w + c2[i] * y[i];
        u1 = y[i];
        y[i] = yb;
        ua = ya;
        ub = yb;
    }
}

// The paths of an N-coefficient section in two lanes: path 0 (even
// coefficients) in lane L0, path 1 in the other. Path 0 has one section
// more when N is odd: that one runs alone (the tail). State in memory:
// path 0 outputs, then path 1 outputs.
template <int N, int L0>
struct Lanes {
    static constexpr std::size_t kN0 = (N + 1) / 2;
    static constexpr std::size_t kPairs = N / 2;
    static constexpr bool kTail = N % 2 != 0;
    static constexpr int kL1 = 1 - L0;
    std::array<V2, kPairs> c{};
    std::array<V2, kPairs> csq{};
    std::array<V2, kPairs> y{};
    std::array<float, 1> ct{};
    std::array<float, 1> ctsq{};
    std::array<float, 1> yt{};

    Lanes(const float* coef, const float* st) noexcept RIGD_RT {
        for (std::size_t i = 0; i < kPairs; ++i) {
            c[i][L0] = coef[2 * i];
            c[i][kL1] = coef[2 * i + 1];
            csq[i] = c[i] * c[i];
            y[i][L0] = st[i];
            y[i][kL1] = st[kN0 + i];
        }
        if constexpr (kTail) {
            ct[0] = coef[2 * kPairs];
            ctsq[0] = ct[0] * ct[0];
            yt[0] = st[kPairs];
        }
    }
    void store(float* st) const noexcept RIGD_RT {
        for (std::size_t i = 0; i < kPairs; ++i) {
            st[i] = y[i][L0];
            st[kN0 + i] = y[i][kL1];
        }
        if constexpr (kTail) {
            st[kPairs] = yt[0];
        }
    }
    // One sample through both paths; returns (lane L0 = path 0, other = path 1).
    V2 one(V2 u, V2 u1) noexcept RIGD_RT {
        V2 out = chain_one(c, y, u, u1);
        if constexpr (kTail) {
            float t1 = u1[L0];
            out[L0] = chain_one(ct, yt, out[L0], t1);
        }
        return out;
    }
    void pair(V2& ua, V2& ub, V2 u1) noexcept RIGD_RT {
        chain_pair(c, csq, y, ua, ub, u1);
        if constexpr (kTail) {
            float a = ua[L0];
            float b = ub[L0];
            float t1 = u1[L0];
            chain_pair(ct, ctsq, yt, a, b, t1);
            ua[L0] = a;
            ub[L0] = b;
        }
    }
};

inline V2 load2(const float* p) noexcept RIGD_RT {
    V2 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store2(float* p, V2 v) noexcept RIGD_RT { std::memcpy(p, &v, sizeof v); }

// One coefficient: path 1 is the identity, path 0 a single section (scalar).
template <bool kPaired>
void up_single(const float* coef, float* st, const float* in, float* out, std::size_t n) noexcept RIGD_RT {
    const std::array<float, 1> c{coef[0]};
    const std::array<float, 1> c2{coef[0] * coef[0]};
    std::array<float, 1> y{st[1]};
    float x1 = st[0];
    std::size_t m = 0;
    if constexpr (kPaired) {
        for (; m + 1 < n; m += 2) {
            float a = in[m];
            float b = in[m + 1];
            float u1 = x1;
            chain_pair(c, c2, y, a, b, u1);
            out[2 * m] = a;
            out[2 * m + 1] = in[m];
            out[2 * m + 2] = b;
            out[2 * m + 3] = in[m + 1];
            x1 = in[m + 1];
        }
    }
    for (; m < n; ++m) {
        float u1 = x1;
        out[2 * m] = chain_one(c, y, in[m], u1);
        out[2 * m + 1] = in[m];
        x1 = in[m];
    }
    st[0] = x1;
    st[1] = y[0];
}

template <bool kPaired>
void down_single(const float* coef, float* st, const float* in, float* out, std::size_t n) noexcept RIGD_RT {
    const std::array<float, 1> c{coef[0]};
    const std::array<float, 1> c2{coef[0] * coef[0]};
    std::array<float, 1> y{st[3]};
    float e1 = st[0];
    float hold = st[2];
    std::size_t m = 0;
    if constexpr (kPaired) {
        for (; m + 1 < n; m += 2) {
            float ea = in[2 * m];
            float eb = in[2 * m + 2];
            const float e_last = eb;
            float u1 = e1;
            chain_pair(c, c2, y, ea, eb, u1);
            out[m] = 0.5f * (ea + hold);
            out[m + 1] = 0.5f * (eb + in[2 * m + 1]);
            hold = in[2 * m + 3];
            e1 = e_last;
        }
    }
    for (; m < n; ++m) {
        const float e = in[2 * m];
        float u1 = e1;
        out[m] = 0.5f * (chain_one(c, y, e, u1) + hold);
        hold = in[2 * m + 1];
        e1 = e;
    }
    st[0] = e1; // st[1], path 1's previous input, is unused: path 1 is the identity
    st[2] = hold;
    st[3] = y[0];
}

// Up: both paths take x; out[2m] = A0 x, out[2m + 1] = A1 x (A1 = 1 when
// N == 1). State: [x1, path 0 outputs..., path 1 outputs...]. Counts are
// template parameters so the state stays in registers. Paired: n is even.
template <int N, bool kPaired>
void up_impl(const float* coef, float* st, const float* in, float* out, std::size_t n) noexcept RIGD_RT {
    if constexpr (N == 1) {
        up_single<kPaired>(coef, st, in, out, n);
    } else {
        Lanes<N, 0> p(coef, st + 1);
        float x1 = st[0];
        if constexpr (kPaired) {
            for (std::size_t m = 0; m + 1 < n; m += 2) {
                V2 a = {in[m], in[m]};
                V2 b = {in[m + 1], in[m + 1]};
                p.pair(a, b, V2{x1, x1});
                store2(out + 2 * m, a);
                store2(out + 2 * m + 2, b);
                x1 = in[m + 1];
            }
        } else {
            for (std::size_t m = 0; m < n; ++m) {
                const float x = in[m];
                store2(out + 2 * m, p.one(V2{x, x}, V2{x1, x1}));
                x1 = x;
            }
        }
        st[0] = x1;
        p.store(st + 1);
    }
}

// Down: out[m] = (A0 applied to in[2m] + A1 applied to in[2m - 1]) / 2.
// State: [even x1, odd x1, held odd sample, path 0 outputs..., path 1
// outputs...]. Lanes: path 1 in lane 0, path 0 in lane 1, so in[2m - 1]
// and in[2m] load as one pair. Paired: n is even.
template <int N, bool kPaired>
void down_impl(const float* coef, float* st, const float* in, float* out, std::size_t n) noexcept RIGD_RT {
    if constexpr (N == 1) {
        down_single<kPaired>(coef, st, in, out, n);
    } else {
        Lanes<N, 1> p(coef, st + 3);
        V2 u1 = {st[1], st[0]}; // (odd, even) previous inputs
        const float hold = st[2];
        if (n == 0) {
            return;
        }
        // in[2m - 1]: the held sample for m = 0, then in the block.
        V2 ua = {hold, in[0]};
        if constexpr (kPaired) {
            for (std::size_t m = 0;;) {
                V2 ub = load2(in + 2 * m + 1);
                const V2 next_u1 = ub;
                p.pair(ua, ub, u1);
                out[m] = 0.5f * (ua[0] + ua[1]);
                out[m + 1] = 0.5f * (ub[0] + ub[1]);
                u1 = next_u1;
                m += 2;
                if (m + 1 >= n) {
                    break;
                }
                ua = load2(in + 2 * m - 1);
            }
        } else {
            for (std::size_t m = 0;;) {
                const V2 y = p.one(ua, u1);
                out[m] = 0.5f * (y[0] + y[1]);
                u1 = ua;
                if (++m == n) {
                    break;
                }
                ua = load2(in + 2 * m - 1);
            }
        }
        st[0] = u1[1];
        st[1] = u1[0];
        st[2] = in[2 * n - 1];
        p.store(st + 3);
    }
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
