#include "control/midi_map.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using rigd::control::ControlError;
using rigd::control::FileError;
using rigd::control::MidiAction;
using rigd::control::MidiEvent;
using rigd::control::MidiMap;
using rigd::control::MidiMapping;
using Mode = rigd::control::MidiMapping::Mode;
using Kind = rigd::control::MidiAction::Kind;

namespace {

// Status bytes for channel 1..16.
MidiEvent cc(int channel, int number, int value) {
    return MidiEvent{.status = static_cast<std::uint8_t>(0xB0 + channel - 1),
                     .data1 = static_cast<std::uint8_t>(number),
                     .data2 = static_cast<std::uint8_t>(value)};
}

MidiEvent program(int channel, int number) {
    return MidiEvent{.status = static_cast<std::uint8_t>(0xC0 + channel - 1),
                     .data1 = static_cast<std::uint8_t>(number),
                     .data2 = 0};
}

MidiMapping mapping(int channel, int number, std::string address, float min, float max, Mode mode) {
    return MidiMapping{.channel = channel, .cc = number, .address = std::move(address), .min = min, .max = max,
                       .mode = mode};
}

// The single set action's value, or NaN when there is not exactly one.
float single_value(const std::vector<MidiAction>& actions) {
    if (actions.size() != 1 || actions[0].kind != Kind::set) {
        return std::numeric_limits<float>::quiet_NaN();
    }
    return actions[0].value;
}

std::string add_error(const MidiMapping& m) {
    MidiMap map;
    try {
        map.add(m);
    } catch (const ControlError& e) {
        return e.what();
    }
    return "no error";
}

std::string parse_error(const std::string& text) {
    try {
        (void)MidiMap::parse_toml(text, "/etc/rigd/midi.toml");
    } catch (const FileError& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

TEST_CASE("continuous: min + (max - min) * value / 127") {
    MidiMap map;
    map.add(mapping(1, 7, "/rig/master/volume", -60.0f, 6.0f, Mode::continuous));
    for (const int v : {0, 1, 63, 64, 100, 127}) {
        CAPTURE(v);
        const auto actions = map.handle(cc(1, 7, v));
        REQUIRE(actions.size() == 1);
        CHECK(actions[0].kind == Kind::set);
        CHECK(actions[0].address == "/rig/master/volume");
        // Reference in double; float rounding of the product is far below 1e-5.
        CHECK(actions[0].value == doctest::Approx(-60.0 + 66.0 * v / 127.0).epsilon(1e-6));
    }
    CHECK(single_value(map.handle(cc(1, 7, 0))) == -60.0f);
    CHECK(single_value(map.handle(cc(1, 7, 127))) == 6.0f);
    // Inverted range (an expression pedal wired backwards).
    map.add(mapping(1, 11, "/rig/stage/pre/gain", 10.0f, 0.0f, Mode::continuous));
    CHECK(single_value(map.handle(cc(1, 11, 0))) == 10.0f);
    CHECK(single_value(map.handle(cc(1, 11, 127))) == 0.0f);
}

TEST_CASE("momentary: >= 64 is max, below is min, on every event") {
    MidiMap map;
    map.add(mapping(0, 80, "/rig/stage/delay/bypass", 1.0f, 0.0f, Mode::momentary));
    CHECK(single_value(map.handle(cc(3, 80, 127))) == 0.0f);
    CHECK(single_value(map.handle(cc(3, 80, 64))) == 0.0f);
    CHECK(single_value(map.handle(cc(3, 80, 63))) == 1.0f);
    CHECK(single_value(map.handle(cc(3, 80, 0))) == 1.0f);
    CHECK(single_value(map.handle(cc(3, 80, 0))) == 1.0f);
}

TEST_CASE("toggle: each rising edge flips, starting from min") {
    MidiMap map;
    map.add(mapping(1, 64, "/rig/stage/gate/bypass", 0.0f, 1.0f, Mode::toggle));
    CHECK(single_value(map.handle(cc(1, 64, 127))) == 1.0f); // first press: max
    CHECK(map.handle(cc(1, 64, 0)).empty());                 // release: nothing
    CHECK(single_value(map.handle(cc(1, 64, 127))) == 0.0f); // second press: back to min
    CHECK(map.handle(cc(1, 64, 100)).empty());               // still held: no edge
    CHECK(map.handle(cc(1, 64, 63)).empty());
    CHECK(single_value(map.handle(cc(1, 64, 64))) == 1.0f);  // 64 counts as pressed
    // State is per mapping: a second toggle on another CC starts from min.
    map.add(mapping(1, 65, "/rig/stage/delay/bypass", 0.0f, 1.0f, Mode::toggle));
    CHECK(single_value(map.handle(cc(1, 65, 127))) == 1.0f);
    CHECK(map.handle(cc(1, 65, 127)).empty());
    // Re-adding a mapping resets its state.
    map.add(mapping(1, 64, "/rig/stage/gate/bypass", 0.0f, 1.0f, Mode::toggle));
    CHECK(map.mappings().size() == 2);
    CHECK(single_value(map.handle(cc(1, 64, 127))) == 1.0f);
}

TEST_CASE("channel filtering: a channel mapping hears only its channel, 0 hears all") {
    MidiMap map;
    map.add(mapping(2, 20, "/rig/stage/pre/gain", 0.0f, 10.0f, Mode::continuous));
    map.add(mapping(0, 21, "/rig/stage/tone/bass", 0.0f, 10.0f, Mode::continuous));
    CHECK(map.handle(cc(1, 20, 127)).empty());
    CHECK(map.handle(cc(16, 20, 127)).empty());
    CHECK(single_value(map.handle(cc(2, 20, 127))) == 10.0f);
    for (int ch = 1; ch <= 16; ++ch) {
        CHECK(single_value(map.handle(cc(ch, 21, 127))) == 10.0f);
    }
    // One switch driving two controls, and the any-channel one firing too.
    map.add(mapping(2, 20, "/rig/stage/tone/treble", 0.0f, 1.0f, Mode::continuous));
    map.add(mapping(0, 20, "/rig/master/volume", 0.0f, 1.0f, Mode::continuous));
    const auto actions = map.handle(cc(2, 20, 127));
    REQUIRE(actions.size() == 3);
    CHECK(actions[0].address == "/rig/stage/pre/gain");
    CHECK(actions[1].address == "/rig/stage/tone/treble");
    CHECK(actions[2].address == "/rig/master/volume");
    CHECK(map.handle(cc(5, 20, 127)).size() == 1);
}

TEST_CASE("remove takes every mapping of that exact channel and cc") {
    MidiMap map;
    map.add(mapping(2, 20, "/rig/stage/pre/gain", 0.0f, 10.0f, Mode::continuous));
    map.add(mapping(2, 20, "/rig/stage/tone/treble", 0.0f, 1.0f, Mode::continuous));
    map.add(mapping(0, 20, "/rig/master/volume", 0.0f, 1.0f, Mode::continuous));
    CHECK(map.remove(2, 20) == 2);
    CHECK(map.remove(2, 20) == 0);
    REQUIRE(map.mappings().size() == 1);
    CHECK(map.mappings()[0].channel == 0);
    CHECK(map.handle(cc(2, 20, 127)).size() == 1);
}

TEST_CASE("program change, with and without a channel filter") {
    MidiMap map;
    auto actions = map.handle(program(10, 5));
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].kind == Kind::program);
    CHECK(actions[0].program == 5);
    CHECK(map.handle(program(1, 127))[0].program == 127);
    CHECK(map.handle(program(1, 0))[0].program == 0);

    map.set_program_channel(3);
    CHECK(map.program_channel() == 3);
    CHECK(map.handle(program(1, 5)).empty());
    actions = map.handle(program(3, 7));
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].program == 7);

    CHECK_THROWS_WITH_AS(map.set_program_channel(17), "midi: key 'program_channel': 17 is outside 0..16 (0 = any)",
                         ControlError);
    CHECK(map.program_channel() == 3);
}

TEST_CASE("learn: the next CC on any channel becomes the mapping") {
    MidiMap map;
    map.add(mapping(1, 7, "/rig/master/volume", 0.0f, 1.0f, Mode::continuous));
    CHECK_FALSE(map.learning());
    map.learn("/rig/stage/delay/bypass", 1.0f, 0.0f, Mode::toggle);
    CHECK(map.learning());
    // Notes, program changes and channel-mode messages do not end learning.
    CHECK(map.handle(MidiEvent{.status = 0x90, .data1 = 60, .data2 = 100}).empty());
    CHECK(map.handle(program(1, 2)).size() == 1);
    CHECK(map.handle(cc(1, 123, 0)).empty()); // all notes off
    CHECK(map.learning());

    // An already mapped CC is learned too (and does not fire while learning).
    auto actions = map.handle(cc(9, 7, 127));
    REQUIRE(actions.size() == 1);
    CHECK(actions[0].kind == Kind::learned);
    const MidiMapping expected = mapping(9, 7, "/rig/stage/delay/bypass", 1.0f, 0.0f, Mode::toggle);
    CHECK(actions[0].mapping == expected);
    CHECK(actions[0].address == "/rig/stage/delay/bypass");
    CHECK_FALSE(map.learning());
    REQUIRE(map.mappings().size() == 2);
    CHECK(map.mappings()[1] == expected);

    // From now on it works, and only on the learned channel.
    CHECK(map.handle(cc(9, 7, 0)).empty());                    // release: no toggle edge
    actions = map.handle(cc(9, 7, 127));                       // press: toggle -> max (0.0)
    REQUIRE(actions.size() == 1);                              // channel-1 volume does not hear ch 9
    CHECK(actions[0].address == "/rig/stage/delay/bypass");
    CHECK(actions[0].value == 0.0f);

    map.learn("/rig/master/volume", 0.0f, 1.0f, Mode::continuous);
    map.cancel_learn();
    CHECK_FALSE(map.learning());
    CHECK(map.handle(cc(4, 50, 10)).empty());
    CHECK_THROWS_WITH_AS(map.learn("/osc/volume", 0.0f, 1.0f, Mode::continuous),
                         "midi mapping: key 'address': '/osc/volume' must start with /rig/", ControlError);
    CHECK_FALSE(map.learning());
}

TEST_CASE("notes, system messages and running-status garbage are ignored") {
    MidiMap map;
    map.add(mapping(0, 1, "/rig/stage/pre/gain", 0.0f, 10.0f, Mode::continuous));
    const MidiEvent ignored[] = {
        {.status = 0x90, .data1 = 1, .data2 = 100}, // note on
        {.status = 0x80, .data1 = 1, .data2 = 0},   // note off
        {.status = 0xA0, .data1 = 1, .data2 = 50},  // poly aftertouch
        {.status = 0xD0, .data1 = 1, .data2 = 0},   // channel pressure
        {.status = 0xE0, .data1 = 1, .data2 = 64},  // pitch bend
        {.status = 0xF8, .data1 = 0, .data2 = 0},   // clock
        {.status = 0xF0, .data1 = 1, .data2 = 2},   // sysex start
        {.status = 0xFF, .data1 = 1, .data2 = 1},   // reset
        {.status = 0x01, .data1 = 100, .data2 = 0}, // a data byte where the status should be
        {.status = 0x7F, .data1 = 1, .data2 = 1},
        {.status = 0xB0, .data1 = 0x81, .data2 = 1}, // 8-bit data bytes
        {.status = 0xB0, .data1 = 1, .data2 = 0xFF},
        {.status = 0xC0, .data1 = 0x80, .data2 = 0},
    };
    for (const auto& e : ignored) {
        CAPTURE(int(e.status));
        CHECK(map.handle(e).empty());
    }
    CHECK(map.handle(cc(1, 1, 127)).size() == 1);
}

TEST_CASE("add validates and names the key") {
    CHECK(add_error(mapping(17, 1, "/rig/master/volume", 0, 1, Mode::continuous)) ==
          "midi mapping: key 'channel': 17 is outside 0..16 (0 = any)");
    CHECK(add_error(mapping(-1, 1, "/rig/master/volume", 0, 1, Mode::continuous)) ==
          "midi mapping: key 'channel': -1 is outside 0..16 (0 = any)");
    CHECK(add_error(mapping(1, 128, "/rig/master/volume", 0, 1, Mode::continuous)) ==
          "midi mapping: key 'cc': 128 is outside 0..127");
    CHECK(add_error(mapping(1, -3, "/rig/master/volume", 0, 1, Mode::continuous)) ==
          "midi mapping: key 'cc': -3 is outside 0..127");
    CHECK(add_error(mapping(1, 1, "/master/volume", 0, 1, Mode::continuous)) ==
          "midi mapping: key 'address': '/master/volume' must start with /rig/");
    CHECK(add_error(mapping(1, 1, "/rig/", 0, 1, Mode::continuous)) ==
          "midi mapping: key 'address': '/rig/' must start with /rig/");
    CHECK(add_error(mapping(1, 1, "/rig/stage/*/bypass", 0, 1, Mode::continuous)) ==
          "midi mapping: key 'address': '/rig/stage/*/bypass' contains a character not allowed in an OSC address");
    CHECK(add_error(mapping(1, 1, "/rig/master volume", 0, 1, Mode::continuous)) ==
          "midi mapping: key 'address': '/rig/master volume' contains a character not allowed in an OSC address");
    CHECK(add_error(mapping(1, 1, "/rig/master/volume", std::nanf(""), 1, Mode::continuous)) ==
          "midi mapping: key 'min': not a finite number");
    CHECK(add_error(mapping(1, 1, "/rig/master/volume", 0, std::numeric_limits<float>::infinity(),
                            Mode::continuous)) == "midi mapping: key 'max': not a finite number");
    CHECK(add_error(mapping(16, 127, "/rig/master/volume", 0, 1, Mode::toggle)) == "no error");
}

TEST_CASE("TOML round trip is byte-stable") {
    MidiMap map;
    map.set_program_channel(16);
    map.add(mapping(0, 7, "/rig/master/volume", -60.0f, 6.0f, Mode::continuous));
    map.add(mapping(1, 64, "/rig/stage/gate/bypass", 0.0f, 1.0f, Mode::toggle));
    map.add(mapping(16, 127, "/rig/stage/pre/gain", 0.1f, 7.25f, Mode::momentary));
    map.add(mapping(3, 0, "/rig/stage/say\"hi\"/x", 1e-7f, -3.5e8f, Mode::continuous));
    const std::string text = map.format_toml();
    CHECK(text == "program_channel = 16\n"
                  "\n"
                  "[[midi]]\nchannel = 0\ncc = 7\naddress = \"/rig/master/volume\"\nmin = -60.0\nmax = 6.0\n"
                  "mode = \"continuous\"\n"
                  "\n"
                  "[[midi]]\nchannel = 1\ncc = 64\naddress = \"/rig/stage/gate/bypass\"\nmin = 0.0\nmax = 1.0\n"
                  "mode = \"toggle\"\n"
                  "\n"
                  "[[midi]]\nchannel = 16\ncc = 127\naddress = \"/rig/stage/pre/gain\"\nmin = 0.1\nmax = 7.25\n"
                  "mode = \"momentary\"\n"
                  "\n"
                  "[[midi]]\nchannel = 3\ncc = 0\naddress = \"/rig/stage/say\\\"hi\\\"/x\"\nmin = 1e-07\n"
                  "max = -3.5e+08\nmode = \"continuous\"\n");
    const MidiMap parsed = MidiMap::parse_toml(text, "midi.toml");
    CHECK(parsed.mappings() == map.mappings());
    CHECK(parsed.program_channel() == 16);
    CHECK(parsed.format_toml() == text);
    CHECK(MidiMap::parse_toml(parsed.format_toml(), "midi.toml").format_toml() == text);

    CHECK(MidiMap().format_toml().empty());
    CHECK(MidiMap::parse_toml("", "midi.toml").mappings().empty());
}

TEST_CASE("TOML defaults and integer numbers") {
    const MidiMap map = MidiMap::parse_toml("[[midi]]\ncc = 11\naddress = \"/rig/master/volume\"\n"
                                            "[[midi]]\ncc = 12\naddress = \"/rig/master/mute\"\nmin = 0\nmax = 1\n"
                                            "mode = \"toggle\"\nchannel = 2\n",
                                            "midi.toml");
    REQUIRE(map.mappings().size() == 2);
    CHECK(map.mappings()[0] == mapping(0, 11, "/rig/master/volume", 0.0f, 1.0f, Mode::continuous));
    CHECK(map.mappings()[1] == mapping(2, 12, "/rig/master/mute", 0.0f, 1.0f, Mode::toggle));
    CHECK(map.program_channel() == 0);
}

TEST_CASE("bad TOML names the file, the entry and the key") {
    const std::string ok_tail = "address = \"/rig/master/volume\"\n";
    CHECK(parse_error("[[midi]]\nchannel = 17\ncc = 1\n" + ok_tail) ==
          "/etc/rigd/midi.toml: midi #1: key 'channel': 17 is outside 0..16 (0 = any)");
    CHECK(parse_error("[[midi]]\ncc = 1\n" + ok_tail + "[[midi]]\ncc = 200\n" + ok_tail) ==
          "/etc/rigd/midi.toml: midi #2: key 'cc': 200 is outside 0..127");
    CHECK(parse_error("[[midi]]\ncc = 1.5\n" + ok_tail) ==
          "/etc/rigd/midi.toml: midi #1: key 'cc': expected a whole number in 0..127");
    CHECK(parse_error("[[midi]]\ncc = 1\naddress = \"/volume\"\n") ==
          "/etc/rigd/midi.toml: midi #1: key 'address': '/volume' must start with /rig/");
    CHECK(parse_error("[[midi]]\ncc = 1\naddress = 5\n") ==
          "/etc/rigd/midi.toml: midi #1: key 'address': expected a string");
    CHECK(parse_error("[[midi]]\ncc = 1\n") == "/etc/rigd/midi.toml: midi #1: key 'address': missing");
    CHECK(parse_error("[[midi]]\n" + ok_tail) == "/etc/rigd/midi.toml: midi #1: key 'cc': missing");
    CHECK(parse_error("[[midi]]\ncc = 1\nmode = \"latch\"\n" + ok_tail) ==
          "/etc/rigd/midi.toml: midi #1: key 'mode': expected \"continuous\", \"toggle\" or \"momentary\"");
    CHECK(parse_error("[[midi]]\ncc = 1\nmin = \"low\"\n" + ok_tail) ==
          "/etc/rigd/midi.toml: midi #1: key 'min': expected a finite number");
    CHECK(parse_error("[[midi]]\ncc = 1\nmax = inf\n" + ok_tail) ==
          "/etc/rigd/midi.toml: midi #1: key 'max': expected a finite number");
    CHECK(parse_error("[[midi]]\ncc = 1\nmax = 1e39\n" + ok_tail) ==
          "/etc/rigd/midi.toml: midi #1: key 'max': expected a finite number");
    CHECK(parse_error("[[midi]]\ncc = 1\nlabel = \"x\"\n" + ok_tail) ==
          "/etc/rigd/midi.toml: midi #1: key 'label': unknown (known: channel, cc, address, min, max, mode)");
    CHECK(parse_error("[[midi]]\ncc = 1\n" + ok_tail + "[[midi]]\ncc = 1\n" + ok_tail) ==
          "/etc/rigd/midi.toml: midi #2: same channel, cc and address as midi #1");
    CHECK(parse_error("midi = 3\n") == "/etc/rigd/midi.toml: key 'midi': expected [[midi]] tables");
    CHECK(parse_error("midi = [1]\n") == "/etc/rigd/midi.toml: midi #1: expected a table");
    CHECK(parse_error("program_channel = 0.5\n") ==
          "/etc/rigd/midi.toml: key 'program_channel': expected a whole number in 0..16 (0 = any)");
    CHECK(parse_error("volume = 3\n") == "/etc/rigd/midi.toml: key 'volume': unknown (known: program_channel, midi)");
    CHECK(parse_error("[[midi]\ncc = 1\n").rfind("/etc/rigd/midi.toml: line 1, column ", 0) == 0);
}
