#pragma once

#include "control/errors.hpp"
#include "control/library.hpp"
#include "core/chain_builder.hpp"
#include "core/engine.hpp"
#include "core/preset.hpp"
#include "core/process_spec.hpp"
#include "core/stage_factory.hpp"
#include "core/stage_handle.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rigd::control {

// Told about every change, whoever made it (OSC, MIDI, a preset load), as
// typed events: only the OSC layer spells addresses. Called on the control
// loop.
class RigListener {
public:
    enum class Flag { mute, rig_bypass, tuner };
    virtual ~RigListener() = default;
    virtual void param_changed(const std::string& id, const core::ParamInfo& info, float value) = 0;
    virtual void bypass_changed(const std::string& id, bool bypassed) = 0;
    virtual void text_changed(const std::string& id, const std::string& name, const std::string& value) = 0;
    virtual void master_changed(float db) = 0;
    virtual void flag_changed(Flag flag, bool on) = 0;
    virtual void oversample_changed(int factor) = 0;
    virtual void reloaded() = 0; // the chain changed shape: everything may have changed
};

// Where the controller runs slow work and how results come back to it.
// In the daemon `work` queues on the worker thread and `post` on the
// control loop; tests may run both inline.
struct Executors {
    std::function<void(std::function<void()>)> work;
    std::function<void(std::function<void()>)> post;
    [[nodiscard]] static Executors inline_for_testing();
};

// The model of the rig and the only producer of engine commands. It lives on
// one thread (the control loop): every member below is called from there
// only, nothing is locked. It validates every request (ControlError with the
// reason; nothing refused reaches the RT thread), keeps every value (gets are
// answered from it, never from objects the RT thread owns), and hands builds
// and file loads to the worker, applying their results when they come back.
//
// Ordering rules (README "Request ordering"):
//  - values of continuous parameters and the master volume are coalesced:
//    a pending value is replaced by a newer one, the last one always lands;
//  - everything else reaches the audio thread in the order it was accepted;
//    when the command queue is full it waits in an outbox, never dropped;
//  - a stage whose build (add, type change, new file) is pending is in the
//    model at once; edits apply to the model and the built stage gets them;
//    a newer build of the same stage supersedes an older one;
//  - preset loads: the newest request wins; chain edits made while one
//    builds apply to the playing chain and are replaced by the new preset;
//    a rebuild (oversample, JACK period/rate) keeps edits made meanwhile;
//  - when_settled() runs after every pending whole-chain build has been
//    applied, so a save issued after a load saves what that load produced.
class RigController {
public:
    using ErrorSink = std::function<void(const std::string& message)>;

    struct StageView {
        std::string id;
        std::string type;
        bool bypass = false;
        std::vector<core::ParamInfo> infos;
        std::vector<float> values;
        std::vector<std::pair<std::string, std::string>> texts; // name, file (as requested)
        std::vector<std::string> texts_playing;                  // the files the audio has
        core::StageHandle handle{};
        bool live = false; // sent to the audio thread (false while its first build runs)
    };

    RigController(core::Engine& engine, const core::StageFactory& factory, const Library& library,
                  Executors executors = Executors::inline_for_testing());
    ~RigController();
    RigController(const RigController&) = delete;
    RigController& operator=(const RigController&) = delete;

    void set_listener(RigListener* listener) { listener_ = listener; }

    // Before audio starts: build `preset` at `spec` here and prepare the
    // engine. Returns warnings (files that could not be loaded). Throws on a
    // preset that cannot be built at all. `file` is its name in the presets
    // folder ("" when it came from elsewhere).
    std::vector<std::string> start(const core::Preset& preset, const core::ProcessSpec& spec, std::string file = {},
                                   bool allow_absolute_paths = false);

    // Stage parameters in native units.
    void set_param(std::string_view id, std::string_view param, float value);
    [[nodiscard]] float param(std::string_view id, std::string_view param) const;
    [[nodiscard]] core::ParamInfo param_info(std::string_view id, std::string_view param) const;
    void set_bypass(std::string_view id, bool bypassed);
    [[nodiscard]] bool bypass(std::string_view id) const;
    [[nodiscard]] bool has_text_param(std::string_view id, std::string_view name) const;
    // Loads the file into a new instance on the worker and crossfades to it.
    // The model names the new file at once (gets and saves see it); a file
    // that fails to load goes to `on_error`, the old one keeps playing and
    // the model names it again.
    // Names resolve inside their folder only, whatever the start-up preset was.
    void set_text(std::string_view id, std::string_view name, std::string_view value, ErrorSink on_error = {});
    [[nodiscard]] std::string text(std::string_view id, std::string_view name) const;

    // Chain editing; positions count from 0, default append.
    void add_stage(std::string_view type, std::string_view id, std::optional<std::size_t> position,
                   ErrorSink on_error = {});
    void remove_stage(std::string_view id);
    void move_stage(std::string_view id, std::size_t position);
    void replace_stage(std::string_view id, std::string_view type, ErrorSink on_error = {});
    [[nodiscard]] const std::vector<StageView>& stages() const noexcept { return entries_; }
    [[nodiscard]] std::vector<std::string> stage_ids() const;

    void set_master_db(float db);
    [[nodiscard]] float master_db() const noexcept { return master_db_; }
    void set_mute(bool muted);
    [[nodiscard]] bool mute() const noexcept { return mute_; }
    void set_rig_bypass(bool bypassed);
    [[nodiscard]] bool rig_bypass() const noexcept { return rig_bypass_; }
    void set_tuner(bool on);
    [[nodiscard]] bool tuner() const noexcept { return tuner_; }
    // Rebuilds the chain at the new factor on the worker and crossfades to it.
    void set_oversample(int factor, ErrorSink on_error = {});
    [[nodiscard]] int oversample() const noexcept { return oversample_; }

    // Builds the whole chain on the worker and crossfades to it. The newest
    // request wins. `done` runs on the control loop once it plays (with the
    // warnings), `on_error` when it cannot be built.
    void load_preset(core::Preset preset, std::string file, ErrorSink on_error,
                     std::function<void(const std::vector<std::string>& warnings)> done = {});
    // The preset file a pending load will make current (or nullopt).
    [[nodiscard]] std::optional<std::string> pending_preset_file() const;
    // Rebuilds the current rig for a new device spec (rate / period), on the
    // worker; the old chain plays on (the engine chunks) until it is swapped.
    void reprepare(const core::ProcessSpec& spec);
    // Runs `fn` now when no whole-chain build is pending, else right after
    // the last one is applied.
    void when_settled(std::function<void()> fn);

    // Moves coalesced values and the outbox into the command queue, reads the
    // audio thread's reports and deletes what it retired. Call every ms or so.
    void pump();
    // Asks the audio thread for the order it runs; `reply` gets the stage ids
    // (unknown handles as "?") and whether it is idle. Answered through pump().
    void query_audio_chain(std::function<void(std::vector<std::string> ids, bool idle)> reply);
    [[nodiscard]] bool has_pending_work() const noexcept;

    [[nodiscard]] core::Preset snapshot() const;
    [[nodiscard]] core::ProcessSpec spec() const noexcept { return spec_; }
    [[nodiscard]] std::string preset_name() const { return preset_name_; }
    // The current preset's file name in the presets folder ("" if none).
    [[nodiscard]] const std::string& preset_file() const noexcept { return preset_file_; }
    void forget_preset_file() { preset_file_.clear(); }
    // Changed since the last load or save.
    [[nodiscard]] bool dirty() const noexcept { return dirty_; }
    [[nodiscard]] std::uint64_t edit_generation() const noexcept { return edits_; }
    // A save of the state at `generation` into `file` (name `name`) finished.
    void mark_saved(std::string file, std::string name, std::uint64_t generation);

    struct Stats {
        std::uint64_t sets_coalesced = 0;
        std::uint64_t outbox_waits = 0;
        std::uint64_t rejected_by_audio = 0;
        std::uint64_t builds_superseded = 0;
    };
    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }

    static constexpr float kMasterMinDb = -60.0f;
    static constexpr float kMasterMaxDb = 12.0f;
    static constexpr std::size_t kMaxOutbox = 4096;
    static constexpr std::size_t kMaxPendingBuilds = 256;

private:
    struct Build;      // a whole-chain build in flight
    struct StageBuild; // a one-stage build in flight

    [[nodiscard]] const StageView& find(std::string_view id) const;
    [[nodiscard]] StageView& find(std::string_view id);
    [[nodiscard]] StageView* find_by_handle(core::StageHandle h);
    [[nodiscard]] std::size_t param_index(const StageView& e, std::string_view param) const;
    [[nodiscard]] core::StageHandle next_handle() noexcept { return core::StageHandle{++handles_}; }
    [[nodiscard]] core::PathResolver resolver(bool allow_absolute) const;
    [[nodiscard]] core::ProcessSpec stage_spec() const;
    [[nodiscard]] StageView prototype(const core::StageConfig& config) const; // model entry of a new stage
    [[nodiscard]] core::StageConfig config_of(const StageView& e) const;
    // The handle the stage after `index` runs before (next live one).
    [[nodiscard]] core::StageHandle anchor_after(std::size_t index) const;
    void edited();
    void chain_changed();
    void send_ordered(core::Command c);
    void send_value(core::StageHandle h, std::uint32_t index, float value);
    // Builds stage `e` (its current config, `text` changed when given) on
    // the worker; the result replaces (or first inserts) it.
    void build_stage_async(const StageView& e, std::optional<std::pair<std::size_t, std::string>> text,
                           std::optional<StageView> previous, ErrorSink on_error);
    void stage_built(std::uint64_t build, std::unique_ptr<core::Stage> stage, const std::string& error);
    void supersede_stage_builds(const std::string& id);
    void apply_values(core::Stage& stage, const StageView& e) const;
    void start_chain_build(core::Preset preset, std::string file, bool replaces_model, ErrorSink on_error,
                           std::function<void(const std::vector<std::string>&)> done);
    void chain_built(std::uint64_t build, core::BuiltChain built, std::string error);
    void run_settled();
    void discard(std::unique_ptr<core::Retirable> object);
    void discard(std::unique_ptr<core::Stage> stage);

    core::Engine& engine_;
    const core::StageFactory& factory_;
    const Library& library_;
    Executors exec_;
    RigListener* listener_ = nullptr;

    std::vector<StageView> entries_;
    std::map<std::uint64_t, StageBuild> stage_builds_; // build number -> what it is for
    std::string preset_name_;
    std::string preset_file_;
    std::vector<core::MidiBinding> preset_midi_;
    bool dirty_ = false;
    std::uint64_t edits_ = 0;     // every accepted edit
    std::uint64_t structure_ = 0; // every change of the chain's shape
    bool allow_absolute_ = false; // the start-up preset may name files by path (start-up only)
    int oversample_ = 1;
    core::ProcessSpec spec_{};
    float master_db_ = 0.0f;
    bool mute_ = false;
    bool rig_bypass_ = false;
    bool tuner_ = false;

    std::uint64_t handles_ = 0;
    std::uint64_t builds_ = 0;
    std::unique_ptr<Build> chain_build_;   // the whole-chain build in flight
    std::unique_ptr<Build> queued_build_;  // the newest one waiting for it
    std::vector<std::function<void()>> settled_;

    std::deque<core::Command> outbox_;
    std::map<std::pair<std::uint64_t, std::uint32_t>, float> pending_values_;
    std::uint32_t seq_ = 0;
    std::map<std::uint32_t, std::function<void(std::vector<std::string>, bool)>> chain_queries_;
    Stats stats_;
};

// Validates `value` for a parameter: range, whole numbers for integer and
// choice parameters, 0/1 for toggles. Throws ControlError with the reason.
void check_param_value(const core::ParamInfo& info, float value);

// Native value <-> the 0..1 fader twin (/norm).
[[nodiscard]] float to_norm(const core::ParamInfo& info, float value) noexcept;
[[nodiscard]] float from_norm(const core::ParamInfo& info, float norm) noexcept;

} // namespace rigd::control
