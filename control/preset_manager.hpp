#pragma once

#include "control/library.hpp"
#include "control/rig_controller.hpp"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rigd::control {

// The presets folder as a numbered list (sorted by file name; a preset's
// OSC name is its file name without ".toml"), the current preset, and the
// loader thread. Loads build the whole new chain on the loader thread
// (models and IRs loaded and prewarmed) and the engine crossfades to it;
// when requests arrive faster than chains build, only the newest is built.
class PresetManager {
public:
    using ErrorSink = std::function<void(const std::string& message)>;
    struct Current {
        std::string name; // file name without .toml; empty if not from the folder
        int index = -1;
        bool dirty = false;
    };

    PresetManager(RigController& rig, const Library& library, const core::StageFactory& factory);
    ~PresetManager();
    PresetManager(const PresetManager&) = delete;
    PresetManager& operator=(const PresetManager&) = delete;

    [[nodiscard]] std::vector<std::string> names() const;
    [[nodiscard]] Current current() const;
    // The start-up preset was loaded from this folder under `name`.
    void set_current_name(std::string name);

    // Queue a load (by name, by index, or relative to the current one).
    // Errors found now throw ControlError; errors found while building go to
    // `on_error` (from the loader thread).
    void request_load(const std::string& name, ErrorSink on_error);
    void request_load_index(int index, ErrorSink on_error);
    void request_step(int delta, ErrorSink on_error);
    // Waits until the loader thread is idle (tests, orderly shutdown).
    void wait_idle();

    // Saves the current rig atomically. Without a name: the current preset's
    // file. Refuses to overwrite another existing preset unless `overwrite`.
    std::string save(const std::optional<std::string>& name, bool overwrite);
    void remove(const std::string& name);

    // Warnings of the last load (files that could not be loaded).
    [[nodiscard]] std::vector<std::string> last_warnings() const;
    // Called after each completed load (from the loader thread).
    void set_loaded_hook(std::function<void(const std::string& name, const std::vector<std::string>&)> hook);

    [[nodiscard]] static bool is_valid_name(std::string_view name) noexcept;

private:
    struct Request {
        std::string name;
        ErrorSink on_error;
    };
    void run();
    void load_now(const Request& request);

    RigController& rig_;
    const Library& library_;
    const core::StageFactory& factory_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::optional<Request> pending_;
    bool busy_ = false;
    bool stopping_ = false;
    std::string current_;
    std::vector<std::string> warnings_;
    std::function<void(const std::string&, const std::vector<std::string>&)> loaded_hook_;
    std::thread thread_;
};

} // namespace rigd::control
