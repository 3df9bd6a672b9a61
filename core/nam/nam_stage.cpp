#include "core/nam/nam_stage.hpp"

#include "core/db.hpp"
#include "core/nam/nam_load_error.hpp"
#include "core/nam/nam_loader.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

namespace rigd::core::nam {

namespace {

constexpr std::array kParams{
    ParamInfo{.name = "input_gain_db", .unit = "dB", .min = -24.0f, .max = 24.0f, .default_value = 0.0f},
    ParamInfo{.name = "output_gain_db", .unit = "dB", .min = -24.0f, .max = 24.0f, .default_value = 0.0f},
    ParamInfo{.name = "mix", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 1.0f},
    ParamInfo{.name = "normalize",
              .unit = "",
              .min = 0.0f,
              .max = 1.0f,
              .default_value = 0.0f,
              .kind = ParamKind::toggle},
    // Slimmable models only: 1 = the full model (the reference's default).
    ParamInfo{.name = "size", .unit = "", .min = 0.0f, .max = 1.0f, .default_value = 1.0f},
};
constexpr std::array kTextParams{TextParamInfo{.name = "model", .folder = "models"}};

} // namespace

NamStage::NamStage() { init_params(); }

std::span<const ParamInfo> NamStage::params() const noexcept { return kParams; }
std::span<const TextParamInfo> NamStage::text_params() const noexcept { return kTextParams; }

void NamStage::on_param_changed(std::size_t index, float value) noexcept {
    switch (index) {
    case kInputGainDb:
        input_gain_.set_target(db_to_gain(value));
        break;
    case kOutputGainDb:
    case kNormalize:
        update_output_target();
        break;
    case kMix:
        mix_.set_target(value);
        break;
    case kSize:
        if (model_) {
            model_->set_size(value);
        }
        break;
    default:
        break;
    }
}

void NamStage::update_output_target() noexcept {
    const float norm = param(kNormalize) >= 0.5f ? normalize_gain_ : 1.0f;
    output_gain_.set_target(db_to_gain(param(kOutputGainDb)) * norm);
}

void NamStage::prepare(const ProcessSpec& spec) {
    spec_ = spec;
    for (dsp::LinearSmoother* s : {&input_gain_, &output_gain_, &mix_}) {
        s->prepare(spec.sample_rate_hz, kRampMs);
    }
    input_gain_.snap(db_to_gain(param(kInputGainDb)));
    mix_.snap(param(kMix));
    update_output_target(); // first target after prepare snaps
    dry_.assign(std::max<std::size_t>(1, spec.max_block_size), 0.0f);
    prepare_model();
    prepared_ = true;
}

void NamStage::prepare_model() {
    if (!model_) {
        adapter_ = ModelRateAdapter{};
        dry_delay_.assign(1, 0.0f);
        dry_delay_pos_ = 0;
        return;
    }
    ModelRateAdapter adapter;
    adapter.prepare(spec_.sample_rate_hz, model_->sample_rate_hz(), std::max<std::size_t>(1, spec_.max_block_size));
    model_->prepare(adapter.model_block_limit());
    model_->prewarm();
    adapter_ = std::move(adapter);
    dry_delay_.assign(static_cast<std::size_t>(adapter_.latency_samples()) + 1, 0.0f);
    dry_delay_pos_ = 0;
}

void NamStage::set_text(std::size_t index, std::string_view value, const std::filesystem::path& resolved) {
    if (index != 0) {
        Stage::set_text(index, value, resolved);
    }
    // Build everything aside first: on any error the current model stays.
    NamFile file = load_nam_file(resolved);
    std::unique_ptr<NamModel> fresh = build_nam_model(file);
    fresh->select_size(param(kSize));
    std::unique_ptr<NamModel> old = std::move(model_);
    model_ = std::move(fresh);
    try {
        if (prepared_) {
            prepare_model();
        }
    } catch (...) {
        model_ = std::move(old);
        if (prepared_) {
            prepare_model();
        }
        throw;
    }
    model_name_ = std::string(value);
    architecture_ = file.architecture();
    const auto& loudness = model_->metadata().loudness_db;
    normalize_gain_ = loudness ? static_cast<float>(db_to_gain(kNormalizeTargetDb - *loudness)) : 1.0f;
    update_output_target();
    if (prepared_) {
        output_gain_.snap(output_gain_.target());
    }
}

std::string NamStage::text(std::size_t index) const { return index == 0 ? model_name_ : std::string(); }

const NamMetadata* NamStage::metadata() const noexcept { return model_ ? &model_->metadata() : nullptr; }

std::optional<double> NamStage::model_sample_rate_hz() const noexcept {
    return model_ ? std::optional<double>(model_->sample_rate_hz()) : std::nullopt;
}

std::string NamStage::status() const {
    if (!model_) {
        return "no model loaded: passing audio through";
    }
    std::ostringstream s;
    s << "model '" << model_name_ << "' (" << architecture_ << ", " << model_->kernel_name() << ") at "
      << model_->sample_rate_hz() << " Hz";
    if (adapter_.active()) {
        s << "; device runs at " << spec_.sample_rate_hz << " Hz: resampling around the model, latency "
          << adapter_.latency_samples() << " samples";
    }
    return s.str();
}

int NamStage::latency_samples() const noexcept { return model_ ? adapter_.latency_samples() : 0; }

void NamStage::reset() noexcept {
    input_gain_.snap(input_gain_.target());
    output_gain_.snap(output_gain_.target());
    mix_.snap(mix_.target());
    if (model_) {
        model_->reset();
        adapter_.reset();
    }
    std::fill(dry_delay_.begin(), dry_delay_.end(), 0.0f);
    dry_delay_pos_ = 0;
}

float NamStage::process_sample(float x) noexcept {
    process_block(std::span<float>(&x, 1));
    return x;
}

void NamStage::process_block(std::span<float> block) noexcept {
    if (!model_ || block.empty()) {
        return;
    }
    const std::size_t n = std::min(block.size(), dry_.size());
    block = block.first(n);
    std::copy(block.begin(), block.end(), dry_.begin());

    if (input_gain_.is_smoothing()) {
        for (float& s : block) {
            s *= input_gain_.next();
        }
    } else if (const float g = input_gain_.current(); g != 1.0f) {
        for (float& s : block) {
            s *= g;
        }
    }

    adapter_.process(block, *model_);

    if (output_gain_.is_smoothing()) {
        for (float& s : block) {
            s *= output_gain_.next();
        }
    } else if (const float g = output_gain_.current(); g != 1.0f) {
        for (float& s : block) {
            s *= g;
        }
    }

    // Dry path delayed by the resampler latency so the mix stays aligned.
    if (dry_delay_.size() > 1) {
        const std::size_t len = dry_delay_.size();
        for (std::size_t i = 0; i < n; ++i) {
            const float x = dry_[i];
            dry_[i] = dry_delay_[dry_delay_pos_];
            dry_delay_[dry_delay_pos_] = x;
            dry_delay_pos_ = dry_delay_pos_ + 1 == len ? 0 : dry_delay_pos_ + 1;
        }
    }
    if (!mix_.is_smoothing() && mix_.current() == 1.0f) {
        return;
    }
    for (std::size_t i = 0; i < n; ++i) {
        const float m = mix_.next();
        block[i] = dry_[i] + m * (block[i] - dry_[i]);
    }
}

} // namespace rigd::core::nam
