#include "core/stages/comp_stage.hpp"

#include "core/dsp/fast_math.hpp"
#include "core/dsp/sanitize.hpp"

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

std::span<const ParamInfo> CompStage::params() const noexcept { return kParams; }

void CompStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    for (auto* s : {&threshold_db_, &slope_, &knee_db_, &makeup_db_}) {
        s->prepare(sample_rate_hz_, kGlideMs);
    }
    reset();
}

void CompStage::reset() noexcept {
    env_.reset();
    threshold_db_.snap(param(kThreshold));
    slope_.snap(1.0f / param(kRatio) - 1.0f);
    knee_db_.snap(param(kKnee));
    makeup_db_.snap(param(kMakeup));
    env_.set_times(param(kAttack), param(kRelease), sample_rate_hz_);
    dirty_ = false;
}

void CompStage::on_param_changed(std::size_t index, float value) noexcept {
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

float CompStage::gain_db(float level_db, float threshold_db, float slope, float knee_db) noexcept {
    const float over = level_db - threshold_db;
    if (2.0f * over <= -knee_db) {
        return 0.0f;
    }
    if (2.0f * over >= knee_db) {
        return slope * over;
    }
    const float k = over + 0.5f * knee_db; // inside the knee (knee_db > 0 here)
    return slope * k * k / (2.0f * knee_db);
}

float CompStage::step(float x) noexcept {
    x = dsp::sanitize(x);
    const float env = env_.process(x);
    const float level_db = dsp::fast_gain_to_db(env);
    const float g_db = gain_db(level_db, threshold_db_.next(), slope_.next(), knee_db_.next()) + makeup_db_.next();
    return x * dsp::fast_db_to_gain(g_db);
}

void CompStage::process_block(std::span<float> block) noexcept {
    if (dirty_) {
        env_.set_times(param(kAttack), param(kRelease), sample_rate_hz_);
        dirty_ = false;
    }
    for (float& v : block) {
        v = step(v);
    }
}

float CompStage::process_sample(float x) noexcept {
    if (dirty_) {
        env_.set_times(param(kAttack), param(kRelease), sample_rate_hz_);
        dirty_ = false;
    }
    return step(x);
}

} // namespace rigd::core::stages
