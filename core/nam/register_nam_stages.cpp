#include "core/nam/nam_stage.hpp"
#include "core/stage_factory.hpp"

namespace rigd::core {

void register_nam_stages(StageFactory& factory) {
    factory.add(std::string(nam::NamStage::kType), [] { return std::make_unique<nam::NamStage>(); });
}

} // namespace rigd::core
