#pragma once

#include "control/errors.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rigd::control {

// The daemon's configuration. Every key is optional; the defaults below are
// the documented ones (README "Configuration"). Relative folders in a file
// are taken relative to the file's own folder.
struct Config {
    // [jack]
    std::string client_name = "rigd";
    std::string server_name; // empty: the default server ($JACK_DEFAULT_SERVER)
    std::string input_port = "in";
    std::string output_left_port = "out_l";
    std::string output_right_port = "out_r";
    bool auto_connect = true;                // to physical ports when no targets are given
    std::vector<std::string> connect_input;  // e.g. ["system:capture_1"]
    std::vector<std::string> connect_left;   // e.g. ["system:playback_1"]
    std::vector<std::string> connect_right;  // e.g. ["system:playback_2"]
    // [osc]
    int osc_port = 9000;
    bool osc_tcp = true;                  // also listen on TCP, same port
    std::vector<std::string> osc_allow;   // CIDR networks or loopback/local/private; empty = loopback + local
    std::vector<std::string> osc_subscribers; // static feedback targets (numeric osc.udp:// or osc.tcp:// URLs)
    // [midi]
    bool midi_enabled = true;             // a JACK MIDI input port
    std::string midi_port = "midi_in";
    int midi_program_channel = 0;         // 0 = any channel
    std::filesystem::path midi_map = "/var/lib/rigd/midi.toml"; // learned mappings
    // [paths]
    std::filesystem::path presets_dir = "/var/lib/rigd/presets";
    std::filesystem::path models_dir = "/var/lib/rigd/models";
    std::filesystem::path irs_dir = "/var/lib/rigd/irs";
    std::filesystem::path recordings_dir = "/var/lib/rigd/recordings"; // takes of /rig/record
    // [rig]
    std::string preset; // start-up preset: a name in presets_dir or a path; empty = empty chain
    std::string log_level = "info";
};

// Parses a config file; FileError names the file and the key.
[[nodiscard]] Config load_config_file(const std::filesystem::path& path);
[[nodiscard]] Config parse_config(std::string_view toml_text, const std::filesystem::path& origin);

[[nodiscard]] bool is_valid_log_level(std::string_view level) noexcept;

} // namespace rigd::control
