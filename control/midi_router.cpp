#include "control/midi_router.hpp"

#include "control/log_limiter.hpp"
#include "control/log_text.hpp"
#include "control/preset_file.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

namespace rigd::control {

MidiRouter::MidiRouter(AddressSpace& space, PresetManager& presets, std::filesystem::path file, int program_channel)
    : space_(space), presets_(presets), file_(std::move(file)) {
    map_.set_program_channel(program_channel);
}

void MidiRouter::load() {
    std::error_code ec;
    if (!std::filesystem::exists(file_, ec)) {
        return;
    }
    std::ifstream in(file_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    MidiMap loaded = MidiMap::parse_toml(text.str(), file_); // throws FileError
    std::lock_guard lock(mutex_);
    const int channel = map_.program_channel();
    map_ = std::move(loaded);
    if (map_.program_channel() == 0) {
        map_.set_program_channel(channel); // the config's choice unless the file says otherwise
    }
}

void MidiRouter::save_locked() const {
    // Written on the worker: the control loop never waits on a disk.
    auto write = [file = file_, text = map_.format_toml()] {
        try {
            std::filesystem::create_directories(file.parent_path());
            write_file_atomically(file, text);
        } catch (const std::exception& e) {
            spdlog::error("MIDI mappings not saved: {}", escape_for_log(e.what(), 400));
        }
    };
    if (work_) {
        work_(std::move(write));
    } else {
        write();
    }
}

void MidiRouter::handle(const MidiEvent& event) {
    std::vector<MidiAction> actions;
    {
        std::lock_guard lock(mutex_);
        actions = map_.handle(event);
        if (!map_.learning()) {
            for (auto& a : preset_map_.handle(event)) {
                if (a.kind == MidiAction::Kind::set) {
                    actions.push_back(std::move(a)); // program changes come from map_ once
                }
            }
        }
    }
    for (const auto& a : actions) {
        try {
            switch (a.kind) {
            case MidiAction::Kind::set:
                (void)space_.handle(OscMessage{a.address, {OscArg::of(a.value)}});
                break;
            case MidiAction::Kind::program:
                presets_.request_load_index(a.program, [](const std::string& message) {
                    LogLimiter::shared().log(spdlog::level::warn, "midi.program_error",
                                             "MIDI program change: " + escape_for_log(message, 400));
                });
                break;
            case MidiAction::Kind::learned: {
                spdlog::info("MIDI learned: channel {} CC {} -> '{}'", a.mapping.channel, a.mapping.cc,
                             escape_for_log(a.mapping.address));
                {
                    std::lock_guard lock(mutex_);
                    save_locked();
                }
                if (learned_hook_) {
                    learned_hook_(OscMessage{"/rig/midi/learned",
                                             {OscArg::of(a.mapping.address),
                                              OscArg::of(static_cast<std::int32_t>(a.mapping.channel)),
                                              OscArg::of(static_cast<std::int32_t>(a.mapping.cc))}});
                }
                break;
            }
            }
        } catch (const std::exception& e) {
            // A controller sends many events a second: one line a second.
            LogLimiter::shared().log(spdlog::level::warn, "midi.error",
                                     fmt::format("MIDI {:02X} {:02X} {:02X}: {}", event.status, event.data1,
                                                 event.data2, escape_for_log(e.what(), 400)));
        }
    }
}

void MidiRouter::learn(const std::string& address, float min, float max, bool toggle) {
    std::lock_guard lock(mutex_);
    map_.learn(address, min, max, toggle ? MidiMapping::Mode::toggle : MidiMapping::Mode::continuous);
}

void MidiRouter::set_preset_mappings(const std::vector<core::MidiBinding>& bindings) {
    MidiMap fresh = MidiMap::from_bindings(bindings);
    std::lock_guard lock(mutex_);
    preset_map_ = std::move(fresh);
}

std::vector<OscMessage> MidiRouter::list() const {
    std::lock_guard lock(mutex_);
    const auto count = map_.mappings().size() + preset_map_.mappings().size();
    std::vector<OscMessage> out{OscMessage{"/rig/midi/list", {OscArg::of(static_cast<std::int32_t>(count))}}};
    for (const auto* map : {&map_, &preset_map_}) {
        for (const auto& m : map->mappings()) {
            out.push_back(OscMessage{
                "/rig/midi/item",
                {OscArg::of(static_cast<std::int32_t>(m.channel)), OscArg::of(static_cast<std::int32_t>(m.cc)),
                 OscArg::of(m.address), OscArg::of(m.min), OscArg::of(m.max),
                 OscArg::of(std::string(MidiMap::mode_name(m.mode))),
                 OscArg::of(std::string(map == &map_ ? "learned" : "preset"))}});
        }
    }
    return out;
}

void MidiRouter::set_learned_hook(std::function<void(const OscMessage&)> hook) {
    std::lock_guard lock(mutex_);
    learned_hook_ = std::move(hook);
}

} // namespace rigd::control
