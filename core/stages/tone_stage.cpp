#include "core/stages/tone_stage.hpp"

#include "core/dsp/sanitize.hpp"

#include <algorithm>
#include <cmath>

namespace rigd::core::stages {

namespace {
constexpr std::array<std::string_view, 4> kModels{"modern", "british", "american", "flat"};
constexpr std::array kParams{
    ParamInfo{.name = "model", .unit = "", .min = 0.0f, .max = 3.0f, .default_value = 0.0f,
              .kind = ParamKind::choice, .choices = kModels},
    ParamInfo{.name = "bass", .unit = "", .min = 0.0f, .max = 2.0f, .default_value = 1.0f},
    ParamInfo{.name = "mid", .unit = "", .min = 0.0f, .max = 2.0f, .default_value = 1.0f},
    ParamInfo{.name = "treble", .unit = "", .min = 0.0f, .max = 2.0f, .default_value = 1.0f},
    ParamInfo{.name = "presence", .unit = "", .min = 0.0f, .max = 2.0f, .default_value = 1.0f},
};
constexpr std::array<double, 4> kPresenceHz{6000.0, 5000.0, 4000.0, 5000.0};
constexpr double kModernRangeDb = 12.0;
constexpr double kPresenceRangeDb = 6.0;

double compute_makeup(const dsp::ToneStackCircuit& c) {
    const auto h = c.analog(ToneStage::audio_taper(0.5), 0.5, ToneStage::audio_taper(0.5));
    double peak = 0.0;
    for (double f = 20.0; f <= 20000.0; f *= 1.01) {
        peak = std::max(peak, std::abs(h.response(f)));
    }
    return 1.0 / peak;
}

// Computed once at start-up (this file's dynamic initialisation; the
// circuits are constant-initialised): a function-local static would leave
// an initialisation guard, and on its first use a lock, on the RT thread.
struct Makeup {
    double british;
    double american;
};
const Makeup kMakeup{compute_makeup(dsp::ToneStackCircuit::kMarshallJcm800),
                     compute_makeup(dsp::ToneStackCircuit::kFenderBassman)};
} // namespace

double ToneStage::audio_taper(double rotation) noexcept {
    // Exponential law: 15 % of the resistance at half rotation, like an A pot.
    constexpr double k = 3.4;
    return (std::exp(k * rotation) - 1.0) / (std::exp(k) - 1.0);
}

double ToneStage::mid_position(double knob) noexcept {
    // Linear pot; the wiper up (m = 1) lifts the mids.
    return 0.5 * knob;
}

const dsp::ToneStackCircuit* ToneStage::circuit_for(int model) noexcept {
    switch (model) {
    case kBritish:
        return &dsp::ToneStackCircuit::kMarshallJcm800;
    case kAmerican:
        return &dsp::ToneStackCircuit::kFenderBassman;
    default:
        return nullptr;
    }
}

double ToneStage::makeup_gain(int model) noexcept RIGD_RT {
    return model == kBritish ? kMakeup.british : (model == kAmerican ? kMakeup.american : 1.0);
}

void ToneStage::Bank::design(double bass, double mid, double treble, double presence_knob, double fs) noexcept RIGD_RT {
    if (const auto* circuit = circuit_for(model)) {
        const auto h = circuit->analog(audio_taper(0.5 * treble), mid_position(mid), audio_taper(0.5 * bass));
        const auto d = dsp::ToneStackCircuit::bilinear(h, fs);
        b = d.b;
        a = {d.a[1], d.a[2], d.a[3]};
        makeup = makeup_gain(model);
    } else if (model == kModern) {
        band[0].set(dsp::design_low_shelf(120.0, (bass - 1.0) * kModernRangeDb, fs));
        band[1].set(dsp::design_peaking_q(700.0, (mid - 1.0) * kModernRangeDb, 0.7, fs));
        band[2].set(dsp::design_high_shelf(2200.0, (treble - 1.0) * kModernRangeDb, fs));
        makeup = 1.0;
    }
    presence.set(dsp::design_high_shelf(kPresenceHz[static_cast<std::size_t>(model)],
                                        (presence_knob - 1.0) * kPresenceRangeDb, fs));
}

void ToneStage::Bank::reset() noexcept RIGD_RT {
    xs = {};
    ys = {};
    for (auto& bq : band) {
        bq.reset();
    }
    presence.reset();
}

// No SLP: GCC packs y[n-1], y[n-2] into one vector register and the
// shuffles land on the recursion, about doubling its latency. (GCC only:
// clang warns about the unknown attribute.)
#if defined(__clang__)
#define RIGD_NO_SLP
#else
#define RIGD_NO_SLP [[gnu::optimize("no-tree-slp-vectorize")]]
#endif
RIGD_NO_SLP void ToneStage::Bank::process(std::span<float> block) noexcept RIGD_RT {
    // One fused loop per model, in double: the stack and the presence shelf
    // recursions overlap, and direct form I keeps each to one FMA of latency.
    if (circuit_for(model) != nullptr) {
        double x1 = xs[0], x2 = xs[1], x3 = xs[2], y1 = ys[0], y2 = ys[1], y3 = ys[2];
        const double b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3], a1 = a[0], a2 = a[1], a3 = a[2];
        const double g = makeup;
        for (float& v : block) {
            const double x = v;
            const double y = b0 * x + b1 * x1 + b2 * x2 + b3 * x3 - a3 * y3 - a2 * y2 - a1 * y1;
            x3 = x2;
            x2 = x1;
            x1 = x;
            y3 = y2;
            y2 = y1;
            y1 = y;
            v = static_cast<float>(presence.tick(y * g));
        }
        xs = {x1, x2, x3};
        ys = {y1, y2, y3};
    } else if (model == kModern) {
        for (float& v : block) {
            v = static_cast<float>(presence.tick(band[2].tick(band[1].tick(band[0].tick(v)))));
        }
    } else {
        presence.process(block);
    }
}

ToneStage::ToneStage() { init_params(); }

std::span<const ParamInfo> ToneStage::params() const noexcept RIGD_RT { return kParams; }

void ToneStage::prepare(const ProcessSpec& spec) {
    sample_rate_hz_ = spec.sample_rate_hz;
    for (auto& k : knob_) {
        k.prepare(dsp::ControlRate::rate_hz(spec.sample_rate_hz), kGlideMs);
    }
    fade_step_ = static_cast<float>(1.0 / std::max(1.0, kFadeMs * 0.001 * spec.sample_rate_hz));
    reset();
}

void ToneStage::reset() noexcept RIGD_RT {
    for (std::size_t k = 0; k < knob_.size(); ++k) {
        knob_[k].snap(param(kBass + k));
    }
    current_.model = want_model_;
    current_.design(param(kBass), param(kMid), param(kTreble), param(kPresence), sample_rate_hz_);
    current_.reset();
    previous_.reset();
    fade_ = 1.0f;
    control_.reset();
}

void ToneStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    if (index == kModel) {
        want_model_ = static_cast<int>(std::lround(value));
    } else if (index <= kPresence) {
        knob_[index - kBass].set_target(value);
    }
}

void ToneStage::run(std::span<float> block) noexcept {
    for (float& v : block) {
        v = dsp::sanitize(v);
    }
    if (fade_ >= 1.0f) {
        current_.process(block);
        return;
    }
    for (float& v : block) {
        float old_y = v;
        float new_y = v;
        previous_.process({&old_y, 1});
        current_.process({&new_y, 1});
        v = old_y + fade_ * (new_y - old_y);
        fade_ = std::min(1.0f, fade_ + fade_step_);
    }
}

void ToneStage::process_block(std::span<float> block) noexcept RIGD_RT {
    const bool moving = std::any_of(knob_.begin(), knob_.end(), [](const auto& k) { return k.is_smoothing(); });
    if (!moving && want_model_ == current_.model && fade_ >= 1.0f) {
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
            bool moving = false;
            std::array<double, 4> k{};
            for (std::size_t j = 0; j < knob_.size(); ++j) {
                moving |= knob_[j].is_smoothing();
                k[j] = knob_[j].next();
            }
            if (want_model_ != current_.model && fade_ >= 1.0f) {
                previous_ = current_;
                current_.model = want_model_;
                current_.reset();
                current_.design(k[0], k[1], k[2], k[3], sample_rate_hz_);
                fade_ = 0.0f;
            } else if (moving) {
                current_.design(k[0], k[1], k[2], k[3], sample_rate_hz_);
                if (fade_ < 1.0f) {
                    previous_.design(k[0], k[1], k[2], k[3], sample_rate_hz_);
                }
            }
        }
        run(block.subspan(i, n));
        i += n;
    }
}

float ToneStage::process_sample(float x) noexcept RIGD_RT {
    float b[1] = {x};
    process_block(b);
    return b[0];
}

} // namespace rigd::core::stages
