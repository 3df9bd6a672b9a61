#include "core/chain_builder.hpp"

namespace rigd::core {

std::unique_ptr<Stage> build_stage(const StageConfig& config, const StageFactory& factory,
                                   const ProcessSpec& spec, const PathResolver& resolve,
                                   std::vector<std::string>& warnings) {
    std::unique_ptr<Stage> stage;
    try {
        stage = factory.create(config.type);
    } catch (const UnknownStageType& e) {
        throw ChainBuildError("stage '" + config.id + "': " + e.what());
    }
    for (const auto& [name, value] : config.params) {
        const std::size_t index = stage->find_param(name);
        if (index == Stage::npos) {
            throw ChainBuildError("stage '" + config.id + "' (" + config.type + "): unknown parameter '" +
                                  name + "'");
        }
        const ParamInfo& info = stage->params()[index];
        if (!info.in_range(value)) {
            throw ChainBuildError("stage '" + config.id + "': " + name + " = " + std::to_string(value) +
                                  " is outside " + std::to_string(info.min) + ".." + std::to_string(info.max));
        }
        stage->set_param(index, value);
    }
    // Prepare before loading files so a stage may prewarm what it loads at
    // the session rate.
    stage->prepare(spec);
    for (const auto& [name, value] : config.texts) {
        const std::size_t index = stage->find_text_param(name);
        if (index == Stage::npos) {
            throw ChainBuildError("stage '" + config.id + "' (" + config.type + "): unknown parameter '" +
                                  name + "'");
        }
        if (value.empty()) {
            continue;
        }
        try {
            const std::filesystem::path path = resolve(stage->text_params()[index].folder, value);
            stage->set_text(index, value, path);
        } catch (const std::exception& e) {
            warnings.push_back("stage '" + config.id + "': " + name + " '" + value + "': " + e.what());
        }
    }
    return stage;
}

BuiltChain build_chain(const Preset& preset, const StageFactory& factory, ProcessSpec spec,
                       const PathResolver& resolve, std::vector<StageHandle> handles) {
    if (handles.empty()) {
        for (std::size_t i = 0; i < preset.stages.size(); ++i) {
            handles.push_back(StageHandle{i + 1});
        }
    }
    if (handles.size() != preset.stages.size()) {
        throw std::invalid_argument("build_chain: one handle per stage");
    }
    spec.oversample = preset.oversample;
    BuiltChain out;
    out.chain = std::make_unique<AmplifierChain>();
    out.chain->prepare(spec);
    if (preset.stages.size() > AmplifierChain::kCapacity) {
        throw ChainBuildError("preset '" + preset.name + "' has " + std::to_string(preset.stages.size()) +
                              " stages; at most 64 fit");
    }
    for (std::size_t i = 0; i < preset.stages.size(); ++i) {
        const StageConfig& config = preset.stages[i];
        auto stage = build_stage(config, factory, spec, resolve, out.warnings);
        out.stages.push_back(stage.get());
        out.chain->append(std::move(stage), config.bypass, handles[i]);
    }
    out.handles = std::move(handles);
    return out;
}

} // namespace rigd::core
