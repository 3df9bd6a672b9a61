#pragma once

#include "core/amplifier_chain.hpp"
#include "core/preset.hpp"
#include "core/process_spec.hpp"
#include "core/stage_factory.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rigd::core {

// Resolves a text parameter (a file name) inside a configured folder
// ("models", "irs"); throws with a clear message when it cannot.
using PathResolver = std::function<std::filesystem::path(std::string_view folder, std::string_view name)>;

class ChainBuildError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct BuiltChain {
    std::unique_ptr<AmplifierChain> chain;
    std::vector<Stage*> stages;        // in preset order, owned by chain
    std::vector<StageHandle> handles;  // in preset order
    std::vector<std::string> warnings; // files that could not be loaded
};

// Builds and prepares one stage off the RT thread. Unknown types and
// parameters throw ChainBuildError naming the stage id. A text parameter
// whose file fails to load is reported in `warnings` and left unset (the
// stage passes audio through), so the rest of a preset still loads.
[[nodiscard]] std::unique_ptr<Stage> build_stage(const StageConfig& config, const StageFactory& factory,
                                                 const ProcessSpec& spec, const PathResolver& resolve,
                                                 std::vector<std::string>& warnings);

// Builds and prepares a whole chain for `preset` at `spec` (its oversample
// factor is taken from the preset). Stage i is named handles[i]; without
// handles, stages are named 1..n.
[[nodiscard]] BuiltChain build_chain(const Preset& preset, const StageFactory& factory, ProcessSpec spec,
                                     const PathResolver& resolve, std::vector<StageHandle> handles = {});

} // namespace rigd::core
