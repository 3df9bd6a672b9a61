// Linear stages against analytic references: Butterworth curves on the
// bilinear-warped axis, the analog peaking prototype, the tone-stack
// circuit solved by nodal analysis. Measured from the impulse response
// (DFT in double). Tolerance 0.1 dB wherever the expected level is above
// -60 dB.
#include "core/dsp/biquad_design.hpp"
#include "core/dsp/tone_stack_circuit.hpp"
#include "core/stages/delay_stage.hpp"
#include "core/stages/eq_stage.hpp"
#include "core/stages/filter_stage.hpp"
#include "core/stages/tone_stage.hpp"

#include "signal_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

using rigd::core::ProcessSpec;
using rigd::core::Stage;
namespace st = rigd::core::stages;
using Cx = std::complex<double>;

namespace {

constexpr double kFs = 48000.0;
constexpr double kPi = std::numbers::pi;

std::vector<float> impulse_response(Stage& s, std::size_t n = 1 << 15) {
    std::vector<float> h(n, 0.0f);
    h[0] = 1.0f;
    for (std::size_t i = 0; i < n; i += 128) {
        s.process_block(std::span<float>(h.data() + i, 128));
    }
    return h;
}

double measured_db(const std::vector<float>& h, double hz) {
    Cx acc = 0.0;
    const double w = 2.0 * kPi * hz / kFs;
    for (std::size_t i = 0; i < h.size(); ++i) {
        acc += static_cast<double>(h[i]) * std::polar(1.0, -w * static_cast<double>(i));
    }
    return 20.0 * std::log10(std::abs(acc));
}

// Bilinear transform without pre-warping maps digital f to analog f_a.
double warped_hz(double hz) { return kFs / kPi * std::tan(kPi * hz / kFs); }

const std::vector<double> kProbeHz{25, 40, 63, 100, 160, 250, 400, 630, 1000, 1600, 2500, 4000, 6300, 10000, 16000, 20000};

// The tone stack netlist solved directly (see ToneStackCircuit), Vin = 1 V.
Cx circuit_response(const rigd::core::dsp::ToneStackCircuit& k, double t, double m, double l, double hz) {
    const Cx s(0.0, 2.0 * kPi * hz);
    // Nodes: 0 treble top, 1 out (wiper), 2 A (treble bottom / bass top),
    // 3 B (bass bottom / mid top), 4 N (slope node), 5 W (mid wiper).
    std::array<std::array<Cx, 7>, 6> y{}; // admittance matrix | current vector
    auto between = [&](int a, int b, Cx g) {
        y[a][a] += g;
        if (b >= 0) {
            y[b][b] += g;
            y[a][b] -= g;
            y[b][a] -= g;
        }
    };
    auto from_input = [&](int a, Cx g) {
        y[a][a] += g;
        y[a][6] += g;
    };
    constexpr double kShort = 1e-3; // ohms, for a pot at an end stop
    from_input(0, s * k.c1);
    between(0, 1, 1.0 / ((1.0 - t) * k.r1 + kShort));
    between(1, 2, 1.0 / (t * k.r1 + kShort));
    between(2, 3, 1.0 / (l * k.r2 + kShort));
    between(3, 5, 1.0 / ((1.0 - m) * k.r3 + kShort));
    between(5, -1, 1.0 / (m * k.r3 + kShort));
    from_input(4, 1.0 / k.r4);
    between(4, 2, s * k.c2);
    between(4, 5, s * k.c3);
    // Gauss-Jordan with partial pivoting.
    for (int k = 0; k < 6; ++k) {
        int piv = k;
        for (int r = k + 1; r < 6; ++r) {
            if (std::abs(y[r][k]) > std::abs(y[piv][k])) {
                piv = r;
            }
        }
        std::swap(y[k], y[piv]);
        for (int r = 0; r < 6; ++r) {
            if (r != k) {
                const Cx f = y[r][k] / y[k][k];
                for (int c = k; c < 7; ++c) {
                    y[r][c] -= f * y[k][c];
                }
            }
        }
    }
    return y[1][6] / y[1][1];
}

} // namespace

TEST_CASE("filter: Butterworth HP/LP of order 1..4 follow the analytic curve within 0.1 dB") {
    for (const int mode : {0, 1}) {
        for (const int order : {1, 2, 3, 4}) {
            for (const double fc : {100.0, 1000.0, 8000.0}) {
                CAPTURE(mode);
                CAPTURE(order);
                CAPTURE(fc);
                st::FilterStage f;
                f.set_param(st::FilterStage::kMode, static_cast<float>(mode));
                f.set_param(st::FilterStage::kOrder, static_cast<float>(order));
                f.set_param(st::FilterStage::kCutoff, static_cast<float>(fc));
                f.prepare(ProcessSpec{kFs, 128, 1});
                const auto h = impulse_response(f);
                for (const double hz : kProbeHz) {
                    // Pre-warped at the cutoff: ratio of tangents.
                    const double r = std::tan(kPi * hz / kFs) / std::tan(kPi * fc / kFs);
                    const double x = mode == 1 ? r : 1.0 / r;
                    const double expect = -10.0 * std::log10(1.0 + std::pow(x, 2.0 * order));
                    if (expect > -60.0) {
                        CAPTURE(hz);
                        CHECK(std::fabs(measured_db(h, hz) - expect) < 0.1);
                    }
                }
            }
        }
    }
}

TEST_CASE("eq: 16 bands match the product of analog peaking prototypes within 0.1 dB") {
    st::EqStage eq;
    const std::vector<float> gains{6, -3, 0, 12, -12, 4, 0, -6, 3, 0, 9, -9, 2, -2, 5, -5};
    for (std::size_t b = 0; b < gains.size(); ++b) {
        eq.set_param(b, gains[b]);
    }
    eq.prepare(ProcessSpec{kFs, 128, 1});
    const auto h = impulse_response(eq, 1 << 16);
    for (double hz = 20.0; hz < 21000.0; hz *= 1.12) {
        double expect = 0.0;
        for (std::size_t b = 0; b < gains.size(); ++b) {
            const double w0 = 2.0 * kPi * st::EqStage::kCentreHz[b] / kFs;
            const double q = 1.0 / (2.0 * std::sinh(std::numbers::ln2 / 2.0 * st::EqStage::kBandwidthOct * w0 / std::sin(w0)));
            const double a = std::pow(10.0, gains[b] / 40.0);
            const double om = std::tan(kPi * hz / kFs) / std::tan(w0 / 2.0);
            const Cx s(0.0, om);
            expect += 20.0 * std::log10(std::abs((s * s + s * (a / q) + 1.0) / (s * s + s / (a * q) + 1.0)));
        }
        CAPTURE(hz);
        CHECK(std::fabs(measured_db(h, hz) - expect) < 0.1);
    }
    // All bands at 0 dB: exact passthrough.
    st::EqStage flat;
    flat.prepare(ProcessSpec{kFs, 128, 1});
    const auto h0 = impulse_response(flat, 256);
    CHECK(h0[0] == 1.0f);
    CHECK(std::all_of(h0.begin() + 1, h0.end(), [](float v) { return v == 0.0f; }));
}

TEST_CASE("tone: the stack's polynomial transfer function equals the circuit's nodal solution") {
    using rigd::core::dsp::ToneStackCircuit;
    for (const auto* k : {&ToneStackCircuit::kFenderBassman, &ToneStackCircuit::kMarshallJcm800}) {
        for (const double t : {0.0, 0.3, 1.0}) {
            for (const double m : {0.0, 0.5, 1.0}) {
                for (const double l : {0.0, 0.2, 1.0}) {
                    for (double hz = 20.0; hz < 20000.0; hz *= 1.5) {
                        const double a = std::abs(k->analog(t, m, l).response(hz));
                        const double b = std::abs(circuit_response(*k, t, m, l, hz));
                        CHECK(std::fabs(20.0 * std::log10(a / b)) < 0.01);
                    }
                }
            }
        }
    }
}

TEST_CASE("tone: british and american stages follow the circuit curve within 0.1 dB") {
    struct Knobs {
        float bass, mid, treble;
    };
    for (const int model : {st::ToneStage::kBritish, st::ToneStage::kAmerican}) {
        for (const Knobs kn : {Knobs{1, 1, 1}, Knobs{0.6f, 0.7f, 0.6f}, Knobs{2, 0, 2}, Knobs{0.2f, 2, 0.5f}}) {
            CAPTURE(model);
            CAPTURE(kn.bass);
            st::ToneStage tone;
            tone.set_param(st::ToneStage::kModel, static_cast<float>(model));
            tone.set_param(st::ToneStage::kBass, kn.bass);
            tone.set_param(st::ToneStage::kMid, kn.mid);
            tone.set_param(st::ToneStage::kTreble, kn.treble);
            tone.prepare(ProcessSpec{kFs, 128, 1});
            const auto h = impulse_response(tone);
            const auto& circuit = *st::ToneStage::circuit_for(model);
            const double makeup_db = 20.0 * std::log10(st::ToneStage::makeup_gain(model));
            for (const double hz : kProbeHz) {
                const Cx r = circuit_response(circuit, st::ToneStage::audio_taper(kn.treble / 2.0), st::ToneStage::mid_position(kn.mid),
                                              st::ToneStage::audio_taper(kn.bass / 2.0), warped_hz(hz));
                const double expect = 20.0 * std::log10(std::abs(r)) + makeup_db;
                if (expect > -60.0) {
                    CAPTURE(hz);
                    CHECK(std::fabs(measured_db(h, hz) - expect) < 0.1);
                }
            }
        }
    }
}

TEST_CASE("tone: modern and flat at noon are flat; presence is a +-6 dB high shelf") {
    for (const int model : {st::ToneStage::kModern, st::ToneStage::kFlat}) {
        st::ToneStage tone;
        tone.set_param(st::ToneStage::kModel, static_cast<float>(model));
        tone.prepare(ProcessSpec{kFs, 128, 1});
        const auto h = impulse_response(tone);
        for (const double hz : kProbeHz) {
            CHECK(std::fabs(measured_db(h, hz)) < 0.01);
        }
    }
    st::ToneStage tone;
    tone.set_param(st::ToneStage::kModel, st::ToneStage::kFlat);
    tone.set_param(st::ToneStage::kPresence, 2.0f);
    tone.prepare(ProcessSpec{kFs, 128, 1});
    const auto h = impulse_response(tone);
    const auto shelf = rigd::core::dsp::design_high_shelf(5000.0, 6.0, kFs);
    for (const double hz : kProbeHz) {
        CHECK(std::fabs(measured_db(h, hz) - 20.0 * std::log10(shelf.magnitude(hz, kFs))) < 0.05);
    }
    CHECK(measured_db(h, 20000.0) > 5.5);
    CHECK(std::fabs(measured_db(h, 100.0)) < 0.1);
}

TEST_CASE("tone: the british stack scoops the mids and the bass knob moves the lows") {
    auto level = [](float bass, float mid, double hz, float treble = 1.0f) {
        st::ToneStage tone;
        tone.set_param(st::ToneStage::kModel, st::ToneStage::kBritish);
        tone.set_param(st::ToneStage::kBass, bass);
        tone.set_param(st::ToneStage::kMid, mid);
        tone.set_param(st::ToneStage::kTreble, treble);
        tone.prepare(ProcessSpec{kFs, 128, 1});
        return measured_db(impulse_response(tone), hz);
    };
    CHECK(level(1, 1, 500) < level(1, 1, 100) - 1.0);
    CHECK(level(2, 1, 80) > level(0, 1, 80) + 10.0);
    CHECK(level(1, 2, 500) > level(1, 0, 500) + 2.0);
    CHECK(level(1, 1, 5000, 2) > level(1, 1, 5000, 0) + 6.0);
}

TEST_CASE("delay: echoes land at time_ms and repeat scaled by feedback") {
    st::DelayStage d;
    d.set_param(st::DelayStage::kTime, 10.0f);
    d.set_param(st::DelayStage::kFeedback, 0.5f);
    d.set_param(st::DelayStage::kMix, 1.0f);
    d.prepare(ProcessSpec{kFs, 128, 1});
    const auto h = impulse_response(d, 2048);
    CHECK(h[480] == doctest::Approx(1.0).epsilon(1e-6));
    CHECK(h[960] == doctest::Approx(0.5).epsilon(1e-6));
    CHECK(h[1440] == doctest::Approx(0.25).epsilon(1e-6));
    CHECK(h[479] == 0.0f);
    CHECK(h[481] == 0.0f);
}
