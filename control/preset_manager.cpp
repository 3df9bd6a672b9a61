#include "control/preset_manager.hpp"

#include "control/preset_file.hpp"

#include <algorithm>
#include <filesystem>

namespace rigd::control {

namespace fs = std::filesystem;

PresetManager::PresetManager(RigController& rig, const Library& library, const core::StageFactory& factory)
    : rig_(rig), library_(library), factory_(factory), thread_([this] { run(); }) {}

PresetManager::~PresetManager() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

bool PresetManager::is_valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64 || name.front() == '.' || name.front() == ' ') {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == ' ' || c == '.';
    });
}

std::vector<std::string> PresetManager::names() const {
    std::vector<std::string> out;
    for (const auto& file : library_.list("presets", ".toml")) {
        out.push_back(file.substr(0, file.size() - 5));
    }
    return out;
}

PresetManager::Current PresetManager::current() const {
    Current c;
    {
        std::lock_guard lock(mutex_);
        c.name = current_;
    }
    const auto all = names();
    const auto it = std::find(all.begin(), all.end(), c.name);
    c.index = it == all.end() ? -1 : static_cast<int>(it - all.begin());
    c.dirty = rig_.dirty();
    return c;
}

void PresetManager::set_current_name(std::string name) {
    std::lock_guard lock(mutex_);
    current_ = std::move(name);
}

void PresetManager::request_load(const std::string& name, ErrorSink on_error) {
    if (!is_valid_name(name)) {
        throw ControlError("preset name '" + name + "': use letters, digits, space, '_', '-' or '.'");
    }
    (void)library_.resolve_preset(name); // throws now when there is no such file
    {
        std::lock_guard lock(mutex_);
        pending_ = Request{name, std::move(on_error)}; // newest wins
    }
    wake_.notify_all();
}

void PresetManager::request_load_index(int index, ErrorSink on_error) {
    const auto all = names();
    if (index < 0 || static_cast<std::size_t>(index) >= all.size()) {
        throw ControlError("preset index " + std::to_string(index) + " is outside 0.." +
                           std::to_string(static_cast<int>(all.size()) - 1));
    }
    request_load(all[static_cast<std::size_t>(index)], std::move(on_error));
}

void PresetManager::request_step(int delta, ErrorSink on_error) {
    const auto all = names();
    if (all.empty()) {
        throw ControlError("the presets folder is empty");
    }
    std::string from;
    {
        std::lock_guard lock(mutex_);
        // Stepping again before the last load finished steps from that one.
        from = pending_ ? pending_->name : current_;
    }
    const auto it = std::find(all.begin(), all.end(), from);
    const int n = static_cast<int>(all.size());
    int index = it == all.end() ? (delta > 0 ? -1 : 0) : static_cast<int>(it - all.begin());
    index = ((index + delta) % n + n) % n; // wraps around
    request_load(all[static_cast<std::size_t>(index)], std::move(on_error));
}

void PresetManager::wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return !pending_ && !busy_; });
}

void PresetManager::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || pending_.has_value(); });
        if (stopping_) {
            return;
        }
        Request request = std::move(*pending_);
        pending_.reset();
        busy_ = true;
        lock.unlock();
        load_now(request);
        lock.lock();
        busy_ = false;
        if (!pending_) {
            idle_.notify_all();
        }
    }
}

void PresetManager::load_now(const Request& request) {
    try {
        const fs::path path = library_.resolve_preset(request.name);
        const core::Preset preset = load_preset_file(path, factory_);
        auto warnings = rig_.load_preset(preset);
        {
            std::lock_guard lock(mutex_);
            current_ = request.name;
            warnings_ = warnings;
        }
        if (!warnings.empty() && request.on_error) {
            for (const auto& w : warnings) {
                request.on_error("preset '" + request.name + "' loaded without a file: " + w);
            }
        }
        if (loaded_hook_) {
            loaded_hook_(request.name, warnings);
        }
    } catch (const std::exception& e) {
        if (request.on_error) {
            request.on_error(e.what());
        }
    }
}

std::vector<std::string> PresetManager::last_warnings() const {
    std::lock_guard lock(mutex_);
    return warnings_;
}

void PresetManager::set_loaded_hook(std::function<void(const std::string&, const std::vector<std::string>&)> hook) {
    std::lock_guard lock(mutex_);
    loaded_hook_ = std::move(hook);
}

std::string PresetManager::save(const std::optional<std::string>& name, bool overwrite) {
    std::string target;
    std::string current;
    {
        std::lock_guard lock(mutex_);
        current = current_;
    }
    target = name.value_or(current);
    if (target.empty()) {
        throw ControlError("this rig has no preset file yet: give a name (/rig/preset/save s:name)");
    }
    if (!is_valid_name(target)) {
        throw ControlError("preset name '" + target + "': use letters, digits, space, '_', '-' or '.'");
    }
    const fs::path path = library_.folder("presets") / (target + ".toml");
    if (target != current && fs::exists(path) && !overwrite) {
        throw ControlError("preset '" + target + "' exists; send /rig/preset/save s:" + target +
                           " i:1 to overwrite it");
    }
    core::Preset snapshot = rig_.snapshot();
    if (target != current) {
        snapshot.name = target;
    }
    try {
        write_file_atomically(path, format_preset(snapshot, factory_));
    } catch (const FileError& e) {
        throw ControlError(e.what());
    }
    rig_.mark_saved(snapshot.name);
    std::lock_guard lock(mutex_);
    current_ = target;
    return target;
}

void PresetManager::remove(const std::string& name) {
    if (!is_valid_name(name)) {
        throw ControlError("preset name '" + name + "': use letters, digits, space, '_', '-' or '.'");
    }
    const fs::path path = library_.resolve_preset(name);
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) {
        throw ControlError("cannot delete preset '" + name + "': " + ec.message());
    }
    std::lock_guard lock(mutex_);
    if (current_ == name) {
        current_.clear(); // the rig plays on; saving needs a name now
    }
}

} // namespace rigd::control
