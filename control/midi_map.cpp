#include "control/midi_map.hpp"

#include "control/toml_text.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace rigd::control {

namespace {

constexpr std::uint8_t kControlChange = 0xB0;
constexpr std::uint8_t kProgramChange = 0xC0;
constexpr int kFirstChannelModeCc = 120; // all sound off, reset, local, all notes off, ...
constexpr int kSwitchThreshold = 64;

struct Problem {
    std::string key;
    std::string detail;
};


std::optional<Problem> check_channel(int channel) {
    if (channel < 0 || channel > 16) {
        return Problem{"channel", std::to_string(channel) + " is outside 0..16 (0 = any)"};
    }
    return std::nullopt;
}

std::optional<Problem> check_target(std::string_view address, float min, float max) {
    constexpr std::string_view kPrefix = "/rig/";
    if (address.size() <= kPrefix.size() || address.substr(0, kPrefix.size()) != kPrefix) {
        return Problem{"address", "'" + std::string(address) + "' must start with /rig/"};
    }
    for (const char c : address) {
        // OSC pattern characters and anything unprintable cannot be a target.
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || std::string_view("#*,?[]{}").find(c) != std::string_view::npos) {
            return Problem{"address", "'" + std::string(address) + "' contains a character not allowed in an OSC address"};
        }
    }
    if (!std::isfinite(min)) {
        return Problem{"min", "not a finite number"};
    }
    if (!std::isfinite(max)) {
        return Problem{"max", "not a finite number"};
    }
    return std::nullopt;
}

std::optional<Problem> check(const MidiMapping& m) {
    if (auto p = check_channel(m.channel)) {
        return p;
    }
    if (m.cc < 0 || m.cc > 127) {
        return Problem{"cc", std::to_string(m.cc) + " is outside 0..127"};
    }
    return check_target(m.address, m.min, m.max);
}

[[noreturn]] void entry_error(const std::filesystem::path& origin, const std::string& entry, const std::string& key,
                              const std::string& what) {
    throw FileError(origin, entry + ": key '" + key + "': " + what);
}

[[noreturn]] void refuse(const Problem& p) {
    throw ControlError("midi mapping: key '" + p.key + "': " + p.detail);
}

} // namespace

std::string_view MidiMap::mode_name(MidiMapping::Mode mode) noexcept {
    switch (mode) {
    case MidiMapping::Mode::continuous:
        return "continuous";
    case MidiMapping::Mode::toggle:
        return "toggle";
    case MidiMapping::Mode::momentary:
        return "momentary";
    }
    return "continuous";
}

std::optional<MidiMapping::Mode> MidiMap::parse_mode(std::string_view name) noexcept {
    for (const auto mode : {MidiMapping::Mode::continuous, MidiMapping::Mode::toggle, MidiMapping::Mode::momentary}) {
        if (mode_name(mode) == name) {
            return mode;
        }
    }
    return std::nullopt;
}

void MidiMap::add(MidiMapping mapping) {
    if (auto p = check(mapping)) {
        refuse(*p);
    }
    for (std::size_t i = 0; i < mappings_.size(); ++i) {
        const MidiMapping& m = mappings_[i];
        if (m.channel == mapping.channel && m.cc == mapping.cc && m.address == mapping.address) {
            mappings_[i] = std::move(mapping);
            states_[i] = SwitchState{};
            return;
        }
    }
    mappings_.push_back(std::move(mapping));
    states_.emplace_back();
}

std::size_t MidiMap::remove(int channel, int cc) {
    std::size_t removed = 0;
    for (std::size_t i = mappings_.size(); i-- > 0;) {
        if (mappings_[i].channel == channel && mappings_[i].cc == cc) {
            mappings_.erase(mappings_.begin() + static_cast<std::ptrdiff_t>(i));
            states_.erase(states_.begin() + static_cast<std::ptrdiff_t>(i));
            ++removed;
        }
    }
    return removed;
}

void MidiMap::clear() noexcept {
    mappings_.clear();
    states_.clear();
    pending_.reset();
}

void MidiMap::learn(std::string address, float min, float max, MidiMapping::Mode mode) {
    if (auto p = check_target(address, min, max)) {
        refuse(*p);
    }
    pending_ = MidiMapping{.channel = 0, .cc = 0, .address = std::move(address), .min = min, .max = max, .mode = mode};
}

void MidiMap::cancel_learn() noexcept { pending_.reset(); }

void MidiMap::set_program_channel(int channel) {
    if (auto p = check_channel(channel)) {
        throw ControlError("midi: key 'program_channel': " + p->detail);
    }
    program_channel_ = channel;
}

std::vector<MidiAction> MidiMap::handle(const MidiEvent& event) {
    std::vector<MidiAction> actions;
    // Anything below 0x80 is a data byte (a lost status / running-status
    // fragment); data bytes must be 7-bit. 0xF0.. are system messages.
    if (event.status < 0x80 || event.status >= 0xF0 || event.data1 > 127) {
        return actions;
    }
    const std::uint8_t type = event.status & 0xF0;
    const int channel = (event.status & 0x0F) + 1;

    if (type == kProgramChange) {
        if (program_channel_ == 0 || program_channel_ == channel) {
            actions.push_back(MidiAction{.kind = MidiAction::Kind::program, .address = {}, .value = 0.0f,
                                         .program = event.data1, .mapping = {}});
        }
        return actions;
    }
    if (type != kControlChange || event.data2 > 127) {
        return actions;
    }
    const int cc = event.data1;
    const int value = event.data2;

    if (pending_ && cc < kFirstChannelModeCc) {
        MidiMapping learned = std::move(*pending_);
        pending_.reset();
        learned.channel = channel;
        learned.cc = cc;
        add(learned);
        actions.push_back(MidiAction{.kind = MidiAction::Kind::learned, .address = learned.address, .value = 0.0f,
                                     .program = 0, .mapping = learned});
        return actions;
    }

    const bool pressed = value >= kSwitchThreshold;
    for (std::size_t i = 0; i < mappings_.size(); ++i) {
        const MidiMapping& m = mappings_[i];
        if (m.cc != cc || (m.channel != 0 && m.channel != channel)) {
            continue;
        }
        SwitchState& state = states_[i];
        const bool rising = pressed && !state.pressed;
        state.pressed = pressed;
        float out = 0.0f;
        switch (m.mode) {
        case MidiMapping::Mode::continuous:
            out = m.min + (m.max - m.min) * static_cast<float>(value) / 127.0f;
            break;
        case MidiMapping::Mode::momentary:
            out = pressed ? m.max : m.min;
            break;
        case MidiMapping::Mode::toggle:
            if (!rising) {
                continue;
            }
            state.on = !state.on;
            out = state.on ? m.max : m.min;
            break;
        }
        actions.push_back(
            MidiAction{.kind = MidiAction::Kind::set, .address = m.address, .value = out, .program = 0, .mapping = {}});
    }
    return actions;
}

std::string MidiMap::format_toml() const {
    std::string out;
    if (program_channel_ != 0) {
        out += "program_channel = " + std::to_string(program_channel_) + "\n";
    }
    for (const auto& m : mappings_) {
        out += out.empty() ? "" : "\n";
        out += "[[midi]]\nchannel = " + std::to_string(m.channel) + "\ncc = " + std::to_string(m.cc) +
               "\naddress = " + toml_quote(m.address) + "\nmin = " + toml_number(m.min) +
               "\nmax = " + toml_number(m.max) + "\nmode = " + toml_quote(mode_name(m.mode)) + "\n";
    }
    return out;
}

MidiMap MidiMap::parse_toml(std::string_view text, const std::filesystem::path& origin) {
    toml::table root;
    try {
        root = toml::parse(text, origin.string());
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        throw FileError(origin, "line " + std::to_string(at.line) + ", column " + std::to_string(at.column) + ": " +
                                    std::string(e.description()));
    }
    MidiMap map;
    for (const auto& [k, node] : root) {
        const std::string key(k.str());
        if (key == "program_channel") {
            const auto i = node.value_exact<std::int64_t>();
            if (!i || *i < 0 || *i > 16) {
                throw FileError(origin, "key 'program_channel': expected a whole number in 0..16 (0 = any)");
            }
            map.program_channel_ = static_cast<int>(*i);
        } else if (key == "midi") {
            const toml::array* entries = node.as_array();
            if (entries == nullptr) {
                throw FileError(origin, "key 'midi': expected [[midi]] tables");
            }
            for (std::size_t index = 0; index < entries->size(); ++index) {
                const std::string entry = "midi #" + std::to_string(index + 1);
                const toml::table* t = (*entries)[index].as_table();
                if (t == nullptr) {
                    throw FileError(origin, entry + ": expected a table");
                }
                auto fail = [&](const std::string& k2, const std::string& what) { entry_error(origin, entry, k2, what); };
                auto whole = [&](const toml::node& n, const std::string& k2, std::int64_t hi,
                                 const std::string& range) -> int {
                    const auto i = n.value_exact<std::int64_t>();
                    if (!i) {
                        fail(k2, "expected a whole number in " + range);
                    }
                    if (*i < 0 || *i > hi) {
                        fail(k2, std::to_string(*i) + " is outside " + range);
                    }
                    return static_cast<int>(*i);
                };
                auto number = [&](const toml::node& n, const std::string& k2) -> float {
                    if (const auto i = n.value_exact<std::int64_t>()) {
                        return static_cast<float>(*i);
                    }
                    const auto d = n.value_exact<double>();
                    if (!d || !std::isfinite(static_cast<float>(*d))) {
                        fail(k2, "expected a finite number");
                    }
                    return static_cast<float>(*d);
                };
                MidiMapping m;
                bool have_cc = false;
                bool have_address = false;
                for (const auto& [tk, tn] : *t) {
                    const std::string tkey(tk.str());
                    if (tkey == "channel") {
                        m.channel = whole(tn, tkey, 16, "0..16 (0 = any)");
                    } else if (tkey == "cc") {
                        m.cc = whole(tn, tkey, 127, "0..127");
                        have_cc = true;
                    } else if (tkey == "address") {
                        const auto s = tn.value_exact<std::string>();
                        if (!s) {
                            fail(tkey, "expected a string");
                        }
                        m.address = *s;
                        have_address = true;
                    } else if (tkey == "min") {
                        m.min = number(tn, tkey);
                    } else if (tkey == "max") {
                        m.max = number(tn, tkey);
                    } else if (tkey == "mode") {
                        const auto s = tn.value_exact<std::string>();
                        const auto mode = s ? parse_mode(*s) : std::nullopt;
                        if (!mode) {
                            fail(tkey, "expected \"continuous\", \"toggle\" or \"momentary\"");
                        }
                        m.mode = *mode;
                    } else {
                        fail(tkey, "unknown (known: channel, cc, address, min, max, mode)");
                    }
                }
                if (!have_cc) {
                    fail("cc", "missing");
                }
                if (!have_address) {
                    fail("address", "missing");
                }
                if (auto p = check(m)) {
                    fail(p->key, p->detail);
                }
                for (std::size_t j = 0; j < map.mappings_.size(); ++j) {
                    const MidiMapping& other = map.mappings_[j];
                    if (other.channel == m.channel && other.cc == m.cc && other.address == m.address) {
                        throw FileError(origin, entry + ": same channel, cc and address as midi #" + std::to_string(j + 1));
                    }
                }
                map.add(std::move(m));
            }
        } else {
            throw FileError(origin, "key '" + key + "': unknown (known: program_channel, midi)");
        }
    }
    return map;
}

MidiMap MidiMap::from_bindings(const std::vector<core::MidiBinding>& bindings) {
    MidiMap map;
    for (const auto& b : bindings) {
        const auto mode = parse_mode(b.mode);
        if (!mode) {
            throw ControlError("midi mapping: key 'mode': expected \"continuous\", \"toggle\" or \"momentary\"");
        }
        map.add(MidiMapping{.channel = b.channel, .cc = b.cc, .address = b.address, .min = b.min, .max = b.max,
                            .mode = *mode});
    }
    return map;
}

std::vector<core::MidiBinding> MidiMap::bindings() const {
    std::vector<core::MidiBinding> out;
    for (const auto& m : mappings_) {
        out.push_back(core::MidiBinding{m.channel, m.cc, m.address, m.min, m.max, std::string(mode_name(m.mode))});
    }
    return out;
}

} // namespace rigd::control
