// Preset files: parse_preset either refuses with a FileError naming the file,
// or returns a preset whose canonical text round-trips byte-stable
// (format -> parse -> format) and describes the same rig.

#include "control/preset_file.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using rigd::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto& factory = rigd::core::StageFactory::builtin();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::filesystem::path origin = "/fuzz/presets/input.toml";
    rigd::core::Preset preset;
    try {
        preset = rigd::control::parse_preset(text, origin, factory);
    } catch (const rigd::control::FileError& e) {
        require(e.file() == origin, "FileError::file() is the parsed file");
        rigd::fuzz::require_names(e.what(), origin.string(), "refused preset");
        return 0;
    }
    require(preset.stages.size() <= 64, "at most 64 stages");
    for (const auto& s : preset.stages) {
        require(rigd::control::is_valid_stage_id(s.id), "stage ids are valid");
        require(factory.has(s.type), "stage types exist");
    }
    const std::string first = rigd::control::format_preset(preset, factory);
    rigd::core::Preset again;
    try {
        again = rigd::control::parse_preset(first, "/fuzz/presets/saved.toml", factory);
    } catch (const std::exception& e) {
        rigd::fuzz::fail(std::string("a saved preset does not load: ") + e.what() + "\n--- saved text ---\n" + first);
    }
    const std::string second = rigd::control::format_preset(again, factory);
    require(first == second, "save -> load -> save is byte-stable:\n--- first ---\n" + first + "\n--- second ---\n" + second);
    require(again.name == preset.name && again.oversample == preset.oversample &&
                again.master_db == preset.master_db && again.stages.size() == preset.stages.size() &&
                again.midi == preset.midi,
            "a saved preset loads as the same rig");
    for (std::size_t i = 0; i < preset.stages.size(); ++i) {
        require(again.stages[i].id == preset.stages[i].id && again.stages[i].type == preset.stages[i].type &&
                    again.stages[i].bypass == preset.stages[i].bypass && again.stages[i].texts == preset.stages[i].texts,
                "a saved stage loads as the same stage");
    }
    return 0;
}
