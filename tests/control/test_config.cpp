#include "control/config.hpp"

#include <doctest/doctest.h>

using rigd::control::Config;
using rigd::control::FileError;
using rigd::control::parse_config;

TEST_CASE("config: an empty file gives the documented defaults") {
    const Config c = parse_config("", "/etc/rigd/rigd.toml");
    CHECK(c.client_name == "rigd");
    CHECK(c.server_name.empty());
    CHECK(c.input_port == "in");
    CHECK(c.output_left_port == "out_l");
    CHECK(c.output_right_port == "out_r");
    CHECK(c.auto_connect);
    CHECK(c.connect_input.empty());
    CHECK(c.osc_port == 9000);
    CHECK(c.osc_tcp);
    CHECK(c.osc_allow.empty());
    CHECK(c.osc_subscribers.empty());
    CHECK(c.midi_enabled);
    CHECK(c.midi_port == "midi_in");
    CHECK(c.midi_program_channel == 0);
    CHECK(c.midi_map == "/var/lib/rigd/midi.toml");
    CHECK(c.presets_dir == "/var/lib/rigd/presets");
    CHECK(c.models_dir == "/var/lib/rigd/models");
    CHECK(c.irs_dir == "/var/lib/rigd/irs");
    CHECK(c.recordings_dir == "/var/lib/rigd/recordings");
    CHECK(c.preset.empty());
    CHECK(c.log_level == "info");
}

TEST_CASE("config: every key is read; relative folders are relative to the file") {
    const Config c = parse_config(R"(
[jack]
client_name = "pedalboard"
server_name = "live"
input_port = "guitar"
output_left_port = "left"
output_right_port = "right"
auto_connect = false
connect_input = "system:capture_2"
connect_left = ["system:playback_1", "other:in"]
connect_right = ["system:playback_2"]

[osc]
port = 9100
tcp = false
allow = ["192.168.7.0/24", "::1/128"]
subscribers = ["osc.udp://192.168.7.20:9001"]

[midi]
enabled = false
port = "pedals"
program_channel = 3

[paths]
presets = "presets"
models = "/opt/models"
irs = "../irs"
midi_map = "midi.toml"
recordings = "takes"

[rig]
preset = "crunch"
log_level = "debug"
)",
                                  "/home/me/rig/rigd.toml");
    CHECK(c.client_name == "pedalboard");
    CHECK(c.server_name == "live");
    CHECK(c.input_port == "guitar");
    CHECK(c.output_left_port == "left");
    CHECK(c.output_right_port == "right");
    CHECK_FALSE(c.auto_connect);
    CHECK(c.connect_input == std::vector<std::string>{"system:capture_2"});
    CHECK(c.connect_left == std::vector<std::string>{"system:playback_1", "other:in"});
    CHECK(c.connect_right == std::vector<std::string>{"system:playback_2"});
    CHECK(c.osc_port == 9100);
    CHECK_FALSE(c.osc_tcp);
    CHECK(c.osc_allow == std::vector<std::string>{"192.168.7.0/24", "::1/128"});
    CHECK(c.osc_subscribers == std::vector<std::string>{"osc.udp://192.168.7.20:9001"});
    CHECK_FALSE(c.midi_enabled);
    CHECK(c.midi_port == "pedals");
    CHECK(c.midi_program_channel == 3);
    CHECK(c.midi_map == "/home/me/rig/midi.toml");
    CHECK(c.presets_dir == "/home/me/rig/presets");
    CHECK(c.models_dir == "/opt/models");
    CHECK(c.irs_dir == "/home/me/irs");
    CHECK(c.recordings_dir == "/home/me/rig/takes");
    CHECK(c.preset == "crunch");
    CHECK(c.log_level == "debug");
}

TEST_CASE("config: bad files name the file and the key") {
    auto message = [](const char* text) {
        try {
            (void)parse_config(text, "/etc/rigd/rigd.toml");
        } catch (const FileError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message("[osc]\nport = \"9000\"\n") ==
          "/etc/rigd/rigd.toml: key 'osc.port': expected a UDP port number 1-65535");
    CHECK(message("[osc]\nport = 0\n").find("osc.port") != std::string::npos);
    CHECK(message("[jack]\nauto_connect = \"yes\"\n").find("key 'jack.auto_connect': expected true or false") !=
          std::string::npos);
    CHECK(message("[jack]\nconnect_left = [1, 2]\n").find("key 'jack.connect_left': expected a list of strings") !=
          std::string::npos);
    CHECK(message("[jack]\ninput_port = \"a:b\"\n").find("contain no ':'") != std::string::npos);
    CHECK(message("[rig]\nlog_level = \"loud\"\n").find("key 'rig.log_level'") != std::string::npos);
    CHECK(message("[rig]\npreset = 3\n").find("key 'rig.preset': expected a string") != std::string::npos);
    CHECK(message("[audio]\nrate = 48000\n").find("key 'audio': unknown section") != std::string::npos);
    CHECK(message("[osc]\nprt = 1\n").find("key 'osc.prt': unknown (known: allow, port, subscribers, tcp)") != std::string::npos);
    CHECK(message("[osc\nport = 1\n").find("/etc/rigd/rigd.toml: line 1") != std::string::npos);
    CHECK(message("[osc]\nallow = [\"300.1.1.1/8\"]\n").find("key 'osc.allow': '300.1.1.1/8' is not a network") !=
          std::string::npos);
    CHECK(message("[osc]\nallow = [\"10.0.0.0/33\"]\n").find("osc.allow") != std::string::npos);
    CHECK(message("[osc]\nsubscribers = [\"http://x\"]\n").find("key 'osc.subscribers'") != std::string::npos);
    CHECK(message("[osc]\nsubscribers = [\"osc.udp://phone.lan:9001\"]\n").find("names a host") != std::string::npos);
    CHECK(message("[osc]\nallow = [\"everyone\"]\n").find("nor one of the words loopback, local, private") !=
          std::string::npos);
    CHECK(parse_config("[osc]\nallow = [\"loopback\", \"local\", \"10.8.0.0/16\"]\n", "/etc/rigd/rigd.toml").osc_allow ==
          std::vector<std::string>{"loopback", "local", "10.8.0.0/16"});
    CHECK(message("[midi]\nprogram_channel = 17\n").find("key 'midi.program_channel'") != std::string::npos);
    CHECK(message("[midi]\nport = \"a:b\"\n").find("key 'midi.port'") != std::string::npos);
    CHECK(message("osc = 3\n").find("key 'osc': expected a [osc] table") != std::string::npos);
}
