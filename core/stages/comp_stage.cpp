#include "core/stages/comp_stage.hpp"

#include "core/dsp/fast_math.hpp"
#include "core/dsp/sanitize.hpp"

#include <algorithm>
#include <array>

namespace rigd::core::stages {

namespace {
constexpr std::array kParams{
    ParamInfo{.name = "threshold_db", .unit = "dB", .min = -60.0f, .max = 0.0f, .default_value = -20.0f},
    ParamInfo{.name = "ratio", .unit = "", .min = 1.0f, .max = 20.0f, .default_value = 4.0f},
    ParamInfo{.name = "attack_ms", .unit = "ms", .min = 0.1f, .max = 100.0f, .default_value = 1.0f},
    ParamInfo{.name = "release_ms", .unit = "ms", .min = 10.0f, .max = 1000.0f, .default_value = 100.0f},
    ParamInfo{.name = "makeup_db", .unit = "dB", .min = -12.0f, .max = 24.0f, .default_value = 0.0f},
    ParamInfo{.name = "knee_db", .unit = "dB", .min = 0.0f, .max = 24.0f, .default_value = 0.0f},
};
constexpr double kGlideMs = 20.0;
} // namespace

CompStage::CompStage() { init_params(); }

std::span<const ParamInfo> CompStage::params() const noexcept RIGD_RT { return kParams; }

void CompStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    for (auto* s : {&threshold_db_, &slope_, &knee_db_, &makeup_db_}) {
        s->prepare(sample_rate_hz_, kGlideMs);
    }
    reset();
}

void CompStage::reset() noexcept RIGD_RT {
    env_.reset();
    threshold_db_.snap(param(kThreshold));
    slope_.snap(1.0f / param(kRatio) - 1.0f);
    knee_db_.snap(param(kKnee));
    makeup_db_.snap(param(kMakeup));
    env_.set_times(param(kAttack), param(kRelease), sample_rate_hz_);
    dirty_ = false;
}

void CompStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    switch (index) {
    case kThreshold:
        threshold_db_.set_target(value);
        break;
    case kRatio:
        slope_.set_target(1.0f / value - 1.0f);
        break;
    case kMakeup:
        makeup_db_.set_target(value);
        break;
    case kKnee:
        knee_db_.set_target(value);
        break;
    default:
        dirty_ = true; // time constants: recomputed at the next block
        break;
    }
}

void CompStage::run(std::span<float> x) noexcept {
    const std::size_t n = x.size();
    for (float& v : x) {
        v = dsp::sanitize(v);
    }
    float* env = env_buf_.data();
    env_.process(x, env);
    const bool gliding =
        threshold_db_.is_smoothing() || slope_.is_smoothing() || knee_db_.is_smoothing() || makeup_db_.is_smoothing();
    if (gliding) {
        for (std::size_t k = 0; k < n; ++k) {
            const float g_db = gain_db(dsp::fast_gain_to_db(env[k]), threshold_db_.next(), slope_.next(),
                                       knee_db_.next()) +
                               makeup_db_.next();
            x[k] *= dsp::fast_db_to_gain(g_db);
        }
        return;
    }
    const float threshold = threshold_db_.current(), slope = slope_.current(), knee = knee_db_.current(),
                makeup = makeup_db_.current();
    // Below the knee everywhere (the usual case between notes): the gain is
    // the makeup alone, exactly what the general loop would compute.
    for (std::size_t k = 0; k < n; ++k) {
        env[k] = dsp::fast_gain_to_db(env[k]); // level in dB from here on
    }
    int above = 0; // int, not bool: GCC vectorises this reduction
    for (std::size_t k = 0; k < n; ++k) {
        above |= 2.0f * (env[k] - threshold) <= -knee ? 0 : 1;
    }
    const bool below = above == 0;
    if (below) {
        const float g = dsp::fast_db_to_gain(0.0f + makeup);
        for (float& v : x) {
            v *= g;
        }
        return;
    }
    for (std::size_t k = 0; k < n; ++k) {
        x[k] *= dsp::fast_db_to_gain(gain_db(env[k], threshold, slope, knee) + makeup);
    }
}

void CompStage::process_block(std::span<float> block) noexcept RIGD_RT {
    if (dirty_) {
        env_.set_times(param(kAttack), param(kRelease), sample_rate_hz_);
        dirty_ = false;
    }
    for (std::size_t i = 0; i < block.size(); i += kChunk) {
        run(block.subspan(i, std::min(kChunk, block.size() - i)));
    }
}

float CompStage::process_sample(float x) noexcept RIGD_RT {
    float b[1] = {x};
    process_block(b);
    return b[0];
}

} // namespace rigd::core::stages
