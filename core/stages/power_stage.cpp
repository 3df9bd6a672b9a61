#include "core/stages/power_stage.hpp"

#include "core/dsp/fast_math.hpp"
#include "core/dsp/sanitize.hpp"

#include <algorithm>
#include <cmath>

namespace rigd::core::stages {

namespace {
constexpr std::array<std::string_view, 3> kClasses{"a", "ab", "b"};
constexpr std::array kParams{
    ParamInfo{.name = "drive", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.5f},
    ParamInfo{.name = "class", .unit = "", .min = 0.0f, .max = 2.0f, .default_value = 1.0f,
              .kind = ParamKind::choice, .choices = kClasses},
    ParamInfo{.name = "sag", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 0.3f},
    ParamInfo{.name = "sag_release_ms", .unit = "ms", .min = 40.0f, .max = 200.0f, .default_value = 120.0f},
};

template <int Class>
inline float curve_of(float d, float c, float inv_c) noexcept {
    if constexpr (Class == PowerStage::kClassA) {
        const float k = inv_c * (d >= 0.0f ? 1.0f : 0.8f); // no multiply in one arm only: it would branch
        return c * dsp::fast_tanh(k * d);
    } else {
        constexpr float dz = Class == PowerStage::kClassAB ? 0.1f : 0.25f;
        const float d2 = d * d;
        return c * dsp::fast_tanh(d * d2 / (dz * dz + d2) * inv_c);
    }
}

inline float curve(int amp_class, float d, float c, float inv_c) noexcept {
    switch (amp_class) {
    case PowerStage::kClassA:
        return curve_of<PowerStage::kClassA>(d, c, inv_c);
    case PowerStage::kClassAB:
        return curve_of<PowerStage::kClassAB>(d, c, inv_c);
    default:
        return curve_of<PowerStage::kClassB>(d, c, inv_c);
    }
}

// Steady state (no class crossfade): the class is fixed for the loop so it
// vectorises.
template <int Class>
void shape_steady(float* hi, const float* ceiling, std::size_t n, std::size_t factor) noexcept {
    if (factor == 1) {
        for (std::size_t i = 0; i < n; ++i) {
            const float c = ceiling[i];
            hi[i] = curve_of<Class>(hi[i], c, 1.0f / c);
        }
        return;
    }
    for (std::size_t i = 0; i < n; ++i) {
        const float c = ceiling[i];
        const float inv_c = 1.0f / c;
        float* h = hi + i * factor;
        for (std::size_t j = 0; j < factor; ++j) {
            h[j] = curve_of<Class>(h[j], c, inv_c);
        }
    }
}
} // namespace

double PowerStage::reference_curve(int amp_class, double d, double c) noexcept {
    if (amp_class == kClassA) {
        return c * std::tanh((d >= 0.0 ? 1.0 : 0.8) * d / c);
    }
    const double dz = amp_class == kClassAB ? 0.1 : 0.25;
    return c * std::tanh(d * d * d / (dz * dz + d * d) / c);
}

PowerStage::PowerStage() { init_params(); }

std::span<const ParamInfo> PowerStage::params() const noexcept RIGD_RT { return kParams; }

void PowerStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    os_.prepare(spec.oversample, std::min(spec.max_block_size, kChunk));
    dc_.prepare(kDcHz, sample_rate_hz_);
    drive_.prepare(sample_rate_hz_, kGlideMs);
    sag_.prepare(sample_rate_hz_, kGlideMs);
    fade_step_ = static_cast<float>(1.0 / std::max(1.0, kFadeMs * 0.001 * sample_rate_hz_ * spec.oversample));
    reset();
}

void PowerStage::reset() noexcept RIGD_RT {
    os_.reset();
    dc_.reset();
    sag_env_.reset();
    sag_env_.set_times(kSagAttackMs, param(kSagRelease), sample_rate_hz_);
    dirty_ = false;
    drive_.snap(param(kDrive));
    sag_.snap(param(kSag));
    amp_class_ = previous_class_ = want_class_;
    fade_ = 1.0f;
}

void PowerStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    switch (index) {
    case kDrive:
        drive_.set_target(value);
        break;
    case kSag:
        sag_.set_target(value);
        break;
    case kClass:
        want_class_ = static_cast<int>(std::lround(value));
        break;
    default:
        dirty_ = true;
        break;
    }
}

void PowerStage::shape(std::span<float> hi, std::size_t n) noexcept {
    const auto factor = static_cast<std::size_t>(os_.factor());
    if (want_class_ != amp_class_ && fade_ >= 1.0f) {
        previous_class_ = amp_class_;
        amp_class_ = want_class_;
        fade_ = 0.0f;
    }
    const int cls = amp_class_;
    if (fade_ >= 1.0f) {
        switch (cls) {
        case kClassA:
            shape_steady<kClassA>(hi.data(), ceiling_.data(), n, factor);
            break;
        case kClassAB:
            shape_steady<kClassAB>(hi.data(), ceiling_.data(), n, factor);
            break;
        default:
            shape_steady<kClassB>(hi.data(), ceiling_.data(), n, factor);
            break;
        }
        return;
    }
    for (std::size_t i = 0; i < n; ++i) {
        const float c = ceiling_[i];
        const float inv_c = 1.0f / c;
        float* h = hi.data() + i * factor;
        for (std::size_t j = 0; j < factor; ++j) {
            const float y = curve(cls, h[j], c, inv_c);
            const float old_y = curve(previous_class_, h[j], c, inv_c);
            h[j] = old_y + fade_ * (y - old_y);
            fade_ = std::min(1.0f, fade_ + fade_step_);
        }
    }
}

void PowerStage::process_block(std::span<float> block) noexcept RIGD_RT {
    if (dirty_) {
        sag_env_.set_times(kSagAttackMs, param(kSagRelease), sample_rate_hz_);
        dirty_ = false;
    }
    for (std::size_t i = 0; i < block.size(); i += os_.max_block()) {
        const std::size_t n = std::min(os_.max_block(), block.size() - i);
        const std::span<float> chunk = block.subspan(i, n);
        float* ceiling = ceiling_.data();
        float* env = env_buf_.data();
        if (drive_.is_smoothing() || sag_.is_smoothing()) {
            for (std::size_t k = 0; k < n; ++k) {
                chunk[k] = dsp::sanitize(chunk[k]) * (1.0f + 3.0f * drive_.next());
                ceiling[k] = sag_.next();
            }
            sag_env_.process(chunk, env);
            for (std::size_t k = 0; k < n; ++k) {
                ceiling[k] = std::max(1.0f - 0.5f * ceiling[k] * env[k], 0.1f);
            }
        } else {
            const float gain = 1.0f + 3.0f * drive_.current();
            const float sag = sag_.current();
            for (std::size_t k = 0; k < n; ++k) {
                chunk[k] = dsp::sanitize(chunk[k]) * gain;
            }
            sag_env_.process(chunk, env);
            for (std::size_t k = 0; k < n; ++k) {
                ceiling[k] = std::max(1.0f - 0.5f * sag * env[k], 0.1f);
            }
        }
        shape(os_.upsample(chunk), n);
        os_.downsample(chunk);
        dc_.process(chunk);
    }
}

float PowerStage::process_sample(float x) noexcept RIGD_RT {
    float b[1] = {x};
    process_block(b);
    return b[0];
}

} // namespace rigd::core::stages
