#pragma once

#include "core/rt.hpp"

#include <array>

namespace rigd::core::dsp {

// A 12AX7 common-cathode transfer curve from Koren's triode model (mu 100,
// Kp 600, Kvb 300, Kg1 1060, Ex 1.4, Vp 250 V), biased at -1.5 V with grid
// conduction limiting the grid near 0 V. Tabulated once over input +-10,
// read with Catmull-Rom interpolation. Normalised so that f(0) = 0,
// f'(0) = 1 and the larger swing saturates at 1; the other (cut-off) side
// saturates lower, which is where the even harmonics come from.
class TriodeTable {
public:
    static constexpr int kSize = 1024;
    static constexpr float kRange = 10.0f;

    // Built on first use; call from prepare() (off the RT thread).
    [[nodiscard]] static const TriodeTable& instance();

    [[nodiscard]] float operator()(float x) const noexcept RIGD_RT {
        constexpr float kScale = static_cast<float>(kSize - 1) / (2.0f * kRange);
        float pos = (x + kRange) * kScale;
        pos = pos < 0.0f ? 0.0f : (pos > static_cast<float>(kSize - 1) ? static_cast<float>(kSize - 1) : pos);
        int i = static_cast<int>(pos);
        i = i > kSize - 2 ? kSize - 2 : i;
        const float t = pos - static_cast<float>(i);
        // table_ has one guard entry on each side: table_[i + 1] is sample i.
        const float* p = table_.data() + i;
        const float p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
        return p1 + 0.5f * t * (p2 - p0 + t * (2.0f * p0 - 5.0f * p1 + 4.0f * p2 - p3 + t * (3.0f * (p1 - p2) + p3 - p0)));
    }

    // The model itself (double), for building and testing the table.
    [[nodiscard]] static double curve(double x) noexcept;

private:
    TriodeTable();
    std::array<float, kSize + 2> table_{};
};

} // namespace rigd::core::dsp
