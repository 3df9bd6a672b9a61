#include "daemon/import_preset.hpp"

#include "control/errors.hpp"
#include "control/preset_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace rigd::daemon {

namespace {

using Json = nlohmann::json;

std::string number_text(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

// Reads one JSON object (a stage's fields or the preset itself), remembers
// which keys were used so the rest can be reported, and names the place in
// every error and note.
class Fields {
public:
    Fields(const Json& object, std::string where, std::string_view origin, std::vector<std::string>& notes)
        : object_(object), where_(std::move(where)), origin_(origin), notes_(notes) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw ImportError(std::string(origin_) + ": " + where_ + ": " + what);
    }
    void note(const std::string& what) const { notes_.push_back(where_ + ": " + what); }

    [[nodiscard]] const Json* find(const std::string& key) {
        used_.insert(key);
        const auto it = object_.find(key);
        return it == object_.end() || it->is_null() ? nullptr : &*it;
    }

    [[nodiscard]] double number(const std::string& key, std::optional<double> fallback = std::nullopt) {
        const Json* v = find(key);
        if (v == nullptr) {
            if (fallback) {
                return *fallback;
            }
            fail("'" + key + "' is missing");
        }
        if (!v->is_number()) {
            fail("'" + key + "' must be a number, not " + v->dump());
        }
        const double d = v->get<double>();
        if (!std::isfinite(d)) {
            fail("'" + key + "' must be finite");
        }
        return d;
    }

    [[nodiscard]] std::optional<std::string> text(const std::string& key, bool required) {
        const Json* v = find(key);
        if (v == nullptr) {
            if (required) {
                fail("'" + key + "' is missing");
            }
            return std::nullopt;
        }
        if (!v->is_string()) {
            fail("'" + key + "' must be a string, not " + v->dump());
        }
        return v->get<std::string>();
    }

    [[nodiscard]] bool flag(const std::string& key, bool fallback) {
        const Json* v = find(key);
        if (v == nullptr) {
            return fallback;
        }
        if (!v->is_boolean()) {
            fail("'" + key + "' must be true or false, not " + v->dump());
        }
        return v->get<bool>();
    }

    // The value clamped to our range, with a note when that changed it.
    [[nodiscard]] float fit(const std::string& key, double value, double lo, double hi) const {
        const double c = std::clamp(value, lo, hi);
        if (c != value) {
            note("'" + key + "' " + number_text(value) + " is outside our " + number_text(lo) + ".." +
                 number_text(hi) + ": set to " + number_text(c));
        }
        return static_cast<float>(c);
    }

    // One of `names` (the reference's spelling) as the index of our choice.
    [[nodiscard]] float choice(const std::string& key, std::initializer_list<std::string_view> names,
                               std::string_view fallback) {
        const std::string v = text(key, fallback.empty()).value_or(std::string(fallback));
        std::size_t i = 0;
        for (const auto n : names) {
            if (n == v) {
                return static_cast<float>(i);
            }
            ++i;
        }
        std::string all;
        for (const auto n : names) {
            all += (all.empty() ? "" : ", ") + std::string(n);
        }
        fail("'" + key + "' is '" + v + "', not one of " + all);
    }

    void report_unused() const {
        for (const auto& [key, value] : object_.items()) {
            if (!used_.contains(key)) {
                note("'" + key + "' has no equivalent: ignored");
            }
        }
    }

private:
    const Json& object_;
    std::string where_;
    std::string_view origin_;
    std::vector<std::string>& notes_;
    std::set<std::string> used_;
};

struct Chain {
    std::vector<core::StageConfig> stages;
    std::map<std::string, int> count;

    core::StageConfig& add(const std::string& type, bool bypass) {
        const int n = ++count[type];
        core::StageConfig s;
        s.id = n == 1 ? type : type + std::to_string(n);
        s.type = type;
        s.bypass = bypass;
        stages.push_back(std::move(s));
        return stages.back();
    }
};


// One of the reference's stages, mapped onto ours.
void map_stage(const std::string& kind, Fields& f, bool bypass, Chain& chain) {
    auto set = [](core::StageConfig& s, const char* name, float v) { s.params.emplace_back(name, v); };
    if (kind == "Preamp") {
        auto& s = chain.add("pre", bypass);
        set(s, "gain", f.fit("gain", f.number("gain"), 0, 10));
        set(s, "bias", f.fit("bias", f.number("bias"), -1, 1));
        set(s, "clipper", f.choice("clipper_type", {"Soft", "Medium", "Hard", "Asymmetric", "ClassA", "Triode"}, ""));
    } else if (kind == "Compressor") {
        auto& s = chain.add("comp", bypass);
        set(s, "threshold_db", f.fit("threshold_db", f.number("threshold_db"), -60, 0));
        set(s, "ratio", f.fit("ratio", f.number("ratio"), 1, 20));
        set(s, "attack_ms", f.fit("attack_ms", f.number("attack_ms"), 0.1, 100));
        set(s, "release_ms", f.fit("release_ms", f.number("release_ms"), 10, 1000));
        set(s, "makeup_db", f.fit("makeup_db", f.number("makeup_db"), -12, 24));
        set(s, "knee_db", 0.0f); // the reference's knee is hard
    } else if (kind == "ToneStack") {
        auto& s = chain.add("tone", bypass);
        set(s, "model", f.choice("model", {"Modern", "British", "American", "Flat"}, ""));
        for (const char* band : {"bass", "mid", "treble", "presence"}) {
            set(s, band, f.fit(band, f.number(band), 0, 2));
        }
    } else if (kind == "PowerAmp") {
        // Every field optional (older files lack sag_release).
        auto& s = chain.add("power", bypass);
        set(s, "drive", f.fit("drive", f.number("drive", 0.5), 0, 1));
        set(s, "class", f.choice("amp_type", {"ClassA", "ClassAB", "ClassB"}, "ClassAB"));
        set(s, "sag", f.fit("sag", f.number("sag", 0.3), 0, 1));
        set(s, "sag_release_ms", f.fit("sag_release", f.number("sag_release", 120.0), 40, 200));
    } else if (kind == "Level") {
        auto& s = chain.add("level", bypass);
        const double gain = f.number("gain");
        if (gain <= 0.001) {
            f.note("'gain' " + number_text(gain) + " is below our -60 dB: set to -60 dB");
            set(s, "gain_db", -60.0f);
        } else {
            set(s, "gain_db", f.fit("gain (in dB)", 20.0 * std::log10(gain), -60, 24));
        }
    } else if (kind == "NoiseGate") {
        auto& s = chain.add("gate", bypass);
        set(s, "threshold_db", f.fit("threshold_db", f.number("threshold_db"), -80, 0));
        set(s, "ratio", f.fit("ratio", f.number("ratio"), 1, 100));
        set(s, "attack_ms", f.fit("attack_ms", f.number("attack_ms"), 0.1, 100));
        set(s, "hold_ms", f.fit("hold_ms", f.number("hold_ms"), 0, 500));
        set(s, "release_ms", f.fit("release_ms", f.number("release_ms"), 1, 1000));
    } else if (kind == "MultibandSaturator") {
        auto& s = chain.add("sat", bypass);
        set(s, "low_hz", f.fit("low_freq", f.number("low_freq"), 50, 500));
        set(s, "high_hz", f.fit("high_freq", f.number("high_freq"), 1000, 6000));
        for (const char* band : {"low", "mid", "high"}) {
            const std::string drive = std::string(band) + "_drive";
            const std::string level = std::string(band) + "_level";
            s.params.emplace_back(drive, f.fit(drive, f.number(drive), 0, 1));
            s.params.emplace_back(level, f.fit(level, f.number(level), 0, 2));
        }
    } else if (kind == "Nam") {
        const auto model = f.text("model_name", false);
        const float in_db = f.fit("input_gain_db", f.number("input_gain_db"), -24, 24);
        const float out_db = f.fit("output_gain_db", f.number("output_gain_db"), -24, 24);
        const float mix = f.fit("mix", f.number("mix"), 0, 1);
        if (!model) {
            f.note("no model_name: the reference passes the signal through, so the stage is left out");
            return;
        }
        auto& s = chain.add("nam", bypass);
        s.texts.emplace_back("model", *model + ".nam");
        set(s, "input_gain_db", in_db);
        set(s, "output_gain_db", out_db);
        set(s, "mix", mix);
    } else if (kind == "Delay") {
        auto& s = chain.add("delay", bypass);
        set(s, "time_ms", f.fit("delay_ms", f.number("delay_ms"), 0, 2000));
        set(s, "feedback", f.fit("feedback", f.number("feedback"), 0, 0.95));
        set(s, "mix", f.fit("mix", f.number("mix"), 0, 1));
    } else if (kind == "Reverb") {
        auto& s = chain.add("reverb", bypass);
        set(s, "room", f.fit("room_size", f.number("room_size"), 0, 1));
        set(s, "damping", f.fit("damping", f.number("damping"), 0, 1));
        set(s, "mix", f.fit("mix", f.number("mix"), 0, 1));
    } else if (kind == "Eq") {
        const Json* gains = f.find("gains");
        if (gains == nullptr) {
            f.fail("'gains' is missing");
        }
        if (!gains->is_array() || gains->size() != 16) {
            f.fail("'gains' must be an array of 16 numbers (dB)");
        }
        auto& s = chain.add("eq", bypass);
        for (std::size_t b = 0; b < 16; ++b) {
            const Json& g = (*gains)[b];
            if (!g.is_number() || !std::isfinite(g.get<double>())) {
                f.fail("'gains[" + std::to_string(b) + "]' must be a number (dB)");
            }
            const std::string key = "band_" + std::to_string(b);
            s.params.emplace_back(key, f.fit("gains[" + std::to_string(b) + "]", g.get<double>(), -12, 12));
        }
    } else if (kind == "Tremolo") {
        auto& s = chain.add("trem", bypass);
        set(s, "rate_hz", f.fit("rate_hz", f.number("rate_hz"), 0.1, 20));
        set(s, "depth", f.fit("depth", f.number("depth"), 0, 1));
        set(s, "shape", f.fit("shape", f.number("shape"), 0, 1));
    }
}

constexpr std::array<std::string_view, 8> kAmpKinds{"Preamp", "Compressor", "ToneStack", "PowerAmp",
                                                    "Level",  "NoiseGate",  "MultibandSaturator", "Nam"};
constexpr std::array<std::string_view, 4> kEffectKinds{"Delay", "Reverb", "Eq", "Tremolo"};

bool is_amp(std::string_view k) { return std::find(kAmpKinds.begin(), kAmpKinds.end(), k) != kAmpKinds.end(); }
bool is_effect(std::string_view k) {
    return std::find(kEffectKinds.begin(), kEffectKinds.end(), k) != kEffectKinds.end();
}

struct InputFilter {
    bool enabled = true;
    double cutoff_hz = 100.0;
};

} // namespace

ImportedPreset import_reference_preset(std::string_view json_text, std::string_view origin) {
    Json root;
    try {
        root = Json::parse(json_text);
    } catch (const Json::parse_error& e) {
        throw ImportError(std::string(origin) + ": not valid JSON (" + e.what() + ")");
    }
    if (!root.is_object()) {
        throw ImportError(std::string(origin) + ": a preset is one JSON object");
    }
    ImportedPreset out;
    Fields top(root, "preset", origin, out.notes);
    out.preset.name = *top.text("name", true);
    for (const char* key : {"description", "author"}) {
        if (const auto v = top.text(key, false)) {
            out.comments.push_back(std::string(key) + ": " + *v);
        }
    }

    // Input filters, possibly from older files' Filter stages.
    InputFilter hp{true, 100.0};
    InputFilter lp{true, 8000.0};
    const bool has_input_filters = top.find("input_filters") != nullptr;
    if (has_input_filters) {
        const Json& j = root["input_filters"];
        if (!j.is_object()) {
            top.fail("'input_filters' must be an object");
        }
        Fields f(j, "input_filters", origin, out.notes);
        hp = {f.flag("hp_enabled", true), f.number("hp_cutoff", 100.0)};
        lp = {f.flag("lp_enabled", true), f.number("lp_cutoff", 8000.0)};
        f.report_unused();
    }

    const Json* stages = top.find("stages");
    if (stages == nullptr) {
        top.fail("'stages' is missing");
    }
    if (!stages->is_array()) {
        top.fail("'stages' must be an array");
    }
    struct Entry {
        std::string kind;
        const Json* fields;
        std::size_t index;
    };
    std::vector<Entry> amp;
    std::vector<Entry> effects;
    bool legacy_hp = false;
    bool legacy_lp = false;
    for (std::size_t i = 0; i < stages->size(); ++i) {
        const Json& st = (*stages)[i];
        const std::string where = "stages[" + std::to_string(i) + "]";
        if (!st.is_object() || st.size() != 1 || !st.begin().value().is_object()) {
            throw ImportError(std::string(origin) + ": " + where +
                              ": a stage is an object with one key, its kind, holding its fields");
        }
        const std::string kind = st.begin().key();
        const Json& fields = st.begin().value();
        if (kind == "Filter") {
            Fields f(fields, where + " (Filter)", origin, out.notes);
            const float type = f.choice("filter_type", {"Highpass", "Lowpass"}, "");
            const bool high = type == 0.0f;
            bool& seen = high ? legacy_hp : legacy_lp;
            InputFilter& target = high ? hp : lp;
            const double cutoff = f.number("cutoff_hz", high ? 100.0 : 8000.0);
            if (seen) {
                f.note("a second " + std::string(high ? "high" : "low") + "-pass Filter: dropped, as the reference does");
            } else {
                target = {true, cutoff};
                seen = true;
            }
            (void)f.flag("bypassed", false);
            f.report_unused();
            continue;
        }
        if (is_amp(kind)) {
            amp.push_back({kind, &fields, i});
        } else if (is_effect(kind)) {
            effects.push_back({kind, &fields, i});
        } else {
            throw ImportError(std::string(origin) + ": " + where + ": unknown stage kind '" + kind + "'");
        }
    }
    if (!has_input_filters && (legacy_hp || legacy_lp)) {
        // Migrated files enable only the filters they had.
        hp.enabled = legacy_hp;
        lp.enabled = legacy_lp;
    }

    Chain chain;
    auto add_filter = [&](const InputFilter& flt, float mode, const char* name) {
        if (!flt.enabled) {
            return;
        }
        const Json none = Json::object();
        const Fields f(none, std::string("input_filters (") + name + ")", origin, out.notes);
        auto& s = chain.add("filter", false);
        s.id = name;
        s.params.emplace_back("mode", mode);
        s.params.emplace_back("cutoff_hz", f.fit("cutoff", flt.cutoff_hz, 20, 20000));
        s.params.emplace_back("order", 1.0f); // first-order RC in the reference
    };
    add_filter(hp, 0.0f, "hpf");
    add_filter(lp, 1.0f, "lpf");

    // The reference's order: amp kinds, then effects, each in file order.
    for (const auto* group : {&amp, &effects}) {
        for (const Entry& e : *group) {
            Fields f(*e.fields, "stages[" + std::to_string(e.index) + "] (" + e.kind + ")", origin, out.notes);
            const bool bypass = f.flag("bypassed", false);
            map_stage(e.kind, f, bypass, chain);
            f.report_unused();
        }
    }

    // Then its pitch shift, then the IR.
    const double shift = top.number("pitch_shift_semitones", 0.0);
    if (shift != std::floor(shift)) {
        top.fail("'pitch_shift_semitones' must be a whole number, not " + number_text(shift));
    }
    if (shift != 0.0) {
        auto& s = chain.add("pitch", false);
        s.params.emplace_back("semitones", top.fit("pitch_shift_semitones", shift, -12, 12));
    }
    const auto ir = top.text("ir_name", false);
    const double ir_gain = top.number("ir_gain", 0.1);
    if (ir) {
        auto& s = chain.add("cab", false);
        s.texts.emplace_back("ir", *ir);
        if (ir_gain <= 0.0) {
            top.note("'ir_gain' " + number_text(ir_gain) + " mutes the cabinet; our lowest is -24 dB: set to -24 dB");
            s.params.emplace_back("gain_db", -24.0f);
        } else {
            s.params.emplace_back("gain_db", top.fit("ir_gain (in dB)", 20.0 * std::log10(ir_gain), -24, 24));
        }
        s.params.emplace_back("normalize", 0.0f); // the reference scales the IR as it is
    } else if (top.find("ir_gain") != nullptr) {
        top.note("'ir_gain' without an 'ir_name': ignored");
    }
    top.report_unused();

    out.preset.stages = std::move(chain.stages);
    const bool nonlinear = std::any_of(out.preset.stages.begin(), out.preset.stages.end(), [](const auto& s) {
        return s.type == "pre" || s.type == "power" || s.type == "sat";
    });
    out.preset.oversample = nonlinear ? 4 : 1; // the reference oversamples the whole chain (a global setting)
    return out;
}

int run_import_preset(const std::string& input, const std::string& out, const core::StageFactory& factory) {
    std::ifstream in(input, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "rigd import-preset: %s: cannot open\n", input.c_str());
        return 66;
    }
    std::ostringstream text;
    text << in.rdbuf();
    ImportedPreset imported;
    std::string toml;
    try {
        imported = import_reference_preset(text.str(), input);
        toml = "# Imported by rigd import-preset from " + std::filesystem::path(input).filename().string() + "\n";
        for (const auto& c : imported.comments) {
            std::string line = c;
            std::replace(line.begin(), line.end(), '\n', ' ');
            std::replace(line.begin(), line.end(), '\r', ' ');
            toml += "# " + line + "\n";
        }
        // What we write must load: read it back the way the daemon will and
        // write that (the canonical key order, as /rig/preset/save would).
        const auto loaded = control::parse_preset(control::format_preset(imported.preset, factory),
                                                  out.empty() ? std::filesystem::path("stdout") : std::filesystem::path(out),
                                                  factory);
        toml += control::format_preset(loaded, factory);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rigd import-preset: %s\n", e.what());
        return 65;
    }
    for (const auto& n : imported.notes) {
        std::fprintf(stderr, "rigd import-preset: %s: %s\n", input.c_str(), n.c_str());
    }
    if (out.empty()) {
        std::fputs(toml.c_str(), stdout);
        return 0;
    }
    try {
        control::write_file_atomically(out, toml);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rigd import-preset: %s: %s\n", out.c_str(), e.what());
        return 73;
    }
    return 0;
}

} // namespace rigd::daemon
