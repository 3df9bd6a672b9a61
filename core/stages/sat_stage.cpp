#include "core/stages/sat_stage.hpp"

#include "core/dsp/sanitize.hpp"

#include <algorithm>
#include <cmath>

namespace rigd::core::stages {

namespace {
constexpr std::array kParams{
    ParamInfo{.name = "low_hz", .unit = "Hz", .min = 50.0f, .max = 500.0f, .default_value = 200.0f},
    ParamInfo{.name = "high_hz", .unit = "Hz", .min = 1000.0f, .max = 6000.0f, .default_value = 2500.0f},
    ParamInfo{.name = "low_drive", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.2f},
    ParamInfo{.name = "mid_drive", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.2f},
    ParamInfo{.name = "high_drive", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.2f},
    ParamInfo{.name = "low_level", .unit = "", .min = 0.0f, .max = 2.0f, .default_value = 1.0f},
    ParamInfo{.name = "mid_level", .unit = "", .min = 0.0f, .max = 2.0f, .default_value = 1.0f},
    ParamInfo{.name = "high_level", .unit = "", .min = 0.0f, .max = 2.0f, .default_value = 1.0f},
};
constexpr double kXoverGlideMs = 30.0;
constexpr double kEnvAttackMs = 1.0;
constexpr double kEnvReleaseMs = 50.0;
constexpr double kDcHz = 15.0;
constexpr double kQ = 0.70710678118654752;

void run2(std::array<dsp::Biquad, 2>& f, std::span<float> x) noexcept {
    f[0].process(x);
    f[1].process(x);
}
} // namespace

SatStage::SatStage() { init_params(); }

std::span<const ParamInfo> SatStage::params() const noexcept RIGD_RT { return kParams; }

void SatStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    log2_low_.prepare(dsp::ControlRate::rate_hz(sample_rate_hz_), kXoverGlideMs);
    log2_high_.prepare(dsp::ControlRate::rate_hz(sample_rate_hz_), kXoverGlideMs);
    for (std::size_t b = 0; b < kBands; ++b) {
        drive_[b].prepare(sample_rate_hz_, kGlideMs);
        level_[b].prepare(sample_rate_hz_, kGlideMs);
        os_[b].prepare(spec.oversample, std::min(spec.max_block_size, kChunk));
        env_[b].set_times(kEnvAttackMs, kEnvReleaseMs, sample_rate_hz_);
        dc_[b].prepare(kDcHz, sample_rate_hz_);
    }
    reset();
}

void SatStage::design_crossovers(double low_hz, double high_hz) noexcept {
    const auto llp = dsp::design_lowpass(low_hz, kQ, sample_rate_hz_);
    const auto lhp = dsp::design_highpass(low_hz, kQ, sample_rate_hz_);
    const auto hlp = dsp::design_lowpass(high_hz, kQ, sample_rate_hz_);
    const auto hhp = dsp::design_highpass(high_hz, kQ, sample_rate_hz_);
    for (std::size_t k = 0; k < 2; ++k) {
        low_lp_[k].set(llp);
        low_hp_[k].set(lhp);
        high_lp_[k].set(hlp);
        high_hp_[k].set(hhp);
        ap_lp_[k].set(hlp);
        ap_hp_[k].set(hhp);
    }
}

void SatStage::reset() noexcept RIGD_RT {
    log2_low_.snap(std::log2(param(kLowHz)));
    log2_high_.snap(std::log2(param(kHighHz)));
    design_crossovers(param(kLowHz), param(kHighHz));
    for (auto* f : {&low_lp_, &low_hp_, &high_lp_, &high_hp_, &ap_lp_, &ap_hp_}) {
        for (auto& bq : *f) {
            bq.reset();
        }
    }
    for (std::size_t b = 0; b < kBands; ++b) {
        drive_[b].snap(param(kLowDrive + b));
        level_[b].snap(param(kLowLevel + b));
        os_[b].reset();
        env_[b].reset();
        dc_[b].reset();
    }
    control_.reset();
}

void SatStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    if (index == kLowHz) {
        log2_low_.set_target(std::log2(value));
    } else if (index == kHighHz) {
        log2_high_.set_target(std::log2(value));
    } else if (index >= kLowDrive && index <= kHighDrive) {
        drive_[index - kLowDrive].set_target(value);
    } else if (index >= kLowLevel && index <= kHighLevel) {
        level_[index - kLowLevel].set_target(value);
    }
}

void SatStage::process_chunk(std::span<float> x) noexcept {
    const std::size_t n = x.size();
    // Split: low = LP(low) -> allpass(high); rest = HP(low); mid = LP(high); high = HP(high).
    const std::span<float> low(band_[0].data(), n), mid(band_[1].data(), n), high(band_[2].data(), n);
    for (std::size_t k = 0; k < n; ++k) {
        low[k] = mid[k] = dsp::sanitize(x[k]);
    }
    run2(low_lp_, low);
    run2(low_hp_, mid);
    std::copy(mid.begin(), mid.end(), high.begin());
    run2(high_lp_, mid);
    run2(high_hp_, high);
    // Low band allpass: LP(high) + HP(high) of the low band.
    std::copy(low.begin(), low.end(), x.begin());
    run2(ap_lp_, low);
    run2(ap_hp_, x);
    for (std::size_t k = 0; k < n; ++k) {
        low[k] += x[k];
    }
    for (std::size_t b = 0; b < kBands; ++b) {
        const std::span<float> band(band_[b].data(), n);
        float* amount = amount_.data();
        for (std::size_t k = 0; k < n; ++k) {
            const float d = drive_[b].next();
            const float env = env_[b].process(band[k]);
            band[k] *= (1.0f + 9.0f * d) / (1.0f + d * env);
            post_[b][k] = 1.0f + 0.5f * d * env;
            amount[k] = d;
        }
        const std::span<float> hi = os_[b].upsample(band);
        const auto factor = static_cast<std::size_t>(os_[b].factor());
        for (std::size_t k = 0; k < n; ++k) {
            const float d = amount[k];
            for (float& v : hi.subspan(k * factor, factor)) {
                v += d * (v / (1.0f + std::fabs(v)) - v);
            }
        }
        os_[b].downsample(band);
        for (std::size_t k = 0; k < n; ++k) {
            band[k] *= post_[b][k];
        }
        dc_[b].process(band);
    }
    for (std::size_t k = 0; k < n; ++k) {
        x[k] = low[k] * level_[0].next() + mid[k] * level_[1].next() + high[k] * level_[2].next();
    }
}

void SatStage::process_block(std::span<float> block) noexcept RIGD_RT {
    std::size_t i = 0;
    while (i < block.size()) {
        bool tick = false;
        const std::size_t n = control_.next_segment(block.size() - i, tick);
        if (tick && (log2_low_.is_smoothing() || log2_high_.is_smoothing())) {
            const double lo = std::exp2(static_cast<double>(log2_low_.next()));
            const double hi = std::exp2(static_cast<double>(log2_high_.next()));
            design_crossovers(lo, hi);
        }
        process_chunk(block.subspan(i, n));
        i += n;
    }
}

float SatStage::process_sample(float x) noexcept RIGD_RT {
    float b[1] = {x};
    process_block(b);
    return b[0];
}

} // namespace rigd::core::stages
