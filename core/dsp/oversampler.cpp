#include "core/dsp/oversampler.hpp"

#include <algorithm>
#include <stdexcept>

namespace rigd::core::dsp {

void Oversampler::prepare(int factor, std::size_t max_block) {
    if (factor != 1 && factor != 2 && factor != 4 && factor != 8 && factor != 16) {
        throw std::invalid_argument("oversampling factor must be 1, 2, 4, 8 or 16");
    }
    if (max_block == 0) {
        throw std::invalid_argument("Oversampler: max_block must be positive");
    }
    factor_ = factor;
    max_block_ = max_block;
    sections_ = 0;
    while ((1 << sections_) < factor) {
        ++sections_;
    }
    base_.assign(max_block, 0.0f);
    // Edges in cycles per base-rate sample: pass below 0.45, and everything
    // a section must remove lies above 0.55 (first section) or above the
    // image of 0.55 (later ones).
    const double pass = 0.5 * kPassbandFraction;
    const double stop = 1.0 - pass;
    std::size_t total_high = 0; // round trip in top-rate samples
    for (int s = 0; s < sections_; ++s) {
        const double rate = static_cast<double>(2 << s); // section rate / base rate
        const double edge = s == 0 ? pass : stop; // highest frequency to keep clean
        const double width = 0.5 - 2.0 * edge / rate;
        section_[static_cast<std::size_t>(s)].design(width, kAttenuationDb);
        section_[static_cast<std::size_t>(s)].prepare(max_block << s);
        stage_out_[static_cast<std::size_t>(s)].assign(max_block << (s + 1), 0.0f);
        const auto round_trip = static_cast<std::size_t>(2 * section_[static_cast<std::size_t>(s)].delay_high_rate());
        total_high += round_trip << (sections_ - 1 - s);
    }
    const std::size_t top = static_cast<std::size_t>(factor);
    pad_ = (top - total_high % top) % top;
    latency_ = static_cast<int>((total_high + pad_) / top);
    pad_buf_.assign(pad_ + max_block * top, 0.0f);
}

void Oversampler::reset() noexcept {
    for (int s = 0; s < sections_; ++s) {
        section_[static_cast<std::size_t>(s)].reset();
    }
    std::fill(pad_buf_.begin(), pad_buf_.end(), 0.0f);
}

std::span<float> Oversampler::upsample(std::span<const float> in) noexcept {
    const std::size_t n = in.size();
    if (sections_ == 0) {
        std::copy(in.begin(), in.end(), base_.begin());
        return {base_.data(), n};
    }
    std::span<const float> src = in;
    for (int s = 0; s < sections_; ++s) {
        const auto i = static_cast<std::size_t>(s);
        const std::span<float> dst(stage_out_[i].data(), n << (s + 1));
        section_[i].upsample(src, dst);
        src = dst;
    }
    return {stage_out_[static_cast<std::size_t>(sections_ - 1)].data(), n * static_cast<std::size_t>(factor_)};
}

void Oversampler::downsample(std::span<float> out) noexcept {
    const std::size_t n = out.size();
    if (sections_ == 0) {
        std::copy(base_.begin(), base_.begin() + static_cast<std::ptrdiff_t>(n), out.begin());
        return;
    }
    const std::size_t hi_n = n * static_cast<std::size_t>(factor_);
    float* top = stage_out_[static_cast<std::size_t>(sections_ - 1)].data();
    if (pad_ > 0) {
        // Delay the top-rate signal by pad_ samples: whole-sample latency.
        float* pb = pad_buf_.data();
        std::copy(top, top + hi_n, pb + pad_);
        std::copy(pb, pb + hi_n, top);
        std::copy(pb + hi_n, pb + hi_n + pad_, pb);
    }
    for (int s = sections_ - 1; s >= 0; --s) {
        const auto i = static_cast<std::size_t>(s);
        const std::span<const float> src(stage_out_[i].data(), n << (s + 1));
        const std::span<float> dst = s == 0 ? out : std::span<float>(stage_out_[i - 1].data(), n << s);
        section_[i].downsample(src, dst);
    }
}

} // namespace rigd::core::dsp
