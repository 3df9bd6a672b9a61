#include "core/dsp/oversampler.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
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
    // Edges in cycles per base-rate sample. The first section passes to 0.45
    // and stops from 0.55. Later sections keep the whole base band (to 0.5)
    // clean: what they let fold or image into 0.5..0.55 lands in the first
    // section's transition band, which maps it onto itself (above 0.45,
    // outside the spec), and anything above 0.55 meets the first section's
    // stopband. (Protecting to 0.55 instead costs a third coefficient at 8x.)
    // A section at rate 2^(s+1) gets its passband edge over that rate.
    const double pass = 0.5 * kPassbandFraction;
    for (int s = 0; s < sections_; ++s) {
        const double rate = static_cast<double>(2 << s); // section rate / base rate
        const double edge = s == 0 ? pass : 0.5;         // highest frequency to keep clean
        const double target_db = s == 0 ? kFirstAttenuationDb : kAttenuationDb;
        section_[static_cast<std::size_t>(s)].design(edge / rate, target_db, s > 0);
        stage_out_[static_cast<std::size_t>(s)].assign(max_block << (s + 1), 0.0f);
    }
    latency_ = static_cast<int>(std::lround(group_delay_samples(kLatencyFrequency)));
}

double Oversampler::group_delay_samples(double f) const noexcept {
    if (sections_ == 0) {
        return 0.0;
    }
    // Round trip = every section twice (up and down), section s seeing the
    // base frequency f at f / 2^(s+1) of its own rate.
    const auto round_trip = [this](double fb) {
        std::complex<double> r = 1.0;
        for (int s = 0; s < sections_; ++s) {
            const auto h = section_[static_cast<std::size_t>(s)].response(fb / static_cast<double>(2 << s));
            r *= h * h;
        }
        return r;
    };
    const double df = 1e-5;
    const double dphi = std::arg(round_trip(f + df) / round_trip(f - df));
    return -dphi / (2.0 * std::numbers::pi * 2.0 * df);
}

void Oversampler::reset() noexcept RIGD_RT {
    for (int s = 0; s < sections_; ++s) {
        section_[static_cast<std::size_t>(s)].reset();
    }
}

std::span<float> Oversampler::upsample(std::span<const float> in) noexcept RIGD_RT {
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

void Oversampler::downsample(std::span<float> out) noexcept RIGD_RT {
    const std::size_t n = out.size();
    if (sections_ == 0) {
        std::copy(base_.begin(), base_.begin() + static_cast<std::ptrdiff_t>(n), out.begin());
        return;
    }
    for (int s = sections_ - 1; s >= 0; --s) {
        const auto i = static_cast<std::size_t>(s);
        const std::span<const float> src(stage_out_[i].data(), n << (s + 1));
        const std::span<float> dst = s == 0 ? out : std::span<float>(stage_out_[i - 1].data(), n << s);
        section_[i].downsample(src, dst);
    }
}

} // namespace rigd::core::dsp
