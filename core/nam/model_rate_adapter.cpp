#include "core/nam/model_rate_adapter.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace rigd::core::nam {

namespace {

// Modified Bessel function of the first kind, order 0 (series).
double bessel_i0(double x) {
    double sum = 1.0;
    double term = 1.0;
    for (int k = 1; k < 64; ++k) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
        if (term < 1e-17 * sum) {
            break;
        }
    }
    return sum;
}

std::uint64_t ring_size_for(std::size_t n) {
    std::uint64_t size = 1;
    while (size < n) {
        size <<= 1;
    }
    return size;
}

} // namespace

ModelRateAdapter::Kernel ModelRateAdapter::design(double cutoff) {
    // h(t) = cutoff * sinc(cutoff * t) * kaiser(t / W), t in input samples;
    // cutoff is relative to the input Nyquist frequency.
    Kernel k;
    const int half = kHalfTaps * kPhases;
    k.table.resize(static_cast<std::size_t>(2 * half + 2), 0.0f);
    const double norm = bessel_i0(kKaiserBeta);
    for (int i = -half; i <= half; ++i) {
        const double t = static_cast<double>(i) / kPhases;
        const double x = cutoff * t;
        const double sinc = x == 0.0 ? 1.0 : std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
        const double r = t / kHalfTaps;
        const double window = bessel_i0(kKaiserBeta * std::sqrt(std::max(0.0, 1.0 - r * r))) / norm;
        k.table[static_cast<std::size_t>(i + half)] = static_cast<float>(cutoff * sinc * window);
    }
    return k;
}

// Value at time base + frac (0 <= frac < 1) of a stream held in `ring`. The
// table phase is the same for every tap: only the table row moves.
float ModelRateAdapter::interpolate(const Kernel& k, const std::vector<float>& ring, std::uint64_t mask,
                                    std::int64_t base, double frac) noexcept {
    const double scaled = frac * kPhases;
    const int phase = static_cast<int>(scaled);
    const float f = static_cast<float>(scaled - phase);
    float acc = 0.0f;
    for (int i = -kHalfTaps + 1; i <= kHalfTaps; ++i) {
        const std::size_t idx = static_cast<std::size_t>((kHalfTaps - i) * kPhases + phase);
        const float h = k.table[idx] + f * (k.table[idx + 1] - k.table[idx]);
        acc += h * ring[static_cast<std::uint64_t>(base + i) & mask];
    }
    return acc;
}

void ModelRateAdapter::prepare(double device_rate_hz, double model_rate_hz, std::size_t max_block) {
    device_rate_ = std::llround(device_rate_hz);
    model_rate_ = std::llround(model_rate_hz);
    active_ = device_rate_ != model_rate_;
    if (!active_) {
        model_block_limit_ = max_block;
        latency_samples_ = 0;
        return;
    }
    if (device_rate_ <= 0 || model_rate_ <= 0) {
        throw std::invalid_argument("ModelRateAdapter: rates must be positive");
    }
    const double ratio = static_cast<double>(model_rate_) / static_cast<double>(device_rate_);
    to_model_ = design(kCutoff * std::min(1.0, 1.0 / ratio));
    to_device_ = design(kCutoff * std::min(1.0, ratio));
    // The output may only read model samples that exist: look-ahead of both
    // kernels plus a sample of slack for the integer rounding.
    lag_model_ = static_cast<std::int64_t>(std::ceil(kHalfTaps * ratio + kHalfTaps)) + 2;
    latency_samples_ = static_cast<int>(std::lround(static_cast<double>(lag_model_) / ratio));
    model_block_limit_ = static_cast<std::size_t>(std::ceil(static_cast<double>(max_block) * ratio)) + 2;
    in_ring_.assign(ring_size_for(max_block + 2 * kHalfTaps + 4), 0.0f);
    out_ring_.assign(ring_size_for(model_block_limit_ + static_cast<std::size_t>(lag_model_) + 2 * kHalfTaps + 4),
                     0.0f);
    in_mask_ = in_ring_.size() - 1;
    out_mask_ = out_ring_.size() - 1;
    model_in_.assign(model_block_limit_, 0.0f);
    model_out_.assign(model_block_limit_, 0.0f);
    reset();
}

void ModelRateAdapter::reset() noexcept {
    std::fill(in_ring_.begin(), in_ring_.end(), 0.0f);
    std::fill(out_ring_.begin(), out_ring_.end(), 0.0f);
    device_count_ = 0;
    model_count_ = 0;
    device_out_ = 0;
}

void ModelRateAdapter::process(std::span<float> block, NamModel& model) noexcept {
    if (!active_) {
        model.process_buffer(block.data(), block.data(), block.size());
        return;
    }
    for (const float x : block) {
        in_ring_[static_cast<std::uint64_t>(device_count_) & in_mask_] = x;
        ++device_count_;
    }
    // Model sample k sits at device time k * Fd / Fm; it can be made once the
    // kernel's look-ahead (kHalfTaps device samples) has arrived.
    std::size_t made = 0;
    while (made < model_block_limit_) {
        const std::int64_t num = model_count_ * device_rate_;
        const std::int64_t base = num / model_rate_;
        if (base + kHalfTaps > device_count_ - 1) {
            break;
        }
        const double frac = static_cast<double>(num % model_rate_) / static_cast<double>(model_rate_);
        model_in_[made++] = interpolate(to_model_, in_ring_, in_mask_, base, frac);
        ++model_count_;
    }
    model.process_buffer(model_in_.data(), model_out_.data(), made);
    const std::int64_t first = model_count_ - static_cast<std::int64_t>(made);
    for (std::size_t i = 0; i < made; ++i) {
        out_ring_[static_cast<std::uint64_t>(first + static_cast<std::int64_t>(i)) & out_mask_] = model_out_[i];
    }
    // Device sample j reads model time j * Fm / Fd - lag.
    for (float& y : block) {
        const std::int64_t num = device_out_ * model_rate_ - lag_model_ * device_rate_;
        ++device_out_;
        if (num < 0) {
            y = 0.0f;
            continue;
        }
        const std::int64_t base = num / device_rate_;
        const double frac = static_cast<double>(num % device_rate_) / static_cast<double>(device_rate_);
        y = interpolate(to_device_, out_ring_, out_mask_, base, frac);
    }
}

} // namespace rigd::core::nam
