#include "core/dsp/triode_table.hpp"

#include <algorithm>
#include <cmath>

namespace rigd::core::dsp {

namespace {

constexpr double kMu = 100.0, kKp = 600.0, kKvb = 300.0, kKg1 = 1060.0, kEx = 1.4, kVp = 250.0;
constexpr double kBiasV = -1.5;
constexpr double kGridKneeV = 0.2; // softness of the grid-conduction limit

double plate_current(double vg) {
    const double arg = std::min(80.0, kKp * (1.0 / kMu + vg / std::sqrt(kKvb + kVp * kVp)));
    const double e1 = kVp / kKp * std::log1p(std::exp(arg));
    return std::pow(e1, kEx) / kKg1;
}

// Grid voltage with conduction: follows vg below 0 V, levels off above.
double grid(double vg) { return -kGridKneeV * std::log1p(std::exp(-vg / kGridKneeV)); }

struct Shape {
    double volts_per_unit;
    double scale;
    double i0;
};

Shape shape() {
    const double i0 = plate_current(grid(kBiasV));
    const double top = plate_current(0.0) - i0; // grid conduction side
    const double bottom = i0;                    // cut-off side
    const double scale = std::max(top, bottom);
    const double h = 1e-4;
    const double slope = (plate_current(grid(kBiasV + h)) - plate_current(grid(kBiasV - h))) / (2.0 * h);
    return {scale / slope, scale, i0};
}

} // namespace

double TriodeTable::curve(double x) noexcept {
    static const Shape s = shape();
    return (plate_current(grid(kBiasV + s.volts_per_unit * x)) - s.i0) / s.scale;
}

TriodeTable::TriodeTable() {
    for (int i = -1; i <= kSize; ++i) {
        const double x = -kRange + 2.0 * kRange * static_cast<double>(i) / (kSize - 1);
        table_[static_cast<std::size_t>(i + 1)] = static_cast<float>(curve(x));
    }
}

const TriodeTable& TriodeTable::instance() {
    static const TriodeTable table;
    return table;
}

} // namespace rigd::core::dsp
