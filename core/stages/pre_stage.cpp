#include "core/stages/pre_stage.hpp"

#include "core/dsp/sanitize.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <type_traits>

namespace rigd::core::stages {

namespace {
constexpr std::array<std::string_view, 6> kClippers{"soft", "medium", "hard", "asymmetric", "class_a", "triode"};
constexpr std::array kParams{
    ParamInfo{.name = "gain", .unit = "", .min = 0.0f, .max = 10.0f, .default_value = 5.0f},
    ParamInfo{.name = "bias", .unit = "", .min = -1.0f, .max = 1.0f, .default_value = 0.0f},
    ParamInfo{.name = "clipper", .unit = "", .min = 0.0f, .max = 5.0f, .default_value = 0.0f,
              .kind = ParamKind::choice, .choices = kClippers},
};
} // namespace

PreStage::PreStage() { init_params(); }

std::span<const ParamInfo> PreStage::params() const noexcept RIGD_RT { return kParams; }

void PreStage::prepare(const ProcessSpec& spec) {
    triode_ = &dsp::TriodeTable::instance();
    os_.prepare(spec.oversample, std::min(spec.max_block_size, kChunk));
    const double high_rate = spec.sample_rate_hz * spec.oversample;
    lpf_.set_cutoff(kInterStageHz, high_rate);
    dc_.prepare(kDcHz, spec.sample_rate_hz);
    for (auto* s : {&drive1_, &drive2_, &bias_, &bias_offset_, &bias_scale_}) {
        s->prepare(high_rate, kGlideMs);
    }
    fade_step_ = static_cast<float>(1.0 / std::max(1.0, kFadeMs * 0.001 * high_rate));
    reset();
}

void PreStage::reset() noexcept RIGD_RT {
    os_.reset();
    lpf_.reset();
    dc_.reset();
    set_targets();
    for (auto* s : {&drive1_, &drive2_, &bias_, &bias_offset_, &bias_scale_}) {
        s->snap(s->target());
    }
    clipper_ = previous_clipper_ = want_clipper_;
    fade_ = 1.0f;
}

void PreStage::set_targets() noexcept {
    const float gain = param(kGain);
    const float bias = param(kBias);
    drive1_.set_target(1.0f + 1.8f * gain);
    drive2_.set_target(1.0f + 0.3f * gain);
    bias_.set_target(bias);
    bias_offset_.set_target(std::tanh(bias));
    const float c = std::cosh(bias);
    bias_scale_.set_target(std::min(c * c, 4.0f));
}

void PreStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    if (index == kClipper) {
        want_clipper_ = static_cast<dsp::ClipperKind>(std::lround(value));
        return;
    }
    set_targets();
}

void PreStage::shape(std::span<float> hi) noexcept {
    const bool gliding = drive1_.is_smoothing() || drive2_.is_smoothing() || bias_.is_smoothing() ||
                         bias_offset_.is_smoothing() || bias_scale_.is_smoothing();
    if (want_clipper_ != clipper_ && fade_ >= 1.0f) {
        previous_clipper_ = clipper_;
        clipper_ = want_clipper_;
        fade_ = 0.0f;
    }
    const dsp::TriodeTable& triode = *triode_;
    if (!gliding && fade_ >= 1.0f) {
        // Steady state: three passes, the two curves vectorise.
        const float d1 = drive1_.current(), b = bias_.current(), bo = bias_offset_.current(),
                    bs = bias_scale_.current(), d2 = drive2_.current();
        for (float& v : hi) {
            v = (dsp::fast_tanh(d1 * v + b) - bo) * bs;
        }
        lpf_.process(hi);
        // One loop per curve (the kind fixed inside), so each vectorises.
        auto apply = [&](auto kind) {
            for (float& v : hi) {
                v = dsp::clip(decltype(kind)::value, d2 * v, triode);
            }
        };
        using K = dsp::ClipperKind;
        switch (clipper_) {
        case K::soft:
            apply(std::integral_constant<K, K::soft>{});
            break;
        case K::medium:
            apply(std::integral_constant<K, K::medium>{});
            break;
        case K::hard:
            apply(std::integral_constant<K, K::hard>{});
            break;
        case K::asymmetric:
            apply(std::integral_constant<K, K::asymmetric>{});
            break;
        case K::class_a:
            apply(std::integral_constant<K, K::class_a>{});
            break;
        case K::triode:
            apply(std::integral_constant<K, K::triode>{});
            break;
        }
        return;
    }
    for (float& v : hi) {
        const float d1 = drive1_.next(), b = bias_.next(), bo = bias_offset_.next(), bs = bias_scale_.next(),
                    d2 = drive2_.next();
        const float s = d2 * lpf_.process((dsp::fast_tanh(d1 * v + b) - bo) * bs);
        float y = dsp::clip(clipper_, s, triode);
        if (fade_ < 1.0f) {
            const float old_y = dsp::clip(previous_clipper_, s, triode);
            y = old_y + fade_ * (y - old_y);
            fade_ = std::min(1.0f, fade_ + fade_step_);
        }
        v = y;
    }
}

void PreStage::process_block(std::span<float> block) noexcept RIGD_RT {
    for (std::size_t i = 0; i < block.size(); i += os_.max_block()) {
        const std::span<float> chunk = block.subspan(i, std::min(os_.max_block(), block.size() - i));
        for (float& v : chunk) {
            v = dsp::sanitize(v);
        }
        shape(os_.upsample(chunk));
        os_.downsample(chunk);
        dc_.process(chunk);
    }
}

float PreStage::process_sample(float x) noexcept RIGD_RT {
    float b[1] = {x};
    process_block(b);
    return b[0];
}

} // namespace rigd::core::stages
