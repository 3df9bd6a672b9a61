#pragma once

#include "control/errors.hpp"
#include "control/library.hpp"
#include "control/osc_message.hpp"
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

// Told about every change, whoever made it (OSC, MIDI, a preset load).
class RigListener {
public:
    virtual ~RigListener() = default;
    virtual void changed(const OscMessage& message) = 0; // the value at its own address
    virtual void reloaded() = 0;                         // everything may have changed
};

// The control side's view of the rig and the only producer of engine
// commands. It validates every request (unknown ids, unknown parameters,
// out-of-range values throw ControlError and nothing reaches the RT thread),
// keeps a mirror of every value (gets are answered from it, never from
// objects the RT thread owns) and builds new stages and chains off the RT
// thread. All methods are thread-safe and never called from the RT thread.
class RigController {
public:
    struct StageSummary {
        std::string id;
        std::string type;
        bool bypass = false;
    };

    RigController(core::Engine& engine, const core::StageFactory& factory, const Library& library);

    void set_listener(RigListener* listener);

    // Before audio starts: build `preset` at `spec` and prepare the engine.
    // Returns warnings (files that could not be loaded). Throws on a preset
    // that cannot be built at all.
    std::vector<std::string> start(const core::Preset& preset, const core::ProcessSpec& spec,
                                   bool allow_absolute_paths = false);

    // Stage parameters in native units.
    void set_param(std::string_view id, std::string_view param, float value);
    [[nodiscard]] float param(std::string_view id, std::string_view param) const;
    [[nodiscard]] core::ParamInfo param_info(std::string_view id, std::string_view param) const;
    void set_bypass(std::string_view id, bool bypassed);
    [[nodiscard]] bool bypass(std::string_view id) const;
    [[nodiscard]] bool has_text_param(std::string_view id, std::string_view name) const;
    // Loads the file into a new instance off the RT thread and crossfades to
    // it; a file that fails to load throws and the old one stays.
    void set_text(std::string_view id, std::string_view name, std::string_view value);
    [[nodiscard]] std::string text(std::string_view id, std::string_view name) const;

    // Chain editing; positions count from 0, default append.
    void add_stage(std::string_view type, std::string_view id, std::optional<std::size_t> position);
    void remove_stage(std::string_view id);
    void move_stage(std::string_view id, std::size_t position);
    void replace_stage(std::string_view id, std::string_view type);
    [[nodiscard]] std::vector<StageSummary> stages() const;
    [[nodiscard]] std::vector<std::string> stage_ids() const;

    void set_master_db(float db);
    [[nodiscard]] float master_db() const;
    void set_mute(bool muted);
    [[nodiscard]] bool mute() const;
    void set_rig_bypass(bool bypassed);
    [[nodiscard]] bool rig_bypass() const;
    void set_tuner(bool on);
    [[nodiscard]] bool tuner() const;
    // Rebuilds the chain at the new factor and crossfades to it.
    void set_oversample(int factor);
    [[nodiscard]] int oversample() const;

    // Builds the whole chain off the RT thread and crossfades to it.
    std::vector<std::string> load_preset(const core::Preset& preset, bool allow_absolute_paths = false);
    // Rebuilds the current rig for a new device spec (rate / period) and swaps.
    std::vector<std::string> reprepare(const core::ProcessSpec& spec);

    // Deletes what the RT thread handed back. Call regularly from one thread.
    std::size_t collect_retired();

    [[nodiscard]] core::Preset snapshot() const;
    [[nodiscard]] core::ProcessSpec spec() const;
    [[nodiscard]] std::string preset_name() const;
    // Changed since the last load or save.
    [[nodiscard]] bool dirty() const;
    void mark_saved(std::string name);
    // Every current value at its address (what /rig/dump sends).
    [[nodiscard]] std::vector<OscMessage> dump() const;

    static constexpr float kMasterMinDb = -60.0f;
    static constexpr float kMasterMaxDb = 12.0f;

private:
    struct Entry {
        core::StageConfig config; // every parameter, current values
        core::Stage* stage = nullptr;
    };

    [[nodiscard]] const Entry& find(std::string_view id) const;
    [[nodiscard]] Entry& find(std::string_view id);
    [[nodiscard]] std::size_t param_index(const Entry& e, std::string_view param) const;
    // Queues a command; when the queue is full, deletes what it would have
    // handed over (fresh stage, chain) and throws ControlError.
    void send(const core::Command& command);
    void chain_changed(); // dirty, and every value may have moved
    [[nodiscard]] std::unique_ptr<core::Stage> build_default_stage(const core::StageConfig& config) const;
    std::vector<Entry> build_entries(const core::Preset& preset, const core::ProcessSpec& spec,
                                     bool allow_absolute, core::BuiltChain& built) const;
    [[nodiscard]] static Entry entry_for(const core::StageConfig& config, core::Stage* stage);
    [[nodiscard]] core::PathResolver resolver(bool allow_absolute) const;
    [[nodiscard]] core::Preset snapshot_locked() const;
    [[nodiscard]] core::ProcessSpec stage_spec() const;
    std::vector<std::string> swap_in_chain(const core::Preset& preset, const core::ProcessSpec& spec,
                                           bool allow_absolute);
    void notify(const OscMessage& message) const;
    // Mute, rig bypass, tuner: one command, one mirrored flag, one message.
    void set_flag(core::Command::Type type, bool& flag, const char* address, bool on);
    void notify_param(const Entry& e, std::size_t index) const;

    core::Engine& engine_;
    const core::StageFactory& factory_;
    const Library& library_;
    mutable std::mutex mutex_;
    RigListener* listener_ = nullptr;
    std::vector<Entry> entries_;
    std::string preset_name_;
    std::vector<core::MidiBinding> preset_midi_; // carried through to saves
    bool dirty_ = false;
    bool allow_absolute_ = false; // the current preset came from the command line
    int oversample_ = 1;
    core::ProcessSpec spec_{};
    float master_db_ = 0.0f;
    bool mute_ = false;
    bool rig_bypass_ = false;
    bool tuner_ = false;
};

// Validates `value` for a parameter: range, whole numbers for integer and
// choice parameters, 0/1 for toggles. Throws ControlError with the reason.
void check_param_value(const core::ParamInfo& info, float value);

// Native value <-> the 0..1 fader twin (/norm).
[[nodiscard]] float to_norm(const core::ParamInfo& info, float value) noexcept;
[[nodiscard]] float from_norm(const core::ParamInfo& info, float norm) noexcept;

} // namespace rigd::control
