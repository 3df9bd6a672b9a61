#include "core/stage_factory.hpp"
#include "core/stages/level_stage.hpp"

namespace rigd::core {

void register_basic_stages(StageFactory& factory) {
    factory.add(std::string(stages::LevelStage::kType), [] { return std::make_unique<stages::LevelStage>(); });
}

} // namespace rigd::core
