// Config files: parse_config either refuses with a FileError naming the file
// (and the key), or returns a config inside the documented domains, with
// relative folders taken relative to the file's own folder.

#include "control/config.hpp"
#include "control/net_filter.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using rigd::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::filesystem::path origin = "/fuzz/etc/rigd.toml";
    rigd::control::Config c;
    try {
        c = rigd::control::parse_config(text, origin);
    } catch (const rigd::control::FileError& e) {
        require(e.file() == origin, "FileError::file() is the parsed file");
        rigd::fuzz::require_names(e.what(), origin.string(), "refused config");
        return 0;
    }
    require(c.osc_port >= 1 && c.osc_port <= 65535, "osc.port in 1..65535");
    require(c.midi_program_channel >= 0 && c.midi_program_channel <= 16, "midi.program_channel in 0..16");
    require(rigd::control::is_valid_log_level(c.log_level), "rig.log_level is a known level");
    require(!c.client_name.empty() && c.client_name.size() <= 60, "jack.client_name 1-60 characters");
    for (const auto* port : {&c.input_port, &c.output_left_port, &c.output_right_port}) {
        require(!port->empty() && port->find(':') == std::string::npos, "port names are plain");
    }
    for (const auto& n : c.osc_allow) {
        require(rigd::control::NetFilter::is_valid_network(n), "osc.allow holds networks");
    }
    for (const auto* dir : {&c.presets_dir, &c.models_dir, &c.irs_dir, &c.midi_map}) {
        require(dir->is_absolute(), "folders are absolute (relative ones resolved against the file's folder): " +
                                        dir->string());
    }
    // The same text parses the same way twice (no hidden state).
    const auto again = rigd::control::parse_config(text, origin);
    require(again.osc_port == c.osc_port && again.presets_dir == c.presets_dir && again.preset == c.preset &&
                again.osc_allow == c.osc_allow && again.log_level == c.log_level,
            "parse_config is deterministic");
    return 0;
}
