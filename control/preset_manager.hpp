#pragma once

#include "control/library.hpp"
#include "control/rig_controller.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rigd::control {

// The presets folder as a numbered list (sorted by file name; a preset's
// OSC name is its file name without ".toml") and the requests on it. Lives
// on the control loop with the RigController; file reads, parses and writes
// run on the worker and come back as messages:
//  - loads: the newest request wins (a parse or build that a newer request
//    overtook is dropped); next/prev step from the newest request;
//  - saves wait until pending loads are applied, then snapshot the rig and
//    write it (temp file, fsync, rename) into the file of the preset that
//    plays — the one that load produced;
//  - the current preset is the one playing, never one still building.
class PresetManager {
public:
    using ErrorSink = RigController::ErrorSink;
    using Done = std::function<void(const std::string& error)>; // "" on success
    struct Current {
        std::string name; // file name without .toml; empty if not from the folder
        int index = -1;
        bool dirty = false;
    };

    PresetManager(RigController& rig, const Library& library, const core::StageFactory& factory, Executors executors);

    [[nodiscard]] std::vector<std::string> names() const;
    [[nodiscard]] Current current() const;

    // Queue a load (by name, by index, or relative to the current one).
    // Errors found now throw ControlError; errors found later go to `on_error`.
    void request_load(const std::string& name, ErrorSink on_error);
    void request_load_index(int index, ErrorSink on_error);
    void request_step(int delta, ErrorSink on_error);

    // Saves the rig. Without a name: the current preset's file. Refuses to
    // overwrite another existing preset unless `overwrite`. `done` gets ""
    // once the file is written, or the reason it was not.
    void save(const std::optional<std::string>& name, bool overwrite, Done done);
    void remove(const std::string& name, ErrorSink on_error);

    // Called after each completed load, on the control loop.
    void set_loaded_hook(std::function<void(const std::string& name, const std::vector<std::string>&)> hook) {
        loaded_hook_ = std::move(hook);
    }

    [[nodiscard]] static bool is_valid_name(std::string_view name) noexcept;

private:
    RigController& rig_;
    const Library& library_;
    const core::StageFactory& factory_;
    Executors exec_;
    std::uint64_t requests_ = 0;     // every load request
    std::optional<std::string> newest_; // the newest load still being read or built
    bool reading_ = false; // the newest request's file is still being read and parsed
    std::vector<std::function<void()>> saves_waiting_; // saves issued while a preset file is read
    void release_saves();
    std::function<void(const std::string&, const std::vector<std::string>&)> loaded_hook_;
};

} // namespace rigd::control
