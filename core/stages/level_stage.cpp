#include "core/stages/level_stage.hpp"

#include "core/db.hpp"

#include <array>

namespace rigd::core::stages {

namespace {
constexpr std::array kParams{
    ParamInfo{.name = "gain_db", .unit = "dB", .min = -60.0f, .max = 24.0f, .default_value = 0.0f},
};
constexpr double kRampMs = 20.0;
} // namespace

LevelStage::LevelStage() { init_params(); }

std::span<const ParamInfo> LevelStage::params() const noexcept RIGD_RT { return kParams; }

void LevelStage::prepare(const ProcessSpec& spec) {
    gain_.prepare(spec.sample_rate_hz, kRampMs);
    gain_.snap(db_to_gain(param(0)));
}

void LevelStage::reset() noexcept RIGD_RT { gain_.snap(gain_.target()); }

void LevelStage::on_param_changed(std::size_t, float value) noexcept RIGD_RT { gain_.set_target(db_to_gain(value)); }

float LevelStage::process_sample(float x) noexcept RIGD_RT { return x * gain_.next(); }

void LevelStage::process_block(std::span<float> block) noexcept RIGD_RT {
    if (!gain_.is_smoothing()) {
        const float g = gain_.current();
        for (float& s : block) {
            s *= g;
        }
        return;
    }
    for (float& s : block) {
        s *= gain_.next();
    }
}

} // namespace rigd::core::stages
