// MIDI map files: MidiMap::parse_toml either refuses with a FileError naming
// the file, or returns valid mappings whose canonical text round-trips
// byte-stable. The bytes after the first NUL (if any) are then played into the
// map as MIDI events: every action is a valid set/program/learn, and a set
// lands inside its mapping's range.

#include "control/midi_map.hpp"
#include "fuzz_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

using rigd::control::MidiMap;
using rigd::control::MidiMapping;
using rigd::fuzz::require;

namespace {

void check_mapping(const MidiMapping& m) {
    require(m.channel >= 0 && m.channel <= 16, "mapping channel in 0..16");
    require(m.cc >= 0 && m.cc <= 127, "mapping cc in 0..127");
    require(m.address.rfind("/rig/", 0) == 0, "mapping address starts with /rig/");
    require(std::isfinite(m.min) && std::isfinite(m.max), "mapping range is finite");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto* nul = static_cast<const std::uint8_t*>(std::memchr(data, 0, size));
    const std::size_t text_size = nul != nullptr ? static_cast<std::size_t>(nul - data) : size;
    const std::string_view text(reinterpret_cast<const char*>(data), text_size);
    const std::filesystem::path origin = "/fuzz/midi.toml";
    MidiMap map;
    try {
        map = MidiMap::parse_toml(text, origin);
    } catch (const rigd::control::FileError& e) {
        require(e.file() == origin, "FileError::file() is the parsed file");
        rigd::fuzz::require_names(e.what(), origin.string(), "refused MIDI map");
        return 0;
    }
    require(map.program_channel() >= 0 && map.program_channel() <= 16, "program_channel in 0..16");
    for (const auto& m : map.mappings()) {
        check_mapping(m);
    }
    const std::string first = map.format_toml();
    MidiMap again;
    try {
        again = MidiMap::parse_toml(first, "/fuzz/saved.toml");
    } catch (const std::exception& e) {
        rigd::fuzz::fail(std::string("a saved MIDI map does not load: ") + e.what() + "\n" + first);
    }
    require(again.format_toml() == first, "save -> load -> save is byte-stable:\n" + first);
    require(again.mappings() == map.mappings(), "a saved MIDI map loads as the same mappings");
    // Preset bindings carry the same mappings.
    const MidiMap from_bindings = MidiMap::from_bindings(map.bindings());
    require(from_bindings.mappings() == map.mappings(), "bindings round-trip");

    if (nul == nullptr) {
        return 0;
    }
    for (const std::uint8_t* p = nul + 1; p + 3 <= data + size; p += 3) {
        const rigd::control::MidiEvent ev{p[0], p[1], p[2]};
        for (const auto& a : map.handle(ev)) {
            switch (a.kind) {
            case rigd::control::MidiAction::Kind::set: {
                require(std::isfinite(a.value), "a set value is finite");
                const auto it = std::find_if(map.mappings().begin(), map.mappings().end(),
                                             [&](const MidiMapping& m) { return m.address == a.address; });
                require(it != map.mappings().end(), "a set goes to a mapped address");
                bool in_range = false;
                for (const auto& m : map.mappings()) {
                    if (m.address == a.address && m.cc == (ev.data1 & 0x7f)) {
                        const float lo = std::min(m.min, m.max);
                        const float hi = std::max(m.min, m.max);
                        const float tol = 1e-5f * std::max(1.0f, std::max(std::fabs(lo), std::fabs(hi)));
                        in_range = in_range || (a.value >= lo - tol && a.value <= hi + tol);
                    }
                }
                require(in_range, "a set value lies within its mapping's range");
                break;
            }
            case rigd::control::MidiAction::Kind::program:
                require(a.program >= 0 && a.program <= 127, "program number in 0..127");
                break;
            case rigd::control::MidiAction::Kind::learned:
                check_mapping(a.mapping);
                break;
            }
        }
    }
    return 0;
}
