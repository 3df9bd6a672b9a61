#include "core/conv/cut_filter.hpp"

#include "core/dsp/biquad_design.hpp"

#include <cmath>
#include <numbers>

namespace rigd::core::conv {

void CutFilter::prepare(double sample_rate_hz) noexcept {
    sample_rate_hz_ = sample_rate_hz;
    log2_cutoff_.prepare(sample_rate_hz, kGlideMs);
    wet_.prepare(sample_rate_hz, kFadeMs);
    // First value after prepare snaps.
    const bool on = requested_hz_ > 0.0f;
    wet_.snap(on ? 1.0f : 0.0f);
    log2_cutoff_.snap(on ? std::log2(requested_hz_) : 10.0f);
    reset();
}

void CutFilter::reset() noexcept RIGD_RT {
    biquad_.reset();
    wet_.snap(wet_.target());
    log2_cutoff_.snap(log2_cutoff_.target());
    tick_left_ = 0;
    redesign_ = true;
}

void CutFilter::set_cutoff(float cutoff_hz) noexcept RIGD_RT {
    requested_hz_ = cutoff_hz;
    if (cutoff_hz <= 0.0f) {
        wet_.set_target(0.0f);
        return;
    }
    const float l2 = std::log2(cutoff_hz);
    if (!active()) {
        // Coming back from fully off: start at the new cutoff, fade in.
        biquad_.reset();
        log2_cutoff_.snap(l2);
        redesign_ = true;
    } else {
        log2_cutoff_.set_target(l2);
    }
    wet_.set_target(1.0f);
}

void CutFilter::design(float log2_hz) noexcept RIGD_RT {
    constexpr double kButterworthQ = std::numbers::sqrt2 / 2.0;
    const double hz = dsp::clamp_design_freq(std::exp2(static_cast<double>(log2_hz)), sample_rate_hz_);
    biquad_.set(kind_ == Kind::low_cut ? dsp::design_highpass(hz, kButterworthQ, sample_rate_hz_)
                                       : dsp::design_lowpass(hz, kButterworthQ, sample_rate_hz_));
}

float CutFilter::process_sample(float x) noexcept RIGD_RT {
    if (!active()) {
        return x;
    }
    if (tick_left_ == 0) {
        if (redesign_ || log2_cutoff_.is_smoothing()) {
            design(log2_cutoff_.current());
            redesign_ = false;
        }
        tick_left_ = kTickSamples;
    }
    --tick_left_;
    (void)log2_cutoff_.next();
    const float y = biquad_.process(x);
    if (!wet_.is_smoothing()) {
        (void)wet_.next();
        return y;
    }
    const float w = wet_.next();
    return x + w * (y - x);
}

void CutFilter::process(std::span<float> block) noexcept RIGD_RT {
    if (!active()) {
        return;
    }
    if (redesign_ || log2_cutoff_.is_smoothing() || wet_.is_smoothing()) {
        for (float& v : block) {
            v = process_sample(v);
        }
        return;
    }
    // Steady: same arithmetic as the per-sample path, tick phase kept.
    biquad_.process(block);
    const auto n = static_cast<int>(block.size() % kTickSamples);
    tick_left_ = (tick_left_ + kTickSamples - n) % kTickSamples;
}

} // namespace rigd::core::conv
