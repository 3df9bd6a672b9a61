// Shaping curves and fast math against references, and measured behaviour
// of sat (transparent at zero drive), reverb (decay and damping) and trem
// (depth and rate from the envelope).
#include "core/dsp/fast_math.hpp"
#include "core/dsp/triode_table.hpp"
#include "core/stages/reverb_stage.hpp"
#include "core/stages/sat_stage.hpp"
#include "core/stages/trem_stage.hpp"

#include "signal_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

using rigd::core::ProcessSpec;
namespace dsp = rigd::core::dsp;
namespace st = rigd::core::stages;

namespace {
constexpr double kFs = 48000.0;

void process(rigd::core::Stage& s, std::vector<float>& y, std::size_t block = 128) {
    for (std::size_t i = 0; i < y.size(); i += block) {
        s.process_block(std::span<float>(y.data() + i, std::min(block, y.size() - i)));
    }
}
} // namespace

TEST_CASE("fast_tanh: within 1e-4 of std::tanh, odd, bounded by 1") {
    double worst = 0.0;
    for (double x = -12.0; x <= 12.0; x += 1e-4) {
        const float y = dsp::fast_tanh(static_cast<float>(x));
        worst = std::max(worst, std::fabs(y - std::tanh(static_cast<double>(static_cast<float>(x)))));
        REQUIRE(std::fabs(y) <= 1.0f);
        REQUIRE(dsp::fast_tanh(static_cast<float>(-x)) == -y);
    }
    MESSAGE("fast_tanh max abs error " << worst);
    CHECK(worst < 1e-4);
    // Small signals: relative accuracy (the curve must be transparent there).
    for (double x = 1e-6; x < 0.1; x *= 1.1) {
        CHECK(std::fabs(dsp::fast_tanh(static_cast<float>(x)) / std::tanh(x) - 1.0) < 1e-6);
    }
}

TEST_CASE("clamp_abs: the float clamp to [-k, k], on the bits") {
    const float k = 4.9715867f;
    for (const float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 0.5f, -3.25f, 4.9715862f, -4.9715862f}) {
        CHECK(dsp::clamp_abs(x, k) == x);
        CHECK(std::signbit(dsp::clamp_abs(x, k)) == std::signbit(x));
    }
    for (const float x : {4.9715871f, 7.0f, 1e30f, std::numeric_limits<float>::infinity()}) {
        CHECK(dsp::clamp_abs(x, k) == k);
        CHECK(dsp::clamp_abs(-x, k) == -k);
    }
    // NaN is clamped too (its bits sort above infinity's): +-1 out of fast_tanh.
    CHECK(std::fabs(dsp::clamp_abs(std::numeric_limits<float>::quiet_NaN(), k)) == k);
    CHECK(std::fabs(dsp::fast_tanh(std::numeric_limits<float>::quiet_NaN())) <= 1.0f);
    CHECK(dsp::fast_exp2(std::numeric_limits<float>::infinity()) == std::exp2(126.0f));
    CHECK(dsp::fast_exp2(-std::numeric_limits<float>::infinity()) == std::exp2(-126.0f));
}

TEST_CASE("fast_sin_2pi: within 5e-6 of std::sin over a whole cycle") {
    double worst = 0.0;
    for (int i = 0; i < 1000000; ++i) {
        const float p = static_cast<float>(i) / 1e6f;
        worst = std::max(worst, std::fabs(dsp::fast_sin_2pi(p) - std::sin(2.0 * std::numbers::pi * p)));
    }
    MESSAGE("fast_sin_2pi max abs error " << worst);
    CHECK(worst < 5e-6);
}

TEST_CASE("fast_exp2 within 1e-6 relative, fast_log2 within 5e-6 absolute") {
    double worst_exp = 0.0;
    for (double x = -100.0; x <= 100.0; x += 1e-3) {
        const auto xf = static_cast<float>(x);
        worst_exp = std::max(worst_exp, std::fabs(dsp::fast_exp2(xf) / std::exp2(static_cast<double>(xf)) - 1.0));
    }
    double worst_log = 0.0;
    for (double x = 1e-30; x < 1e6; x *= 1.0001) {
        const auto xf = static_cast<float>(x);
        worst_log = std::max(worst_log, std::fabs(dsp::fast_log2(xf) - std::log2(static_cast<double>(xf))));
    }
    MESSAGE("fast_exp2 max rel error " << worst_exp << ", fast_log2 max abs error " << worst_log);
    CHECK(worst_exp < 1e-6);
    CHECK(worst_log < 5e-6); // ~2 float ulps of |log2| up to 32
    CHECK(dsp::fast_log2(0.0f) <= -126.0f); // silence maps far below any threshold
}

TEST_CASE("triode curve: monotonic, bounded, f(0) = 0 with unit slope, asymmetric") {
    const auto& t = dsp::TriodeTable::instance();
    float prev = t(-15.0f);
    double lo = 0.0, hi = 0.0;
    double worst_fall = 0.0;
    double peak = 0.0;
    for (double x = -15.0; x <= 15.0; x += 1e-3) {
        const float y = t(static_cast<float>(x));
        worst_fall = std::max(worst_fall, static_cast<double>(prev - y));
        peak = std::max(peak, static_cast<double>(std::fabs(y)));
        prev = y;
        lo = std::min(lo, static_cast<double>(y));
        hi = std::max(hi, static_cast<double>(y));
    }
    // The model itself never falls, and rises strictly between cut-off
    // (plate current 0) and grid-conduction saturation, where it is flat.
    const double floor = dsp::TriodeTable::curve(-10.0);
    const double top = dsp::TriodeTable::curve(10.0);
    int falls = 0;
    int flat_while_conducting = 0;
    for (double x = -10.0; x < 10.0; x += 1e-2) {
        const double a = dsp::TriodeTable::curve(x);
        const double b = dsp::TriodeTable::curve(x + 1e-2);
        falls += b < a ? 1 : 0;
        flat_while_conducting += (a > floor + 1e-6 && b < top - 1e-6 && !(b > a)) ? 1 : 0;
    }
    CHECK(falls == 0);
    CHECK(flat_while_conducting == 0);
    CHECK(dsp::TriodeTable::curve(0.0) > floor + 0.1); // biased well inside the active region
    CHECK(dsp::TriodeTable::curve(0.0) < top - 0.1);
    CHECK(worst_fall <= 1e-6); // the interpolated table: monotonic up to rounding
    CHECK(peak <= 1.0 + 1e-5);  // bounded
    CHECK(std::fabs(t(0.0f)) < 1e-6f);
    const double slope = (t(1e-3f) - t(-1e-3f)) / 2e-3;
    CHECK(slope == doctest::Approx(1.0).epsilon(0.01));
    // One swing saturates at 1, the other clearly lower: even harmonics.
    MESSAGE("triode swings: " << lo << " .. " << hi);
    CHECK(std::max(-lo, hi) == doctest::Approx(1.0).epsilon(1e-3));
    CHECK(std::min(-lo, hi) < 0.9 * std::max(-lo, hi));
    // A symmetric sine comes out with a DC shift and a 2nd harmonic.
    const auto x = rigd::test::sine(48000, 100.0 / kFs, 3.0);
    std::vector<float> y(x.size());
    std::transform(x.begin(), x.end(), y.begin(), [&](float v) { return t(v); });
    const auto h1 = rigd::test::fit_sine(y, 100.0 / kFs).amplitude;
    const auto h2 = rigd::test::fit_sine(y, 200.0 / kFs).amplitude;
    CHECK(h2 / h1 > 0.01); // above -40 dB
}

TEST_CASE("sat: zero drive and unity levels reconstruct the input within 1 % (1x and 4x)") {
    // Tones in every band and at both crossovers; each must come back at its
    // level (the LR4 sum is allpass; the per-band 15 Hz DC blocker's
    // analytic magnitude is applied to the expectation) and nothing else may
    // appear: the residual after removing the tones is < 1 % of the input RMS.
    const std::vector<double> freqs{110.0, 200.0, 1000.0, 2500.0, 7000.0};
    for (const int os : {1, 4}) {
        CAPTURE(os);
        st::SatStage s;
        for (std::size_t p = st::SatStage::kLowDrive; p <= st::SatStage::kHighDrive; ++p) {
            s.set_param(p, 0.0f);
        }
        s.prepare(ProcessSpec{kFs, 128, os});
        std::vector<float> x(96000, 0.0f);
        for (const double f : freqs) {
            const auto tone = rigd::test::sine(x.size(), f / kFs, 0.15);
            for (std::size_t i = 0; i < x.size(); ++i) {
                x[i] += tone[i];
            }
        }
        auto y = x;
        process(s, y);
        std::vector<float> tail(y.begin() + 48000, y.end()); // 1 s: whole cycles of every tone
        const double in_rms = rigd::test::rms(std::vector<float>(x.begin() + 48000, x.end()));
        const double r = std::exp(-2.0 * std::numbers::pi * 15.0 / kFs);
        for (const double f : freqs) {
            CAPTURE(f);
            const std::complex<double> z = std::polar(1.0, -2.0 * std::numbers::pi * f / kFs);
            const double dc_mag = std::abs((1.0 - z) / (1.0 - r * z));
            const auto fit = rigd::test::fit_sine(tail, f / kFs);
            CHECK(std::fabs(fit.amplitude / (0.15 * dc_mag) - 1.0) < 0.01);
            for (std::size_t i = 0; i < tail.size(); ++i) { // remove it for the residual
                const double w = 2.0 * std::numbers::pi * f / kFs * static_cast<double>(i);
                tail[i] -= static_cast<float>(fit.amplitude * std::sin(w + fit.phase));
            }
        }
        const double residual = rigd::test::rms(tail) / in_rms;
        MESSAGE("sat zero-drive residual " << residual << " at " << os << "x");
        CHECK(residual < 0.01);
    }
}

namespace {
// Impulse response of the reverb, wet only.
std::vector<float> reverb_ir(float room, float damping, double seconds) {
    st::ReverbStage r;
    r.set_param(st::ReverbStage::kRoom, room);
    r.set_param(st::ReverbStage::kDamping, damping);
    r.set_param(st::ReverbStage::kMix, 1.0f);
    r.prepare(ProcessSpec{kFs, 128, 1});
    std::vector<float> y(static_cast<std::size_t>(seconds * kFs), 0.0f);
    y[0] = 1.0f;
    process(r, y);
    return y;
}
// Time for the Schroeder backward-integrated energy to fall from -5 to
// -25 dB, scaled to 60 dB (T20).
double t60(const std::vector<float>& h) {
    std::vector<double> e(h.size() + 1, 0.0);
    for (std::size_t i = h.size(); i-- > 0;) {
        e[i] = e[i + 1] + static_cast<double>(h[i]) * h[i];
    }
    auto at = [&](double db) {
        for (std::size_t i = 0; i < h.size(); ++i) {
            if (10.0 * std::log10(e[i] / e[0]) <= db) {
                return static_cast<double>(i) / kFs;
            }
        }
        return static_cast<double>(h.size()) / kFs;
    };
    return 3.0 * (at(-25.0) - at(-5.0));
}
// Brightness of y[from, to): mean squared first difference over mean
// square, ~ (2 pi f / fs)^2 for a tone at f.
double brightness(const std::vector<float>& y, std::size_t from, std::size_t to) {
    double d = 0.0, p = 0.0;
    for (std::size_t i = from + 1; i < to; ++i) {
        d += (static_cast<double>(y[i]) - y[i - 1]) * (static_cast<double>(y[i]) - y[i - 1]);
        p += static_cast<double>(y[i]) * y[i];
    }
    return d / p;
}
} // namespace

TEST_CASE("reverb: decay time grows with room; damping darkens the tail") {
    const double t_small = t60(reverb_ir(0.1f, 0.5f, 8.0));
    const double t_mid = t60(reverb_ir(0.5f, 0.5f, 8.0));
    const double t_big = t60(reverb_ir(0.95f, 0.5f, 8.0));
    MESSAGE("reverb T60 (T20-based): room 0.1 " << t_small << " s, 0.5 " << t_mid << " s, 0.95 " << t_big << " s");
    CHECK(t_small > 0.1);
    CHECK(t_mid > 1.3 * t_small);
    CHECK(t_big > 2.0 * t_mid);
    // Tail from 0.2 s to 1 s: high damping keeps much less high-frequency energy.
    const auto bright = reverb_ir(0.7f, 0.0f, 1.0);
    const auto dark = reverb_ir(0.7f, 1.0f, 1.0);
    const double b_bright = brightness(bright, 9600, 48000);
    const double b_dark = brightness(dark, 9600, 48000);
    MESSAGE("reverb tail brightness: damping 0 " << b_bright << ", damping 1 " << b_dark);
    CHECK(b_dark < 0.5 * b_bright);
    // And the tail decays faster at the top: damping also shortens it overall.
    CHECK(t60(reverb_ir(0.7f, 1.0f, 8.0)) < t60(reverb_ir(0.7f, 0.0f, 8.0)));
}

TEST_CASE("trem: modulation depth and rate measured from the envelope") {
    // 2 kHz carrier; the envelope is the peak of each carrier cycle (24
    // samples), i.e. sampled at 2 kHz.
    for (const float rate : {2.0f, 7.0f}) {
        for (const float depth : {0.3f, 0.8f}) {
            CAPTURE(rate);
            CAPTURE(depth);
            st::TremStage t;
            t.set_param(st::TremStage::kRate, rate);
            t.set_param(st::TremStage::kDepth, depth);
            t.set_param(st::TremStage::kShape, 0.0f);
            t.prepare(ProcessSpec{kFs, 128, 1});
            auto y = rigd::test::sine(96000, 2000.0 / kFs, 0.5, 0.3);
            process(t, y);
            std::vector<double> env;
            for (std::size_t i = 0; i + 24 <= y.size(); i += 24) {
                float m = 0.0f;
                for (std::size_t j = 0; j < 24; ++j) {
                    m = std::max(m, std::fabs(y[i + j]));
                }
                env.push_back(m);
            }
            const double hi = *std::max_element(env.begin(), env.end());
            const double lo = *std::min_element(env.begin(), env.end());
            CHECK(1.0 - lo / hi == doctest::Approx(depth).epsilon(0.02));
            // Rate: upward crossings of the envelope's mid level, interpolated.
            const double mid = 0.5 * (hi + lo);
            std::vector<double> ups;
            for (std::size_t i = 1; i < env.size(); ++i) {
                if (env[i - 1] < mid && env[i] >= mid) {
                    ups.push_back(static_cast<double>(i - 1) + (mid - env[i - 1]) / (env[i] - env[i - 1]));
                }
            }
            REQUIRE(ups.size() >= 3);
            const double period_s = (ups.back() - ups.front()) / static_cast<double>(ups.size() - 1) / 2000.0;
            CHECK(1.0 / period_s == doctest::Approx(rate).epsilon(0.005));
        }
    }
}
