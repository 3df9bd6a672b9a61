#pragma once

#include "control/errors.hpp"
#include "core/preset.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rigd::control {

// One raw MIDI channel message: status byte and up to two data bytes
// (unused data bytes are ignored).
struct MidiEvent {
    std::uint8_t status = 0;
    std::uint8_t data1 = 0;
    std::uint8_t data2 = 0;
};

// A controller (CC) bound to an OSC address.
struct MidiMapping {
    enum class Mode {
        continuous, // min + (max - min) * value / 127
        toggle,     // latching footswitch: each press flips min <-> max, first press -> max
        momentary,  // value >= 64 -> max, else min
    };

    int channel = 0; // 0 = any, 1..16
    int cc = 0;      // 0..127
    std::string address;
    float min = 0.0f;
    float max = 1.0f;
    Mode mode = Mode::continuous;

    friend bool operator==(const MidiMapping&, const MidiMapping&) = default;
};

struct MidiAction {
    enum class Kind {
        set,     // send `value` to `address`
        program, // load preset number `program` (0..127)
        learned, // `mapping` was just created by learn()
    };

    Kind kind = Kind::set;
    std::string address;
    float value = 0.0f;
    int program = 0;
    MidiMapping mapping;
};

// Turns MIDI controller messages into control actions: pure logic, no I/O,
// no threads of its own. Not RT-safe (handle() returns a vector); the caller
// owns the thread and any locking.
//
// Mappings are keyed by (channel, cc, address): one footswitch may drive
// several controls, and an event on channel 5 fires both the channel-5 and
// the any-channel mappings of its CC.
class MidiMap {
public:
    // Validates, then adds; a mapping with the same channel, cc and address is
    // replaced (and its toggle state reset). Throws ControlError naming the
    // key: channel 0..16, cc 0..127, address "/rig/...", finite min and max.
    void add(MidiMapping mapping);
    // Removes every mapping of exactly this channel and cc; returns how many.
    std::size_t remove(int channel, int cc);
    void clear() noexcept;
    [[nodiscard]] const std::vector<MidiMapping>& mappings() const noexcept { return mappings_; }

    // The next Control Change on any channel (except the channel-mode
    // messages, CC 120..127) becomes a mapping of that channel and CC to
    // `address`; handle() reports it as a learned action. Validated like
    // add(). A second learn() replaces the pending one.
    void learn(std::string address, float min, float max, MidiMapping::Mode mode);
    void cancel_learn() noexcept;
    [[nodiscard]] bool learning() const noexcept { return pending_.has_value(); }

    // Program Change filter: 0 = any channel, 1..16. Throws ControlError.
    void set_program_channel(int channel);
    [[nodiscard]] int program_channel() const noexcept { return program_channel_; }

    // Everything that is not a Control Change or a Program Change (notes,
    // system messages, data bytes in the status position) is ignored.
    [[nodiscard]] std::vector<MidiAction> handle(const MidiEvent& event);

    // Canonical TOML: `program_channel = N` when not 0, then one [[midi]]
    // table per mapping with every key, in insertion order. Byte-stable:
    // format_toml(parse_toml(format_toml(m))) == format_toml(m).
    [[nodiscard]] std::string format_toml() const;
    // Accepts what format_toml writes; in a table `cc` and `address` are
    // required, channel (0), min (0.0), max (1.0) and mode ("continuous")
    // optional. Throws FileError naming `origin`, the entry ("midi #2") and
    // the key.
    [[nodiscard]] static MidiMap parse_toml(std::string_view text, const std::filesystem::path& origin);

    // Preset bindings <-> mappings (validated as add() does).
    [[nodiscard]] static MidiMap from_bindings(const std::vector<core::MidiBinding>& bindings);
    [[nodiscard]] std::vector<core::MidiBinding> bindings() const;
    [[nodiscard]] static std::string_view mode_name(MidiMapping::Mode mode) noexcept;
    [[nodiscard]] static std::optional<MidiMapping::Mode> parse_mode(std::string_view name) noexcept;

private:
    struct SwitchState {
        bool pressed = false; // last value was >= 64
        bool on = false;      // toggle output is max
    };

    std::vector<MidiMapping> mappings_;
    std::vector<SwitchState> states_; // parallel to mappings_
    std::optional<MidiMapping> pending_;
    int program_channel_ = 0;
};

} // namespace rigd::control
