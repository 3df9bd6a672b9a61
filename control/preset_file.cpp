#include "control/preset_file.hpp"

#include "control/midi_map.hpp"
#include "control/toml_text.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace rigd::control {

namespace {

std::string where(std::size_t index, const std::string& id) {
    return "stage #" + std::to_string(index + 1) + (id.empty() ? "" : " ('" + id + "')");
}


float parse_param_value(const toml::node& node, const core::ParamInfo& info, const std::filesystem::path& origin,
                        const std::string& stage) {
    const std::string key = std::string(info.name);
    auto fail = [&](const std::string& what) -> float {
        throw FileError(origin, stage + ": key '" + key + "': " + what);
    };
    float value = 0.0f;
    switch (info.kind) {
    case core::ParamKind::toggle:
        if (const auto b = node.value_exact<bool>()) {
            return *b ? 1.0f : 0.0f;
        }
        return fail("expected true or false");
    case core::ParamKind::choice: {
        if (const auto s = node.value_exact<std::string>()) {
            for (std::size_t i = 0; i < info.choices.size(); ++i) {
                if (info.choices[i] == *s) {
                    return static_cast<float>(i);
                }
            }
        }
        std::string names;
        for (const auto c : info.choices) {
            names += (names.empty() ? "" : ", ") + std::string(c);
        }
        return fail("expected one of " + names);
    }
    case core::ParamKind::integer:
        if (const auto i = node.value_exact<std::int64_t>()) {
            value = static_cast<float>(*i);
            break;
        }
        return fail("expected a whole number");
    case core::ParamKind::continuous:
        if (const auto i = node.value_exact<std::int64_t>()) {
            value = static_cast<float>(*i);
        } else if (const auto d = node.value_exact<double>()) {
            value = static_cast<float>(*d);
        } else {
            return fail("expected a number");
        }
        break;
    }
    if (!std::isfinite(value) || !info.in_range(value)) {
        return fail(toml_number(value) + " is outside " + toml_number(info.min) + ".." +
                    toml_number(info.max) + (info.unit.empty() ? "" : " " + std::string(info.unit)));
    }
    return value;
}

core::StageConfig parse_stage(const toml::table& t, std::size_t index, const std::filesystem::path& origin,
                              const core::StageFactory& factory) {
    core::StageConfig config;
    const auto id = t["id"].value_exact<std::string>();
    if (!id) {
        throw FileError(origin, where(index, "") + ": key 'id': missing or not a string");
    }
    config.id = *id;
    const std::string stage = where(index, config.id);
    if (!is_valid_stage_id(config.id)) {
        throw FileError(origin, stage + ": key 'id': use letters, digits, '_' or '-' (1-32 characters)");
    }
    const auto type = t["type"].value_exact<std::string>();
    if (!type) {
        throw FileError(origin, stage + ": key 'type': missing or not a string");
    }
    config.type = *type;
    std::unique_ptr<core::Stage> probe;
    try {
        probe = factory.create(config.type);
    } catch (const core::UnknownStageType& e) {
        throw FileError(origin, stage + ": key 'type': " + e.what());
    }
    for (const auto& [k, node] : t) {
        const std::string key(k.str());
        if (key == "id" || key == "type") {
            continue;
        }
        if (key == "bypass") {
            const auto b = node.value_exact<bool>();
            if (!b) {
                throw FileError(origin, stage + ": key 'bypass': expected true or false");
            }
            config.bypass = *b;
            continue;
        }
        if (const std::size_t p = probe->find_param(key); p != core::Stage::npos) {
            config.params.emplace_back(key, parse_param_value(node, probe->params()[p], origin, stage));
            continue;
        }
        if (probe->find_text_param(key) != core::Stage::npos) {
            const auto s = node.value_exact<std::string>();
            if (!s) {
                throw FileError(origin, stage + ": key '" + key + "': expected a file name string");
            }
            config.texts.emplace_back(key, *s);
            continue;
        }
        std::string known;
        for (const auto& info : probe->params()) {
            known += (known.empty() ? "" : ", ") + std::string(info.name);
        }
        for (const auto& info : probe->text_params()) {
            known += (known.empty() ? "" : ", ") + std::string(info.name);
        }
        throw FileError(origin, stage + ": key '" + key + "': not a parameter of '" + config.type +
                                    "' (known: bypass" + (known.empty() ? "" : ", " + known) + ")");
    }
    // TOML tables are unordered: keep the stage's declared order so saved
    // presets read like the parameter list.
    std::sort(config.params.begin(), config.params.end(), [&](const auto& a, const auto& b) {
        return probe->find_param(a.first) < probe->find_param(b.first);
    });
    std::sort(config.texts.begin(), config.texts.end(), [&](const auto& a, const auto& b) {
        return probe->find_text_param(a.first) < probe->find_text_param(b.first);
    });
    return config;
}

} // namespace

bool is_valid_stage_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > 32) {
        return false;
    }
    for (const char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

core::Preset parse_preset(std::string_view toml_text, const std::filesystem::path& origin,
                          const core::StageFactory& factory) {
    toml::table root;
    try {
        root = toml::parse(toml_text, origin.string());
    } catch (const toml::parse_error& e) {
        const auto& where_at = e.source().begin;
        throw FileError(origin, "line " + std::to_string(where_at.line) + ", column " +
                                    std::to_string(where_at.column) + ": " + std::string(e.description()));
    }
    core::Preset preset;
    preset.name = origin.stem().string();
    for (const auto& [k, node] : root) {
        const std::string key(k.str());
        if (key == "name") {
            const auto s = node.value_exact<std::string>();
            if (!s || s->empty()) {
                throw FileError(origin, "key 'name': expected a non-empty string");
            }
            preset.name = *s;
        } else if (key == "oversample") {
            const auto i = node.value_exact<std::int64_t>();
            if (!i || (*i != 1 && *i != 2 && *i != 4 && *i != 8 && *i != 16)) {
                throw FileError(origin, "key 'oversample': expected 1, 2, 4, 8 or 16");
            }
            preset.oversample = static_cast<int>(*i);
        } else if (key == "master_db") {
            const auto d = node.value<double>();
            if (!d || !(*d >= -60.0 && *d <= 24.0)) {
                throw FileError(origin, "key 'master_db': expected a number in -60..24 dB");
            }
            preset.master_db = static_cast<float>(*d);
        } else if (key == "stage") {
            const toml::array* stages = node.as_array();
            if (stages == nullptr) {
                throw FileError(origin, "key 'stage': expected [[stage]] tables");
            }
            std::set<std::string> ids;
            for (std::size_t i = 0; i < stages->size(); ++i) {
                const toml::table* t = (*stages)[i].as_table();
                if (t == nullptr) {
                    throw FileError(origin, where(i, "") + ": expected a table");
                }
                auto config = parse_stage(*t, i, origin, factory);
                if (!ids.insert(config.id).second) {
                    throw FileError(origin, where(i, config.id) + ": key 'id': duplicate id");
                }
                preset.stages.push_back(std::move(config));
            }
            if (preset.stages.size() > 64) {
                throw FileError(origin, "key 'stage': at most 64 stages fit in a chain");
            }
        } else if (key == "midi") {
            // The same [[midi]] tables as the MIDI mappings file, checked by
            // the same parser (errors name "midi #N" and the key).
            toml::table only_midi;
            only_midi.insert("midi", node);
            std::ostringstream text;
            text << only_midi;
            preset.midi = MidiMap::parse_toml(text.str(), origin).bindings();
        } else {
            throw FileError(origin, "key '" + key + "': unknown (known: name, oversample, master_db, stage, midi)");
        }
    }
    return preset;
}

core::Preset load_preset_file(const std::filesystem::path& path, const core::StageFactory& factory) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw FileError(path, std::string("cannot open: ") + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_preset(text.str(), path, factory);
}

std::string format_preset(const core::Preset& preset, const core::StageFactory& factory) {
    std::string out = "name = " + toml_quote(preset.name) + "\n";
    if (preset.oversample != 1) {
        out += "oversample = " + std::to_string(preset.oversample) + "\n";
    }
    if (preset.master_db) {
        out += "master_db = " + toml_number(*preset.master_db) + "\n";
    }
    for (const auto& s : preset.stages) {
        out += "\n[[stage]]\nid = " + toml_quote(s.id) + "\ntype = " + toml_quote(s.type) + "\n";
        if (s.bypass) {
            out += "bypass = true\n";
        }
        const auto probe = factory.create(s.type);
        for (const auto& [name, value] : s.params) {
            const std::size_t p = probe->find_param(name);
            const core::ParamInfo& info = probe->params()[p];
            out += name + " = ";
            switch (info.kind) {
            case core::ParamKind::toggle:
                out += value != 0.0f ? "true" : "false";
                break;
            case core::ParamKind::choice:
                out += toml_quote(info.choices[static_cast<std::size_t>(value)]);
                break;
            case core::ParamKind::integer:
                out += std::to_string(static_cast<long long>(std::lround(value)));
                break;
            case core::ParamKind::continuous:
                out += toml_number(value);
                break;
            }
            out += "\n";
        }
        for (const auto& [name, value] : s.texts) {
            out += name + " = " + toml_quote(value) + "\n";
        }
    }
    if (!preset.midi.empty()) {
        out += "\n" + MidiMap::from_bindings(preset.midi).format_toml();
    }
    return out;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
        throw FileError(path, std::string("cannot create temporary file: ") + std::strerror(errno));
    }
    auto fail = [&](const char* what) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmpl.c_str());
        throw FileError(path, std::string(what) + ": " + std::strerror(err));
    };
    std::size_t written = 0;
    while (written < contents.size()) {
        const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("write failed");
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, 0644) != 0) {
        fail("chmod failed");
    }
    if (::fsync(fd) != 0) {
        fail("fsync failed");
    }
    if (::close(fd) != 0) {
        ::unlink(tmpl.c_str());
        throw FileError(path, std::string("close failed: ") + std::strerror(errno));
    }
    if (::rename(tmpl.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmpl.c_str());
        throw FileError(path, std::string("rename failed: ") + std::strerror(err));
    }
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)::fsync(dfd); // make the rename itself durable
        ::close(dfd);
    }
}

} // namespace rigd::control
