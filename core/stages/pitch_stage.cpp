#include "core/stages/pitch_stage.hpp"

#include "core/dsp/sanitize.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace rigd::core::stages {

namespace {
constexpr std::array kParams{
    ParamInfo{.name = "semitones",
              .unit = "st",
              .min = -12.0f,
              .max = 12.0f,
              .default_value = 0.0f,
              .kind = ParamKind::integer},
    ParamInfo{.name = "cents", .unit = "ct", .min = -50.0f, .max = 50.0f, .default_value = 0.0f},
    ParamInfo{.name = "mix", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 1.0f},
};
// A splice takes a lag within this much (in normalised correlation) of the
// best one if it means a shorter delay: lower latency at no audible cost.
constexpr float kCorrSlack = 0.01f;
constexpr std::size_t kLanes = 8;
} // namespace

PitchStage::PitchStage() { init_params(); }

std::span<const ParamInfo> PitchStage::params() const noexcept RIGD_RT { return kParams; }

void PitchStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    fade_samples_ = std::max(1, static_cast<int>(std::lround(kFadeMs * 0.001 * sample_rate_hz_)));
    span_ = std::ceil(kSpanMs * 0.001 * sample_rate_hz_);
    corr_len_ = std::max(16, static_cast<int>(std::lround(kCorrMs * 0.001 * sample_rate_hz_)));
    // Farthest sample ever read: a tap at its largest delay (the downward
    // trigger plus a fade, or the upward trigger plus the longest lag) plus
    // a correlation window behind the longest lag.
    const double longest_lag = fade_samples_ + 2.0 + span_;
    const double need = kMinDelay + fade_samples_ + longest_lag + longest_lag + corr_len_ + 16.0;
    max_delay_ = need - corr_len_ - longest_lag - 8.0;
    std::size_t size = 1;
    while (static_cast<double>(size) < need) {
        size <<= 1;
    }
    buffer_.assign(size, 0.0f);
    mask_ = size - 1;
    scratch_.assign(static_cast<std::size_t>(longest_lag) + static_cast<std::size_t>(corr_len_) + 4, 0.0f);
    corr_.assign(static_cast<std::size_t>(span_) + 2, 0.0f);
    mix_.prepare(sample_rate_hz_, kGlideMs);
    update_ratio();
    reset();
}

void PitchStage::reset() noexcept RIGD_RT {
    std::fill(buffer_.begin(), buffer_.end(), 0.0f);
    write_ = 0;
    zero_run_ = buffer_.size();
    mix_.snap(param(kMix));
    update_ratio();
    rest();
}

void PitchStage::rest() noexcept RIGD_RT {
    fade_left_ = 0;
    // Start where a splice would have put the tap.
    if (ratio_ > 1.0) {
        delay_ = kMinDelay + (ratio_ - 1.0) * fade_samples_ + min_lag(); // shortest: a note starts early
    } else {
        delay_ = kMinDelay + min_lag();
    }
    down_trigger_ = kMinDelay + 2.0 * min_lag() + 1.0;
    old_delay_ = delay_;
}

double PitchStage::min_lag() const noexcept RIGD_RT { return std::fabs(1.0 - ratio_) * fade_samples_ + 1.0; }

void PitchStage::update_ratio() noexcept RIGD_RT {
    // Whole semitones (the control layer refuses fractions; be defensive).
    ratio_ = std::exp2((std::round(static_cast<double>(param(kSemitones))) + 0.01 * static_cast<double>(param(kCents))) / 12.0);
    // Mean read delay for a note whose period is half the lag span.
    const double period = 0.5 * span_;
    double mean = delay_;
    if (ratio_ > 1.0) {
        const double lag = period * std::ceil(min_lag() / period);
        mean = kMinDelay + (ratio_ - 1.0) * fade_samples_ + 0.5 * lag;
    } else if (ratio_ < 1.0) {
        mean = kMinDelay + min_lag() + 0.5 * period;
    }
    latency_samples_.store(static_cast<int>(std::lround(mean)), std::memory_order_relaxed);
}

void PitchStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    if (index == kMix) {
        mix_.set_target(value);
        return;
    }
    update_ratio();
}

float PitchStage::read(double delay) const noexcept RIGD_RT {
    const auto whole = static_cast<std::size_t>(delay);
    const double frac = delay - static_cast<double>(whole);
    // Between the samples at delays whole + 1 (older) and whole (newer).
    const std::size_t newer = write_ - whole;
    const float ym1 = buffer_[(newer - 2) & mask_];
    const float y0 = buffer_[(newer - 1) & mask_];
    const float y1 = buffer_[newer & mask_];
    const float y2 = buffer_[(newer + 1) & mask_];
    const auto t = static_cast<float>(1.0 - frac);
    // Catmull-Rom between y0 (t = 0) and y1 (t = 1).
    const float c1 = 0.5f * (y1 - ym1);
    const float c2 = ym1 - 2.5f * y0 + 2.0f * y1 - 0.5f * y2;
    const float c3 = 0.5f * (y2 - ym1) + 1.5f * (y0 - y1);
    return ((c3 * t + c2) * t + c1) * t + y0;
}

void PitchStage::splice() noexcept RIGD_RT {
    const bool up = ratio_ > 1.0; // the tap runs toward the present: jump back
    const auto lag_lo = static_cast<std::size_t>(std::ceil(min_lag()));
    const std::size_t lag_hi = lag_lo + static_cast<std::size_t>(span_);
    // Going down the new tap is `lag` newer, and must stay readable.
    const std::size_t allowed_hi = up ? lag_hi : std::min(lag_hi, static_cast<std::size_t>(delay_ - kMinDelay));
    const auto len = static_cast<std::size_t>(corr_len_);
    // The input's self-similarity at each lag, from the window ending at the
    // tap and the ones `lag` before it, copied into one straight run first.
    const std::size_t tap_end = write_ - static_cast<std::size_t>(std::ceil(delay_));
    const std::size_t region_len = len + lag_hi;
    const std::size_t region_start = tap_end - lag_hi - len + 1;
    for (std::size_t i = 0; i < region_len; ++i) {
        scratch_[i] = buffer_[(region_start + i) & mask_];
    }
    const float* a = scratch_.data() + lag_hi;
    float aa = 0.0f;
    for (std::size_t i = 0; i < len; ++i) {
        aa += a[i] * a[i];
    }
    double lag = static_cast<double>(lag_lo); // silence: the shortest splice
    std::size_t period = lag_lo;
    const std::size_t count = lag_hi - lag_lo + 1;
    if (aa > 1.0e-9f * static_cast<float>(len) && allowed_hi > lag_lo + 2) {
        float best = -2.0f;
        for (std::size_t k = 0; k < count; ++k) {
            const float* b = a - (lag_lo + k);
            // Eight partial sums in lanes: the compiler vectorises this
            // without reassociating anything itself.
            std::array<float, kLanes> ab{};
            std::array<float, kLanes> bb{};
            std::size_t i = 0;
            for (; i + kLanes <= len; i += kLanes) {
                for (std::size_t l = 0; l < kLanes; ++l) {
                    ab[l] += a[i + l] * b[i + l];
                    bb[l] += b[i + l] * b[i + l];
                }
            }
            for (; i < len; ++i) {
                ab[0] += a[i] * b[i];
                bb[0] += b[i] * b[i];
            }
            float ab_sum = 0.0f;
            float bb_sum = 0.0f;
            for (std::size_t l = 0; l < kLanes; ++l) {
                ab_sum += ab[l];
                bb_sum += bb[l];
            }
            const float c = ab_sum / std::sqrt(aa * bb_sum + 1.0e-20f);
            corr_[k] = c;
            best = std::max(best, c);
        }
        // Peaks are interior local maxima within kCorrSlack of the best;
        // of those, the one giving the shortest delay: the smallest lag
        // going up, the largest allowed going down.
        const float floor_c = best - kCorrSlack;
        auto is_peak = [&](std::size_t k) {
            return k > 0 && k + 1 < count && corr_[k] >= floor_c && corr_[k] >= corr_[k - 1] &&
                   corr_[k] >= corr_[k + 1];
        };
        std::size_t first = count;
        std::size_t last_allowed = count;
        std::size_t best_allowed = 0;
        for (std::size_t k = 0; k < count && lag_lo + k <= allowed_hi; ++k) {
            if (corr_[k] > corr_[best_allowed]) {
                best_allowed = k;
            }
        }
        for (std::size_t k = 1; k + 1 < count; ++k) {
            if (is_peak(k)) {
                first = std::min(first, k);
                if (lag_lo + k <= allowed_hi) {
                    last_allowed = k;
                }
            }
        }
        std::size_t pick = best_allowed;
        if (up && first < count) {
            pick = first;
        } else if (!up && last_allowed < count) {
            pick = last_allowed;
        }
        if (first < count) {
            period = lag_lo + first;
        }
        lag = static_cast<double>(lag_lo + pick);
        if (pick > 0 && pick + 1 < count && lag_lo + pick + 1 <= allowed_hi) {
            // Parabola through the peak: the lag to a fraction of a sample,
            // so splices do not pull a high note off pitch.
            const double cm = corr_[pick - 1];
            const double c0 = corr_[pick];
            const double cp = corr_[pick + 1];
            const double den = cm - 2.0 * c0 + cp;
            if (den < 0.0) {
                lag += std::clamp(0.5 * (cm - cp) / den, -0.5, 0.5);
            }
        }
    }
    // Going down, the next splice comes once the tap is a period plus a
    // fade's travel behind: the delay then sweeps only about one period.
    down_trigger_ = kMinDelay + min_lag() + static_cast<double>(period) + 1.0;
    old_delay_ = delay_;
    delay_ += up ? lag : -lag;
    fade_left_ = fade_samples_;
}

float PitchStage::tick(float x) noexcept RIGD_RT {
    x = dsp::sanitize(x);
    zero_run_ = x == 0.0f ? std::min(zero_run_ + 1, buffer_.size()) : 0;
    ++write_;
    buffer_[write_ & mask_] = x;
    float wet = read(delay_);
    if (fade_left_ > 0) {
        const float g = static_cast<float>(fade_left_) / static_cast<float>(fade_samples_);
        wet = g * read(old_delay_) + (1.0f - g) * wet;
        --fade_left_;
    }
    const float mix = mix_.next();
    const float out = x + mix * (wet - x);

    if (zero_run_ == buffer_.size()) {
        // The whole line is silent: go back to the state reset() leaves, so
        // what follows a pause does not depend on how long it lasted (a
        // take's DI re-amps exactly; see README "Recording").
        rest();
        return out;
    }
    // Next sample: the write head moves 1, the taps move `ratio`.
    const double step = 1.0 - ratio_;
    delay_ = std::clamp(delay_ + step, kMinDelay, max_delay_);
    if (fade_left_ > 0) {
        old_delay_ = std::clamp(old_delay_ + step, kMinDelay, max_delay_);
    } else if (ratio_ > 1.0) {
        if (delay_ <= kMinDelay + (ratio_ - 1.0) * fade_samples_) {
            splice();
        }
    } else if (ratio_ < 1.0) {
        if (delay_ >= down_trigger_) {
            splice();
        }
    }
    return out;
}

float PitchStage::process_sample(float x) noexcept RIGD_RT { return tick(x); }

void PitchStage::process_block(std::span<float> block) noexcept RIGD_RT {
    for (float& s : block) {
        s = tick(s);
    }
}

} // namespace rigd::core::stages
