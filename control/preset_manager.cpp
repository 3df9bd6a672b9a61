#include "control/preset_manager.hpp"

#include "control/preset_file.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>

namespace rigd::control {

namespace fs = std::filesystem;

PresetManager::PresetManager(RigController& rig, const Library& library, const core::StageFactory& factory,
                             Executors executors)
    : rig_(rig), library_(library), factory_(factory), exec_(std::move(executors)) {}

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
    c.name = rig_.preset_file();
    const auto all = names();
    const auto it = std::find(all.begin(), all.end(), c.name);
    c.index = it == all.end() ? -1 : static_cast<int>(it - all.begin());
    c.dirty = rig_.dirty();
    return c;
}

void PresetManager::request_load(const std::string& name, ErrorSink on_error) {
    if (!is_valid_name(name)) {
        throw ControlError("preset name '" + name + "': use letters, digits, space, '_', '-' or '.'");
    }
    const fs::path path = library_.resolve_preset(name); // throws now when there is no such file
    const std::uint64_t request = ++requests_;
    newest_ = name;
    reading_ = true;
    exec_.work([this, request, name, path, on_error] {
        std::shared_ptr<core::Preset> preset;
        std::string error;
        try {
            preset = std::make_shared<core::Preset>(load_preset_file(path, factory_));
        } catch (const std::exception& e) {
            error = e.what();
        }
        exec_.post([this, request, name, preset, error, on_error] {
            if (request != requests_) {
                return; // a newer request overtook this one
            }
            reading_ = false;
            if (!preset) {
                newest_.reset();
                if (on_error) {
                    on_error(error);
                }
                release_saves();
                return;
            }
            rig_.load_preset(
                std::move(*preset), name,
                [this, request, on_error](const std::string& message) {
                    if (request == requests_) {
                        newest_.reset();
                    }
                    if (on_error) {
                        on_error(message);
                    }
                },
                [this, request, name, on_error](const std::vector<std::string>& warnings) {
                    if (request == requests_) {
                        newest_.reset();
                    }
                    if (on_error) {
                        for (const auto& w : warnings) {
                            on_error("preset '" + name + "' loaded without a file: " + w);
                        }
                    }
                    if (loaded_hook_) {
                        loaded_hook_(name, warnings);
                    }
                });
            release_saves(); // the rig now knows the load: they wait for it there
        });
    });
}

void PresetManager::release_saves() {
    auto waiting = std::move(saves_waiting_);
    saves_waiting_.clear();
    for (auto& s : waiting) {
        rig_.when_settled(std::move(s));
    }
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
    // Stepping again before the last load finished steps from that one.
    const std::string from = newest_ ? *newest_ : rig_.preset_file();
    const auto it = std::find(all.begin(), all.end(), from);
    const int n = static_cast<int>(all.size());
    int index = it == all.end() ? (delta > 0 ? -1 : 0) : static_cast<int>(it - all.begin());
    index = ((index + delta) % n + n) % n; // wraps around
    request_load(all[static_cast<std::size_t>(index)], std::move(on_error));
}

void PresetManager::save(const std::optional<std::string>& name, bool overwrite, Done done) {
    if (name && !is_valid_name(*name)) {
        throw ControlError("preset name '" + *name + "': use letters, digits, space, '_', '-' or '.'");
    }
    if (!name && rig_.preset_file().empty() && !rig_.pending_preset_file()) {
        throw ControlError("this rig has no preset file yet: give a name (/rig/preset/save s:name)");
    }
    // After pending loads: the save is of what the newest load produced.
    auto run = [this, name, overwrite, done = std::move(done)] {
        auto fail = [&done](const std::string& why) {
            if (done) {
                done(why);
            }
        };
        const std::string current = rig_.preset_file();
        const std::string target = name.value_or(current);
        if (target.empty()) {
            fail("this rig has no preset file yet: give a name (/rig/preset/save s:name)");
            return;
        }
        const fs::path path = library_.folder("presets") / (target + ".toml");
        std::error_code ec;
        if (target != current && fs::exists(path, ec) && !overwrite) {
            fail("preset '" + target + "' exists; send /rig/preset/save s:" + target + " i:1 to overwrite it");
            return;
        }
        core::Preset snapshot = rig_.snapshot();
        if (target != current) {
            snapshot.name = target;
        }
        const std::uint64_t generation = rig_.edit_generation();
        std::string text;
        try {
            text = format_preset(snapshot, factory_);
        } catch (const std::exception& e) {
            fail(e.what());
            return;
        }
        exec_.work([this, path, text, target, snapshot_name = snapshot.name, generation, done] {
            std::string error;
            try {
                write_file_atomically(path, text);
            } catch (const std::exception& e) {
                error = e.what();
            }
            exec_.post([this, error, target, snapshot_name, generation, done] {
                if (error.empty()) {
                    rig_.mark_saved(target, snapshot_name, generation);
                }
                if (done) {
                    done(error);
                }
            });
        });
    };
    if (reading_) {
        saves_waiting_.push_back(std::move(run)); // its file is still being read
    } else {
        rig_.when_settled(std::move(run));
    }
}

void PresetManager::remove(const std::string& name, ErrorSink on_error) {
    if (!is_valid_name(name)) {
        throw ControlError("preset name '" + name + "': use letters, digits, space, '_', '-' or '.'");
    }
    const fs::path path = library_.resolve_preset(name);
    exec_.work([this, name, path, on_error] {
        std::error_code ec;
        fs::remove(path, ec);
        const std::string error = ec ? "cannot delete preset '" + name + "': " + ec.message() : std::string();
        exec_.post([this, name, error, on_error] {
            if (!error.empty()) {
                if (on_error) {
                    on_error(error);
                }
                return;
            }
            if (rig_.preset_file() == name) {
                rig_.forget_preset_file(); // the rig plays on; saving needs a name now
            }
        });
    });
}

} // namespace rigd::control
