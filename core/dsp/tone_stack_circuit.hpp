#pragma once

#include "core/rt.hpp"

#include <array>
#include <complex>

namespace rigd::core::dsp {

// The classic passive three-knob tone stack (Fender/Marshall topology):
//   in --C1-- treble pot R1 (wiper = out; t R1 below the wiper) -- A
//   A -- bass pot as variable resistor (l R2) -- B
//   B -- mid pot R3 to ground, its wiper W sits m R3 above ground
//   in --R4-- N;  N --C2-- A;  N --C3-- W
// Its transfer function is third order with coefficients polynomial in the
// pot positions (D. T. Yeh & J. O. Smith, "Discretization of the '59 Fender
// Bassman tone stack", DAFx 2006). Positions t, m, l in [0, 1].
struct ToneStackCircuit {
    double r1, r2, r3, r4; // treble pot, bass pot, mid pot, slope resistor (ohms)
    double c1, c2, c3;     // treble, bass, mid capacitors (farads)

    struct Analog {
        std::array<double, 4> b{}; // b0 + b1 s + b2 s^2 + b3 s^3
        std::array<double, 4> a{};
        [[nodiscard]] std::complex<double> response(double freq_hz) const noexcept;
    };
    // Digital (bilinear, s = 2 fs (1 - z^-1)/(1 + z^-1)), normalised a0 = 1.
    struct Digital {
        std::array<double, 4> b{};
        std::array<double, 4> a{};
    };

    [[nodiscard]] Analog analog(double treble, double mid, double bass) const noexcept RIGD_RT;
    [[nodiscard]] static Digital bilinear(const Analog& h, double sample_rate_hz) noexcept RIGD_RT;

    static const ToneStackCircuit kFenderBassman; // '59 Bassman 5F6-A
    static const ToneStackCircuit kMarshallJcm800;
};

} // namespace rigd::core::dsp
