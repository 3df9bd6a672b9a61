// The rigd binary's command line, config errors and `rigd render`.
#include "rig_harness.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace rigd::test;

namespace {

int run_rigd(const std::vector<std::string>& args, const TempDir& dir, std::string& output) {
    std::vector<std::string> argv{rigd_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto log = dir.path() / "cli.log";
    std::filesystem::remove(log);
    const int rc = run_command(argv, log);
    std::ifstream in(log);
    std::ostringstream s;
    s << in.rdbuf();
    output = s.str();
    return rc;
}

} // namespace

TEST_CASE("cli: --help, --version and bad options") {
    TempDir dir;
    std::string out;
    CHECK(run_rigd({"--help"}, dir, out) == 0);
    CHECK(out.find("rigd render --preset FILE") != std::string::npos);
    CHECK(run_rigd({"--version"}, dir, out) == 0);
    CHECK(out.find("rigd 0.") == 0);
    CHECK(run_rigd({"--frobnicate"}, dir, out) == 64);
    CHECK(out.find("unknown option '--frobnicate'") != std::string::npos);
    CHECK(run_rigd({"--osc-port", "0"}, dir, out) == 64);
    CHECK(out.find("--osc-port: '0' is not a number in 1..65535") != std::string::npos);
    CHECK(run_rigd({"--log-level", "chatty"}, dir, out) == 64);
    CHECK(run_rigd({"render", "--preset", "x.toml", "only-one.wav"}, dir, out) == 64);
}

TEST_CASE("cli: a bad config file names the file and the key") {
    TempDir dir;
    std::string out;
    write_text(dir.path() / "bad.toml", "[osc]\nport = 70000\n");
    CHECK(run_rigd({"--config", (dir.path() / "bad.toml").string()}, dir, out) == 78);
    CHECK(out.find("bad.toml: key 'osc.port': expected a UDP port number 1-65535") != std::string::npos);
    write_text(dir.path() / "typo.toml", "[jack]\nclient_nam = \"x\"\n");
    CHECK(run_rigd({"--config", (dir.path() / "typo.toml").string()}, dir, out) == 78);
    CHECK(out.find("key 'jack.client_nam': unknown") != std::string::npos);
    CHECK(run_rigd({"--config", (dir.path() / "missing.toml").string()}, dir, out) == 78);
    CHECK(out.find("missing.toml: cannot open") != std::string::npos);
}

TEST_CASE("render: writes 32-bit float stereo WAV of the preset, exactly") {
    TempDir dir;
    std::string out;
    write_text(dir.path() / "p.toml", "name = \"r\"\n[[stage]]\nid = \"v\"\ntype = \"level\"\ngain_db = -6\n");
    std::vector<float> x(1000);
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = static_cast<float>(std::sin(0.01 * static_cast<double>(i)) * 0.8);
    }
    write_wav_mono(dir.path() / "in.wav", x, 44100);
    REQUIRE(run_rigd({"render", "--preset", (dir.path() / "p.toml").string(), "--block", "7",
                  (dir.path() / "in.wav").string(), (dir.path() / "out.wav").string()},
                 dir, out) == 0);
    const auto left = read_wav_channel(dir.path() / "out.wav", 0);
    const auto right = read_wav_channel(dir.path() / "out.wav", 1);
    REQUIRE(left.size() == x.size());
    const float g = std::pow(10.0f, -6.0f / 20.0f);
    double max_err = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        max_err = std::max(max_err, std::fabs(static_cast<double>(left[i]) - static_cast<double>(x[i]) * g));
        CHECK(left[i] == right[i]);
    }
    CHECK(max_err <= 1e-6); // float gain vs double reference
}

TEST_CASE("render: bad input is an error naming what was wrong and writes nothing") {
    TempDir dir;
    std::string out;
    const auto preset = (dir.path() / "p.toml").string();
    const auto output = dir.path() / "out.wav";
    write_text(preset, "name = \"r\"\n[[stage]]\nid = \"v\"\ntype = \"level\"\n");
    write_wav_mono(dir.path() / "in.wav", std::vector<float>(100, 0.1f), 48000);
    CHECK(run_rigd({"render", "--preset", preset, (dir.path() / "nope.wav").string(), output.string()}, dir, out) == 2);
    CHECK(out.find("nope.wav") != std::string::npos);
    CHECK(run_rigd({"render", "--preset", preset, "--rate", "44100", (dir.path() / "in.wav").string(), output.string()},
               dir, out) == 2);
    CHECK(out.find("sample rate is 48000 Hz but --rate asks for 44100 Hz") != std::string::npos);
    write_text(dir.path() / "garbage.wav", "RIFF....WAVEjunkjunkjunk");
    CHECK(run_rigd({"render", "--preset", preset, (dir.path() / "garbage.wav").string(), output.string()}, dir, out) == 2);
    CHECK(out.find("garbage.wav") != std::string::npos);
    write_text(dir.path() / "bad.toml", "name = \"r\"\n[[stage]]\nid = \"v\"\ntype = \"fuzz\"\n");
    CHECK(run_rigd({"render", "--preset", (dir.path() / "bad.toml").string(), (dir.path() / "in.wav").string(),
                output.string()},
               dir, out) == 2);
    CHECK(out.find("bad.toml: stage #1 ('v'): key 'type': unknown stage type 'fuzz'") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(output));
}



TEST_CASE("render: a one-stage NAM preset reproduces the reference implementation's golden output") {
    // ../shared/golden: reference NAM output for the standard A1 WaveNet and
    // the LSTM, prewarmed and run in 128-frame blocks; exact tanh.
    TempDir dir;
    std::string out;
    const auto input = read_f32_file(shared_dir() / "golden" / "input_sine110_noise_2s_48k.f32");
    REQUIRE(input.size() == 96000);
    write_wav_mono(dir.path() / "in.wav", input, 48000);
    for (const auto& [model, golden] : {std::pair{"reference_standard.nam", "reference_standard.exact_tanh.f32"},
                                        std::pair{"namcore_lstm.nam", "namcore_lstm.exact_tanh.f32"}}) {
        INFO(model);
        write_text(dir.path() / "nam.toml", "name = \"nam\"\n[[stage]]\nid = \"amp\"\ntype = \"nam\"\nmodel = \"" +
                                                (shared_dir() / "models" / model).string() + "\"\n");
        REQUIRE(run_rigd({"render", "--preset", (dir.path() / "nam.toml").string(), "--block", "128",
                          (dir.path() / "in.wav").string(), (dir.path() / "out.wav").string()},
                         dir, out) == 0);
        const auto rendered = read_wav_channel(dir.path() / "out.wav", 0);
        const auto expected = read_f32_file(shared_dir() / "golden" / golden);
        REQUIRE(rendered.size() == expected.size());
        double max_diff = 0.0;
        for (std::size_t i = 0; i < expected.size(); ++i) {
            max_diff = std::max(max_diff, std::fabs(static_cast<double>(rendered[i]) - expected[i]));
        }
        CHECK(max_diff <= 1e-5); // from the first sample
    }
}

TEST_CASE("render: the shipped presets render through rigd render with the fixtures' config (cab IRs included)") {
    TempDir dir;
    std::string out;
    const auto fixtures = source_dir() / "fixtures";
    for (const std::string preset : {"demo", "cab_4x12", "cab_1x12", "clean", "crunch", "high_gain", "ambient"}) {
        INFO(preset);
        REQUIRE(run_rigd({"render", "--config", (fixtures / "rigd.toml").string(), "--preset",
                          (fixtures / "presets" / (preset + ".toml")).string(),
                          (fixtures / "di" / "pluck_di.wav").string(), (dir.path() / "out.wav").string()},
                         dir, out) == 0);
        const auto y = read_wav_channel(dir.path() / "out.wav", 0);
        REQUIRE(y.size() == 192000);
        double peak = 0.0;
        bool finite = true;
        for (const float v : y) {
            finite &= std::isfinite(v);
            peak = std::max(peak, std::fabs(static_cast<double>(v)));
        }
        CHECK(finite);
        CHECK(peak > 0.01); // audible
        CHECK(peak < 1.0);  // and not clipping
    }
}

TEST_CASE("import-preset: the reference's JSON to a preset that renders; notes on stderr; refusals") {
    TempDir dir;
    std::string out;
    // Level 0.5 (linear) with both input filters off: renders as x * 0.5.
    write_text(dir.path() / "half.json",
               R"({"name": "half", "stages": [{"Level": {"gain": 0.5, "pan": 1}}],
                   "input_filters": {"hp_enabled": false, "hp_cutoff": 100, "lp_enabled": false, "lp_cutoff": 8000}})");
    REQUIRE(run_rigd({"import-preset", (dir.path() / "half.json").string(), "--out", (dir.path() / "half.toml").string()},
                     dir, out) == 0);
    CHECK(out.find("stages[0] (Level): 'pan' has no equivalent: ignored") != std::string::npos);
    std::vector<float> x(1000);
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = static_cast<float>(std::sin(0.02 * static_cast<double>(i)) * 0.7);
    }
    write_wav_mono(dir.path() / "in.wav", x, 48000);
    REQUIRE(run_rigd({"render", "--preset", (dir.path() / "half.toml").string(), (dir.path() / "in.wav").string(),
                      (dir.path() / "out.wav").string()},
                     dir, out) == 0);
    const auto y = read_wav_channel(dir.path() / "out.wav", 0);
    REQUIRE(y.size() == x.size());
    double max_err = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        max_err = std::max(max_err, std::fabs(static_cast<double>(y[i]) - 0.5 * static_cast<double>(x[i])));
    }
    CHECK(max_err <= 1e-6); // -6.0206 dB as a float gain vs the exact half

    // A fixture to standard output.
    REQUIRE(run_rigd({"import-preset", (source_dir() / "fixtures" / "import" / "drop_d_metal.json").string()}, dir, out) == 0);
    CHECK(out.find("name = \"Drop D Metal\"") != std::string::npos);
    CHECK(out.find("'presence' 2.5 is outside our 0..2: set to 2") != std::string::npos);

    write_text(dir.path() / "bad.json", R"({"name": "b", "stages": [{"Chorus": {}}]})");
    CHECK(run_rigd({"import-preset", (dir.path() / "bad.json").string()}, dir, out) == 65);
    CHECK(out.find("bad.json: stages[0]: unknown stage kind 'Chorus'") != std::string::npos);
    CHECK(run_rigd({"import-preset", (dir.path() / "missing.json").string()}, dir, out) == 66);
    CHECK(out.find("missing.json: cannot open") != std::string::npos);
    CHECK(run_rigd({"import-preset"}, dir, out) == 64);
    CHECK(out.find("import-preset needs one FILE.json") != std::string::npos);
}
