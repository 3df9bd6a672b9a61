#include "core/stage_factory.hpp"

namespace rigd::core {

// The `cab` stage registers here (core/conv owns it).
void register_cab_stages(StageFactory&) {}

} // namespace rigd::core
