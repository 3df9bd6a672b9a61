#pragma once

#include "core/stage.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rigd::core {

// Thrown for a stage type nobody registered.
class UnknownStageType : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Maps preset `type = "..."` names to constructors. Built once at start-up;
// read-only afterwards, so any thread may create stages (never the RT one).
class StageFactory {
public:
    using Maker = std::function<std::unique_ptr<Stage>()>;

    void add(std::string type, Maker maker);
    [[nodiscard]] std::unique_ptr<Stage> create(std::string_view type) const;
    [[nodiscard]] bool has(std::string_view type) const;
    [[nodiscard]] std::vector<std::string> types() const;

    // Every stage type the core library ships.
    [[nodiscard]] static const StageFactory& builtin();

private:
    std::map<std::string, Maker, std::less<>> makers_;
};

// Each stage family registers its types from its own folder.
void register_basic_stages(StageFactory& factory); // core/stages
void register_nam_stages(StageFactory& factory);   // core/nam
void register_cab_stages(StageFactory& factory);   // core/conv

} // namespace rigd::core
