// rigd import-preset: one case per stage mapping of the reference amp
// simulator's preset JSON, its input filters, order, pitch shift and IR, the
// notes for settings with no equivalent, the errors, and the hand-written
// fixtures in fixtures/import/ (each must come out as a preset that loads).
#include "control/preset_file.hpp"
#include "core/stage_factory.hpp"
#include "daemon/import_preset.hpp"

#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

using rigd::core::StageConfig;
using rigd::daemon::import_reference_preset;
using rigd::daemon::ImportedPreset;
using rigd::daemon::ImportError;

namespace {

// A preset holding the given stages (JSON array elements), no input
// filters and no IR unless `extra` adds fields.
ImportedPreset import_stages(const std::string& stages, const std::string& extra = "") {
    const std::string json = R"({"name": "t", "stages": [)" + stages +
                             R"(], "input_filters": {"hp_enabled": false, "hp_cutoff": 100, "lp_enabled": false, "lp_cutoff": 8000})" +
                             extra + "}";
    return import_reference_preset(json, "t.json");
}

const StageConfig& stage(const ImportedPreset& p, const std::string& id) {
    const auto it = std::find_if(p.preset.stages.begin(), p.preset.stages.end(), [&](const auto& s) { return s.id == id; });
    REQUIRE_MESSAGE(it != p.preset.stages.end(), "no stage " << id);
    return *it;
}

float value(const StageConfig& s, const std::string& name) {
    for (const auto& [n, v] : s.params) {
        if (n == name) {
            return v;
        }
    }
    FAIL("stage " << s.id << " has no " << name);
    return 0.0f;
}

std::vector<std::string> ids(const ImportedPreset& p) {
    std::vector<std::string> out;
    for (const auto& s : p.preset.stages) {
        out.push_back(s.id);
    }
    return out;
}

bool has_note(const ImportedPreset& p, const std::string& text) {
    return std::any_of(p.notes.begin(), p.notes.end(), [&](const auto& n) { return n.find(text) != std::string::npos; });
}

float db(double linear) { return static_cast<float>(20.0 * std::log10(linear)); }

} // namespace

TEST_CASE("import: Preamp -> pre, every clipper") {
    const char* names[] = {"Soft", "Medium", "Hard", "Asymmetric", "ClassA", "Triode"};
    for (int i = 0; i < 6; ++i) {
        CAPTURE(names[i]);
        const auto p = import_stages(std::string(R"({"Preamp": {"gain": 6.5, "bias": -0.3, "clipper_type": ")") +
                                     names[i] + "\"}}");
        const auto& s = stage(p, "pre");
        CHECK(s.type == "pre");
        CHECK(value(s, "gain") == 6.5f);
        CHECK(value(s, "bias") == -0.3f);
        CHECK(value(s, "clipper") == static_cast<float>(i));
        CHECK(p.notes.empty());
    }
    CHECK_THROWS_WITH_AS(import_stages(R"({"Preamp": {"gain": 6.5, "bias": 0, "clipper_type": "Fuzz"}})"),
                         "t.json: stages[0] (Preamp): 'clipper_type' is 'Fuzz', not one of Soft, Medium, Hard, "
                         "Asymmetric, ClassA, Triode",
                         ImportError);
}

TEST_CASE("import: Compressor -> comp with a hard knee") {
    const auto p = import_stages(
        R"({"Compressor": {"threshold_db": -18, "ratio": 5, "attack_ms": 3, "release_ms": 150, "makeup_db": 4}})");
    const auto& s = stage(p, "comp");
    CHECK(value(s, "threshold_db") == -18.0f);
    CHECK(value(s, "ratio") == 5.0f);
    CHECK(value(s, "attack_ms") == 3.0f);
    CHECK(value(s, "release_ms") == 150.0f);
    CHECK(value(s, "makeup_db") == 4.0f);
    CHECK(value(s, "knee_db") == 0.0f);
}

TEST_CASE("import: ToneStack -> tone, every model; out-of-range bands clamped with a note") {
    const char* models[] = {"Modern", "British", "American", "Flat"};
    for (int i = 0; i < 4; ++i) {
        const auto p = import_stages(std::string(R"({"ToneStack": {"model": ")") + models[i] +
                                     R"(", "bass": 0.5, "mid": 1.5, "treble": 2.0, "presence": 0.0}})");
        const auto& s = stage(p, "tone");
        CHECK(value(s, "model") == static_cast<float>(i));
        CHECK(value(s, "bass") == 0.5f);
        CHECK(value(s, "mid") == 1.5f);
        CHECK(value(s, "treble") == 2.0f);
        CHECK(value(s, "presence") == 0.0f);
    }
    const auto p = import_stages(R"({"ToneStack": {"model": "Flat", "bass": 3, "mid": 1, "treble": 1, "presence": 1}})");
    CHECK(value(stage(p, "tone"), "bass") == 2.0f);
    CHECK(has_note(p, "stages[0] (ToneStack): 'bass' 3 is outside our 0..2: set to 2"));
}

TEST_CASE("import: PowerAmp -> power, every class; older files without fields take the defaults") {
    const char* classes[] = {"ClassA", "ClassAB", "ClassB"};
    for (int i = 0; i < 3; ++i) {
        const auto p = import_stages(std::string(R"({"PowerAmp": {"drive": 0.8, "amp_type": ")") + classes[i] +
                                     R"(", "sag": 0.6, "sag_release": 60}})");
        const auto& s = stage(p, "power");
        CHECK(value(s, "drive") == 0.8f);
        CHECK(value(s, "class") == static_cast<float>(i));
        CHECK(value(s, "sag") == 0.6f);
        CHECK(value(s, "sag_release_ms") == 60.0f);
    }
    const auto p = import_stages(R"({"PowerAmp": {}})");
    const auto& s = stage(p, "power");
    CHECK(value(s, "drive") == 0.5f);
    CHECK(value(s, "class") == 1.0f);
    CHECK(value(s, "sag") == 0.3f);
    CHECK(value(s, "sag_release_ms") == 120.0f);
}

TEST_CASE("import: Level (linear) -> level in dB; 0 becomes -60 dB with a note") {
    auto p = import_stages(R"({"Level": {"gain": 0.5}})");
    CHECK(value(stage(p, "level"), "gain_db") == doctest::Approx(db(0.5)).epsilon(1e-6));
    p = import_stages(R"({"Level": {"gain": 2.0}})");
    CHECK(value(stage(p, "level"), "gain_db") == doctest::Approx(6.0206).epsilon(1e-4));
    p = import_stages(R"({"Level": {"gain": 0}})");
    CHECK(value(stage(p, "level"), "gain_db") == -60.0f);
    CHECK(has_note(p, "'gain' 0 is below our -60 dB"));
}

TEST_CASE("import: NoiseGate -> gate") {
    const auto p = import_stages(
        R"({"NoiseGate": {"threshold_db": -50, "ratio": 30, "attack_ms": 0.5, "hold_ms": 40, "release_ms": 200}})");
    const auto& s = stage(p, "gate");
    CHECK(value(s, "threshold_db") == -50.0f);
    CHECK(value(s, "ratio") == 30.0f);
    CHECK(value(s, "attack_ms") == 0.5f);
    CHECK(value(s, "hold_ms") == 40.0f);
    CHECK(value(s, "release_ms") == 200.0f);
}

TEST_CASE("import: MultibandSaturator -> sat") {
    const auto p = import_stages(R"({"MultibandSaturator": {"low_drive": 0.1, "mid_drive": 0.5, "high_drive": 0.9,
        "low_level": 1.2, "mid_level": 0.7, "high_level": 1.9, "low_freq": 150, "high_freq": 4000}})");
    const auto& s = stage(p, "sat");
    CHECK(value(s, "low_drive") == 0.1f);
    CHECK(value(s, "mid_drive") == 0.5f);
    CHECK(value(s, "high_drive") == 0.9f);
    CHECK(value(s, "low_level") == 1.2f);
    CHECK(value(s, "mid_level") == 0.7f);
    CHECK(value(s, "high_level") == 1.9f);
    CHECK(value(s, "low_hz") == 150.0f);
    CHECK(value(s, "high_hz") == 4000.0f);
}

TEST_CASE("import: Nam -> nam with the model file; no model is left out with a note") {
    auto p = import_stages(
        R"({"Nam": {"model_name": "plexi", "input_gain_db": -3, "output_gain_db": 6, "mix": 0.8}})");
    const auto& s = stage(p, "nam");
    REQUIRE(s.texts.size() == 1);
    CHECK(s.texts[0] == std::pair<std::string, std::string>{"model", "plexi.nam"});
    CHECK(value(s, "input_gain_db") == -3.0f);
    CHECK(value(s, "output_gain_db") == 6.0f);
    CHECK(value(s, "mix") == 0.8f);
    p = import_stages(R"({"Nam": {"model_name": null, "input_gain_db": 0, "output_gain_db": 0, "mix": 1}})");
    CHECK(p.preset.stages.empty());
    CHECK(has_note(p, "stages[0] (Nam): no model_name"));
}

TEST_CASE("import: Delay, Reverb, Tremolo -> delay, reverb, trem") {
    const auto p = import_stages(R"({"Delay": {"delay_ms": 350, "feedback": 0.99, "mix": 0.3}},
        {"Reverb": {"room_size": 0.7, "damping": 0.2, "mix": 0.25}},
        {"Tremolo": {"rate_hz": 6, "depth": 0.7, "shape": 1}})");
    CHECK(value(stage(p, "delay"), "time_ms") == 350.0f);
    CHECK(value(stage(p, "delay"), "feedback") == 0.95f);
    CHECK(has_note(p, "'feedback' 0.99 is outside our 0..0.95"));
    CHECK(value(stage(p, "delay"), "mix") == 0.3f);
    CHECK(value(stage(p, "reverb"), "room") == 0.7f);
    CHECK(value(stage(p, "reverb"), "damping") == 0.2f);
    CHECK(value(stage(p, "reverb"), "mix") == 0.25f);
    CHECK(value(stage(p, "trem"), "rate_hz") == 6.0f);
    CHECK(value(stage(p, "trem"), "depth") == 0.7f);
    CHECK(value(stage(p, "trem"), "shape") == 1.0f);
}

TEST_CASE("import: Eq gains[16] -> eq band_0..band_15; a wrong count is an error") {
    const auto p = import_stages(
        R"({"Eq": {"gains": [1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, -5, -6, -7, -8]}})");
    const auto& s = stage(p, "eq");
    for (int b = 0; b < 16; ++b) {
        CHECK(value(s, "band_" + std::to_string(b)) == static_cast<float>(b < 8 ? b + 1 : 7 - b));
    }
    CHECK_THROWS_WITH_AS(import_stages(R"({"Eq": {"gains": [1, 2]}})"),
                         "t.json: stages[0] (Eq): 'gains' must be an array of 16 numbers (dB)", ImportError);
}

TEST_CASE("import: input filters become first-order filters first; defaults when missing") {
    auto p = import_reference_preset(R"({"name": "n", "stages": []})", "d.json");
    REQUIRE(ids(p) == std::vector<std::string>{"hpf", "lpf"});
    CHECK(value(stage(p, "hpf"), "mode") == 0.0f);
    CHECK(value(stage(p, "hpf"), "cutoff_hz") == 100.0f);
    CHECK(value(stage(p, "hpf"), "order") == 1.0f);
    CHECK(value(stage(p, "lpf"), "mode") == 1.0f);
    CHECK(value(stage(p, "lpf"), "cutoff_hz") == 8000.0f);
    p = import_reference_preset(R"({"name": "n", "stages": [], "input_filters":
        {"hp_enabled": true, "hp_cutoff": 10, "lp_enabled": false, "lp_cutoff": 5000}})", "d.json");
    REQUIRE(ids(p) == std::vector<std::string>{"hpf"});
    CHECK(value(stage(p, "hpf"), "cutoff_hz") == 20.0f);
    CHECK(has_note(p, "'cutoff' 10 is outside our 20..20000"));
}

TEST_CASE("import: older Filter stages migrate into the input filters, duplicates dropped") {
    const auto p = import_reference_preset(R"({"name": "n", "stages": [
        {"Filter": {"filter_type": "Lowpass", "cutoff_hz": 6000}},
        {"Level": {"gain": 1}},
        {"Filter": {"filter_type": "Lowpass", "cutoff_hz": 3000}}]})", "o.json");
    CHECK(ids(p) == std::vector<std::string>{"lpf", "level"}); // no high-pass: the file had none
    CHECK(value(stage(p, "lpf"), "cutoff_hz") == 6000.0f);
    CHECK(has_note(p, "stages[2] (Filter): a second low-pass Filter: dropped"));
}

TEST_CASE("import: amp kinds first, then effects, each in file order; bypass kept; ids numbered") {
    const auto p = import_stages(R"({"Reverb": {"room_size": 0.5, "damping": 0.5, "mix": 0.2}},
        {"Preamp": {"gain": 5, "bias": 0, "clipper_type": "Soft"}},
        {"Delay": {"delay_ms": 300, "feedback": 0.3, "mix": 0.5, "bypassed": true}},
        {"Level": {"gain": 1}},
        {"Preamp": {"gain": 2, "bias": 0, "clipper_type": "Hard"}}, {"Tremolo": {"rate_hz": 5, "depth": 0.5, "shape": 0}})");
    CHECK(ids(p) == std::vector<std::string>{"pre", "level", "pre2", "reverb", "delay", "trem"});
    CHECK(value(stage(p, "pre2"), "gain") == 2.0f);
    CHECK(stage(p, "delay").bypass);
    CHECK(!stage(p, "reverb").bypass);
    CHECK(p.preset.oversample == 4); // nonlinear stages: oversampled like the reference's chain
}

TEST_CASE("import: pitch shift after the chain, the IR last with ir_gain in dB, unnormalised") {
    auto p = import_stages(R"({"Level": {"gain": 1}})", R"(, "pitch_shift_semitones": -5, "ir_name": "a/b.wav", "ir_gain": 0.3)");
    CHECK(ids(p) == std::vector<std::string>{"level", "pitch", "cab"});
    CHECK(value(stage(p, "pitch"), "semitones") == -5.0f);
    const auto& cab = stage(p, "cab");
    CHECK(cab.texts[0] == std::pair<std::string, std::string>{"ir", "a/b.wav"});
    CHECK(value(cab, "gain_db") == doctest::Approx(db(0.3)).epsilon(1e-6));
    CHECK(value(cab, "normalize") == 0.0f);
    CHECK(p.preset.oversample == 1);
    p = import_stages("", R"(, "ir_name": "c.wav")");
    CHECK(value(stage(p, "cab"), "gain_db") == doctest::Approx(-20.0f)); // default ir_gain 0.1
    p = import_stages("", R"(, "pitch_shift_semitones": 14)");
    CHECK(value(stage(p, "pitch"), "semitones") == 12.0f);
    CHECK(has_note(p, "'pitch_shift_semitones' 14 is outside our -12..12"));
    CHECK_THROWS_WITH_AS(import_stages("", R"(, "pitch_shift_semitones": 1.5)"),
                         "t.json: preset: 'pitch_shift_semitones' must be a whole number, not 1.5", ImportError);
}

TEST_CASE("import: unknown fields are noted, bad files refused naming the place") {
    auto p = import_stages(R"({"Level": {"gain": 1, "pan": 0.2}})", R"(, "theme": "dark")");
    CHECK(has_note(p, "stages[0] (Level): 'pan' has no equivalent: ignored"));
    CHECK(has_note(p, "preset: 'theme' has no equivalent: ignored"));
    CHECK_THROWS_WITH_AS(import_stages(R"({"Chorus": {"rate": 1}})"), "t.json: stages[0]: unknown stage kind 'Chorus'",
                         ImportError);
    CHECK_THROWS_WITH_AS(import_stages(R"({"Compressor": {"threshold_db": -18}})"),
                         "t.json: stages[0] (Compressor): 'ratio' is missing", ImportError);
    CHECK_THROWS_WITH_AS(import_stages(R"({"Level": {"gain": "loud"}})"),
                         "t.json: stages[0] (Level): 'gain' must be a number, not \"loud\"", ImportError);
    CHECK_THROWS_WITH_AS((void)import_reference_preset(R"({"stages": []})", "x.json"),
                         "x.json: preset: 'name' is missing", ImportError);
    CHECK_THROWS_AS((void)import_reference_preset("{not json", "x.json"), ImportError);
    CHECK_THROWS_WITH_AS((void)import_reference_preset("[]", "x.json"), "x.json: a preset is one JSON object",
                         ImportError);
}

TEST_CASE("import: the fixtures come out as presets that load") {
    const auto& factory = rigd::core::StageFactory::builtin();
    for (const char* name : {"crunch_plexi", "drop_d_metal", "legacy_ambient"}) {
        CAPTURE(name);
        const auto path = rigd::test::source_dir() / "fixtures" / "import" / (std::string(name) + ".json");
        std::ifstream in(path);
        REQUIRE(in);
        std::ostringstream text;
        text << in.rdbuf();
        const auto imported = import_reference_preset(text.str(), path.string());
        const std::string toml = rigd::control::format_preset(imported.preset, factory);
        const auto loaded = rigd::control::parse_preset(toml, "out.toml", factory);
        REQUIRE(loaded.stages.size() == imported.preset.stages.size());
        for (std::size_t i = 0; i < loaded.stages.size(); ++i) {
            auto a = loaded.stages[i];
            auto b = imported.preset.stages[i];
            std::sort(a.params.begin(), a.params.end());
            std::sort(b.params.begin(), b.params.end());
            CHECK(a.id == b.id);
            CHECK(a.type == b.type);
            CHECK(a.bypass == b.bypass);
            CHECK(a.params == b.params);
            CHECK(a.texts == b.texts);
        }
    }
}
