#include "control/config.hpp"

#include "control/net_filter.hpp"
#include "control/osc_sender.hpp"

#include <toml++/toml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace rigd::control {

namespace {

class Reader {
public:
    Reader(const toml::table& root, std::filesystem::path origin) : root_(root), origin_(std::move(origin)) {}

    [[noreturn]] void fail(const std::string& key, const std::string& what) const {
        throw FileError(origin_, "key '" + key + "': " + what);
    }

    const toml::table* section(const std::string& name, const std::set<std::string>& keys) const {
        const toml::node* node = root_.get(name);
        if (node == nullptr) {
            return nullptr;
        }
        const toml::table* t = node->as_table();
        if (t == nullptr) {
            fail(name, "expected a [" + name + "] table");
        }
        for (const auto& [k, v] : *t) {
            if (keys.count(std::string(k.str())) == 0) {
                std::string known;
                for (const auto& key : keys) {
                    known += (known.empty() ? "" : ", ") + key;
                }
                fail(name + "." + std::string(k.str()), "unknown (known: " + known + ")");
            }
        }
        return t;
    }

    void string(const toml::table* t, const std::string& sect, const char* key, std::string& out) const {
        if (t == nullptr || !t->contains(key)) {
            return;
        }
        const auto v = (*t)[key].value_exact<std::string>();
        if (!v) {
            fail(sect + "." + key, "expected a string");
        }
        out = *v;
    }

    void boolean(const toml::table* t, const std::string& sect, const char* key, bool& out) const {
        if (t == nullptr || !t->contains(key)) {
            return;
        }
        const auto v = (*t)[key].value_exact<bool>();
        if (!v) {
            fail(sect + "." + key, "expected true or false");
        }
        out = *v;
    }

    void strings(const toml::table* t, const std::string& sect, const char* key, std::vector<std::string>& out) const {
        if (t == nullptr || !t->contains(key)) {
            return;
        }
        out.clear();
        const toml::node& node = *(*t).get(key);
        if (const auto s = node.value_exact<std::string>()) {
            out.push_back(*s);
            return;
        }
        const toml::array* a = node.as_array();
        if (a == nullptr) {
            fail(sect + "." + key, "expected a port name or a list of port names");
        }
        for (const auto& item : *a) {
            const auto s = item.value_exact<std::string>();
            if (!s) {
                fail(sect + "." + key, "expected a list of strings");
            }
            out.push_back(*s);
        }
    }

    void path(const toml::table* t, const std::string& sect, const char* key, std::filesystem::path& out) const {
        std::string s;
        string(t, sect, key, s);
        if (s.empty()) {
            return;
        }
        const std::filesystem::path p(s);
        out = p.is_absolute() ? p : (origin_.parent_path() / p).lexically_normal();
    }

private:
    const toml::table& root_;
    std::filesystem::path origin_;
};

} // namespace

bool is_valid_log_level(std::string_view level) noexcept {
    return level == "trace" || level == "debug" || level == "info" || level == "warn" || level == "error" ||
           level == "critical" || level == "off";
}

Config parse_config(std::string_view toml_text, const std::filesystem::path& origin) {
    toml::table root;
    try {
        root = toml::parse(toml_text, origin.string());
    } catch (const toml::parse_error& e) {
        throw FileError(origin, "line " + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
    Reader r(root, std::filesystem::absolute(origin));
    for (const auto& [k, v] : root) {
        const std::string key(k.str());
        if (key != "jack" && key != "osc" && key != "paths" && key != "rig" && key != "midi") {
            r.fail(key, "unknown section (known: jack, osc, midi, paths, rig)");
        }
    }
    Config c;
    const auto* jack = r.section("jack", {"client_name", "server_name", "input_port", "output_left_port",
                                          "output_right_port", "auto_connect", "connect_input", "connect_left",
                                          "connect_right"});
    r.string(jack, "jack", "client_name", c.client_name);
    r.string(jack, "jack", "server_name", c.server_name);
    r.string(jack, "jack", "input_port", c.input_port);
    r.string(jack, "jack", "output_left_port", c.output_left_port);
    r.string(jack, "jack", "output_right_port", c.output_right_port);
    r.boolean(jack, "jack", "auto_connect", c.auto_connect);
    r.strings(jack, "jack", "connect_input", c.connect_input);
    r.strings(jack, "jack", "connect_left", c.connect_left);
    r.strings(jack, "jack", "connect_right", c.connect_right);
    if (c.client_name.empty() || c.client_name.size() > 60) {
        r.fail("jack.client_name", "expected 1-60 characters");
    }
    for (const auto* port : {&c.input_port, &c.output_left_port, &c.output_right_port}) {
        if (port->empty() || port->find(':') != std::string::npos) {
            r.fail("jack ports", "port names must be non-empty and contain no ':'");
        }
    }

    const auto* osc = r.section("osc", {"port", "tcp", "allow", "subscribers"});
    if (osc != nullptr && osc->contains("port")) {
        const auto p = (*osc)["port"].value_exact<std::int64_t>();
        if (!p || *p < 1 || *p > 65535) {
            r.fail("osc.port", "expected a UDP port number 1-65535");
        }
        c.osc_port = static_cast<int>(*p);
    }
    r.boolean(osc, "osc", "tcp", c.osc_tcp);
    r.strings(osc, "osc", "allow", c.osc_allow);
    for (const auto& n : c.osc_allow) {
        if (!NetFilter::is_valid_entry(n)) {
            r.fail("osc.allow", "'" + n +
                                    "' is not a network like 192.168.1.0/24 or fe80::/10, nor one of the words "
                                    "loopback, local, private");
        }
    }
    r.strings(osc, "osc", "subscribers", c.osc_subscribers);
    for (const auto& u : c.osc_subscribers) {
        std::string reason;
        if (!OscSender::parse_url(u, &reason)) {
            r.fail("osc.subscribers", reason); // numeric only: feedback never waits on a name lookup
        }
    }

    const auto* midi = r.section("midi", {"enabled", "port", "program_channel"});
    r.boolean(midi, "midi", "enabled", c.midi_enabled);
    r.string(midi, "midi", "port", c.midi_port);
    if (midi != nullptr && midi->contains("program_channel")) {
        const auto ch = (*midi)["program_channel"].value_exact<std::int64_t>();
        if (!ch || *ch < 0 || *ch > 16) {
            r.fail("midi.program_channel", "expected 0 (any) or a channel 1-16");
        }
        c.midi_program_channel = static_cast<int>(*ch);
    }
    if (c.midi_port.empty() || c.midi_port.find(':') != std::string::npos) {
        r.fail("midi.port", "port names must be non-empty and contain no ':'");
    }

    const auto* paths = r.section("paths", {"presets", "models", "irs", "midi_map", "recordings"});
    r.path(paths, "paths", "presets", c.presets_dir);
    r.path(paths, "paths", "models", c.models_dir);
    r.path(paths, "paths", "irs", c.irs_dir);
    r.path(paths, "paths", "midi_map", c.midi_map);
    r.path(paths, "paths", "recordings", c.recordings_dir);

    const auto* rig = r.section("rig", {"preset", "log_level"});
    r.string(rig, "rig", "preset", c.preset);
    r.string(rig, "rig", "log_level", c.log_level);
    if (!is_valid_log_level(c.log_level)) {
        r.fail("rig.log_level", "expected trace, debug, info, warn, error, critical or off");
    }
    return c;
}

Config load_config_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw FileError(path, std::string("cannot open: ") + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path);
}

} // namespace rigd::control
