#include "core/stage_factory.hpp"

namespace rigd::core {

// The `nam` stage registers here (core/nam owns it).
void register_nam_stages(StageFactory&) {}

} // namespace rigd::core
