#include "core/conv/cab_stage.hpp"

#include "core/conv/ir_load_error.hpp"
#include "core/db.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

namespace rigd::core::conv {

namespace {

constexpr std::array kParams{
    ParamInfo{.name = "gain_db", .unit = "dB", .min = -24.0f, .max = 24.0f, .default_value = 0.0f},
    ParamInfo{.name = "mix", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 1.0f},
    ParamInfo{.name = "normalize", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 1.0f,
              .kind = ParamKind::toggle},
    // Applied when the IR is built (set_text / prepare); 0 keeps the whole IR.
    ParamInfo{.name = "max_ms", .unit = "ms", .min = 0.0f, .max = 10000.0f, .default_value = 0.0f},
    ParamInfo{.name = "low_cut_hz", .unit = "Hz", .min = 0.0f, .max = 1000.0f, .default_value = 0.0f},
    ParamInfo{.name = "high_cut_hz", .unit = "Hz", .min = 0.0f, .max = 20000.0f, .default_value = 0.0f},
};
static_assert(kParams.size() == CabStage::kParamCount);

constexpr std::array kTextParams{TextParamInfo{.name = "ir", .folder = "irs"}};

constexpr double kRampMs = 20.0;

} // namespace

CabStage::CabStage() { init_params(); }

std::span<const ParamInfo> CabStage::params() const noexcept RIGD_RT { return kParams; }
std::span<const TextParamInfo> CabStage::text_params() const noexcept { return kTextParams; }

void CabStage::on_param_changed(std::size_t index, float value) noexcept RIGD_RT {
    switch (index) {
    case kGainDb:
        gain_.set_target(db_to_gain(value));
        break;
    case kMix:
        mix_.set_target(value);
        break;
    case kNormalize:
        norm_.set_target(value >= 0.5f ? norm_gain_ : 1.0f);
        break;
    case kMaxMs:
        break; // takes effect when the IR is next built (see build())
    case kLowCutHz:
        low_cut_.set_cutoff(value);
        break;
    case kHighCutHz:
        high_cut_.set_cutoff(value);
        break;
    default:
        break;
    }
}

void CabStage::build(const ImpulseResponse& source) {
    ImpulseResponse ir = source.sample_rate_hz == spec_.sample_rate_hz ? source : source.resampled(spec_.sample_rate_hz);
    const float max_ms = param(kMaxMs);
    ir.trim(max_ms);
    const auto norm = static_cast<float>(ir.energy_normalization_gain());
    PartitionedConvolver convolver;
    convolver.prepare(ir.samples);
    // Everything that can throw is done: commit.
    convolver_ = std::move(convolver);
    ir_length_ = ir.samples.size();
    norm_gain_ = norm;
    built_rate_hz_ = spec_.sample_rate_hz;
    built_max_ms_ = max_ms;
}

void CabStage::prepare(const ProcessSpec& spec) {
    spec_ = spec;
    dry_.assign(spec.max_block_size, 0.0f);
    if (source_ && (built_rate_hz_ != spec.sample_rate_hz || built_max_ms_ != param(kMaxMs))) {
        build(*source_);
    }
    gain_.prepare(spec.sample_rate_hz, kRampMs);
    mix_.prepare(spec.sample_rate_hz, kRampMs);
    norm_.prepare(spec.sample_rate_hz, kRampMs);
    gain_.snap(db_to_gain(param(kGainDb)));
    mix_.snap(param(kMix));
    norm_.snap(param(kNormalize) >= 0.5f ? norm_gain_ : 1.0f);
    low_cut_.set_cutoff(param(kLowCutHz));
    high_cut_.set_cutoff(param(kHighCutHz));
    low_cut_.prepare(spec.sample_rate_hz);
    high_cut_.prepare(spec.sample_rate_hz);
    prepared_ = true;
    reset();
}

void CabStage::reset() noexcept RIGD_RT {
    convolver_.reset();
    low_cut_.reset();
    high_cut_.reset();
    gain_.snap(gain_.target());
    mix_.snap(mix_.target());
    norm_.snap(norm_.target());
}

void CabStage::set_impulse_response(ImpulseResponse ir, std::string name) {
    if (ir.samples.empty()) {
        throw std::invalid_argument("cab: empty impulse response");
    }
    if (prepared_) {
        build(ir);
        norm_.snap(param(kNormalize) >= 0.5f ? norm_gain_ : 1.0f);
        convolver_.reset();
    } else {
        built_rate_hz_ = 0.0; // built by prepare()
    }
    source_ = std::move(ir);
    ir_name_ = std::move(name);
}

void CabStage::set_text(std::size_t index, std::string_view value, const std::filesystem::path& resolved) {
    if (index != kIrText) {
        Stage::set_text(index, value, resolved);
        return;
    }
    set_impulse_response(ImpulseResponse::load_wav(resolved), std::string(value));
}

std::string CabStage::text(std::size_t index) const { return index == kIrText ? ir_name_ : std::string(); }

float CabStage::mix_sample(float x, float wet) noexcept {
    const float g = gain_.next();
    const float m = mix_.next();
    const float n = norm_.next();
    const float a = g * (1.0f - m);
    const float b = g * m * n;
    return a * x + b * wet;
}

float CabStage::process_sample(float x) noexcept RIGD_RT {
    float w = has_ir() ? convolver_.process_sample(x) : x;
    w = low_cut_.process_sample(w);
    w = high_cut_.process_sample(w);
    return mix_sample(x, w);
}

void CabStage::process_block(std::span<float> block) noexcept RIGD_RT {
    const std::size_t chunk_max = std::max<std::size_t>(1, dry_.size());
    for (std::size_t done = 0; done < block.size();) {
        const std::size_t n = std::min(chunk_max, block.size() - done);
        const std::span<float> part = block.subspan(done, n);
        done += n;
        if (dry_.size() < n) { // not prepared: per-sample fallback never allocates
            for (float& v : part) {
                v = process_sample(v);
            }
            continue;
        }
        std::memcpy(dry_.data(), part.data(), n * sizeof(float));
        if (has_ir()) {
            convolver_.process(part);
        }
        low_cut_.process(part);
        high_cut_.process(part);
        if (!gain_.is_smoothing() && !mix_.is_smoothing() && !norm_.is_smoothing()) {
            const float g = gain_.current();
            const float m = mix_.current();
            const float a = g * (1.0f - m);
            const float b = g * m * norm_.current();
            const float* dry = dry_.data();
            for (std::size_t i = 0; i < n; ++i) {
                part[i] = a * dry[i] + b * part[i];
            }
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                part[i] = mix_sample(dry_[i], part[i]);
            }
        }
    }
}

} // namespace rigd::core::conv
