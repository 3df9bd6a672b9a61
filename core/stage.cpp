#include "core/stage.hpp"

#include <stdexcept>

namespace rigd::core {

void Stage::process_block(std::span<float> block) noexcept RIGD_RT {
    for (float& s : block) {
        s = process_sample(s);
    }
}

void Stage::set_param(std::size_t index, float value) noexcept RIGD_RT {
    const auto infos = params();
    if (index >= infos.size() || index >= kMaxParams) {
        return;
    }
    const float v = infos[index].clamp(value);
    values_[index] = v;
    on_param_changed(index, v);
}

float Stage::param(std::size_t index) const noexcept RIGD_RT {
    return index < kMaxParams ? values_[index] : 0.0f;
}

void Stage::init_params() noexcept {
    const auto infos = params();
    for (std::size_t i = 0; i < infos.size() && i < kMaxParams; ++i) {
        values_[i] = infos[i].default_value;
        on_param_changed(i, values_[i]);
    }
}

void Stage::set_text(std::size_t index, std::string_view, const std::filesystem::path&) {
    throw std::invalid_argument("stage '" + std::string(type()) + "' has no text parameter #" +
                                std::to_string(index));
}

std::string Stage::text(std::size_t) const { return {}; }

std::size_t Stage::find_param(std::string_view name) const noexcept {
    const auto infos = params();
    for (std::size_t i = 0; i < infos.size(); ++i) {
        if (infos[i].name == name) {
            return i;
        }
    }
    return npos;
}

std::size_t Stage::find_text_param(std::string_view name) const noexcept {
    const auto infos = text_params();
    for (std::size_t i = 0; i < infos.size(); ++i) {
        if (infos[i].name == name) {
            return i;
        }
    }
    return npos;
}

} // namespace rigd::core
