#include "core/dsp/tone_stack_circuit.hpp"

#include <numbers>

namespace rigd::core::dsp {

const ToneStackCircuit ToneStackCircuit::kFenderBassman{250e3, 1e6, 25e3, 56e3, 250e-12, 20e-9, 20e-9};
const ToneStackCircuit ToneStackCircuit::kMarshallJcm800{220e3, 1e6, 22e3, 33e3, 470e-12, 22e-9, 22e-9};

std::complex<double> ToneStackCircuit::Analog::response(double freq_hz) const noexcept {
    const std::complex<double> s(0.0, 2.0 * std::numbers::pi * freq_hz);
    const auto num = b[0] + s * (b[1] + s * (b[2] + s * b[3]));
    const auto den = a[0] + s * (a[1] + s * (a[2] + s * a[3]));
    return num / den;
}

ToneStackCircuit::Analog ToneStackCircuit::analog(double t, double m, double l) const noexcept RIGD_RT {
    const double R1 = r1, R2 = r2, R3 = r3, R4 = r4, C1 = c1, C2 = c2, C3 = c3;
    const double m2 = m * m;
    Analog h;
    h.b[0] = 0.0;
    h.b[1] = t * C1 * R1 + m * C3 * R3 + l * (C1 * R2 + C2 * R2) + (C1 * R3 + C2 * R3);
    h.b[2] = t * (C1 * C2 * R1 * R4 + C1 * C3 * R1 * R4) - m2 * (C1 * C3 * R3 * R3 + C2 * C3 * R3 * R3) +
             m * (C1 * C3 * R1 * R3 + C1 * C3 * R3 * R3 + C2 * C3 * R3 * R3) +
             l * (C1 * C2 * R1 * R2 + C1 * C2 * R2 * R4 + C1 * C3 * R2 * R4) +
             l * m * (C1 * C3 * R2 * R3 + C2 * C3 * R2 * R3) +
             (C1 * C2 * R1 * R3 + C1 * C2 * R3 * R4 + C1 * C3 * R3 * R4);
    const double c123 = C1 * C2 * C3;
    h.b[3] = l * m * c123 * (R1 * R2 * R3 + R2 * R3 * R4) - m2 * c123 * (R1 * R3 * R3 + R3 * R3 * R4) +
             m * c123 * (R1 * R3 * R3 + R3 * R3 * R4) + t * c123 * R1 * R3 * R4 - t * m * c123 * R1 * R3 * R4 +
             t * l * c123 * R1 * R2 * R4;
    h.a[0] = 1.0;
    h.a[1] = (C1 * R1 + C1 * R3 + C2 * R3 + C2 * R4 + C3 * R4) + m * C3 * R3 + l * (C1 * R2 + C2 * R2);
    h.a[2] = m * (C1 * C3 * R1 * R3 - C2 * C3 * R3 * R4 + C1 * C3 * R3 * R3 + C2 * C3 * R3 * R3) +
             l * m * (C1 * C3 * R2 * R3 + C2 * C3 * R2 * R3) - m2 * (C1 * C3 * R3 * R3 + C2 * C3 * R3 * R3) +
             l * (C1 * C2 * R2 * R4 + C1 * C2 * R1 * R2 + C1 * C3 * R2 * R4 + C2 * C3 * R2 * R4) +
             (C1 * C2 * R1 * R4 + C1 * C3 * R1 * R4 + C1 * C2 * R3 * R4 + C1 * C2 * R1 * R3 + C1 * C3 * R3 * R4 +
              C2 * C3 * R3 * R4);
    h.a[3] = l * m * c123 * (R1 * R2 * R3 + R2 * R3 * R4) - m2 * c123 * (R1 * R3 * R3 + R3 * R3 * R4) +
             m * c123 * (R3 * R3 * R4 + R1 * R3 * R3 - R1 * R3 * R4) + l * c123 * R1 * R2 * R4 +
             c123 * R1 * R3 * R4;
    return h;
}

ToneStackCircuit::Digital ToneStackCircuit::bilinear(const Analog& h, double sample_rate_hz) noexcept RIGD_RT {
    const double c = 2.0 * sample_rate_hz;
    const double c2 = c * c;
    const double c3 = c2 * c;
    auto map = [&](const std::array<double, 4>& p) {
        // (1+z)^3, (1-z)(1+z)^2, (1-z)^2(1+z), (1-z)^3 in powers of z^-1.
        const double k0 = p[0];
        const double k1 = p[1] * c;
        const double k2 = p[2] * c2;
        const double k3 = p[3] * c3;
        return std::array<double, 4>{k0 + k1 + k2 + k3, 3.0 * k0 + k1 - k2 - 3.0 * k3, 3.0 * k0 - k1 - k2 + 3.0 * k3,
                                     k0 - k1 + k2 - k3};
    };
    Digital d;
    d.b = map(h.b);
    d.a = map(h.a);
    const double inv = 1.0 / d.a[0];
    for (int i = 0; i < 4; ++i) {
        d.b[static_cast<std::size_t>(i)] *= inv;
        d.a[static_cast<std::size_t>(i)] *= inv;
    }
    return d;
}

} // namespace rigd::core::dsp
