#include "core/stage_factory.hpp"

namespace rigd::core {

void StageFactory::add(std::string type, Maker maker) { makers_[std::move(type)] = std::move(maker); }

std::unique_ptr<Stage> StageFactory::create(std::string_view type) const {
    const auto it = makers_.find(type);
    if (it == makers_.end()) {
        std::string known;
        for (const auto& [name, maker] : makers_) {
            known += known.empty() ? name : ", " + name;
        }
        throw UnknownStageType("unknown stage type '" + std::string(type) + "' (known: " + known + ")");
    }
    return it->second();
}

bool StageFactory::has(std::string_view type) const { return makers_.find(type) != makers_.end(); }

std::vector<std::string> StageFactory::types() const {
    std::vector<std::string> out;
    for (const auto& [name, maker] : makers_) {
        out.push_back(name);
    }
    return out;
}

const StageFactory& StageFactory::builtin() {
    static const StageFactory factory = [] {
        StageFactory f;
        register_basic_stages(f);
        register_nam_stages(f);
        register_cab_stages(f);
        return f;
    }();
    return factory;
}

} // namespace rigd::core
