#include "core/conv/cab_stage.hpp"
#include "core/stage_factory.hpp"

namespace rigd::core {

void register_cab_stages(StageFactory& factory) {
    factory.add(std::string(conv::CabStage::kType), [] { return std::make_unique<conv::CabStage>(); });
}

} // namespace rigd::core
