#include "core/stages/filter_stage.hpp"

#include "core/dsp/sanitize.hpp"

#include <algorithm>
#include <cmath>

namespace rigd::core::stages {

namespace {
constexpr std::array<std::string_view, 2> kModes{"hp", "lp"};
constexpr std::array kParams{
    ParamInfo{.name = "mode", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.0f,
              .kind = ParamKind::choice, .choices = kModes},
    ParamInfo{.name = "cutoff_hz", .unit = "Hz", .min = 20.0f, .max = 20000.0f, .default_value = 100.0f},
    ParamInfo{.name = "order", .unit = "", .min = 1.0f, .max = 4.0f, .default_value = 2.0f,
              .kind = ParamKind::integer},
};
} // namespace

void FilterStage::Bank::design(double cutoff_hz, double sample_rate_hz) noexcept RIGD_RT {
    const bool lp = mode == 1;
    auto second = [&](int k) {
        const double q = dsp::butterworth_q(order, k);
        return lp ? dsp::design_lowpass(cutoff_hz, q, sample_rate_hz)
                  : dsp::design_highpass(cutoff_hz, q, sample_rate_hz);
    };
    const auto first = lp ? dsp::design_lowpass1(cutoff_hz, sample_rate_hz)
                          : dsp::design_highpass1(cutoff_hz, sample_rate_hz);
    switch (order) {
    case 1:
        section[0].set(first);
        sections = 1;
        break;
    case 3:
        section[0].set(first);
        section[1].set(second(0));
        sections = 2;
        break;
    case 4:
        section[0].set(second(0));
        section[1].set(second(1));
        sections = 2;
        break;
    default:
        section[0].set(second(0));
        sections = 1;
        break;
    }
}

void FilterStage::Bank::reset() noexcept RIGD_RT {
    for (auto& s : section) {
        s.reset();
    }
}

void FilterStage::Bank::process(std::span<float> block) noexcept RIGD_RT {
    if (sections == 1) {
        section[0].process(block);
        return;
    }
    // One loop for both sections: their recursions overlap instead of adding.
    auto& s0 = section[0];
    auto& s1 = section[1];
    for (float& v : block) {
        v = static_cast<float>(s1.tick(s0.tick(static_cast<double>(v))));
    }
}

float FilterStage::Bank::process(float x) noexcept RIGD_RT {
    const double y = section[0].tick(static_cast<double>(x));
    return static_cast<float>(sections == 1 ? y : section[1].tick(y));
}

FilterStage::FilterStage() { init_params(); }

std::span<const ParamInfo> FilterStage::params() const noexcept RIGD_RT { return kParams; }

void FilterStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    log2_cutoff_.prepare(dsp::ControlRate::rate_hz(spec.sample_rate_hz), kGlideMs);
    fade_step_ = static_cast<float>(1.0 / std::max(1.0, kFadeMs * 0.001 * spec.sample_rate_hz));
    reset();
}

void FilterStage::reset() noexcept RIGD_RT {
    log2_cutoff_.snap(std::log2(param(kCutoff)));
    current_.mode = want_mode_;
    current_.order = want_order_;
    current_.design(param(kCutoff), sample_rate_hz_);
    current_.reset();
    previous_.reset();
    fade_ = 1.0f;
    control_.reset();
}

void FilterStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    switch (index) {
    case kMode:
        want_mode_ = static_cast<int>(std::lround(value));
        break;
    case kOrder:
        want_order_ = static_cast<int>(std::lround(value));
        break;
    default:
        log2_cutoff_.set_target(std::log2(value));
        break;
    }
}

void FilterStage::run(std::span<float> block) noexcept {
    for (float& v : block) {
        v = dsp::sanitize(v);
    }
    if (fade_ >= 1.0f) {
        current_.process(block);
        return;
    }
    // Crossfade after a mode/order switch (per sample, so it ends on time).
    for (float& v : block) {
        const float old_y = previous_.process(v);
        const float new_y = current_.process(v);
        v = old_y + fade_ * (new_y - old_y);
        fade_ = std::min(1.0f, fade_ + fade_step_);
    }
}

void FilterStage::process_block(std::span<float> block) noexcept RIGD_RT {
    if (!log2_cutoff_.is_smoothing() && want_mode_ == current_.mode && want_order_ == current_.order &&
        fade_ >= 1.0f) {
        // Settled: the ticks would redesign nothing, so no 16-sample segments.
        control_.advance(block.size());
        run(block);
        return;
    }
    std::size_t i = 0;
    while (i < block.size()) {
        bool tick = false;
        const std::size_t n = control_.next_segment(block.size() - i, tick);
        if (tick) {
            const bool gliding = log2_cutoff_.is_smoothing();
            const double cutoff = std::exp2(static_cast<double>(log2_cutoff_.next()));
            if ((want_mode_ != current_.mode || want_order_ != current_.order) && fade_ >= 1.0f) {
                previous_ = current_;
                current_.mode = want_mode_;
                current_.order = want_order_;
                current_.reset();
                current_.design(cutoff, sample_rate_hz_);
                fade_ = 0.0f;
            } else if (gliding) {
                current_.design(cutoff, sample_rate_hz_);
                if (fade_ < 1.0f) {
                    previous_.design(cutoff, sample_rate_hz_);
                }
            }
        }
        run(block.subspan(i, n));
        i += n;
    }
}

float FilterStage::process_sample(float x) noexcept RIGD_RT {
    float b[1] = {x};
    process_block(b);
    return b[0];
}

} // namespace rigd::core::stages
