#pragma once

#include "control/errors.hpp"
#include "control/library.hpp"
#include "core/chain_builder.hpp"
#include "core/engine.hpp"
#include "core/preset.hpp"
#include "core/process_spec.hpp"
#include "core/stage_factory.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rigd::control {

// The control side's view of the rig and the only producer of engine
// commands. It validates every request (unknown ids, unknown parameters,
// out-of-range values throw ControlError and nothing reaches the RT thread),
// keeps a mirror of every value (gets are answered from it, never from
// objects the RT thread owns) and builds new stages and chains off the RT
// thread. All methods are thread-safe and never called from the RT thread.
class RigController {
public:
    RigController(core::Engine& engine, const core::StageFactory& factory, const Library& library);

    // Before audio starts: build `preset` at `spec` and prepare the engine.
    // Returns warnings (files that could not be loaded). Throws on a preset
    // that cannot be built at all.
    std::vector<std::string> start(const core::Preset& preset, const core::ProcessSpec& spec,
                                   bool allow_absolute_paths = false);

    void set_param(std::string_view id, std::string_view param, float value);
    [[nodiscard]] float param(std::string_view id, std::string_view param) const;
    void set_bypass(std::string_view id, bool bypassed);
    [[nodiscard]] bool bypass(std::string_view id) const;
    void set_master_db(float db);
    [[nodiscard]] float master_db() const;
    void set_mute(bool muted);
    [[nodiscard]] bool mute() const;

    // Builds the whole chain off the RT thread and crossfades to it.
    std::vector<std::string> load_preset(const core::Preset& preset, bool allow_absolute_paths = false);
    // Rebuilds the current rig for a new device spec (rate / period) and swaps.
    std::vector<std::string> reprepare(const core::ProcessSpec& spec);

    // Deletes what the RT thread handed back. Call regularly from one thread.
    std::size_t collect_retired();

    [[nodiscard]] core::Preset snapshot() const;
    [[nodiscard]] core::ProcessSpec spec() const;
    [[nodiscard]] std::vector<std::string> stage_ids() const;

    static constexpr float kMasterMinDb = -60.0f;
    static constexpr float kMasterMaxDb = 12.0f;

private:
    struct Entry {
        core::StageConfig config; // every parameter, current values
        core::Stage* stage = nullptr;
    };

    [[nodiscard]] const Entry& find(std::string_view id) const;
    [[nodiscard]] Entry& find(std::string_view id);
    void send(const core::Command& command);
    std::vector<Entry> build_entries(const core::Preset& preset, const core::ProcessSpec& spec,
                                     bool allow_absolute, core::BuiltChain& built) const;
    [[nodiscard]] core::PathResolver resolver(bool allow_absolute) const;
    [[nodiscard]] core::Preset snapshot_locked() const;

    core::Engine& engine_;
    const core::StageFactory& factory_;
    const Library& library_;
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
    std::string preset_name_;
    int oversample_ = 1;
    core::ProcessSpec spec_{};
    float master_db_ = 0.0f;
    bool mute_ = false;
};

// Validates `value` for a parameter: range, whole numbers for integer and
// choice parameters, 0/1 for toggles. Throws ControlError with the reason.
void check_param_value(const core::ParamInfo& info, float value);

} // namespace rigd::control
