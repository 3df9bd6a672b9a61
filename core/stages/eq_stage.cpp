#include "core/stages/eq_stage.hpp"

#include "core/dsp/sanitize.hpp"

namespace rigd::core::stages {

namespace {
constexpr ParamInfo band(std::string_view name) {
    return ParamInfo{.name = name, .unit = "dB", .min = -12.0f, .max = 12.0f, .default_value = 0.0f};
}
constexpr std::array kParams{
    band("band_0"),  band("band_1"),  band("band_2"),  band("band_3"),  band("band_4"),  band("band_5"),
    band("band_6"),  band("band_7"),  band("band_8"),  band("band_9"),  band("band_10"), band("band_11"),
    band("band_12"), band("band_13"), band("band_14"), band("band_15"),
};
static_assert(kParams.size() == EqStage::kBands);
} // namespace

EqStage::EqStage() { init_params(); }

std::span<const ParamInfo> EqStage::params() const noexcept RIGD_RT { return kParams; }

void EqStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    for (auto& g : gain_db_) {
        g.prepare(dsp::ControlRate::rate_hz(spec.sample_rate_hz), kGlideMs);
    }
    reset();
}

void EqStage::reset() noexcept RIGD_RT {
    for (std::size_t b = 0; b < kBands; ++b) {
        gain_db_[b].snap(param(b));
        filter_[b].reset();
        update_band(b);
    }
    control_.reset();
}

void EqStage::update_band(std::size_t b) noexcept {
    const float db = gain_db_[b].current();
    const bool active = db != 0.0f || gain_db_[b].is_smoothing();
    if (active) {
        filter_[b].set(dsp::design_peaking(kCentreHz[b], db, kBandwidthOct, sample_rate_hz_));
    } else if (active_[b]) {
        filter_[b].reset(); // resting at 0 dB: exact passthrough, no stale state
    }
    active_[b] = active;
}

void EqStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    if (index < kBands) {
        gain_db_[index].set_target(value);
    }
}

void EqStage::process_block(std::span<float> block) noexcept RIGD_RT {
    bool settled = true;
    for (std::size_t b = 0; b < kBands; ++b) {
        settled &= !(gain_db_[b].is_smoothing() || (active_[b] && gain_db_[b].current() == 0.0f) ||
                     (!active_[b] && gain_db_[b].target() != 0.0f));
    }
    if (settled) {
        // The ticks would update nothing: one pass, no 16-sample segments.
        control_.advance(block.size());
        for (float& v : block) {
            v = dsp::sanitize(v);
        }
        for (std::size_t b = 0; b < kBands; ++b) {
            if (active_[b]) {
                filter_[b].process(block);
            }
        }
        return;
    }
    std::size_t i = 0;
    while (i < block.size()) {
        bool tick = false;
        const std::size_t n = control_.next_segment(block.size() - i, tick);
        if (tick) {
            for (std::size_t b = 0; b < kBands; ++b) {
                if (gain_db_[b].is_smoothing() || (active_[b] && gain_db_[b].current() == 0.0f) ||
                    (!active_[b] && gain_db_[b].target() != 0.0f)) {
                    (void)gain_db_[b].next();
                    update_band(b);
                }
            }
        }
        const std::span<float> seg = block.subspan(i, n);
        for (float& v : seg) {
            v = dsp::sanitize(v);
        }
        for (std::size_t b = 0; b < kBands; ++b) {
            if (active_[b]) {
                filter_[b].process(seg);
            }
        }
        i += n;
    }
}

float EqStage::process_sample(float x) noexcept RIGD_RT {
    float b[1] = {x};
    process_block(b);
    return b[0];
}

} // namespace rigd::core::stages
