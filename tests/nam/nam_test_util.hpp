#pragma once

#include "core/nam/nam_model.hpp"

#include "test_paths.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

namespace rigd::test {

inline std::filesystem::path model_path(const char* name) { return shared_dir() / "models" / name; }
inline std::filesystem::path golden_path(const char* name) { return shared_dir() / "golden" / name; }

// Runs `in` through the model in consecutive blocks of `block` frames.
inline std::vector<float> render(core::nam::NamModel& model, std::span<const float> in, std::size_t block) {
    std::vector<float> out(in.size());
    for (std::size_t i = 0; i < in.size(); i += block) {
        const std::size_t n = std::min(block, in.size() - i);
        model.process_buffer(in.data() + i, out.data() + i, n);
    }
    return out;
}

inline std::vector<float> render_per_sample(core::nam::NamModel& model, std::span<const float> in) {
    std::vector<float> out(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        out[i] = model.process_sample(in[i]);
    }
    return out;
}

inline double max_abs_diff(std::span<const float> a, std::span<const float> b) {
    double m = a.size() == b.size() ? 0.0 : INFINITY;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
        m = std::isnan(d) ? INFINITY : std::max(m, d);
    }
    return m;
}

} // namespace rigd::test
