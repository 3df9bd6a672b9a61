#include "control/preset_file.hpp"
#include "core/stages/level_stage.hpp"

#include "test_stages.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using rigd::control::FileError;
using rigd::control::format_preset;
using rigd::control::parse_preset;
using rigd::core::StageFactory;

namespace {

// A factory of test-local stages covering every parameter kind, so these
// tests do not depend on the shipped stage set.
class KindsStage final : public rigd::core::Stage {
public:
    KindsStage() { init_params(); }
    [[nodiscard]] std::string_view type() const noexcept override { return "kinds"; }
    [[nodiscard]] std::span<const rigd::core::ParamInfo> params() const noexcept override { return kParams; }
    [[nodiscard]] std::span<const rigd::core::TextParamInfo> text_params() const noexcept override { return kTexts; }
    void prepare(const rigd::core::ProcessSpec&) override {}
    void reset() noexcept override {}
    float process_sample(float x) noexcept override { return x; }

private:
    void on_param_changed(std::size_t, float) noexcept override {}
    static constexpr std::array<std::string_view, 3> kModes{"soft", "hard", "triode"};
    static constexpr std::array kParams{
        rigd::core::ParamInfo{.name = "drive_db", .unit = "dB", .min = -24, .max = 24, .default_value = 0},
        rigd::core::ParamInfo{.name = "order", .unit = "", .min = 1, .max = 4, .default_value = 2,
                              .kind = rigd::core::ParamKind::integer},
        rigd::core::ParamInfo{.name = "bright", .unit = "", .min = 0, .max = 1, .default_value = 0,
                              .kind = rigd::core::ParamKind::toggle},
        rigd::core::ParamInfo{.name = "clipper", .unit = "", .min = 0, .max = 2, .default_value = 0,
                              .kind = rigd::core::ParamKind::choice, .choices = kModes},
    };
    static constexpr std::array kTexts{rigd::core::TextParamInfo{.name = "model", .folder = "models"}};
};

StageFactory factory() {
    StageFactory f;
    f.add("kinds", [] { return std::make_unique<KindsStage>(); });
    f.add("level", [] { return std::make_unique<rigd::core::stages::LevelStage>(); });
    return f;
}

std::string error_of(const std::string& text) {
    try {
        (void)parse_preset(text, "/presets/p.toml", factory());
    } catch (const FileError& e) {
        return e.what();
    }
    return "no error";
}

const char* kGood = R"(name = "Crunch \"63\""
oversample = 4
master_db = -3.5

[[stage]]
id = "drive"
type = "kinds"
drive_db = 6
order = 4
bright = true
clipper = "triode"
model = "amp.nam"

[[stage]]
id = "vol-2"
type = "level"
bypass = true
gain_db = -6.25
)";

} // namespace

TEST_CASE("preset: every kind of value is parsed in native units") {
    const auto p = parse_preset(kGood, "/presets/crunch.toml", factory());
    CHECK(p.name == "Crunch \"63\"");
    CHECK(p.oversample == 4);
    REQUIRE(p.master_db);
    CHECK(*p.master_db == doctest::Approx(-3.5));
    REQUIRE(p.stages.size() == 2);
    const auto& d = p.stages[0];
    CHECK(d.id == "drive");
    CHECK(d.type == "kinds");
    CHECK_FALSE(d.bypass);
    REQUIRE(d.params.size() == 4);
    CHECK(d.params[0] == std::pair<std::string, float>{"drive_db", 6.0f});
    CHECK(d.params[1] == std::pair<std::string, float>{"order", 4.0f});
    CHECK(d.params[2] == std::pair<std::string, float>{"bright", 1.0f});
    CHECK(d.params[3] == std::pair<std::string, float>{"clipper", 2.0f});
    CHECK(d.texts == std::vector<std::pair<std::string, std::string>>{{"model", "amp.nam"}});
    CHECK(p.stages[1].bypass);
    CHECK(p.stages[1].params[0].second == doctest::Approx(-6.25));
}

TEST_CASE("preset: name defaults to the file name, oversample to 1") {
    const auto p = parse_preset("", "/presets/empty_rig.toml", factory());
    CHECK(p.name == "empty_rig");
    CHECK(p.oversample == 1);
    CHECK_FALSE(p.master_db);
    CHECK(p.stages.empty());
}

TEST_CASE("preset: format -> parse -> format is byte-stable") {
    const auto p = parse_preset(kGood, "/presets/crunch.toml", factory());
    const std::string once = format_preset(p, factory());
    const auto again = parse_preset(once, "/presets/crunch.toml", factory());
    CHECK(format_preset(again, factory()) == once);
    CHECK(once.find("clipper = \"triode\"") != std::string::npos);
    CHECK(once.find("bright = true") != std::string::npos);
    CHECK(once.find("order = 4\n") != std::string::npos);
    CHECK(once.find("gain_db = -6.25\n") != std::string::npos);
}

TEST_CASE("preset: bad files name the file, the stage and the key") {
    const std::string head = "name = \"x\"\n[[stage]]\nid = \"pre\"\ntype = \"kinds\"\n";
    CHECK(error_of(head + "drive_db = 30\n") ==
          "/presets/p.toml: stage #1 ('pre'): key 'drive_db': 30.0 is outside -24.0..24.0 dB");
    CHECK(error_of(head + "drive_db = \"hot\"\n") == "/presets/p.toml: stage #1 ('pre'): key 'drive_db': expected a number");
    CHECK(error_of(head + "order = 2.5\n") == "/presets/p.toml: stage #1 ('pre'): key 'order': expected a whole number");
    CHECK(error_of(head + "bright = 1\n") == "/presets/p.toml: stage #1 ('pre'): key 'bright': expected true or false");
    CHECK(error_of(head + "clipper = \"fuzzy\"\n") ==
          "/presets/p.toml: stage #1 ('pre'): key 'clipper': expected one of soft, hard, triode");
    CHECK(error_of(head + "model = 3\n") == "/presets/p.toml: stage #1 ('pre'): key 'model': expected a file name string");
    CHECK(error_of(head + "treble = 1\n").find("key 'treble': not a parameter of 'kinds' (known: bypass, drive_db") !=
          std::string::npos);
    CHECK(error_of(head + "bypass = \"no\"\n") == "/presets/p.toml: stage #1 ('pre'): key 'bypass': expected true or false");
    CHECK(error_of("[[stage]]\ntype = \"kinds\"\n") == "/presets/p.toml: stage #1: key 'id': missing or not a string");
    CHECK(error_of("[[stage]]\nid = \"a b\"\ntype = \"kinds\"\n").find("key 'id': use letters") != std::string::npos);
    CHECK(error_of("[[stage]]\nid = \"a\"\n") == "/presets/p.toml: stage #1 ('a'): key 'type': missing or not a string");
    CHECK(error_of("[[stage]]\nid = \"a\"\ntype = \"fuzz\"\n").find("key 'type': unknown stage type 'fuzz' (known: kinds, level)") !=
          std::string::npos);
    CHECK(error_of(head + "[[stage]]\nid = \"pre\"\ntype = \"level\"\n") ==
          "/presets/p.toml: stage #2 ('pre'): key 'id': duplicate id");
    CHECK(error_of("oversample = 3\n") == "/presets/p.toml: key 'oversample': expected 1, 2, 4, 8 or 16");
    CHECK(error_of("master_db = 50\n") == "/presets/p.toml: key 'master_db': expected a number in -60..24 dB");
    CHECK(error_of("colour = \"red\"\n").find("key 'colour': unknown") != std::string::npos);
    CHECK(error_of("name = \"x\"\n[[stage]\n").find("/presets/p.toml: line 2") != std::string::npos);
    CHECK(error_of("stage = 3\n") == "/presets/p.toml: key 'stage': expected [[stage]] tables");
}

TEST_CASE("preset: atomic write replaces the whole file and leaves no temporary behind") {
    std::string tmpl = (fs::temp_directory_path() / "rigd-preset-XXXXXX").string();
    const fs::path dir = mkdtemp(tmpl.data());
    const fs::path file = dir / "p.toml";
    rigd::control::write_file_atomically(file, "first\n");
    rigd::control::write_file_atomically(file, "second version\n");
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    CHECK(s.str() == "second version\n");
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
    // A folder we cannot write to: a clear error, the old file untouched.
    CHECK_THROWS_WITH_AS(rigd::control::write_file_atomically(dir / "missing" / "p.toml", "x"),
                         doctest::Contains("cannot create temporary file"), FileError);
    fs::remove_all(dir);
}

TEST_CASE("preset: [[midi]] footswitch mappings are read, checked and written back byte-stable") {
    const std::string text = std::string(kGood) + R"(
[[midi]]
channel = 1
cc = 64
address = "/rig/stage/drive/bypass"
mode = "toggle"

[[midi]]
cc = 11
address = "/rig/stage/drive/drive_db"
min = -24
max = 24
)";
    const auto p = parse_preset(text, "/presets/crunch.toml", factory());
    REQUIRE(p.midi.size() == 2);
    CHECK(p.midi[0] == rigd::core::MidiBinding{1, 64, "/rig/stage/drive/bypass", 0.0f, 1.0f, "toggle"});
    CHECK(p.midi[1] == rigd::core::MidiBinding{0, 11, "/rig/stage/drive/drive_db", -24.0f, 24.0f, "continuous"});
    const std::string once = format_preset(p, factory());
    CHECK(format_preset(parse_preset(once, "/presets/crunch.toml", factory()), factory()) == once);
    CHECK(error_of("[[midi]]\ncc = 200\naddress = \"/rig/bypass\"\n") ==
          "/presets/p.toml: midi #1: key 'cc': 200 is outside 0..127");
    CHECK(error_of("[[midi]]\ncc = 2\naddress = \"/etc/passwd\"\n").find("midi #1: key 'address'") !=
          std::string::npos);
}
