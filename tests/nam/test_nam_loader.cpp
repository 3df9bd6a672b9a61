#include "core/nam/nam_loader.hpp"

#include "nam_test_util.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace rigd::core::nam;
using namespace rigd::test;

namespace {

std::string file_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The problem text of the NamLoadError `text` raises (empty if none).
std::string problem_of(const std::string& text) {
    try {
        (void)parse_nam_json(text, "test.nam");
    } catch (const NamLoadError& e) {
        CHECK(e.file() == "test.nam");
        CHECK(std::string(e.what()).find("test.nam: ") == 0);
        return e.problem();
    }
    return {};
}

const char* kTinyWaveNet = R"({"version": "0.5.4", "architecture": "WaveNet",
 "config": {"layers": [{"input_size": 1, "condition_size": 1, "head_size": 1, "channels": 1,
   "kernel_size": 1, "dilations": [1], "activation": "Tanh", "gated": false, "head_bias": false}],
   "head_scale": 0.5},
 "weights": [WEIGHTS]})";

std::string tiny(const std::string& weights, const std::string& from = "", const std::string& to = "") {
    std::string t = kTinyWaveNet;
    t.replace(t.find("WEIGHTS"), 7, weights);
    if (!from.empty()) {
        t.replace(t.find(from), from.size(), to);
    }
    return t;
}

// 1 (rechannel) + 1 (conv) + 1 (conv bias) + 1 (mixin) + 1 (1x1) + 1 (1x1 bias) + 1 (head) + 1 (scale)
const std::string kTinyWeights = "1, 2, 3, 4, 5, 6, 7, 0.25";

} // namespace

TEST_CASE("every shipped 0.5.x model loads with the right sizes and defaults") {
    const NamFile standard = load_nam_file(model_path("reference_standard.nam"));
    CHECK(standard.is_wavenet());
    CHECK(standard.weights.size() == 13802);
    CHECK(standard.sample_rate_hz == 48000.0); // no sample_rate key
    CHECK_FALSE(standard.sample_rate_given);
    CHECK_FALSE(standard.metadata.loudness_db.has_value());
    const auto& wn = std::get<WaveNetConfig>(standard.config);
    REQUIRE(wn.layer_arrays.size() == 2);
    CHECK(wn.layer_arrays[0].channels == 16);
    CHECK(wn.layer_arrays[1].channels == 8);
    CHECK(wn.head_scale == standard.weights.back());

    const NamFile lstm = load_nam_file(model_path("namcore_lstm.nam"));
    CHECK_FALSE(lstm.is_wavenet());
    CHECK(lstm.weights.size() == 70);
    CHECK(lstm.sample_rate_given);
    REQUIRE(lstm.metadata.loudness_db.has_value());
    CHECK(*lstm.metadata.loudness_db == doctest::Approx(-37.8406867980957));
    CHECK(lstm.metadata.input_level_dbu.value_or(0) == doctest::Approx(18.3));
    CHECK(lstm.metadata.output_level_dbu.value_or(0) == doctest::Approx(12.3));
    CHECK(lstm.metadata.name == "Test LSTM");
    CHECK(lstm.metadata.gear_make == "Darkglass Electronics");

    CHECK(load_nam_file(model_path("synthetic_a1_nano.nam")).weights.size() == 842);
    CHECK(load_nam_file(model_path("synthetic_a1_feather.nam")).weights.size() == 3026);
    CHECK(load_nam_file(model_path("synthetic_a1_lite.nam")).weights.size() == 6554);
    CHECK(load_nam_file(model_path("synthetic_lstm_1x16.nam")).weights.size() == 1201);
    CHECK(load_nam_file(model_path("synthetic_lstm_2x8.nam")).weights.size() == 905);
    CHECK(load_nam_file(model_path("namcore_wavenet.nam")).weights.size() == 131);
}

TEST_CASE("every shipped 0.6/0.7 model loads") {
    const NamFile a2 = load_nam_file(model_path("namcore_wavenet_a2_max.nam"));
    const auto& wn = std::get<WaveNetConfig>(a2.config);
    CHECK_FALSE(wn.a1);
    REQUIRE(wn.condition_dsp != nullptr);
    CHECK(wn.layer_arrays[0].condition_size == 8);
    CHECK(wn.layer_arrays[0].films[kLayer1x1PostFilm].groups == 8);
    const auto& cond = std::get<WaveNetConfig>(wn.condition_dsp->config);
    CHECK(cond.layer_arrays[1].gating[0] == GatingMode::blended);
    CHECK(cond.layer_arrays[1].activations[0].type == Activation::prelu);
    CHECK(cond.layer_arrays[1].activations[0].negative_slopes.size() == 2);
    CHECK(cond.layer_arrays[1].secondary[0].type == Activation::leaky_hardtanh);
    CHECK(cond.layer_arrays[1].secondary[0].max_val == doctest::Approx(0.9));

    const NamFile slim = load_nam_file(model_path("namcore_slimmable_wavenet.nam"));
    CHECK(std::get<WaveNetConfig>(slim.config).slimmable());
    CHECK(std::get<WaveNetConfig>(slim.config).layer_arrays[0].slimmable_channels == std::vector<int>{1, 2, 3});

    const NamFile box = load_nam_file(model_path("namcore_slimmable_container.nam"));
    const auto& c = std::get<ContainerConfig>(box.config);
    REQUIRE(c.submodels.size() == 3);
    CHECK(c.submodels[0].max_value == 0.33);
    CHECK(std::string(c.submodels[0].model->architecture()) == "LSTM");
    CHECK(c.submodels[2].model->weights.size() == 842);
    CHECK(std::get<WaveNetConfig>(c.submodels[2].model->config).a1);

    CHECK_FALSE(std::get<WaveNetConfig>(load_nam_file(model_path("namcore_wavenet_condition_dsp.nam")).config).a1);
}

TEST_CASE("refused files and features name the file and the field") {
    CHECK(problem_of(tiny(kTinyWeights, "\"WaveNet\"", "\"ConvNet\"")).find("ConvNet") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"WaveNet\"", "\"Linear\"")).find("Linear") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"Tanh\"", "\"Swish\"")).find("Swish") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "0.5.4", "0.6.0")).empty()); // the A1 keys are valid 0.6/0.7
    CHECK(problem_of(tiny(kTinyWeights, "0.5.4", "0.7.3")).empty()); // the reference's "partial support"
    CHECK(problem_of(tiny(kTinyWeights, "0.5.4", "0.8.0")).find("0.8.0") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "0.5.4", "1.5.0")).find("1.5.0") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "0.5.4", "0.4.9")).find("0.4.9") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "0.5.4", "0.5")).find("X.Y.Z") != std::string::npos);

    // 0.6/0.7 keys, malformed, each named with its path.
    struct Case {
        const char* from;
        const char* to;
        const char* names;
    };
    for (const Case c : {
             Case{"\"gated\": false", "\"gating_mode\": \"sometimes\"", "config.layers[0].gating_mode"},
             Case{"\"gated\": false", "\"gating_mode\": [\"none\", \"gated\"]", "config.layers[0].gating_mode"},
             Case{"\"kernel_size\": 1", "\"kernel_sizes\": [1, 2]", "config.layers[0].kernel_sizes"},
             Case{"\"kernel_size\": 1", "\"kernel_size\": 1, \"kernel_sizes\": [1]", "kernel_sizes"},
             Case{"\"Tanh\"", "{\"type\": \"LeakyReLU\", \"negative_slope\": \"x\"}",
                  "config.layers[0].activation.negative_slope"},
             Case{"\"Tanh\"", "[\"Tanh\", \"ReLU\"]", "config.layers[0].activation"},
             Case{"\"Tanh\"", "{\"type\": \"PReLU\", \"negative_slopes\": [0.1, 0.2]}", "PReLU"},
             Case{"\"channels\": 1", "\"channels\": 1, \"groups_input\": 2", "config.layers[0].groups_input"},
             Case{"\"channels\": 1", "\"channels\": 1, \"layer1x1\": {\"active\": true}",
                  "config.layers[0].layer1x1.groups"},
             Case{"\"channels\": 1", "\"channels\": 1, \"conv_pre_film\": 3", "config.layers[0].conv_pre_film"},
             Case{"\"channels\": 1",
                  "\"channels\": 1, \"layer1x1\": {\"active\": false, \"groups\": 1}, "
                  "\"layer1x1_post_film\": {\"active\": true}",
                  "layer1x1_post_film"},
             Case{"\"channels\": 1",
                  "\"channels\": 1, \"slimmable\": {\"method\": \"prune\", \"kwargs\": {}}",
                  "config.layers[0].slimmable.method"},
             Case{"\"channels\": 1",
                  "\"channels\": 1, \"slimmable\": {\"method\": \"slice_channels_uniform\", "
                  "\"kwargs\": {\"allowed_channels\": [2]}}",
                  "config.layers[0].slimmable.kwargs.allowed_channels[0]"},
             Case{"\"head_size\": 1, ", "\"head\": {\"out_channels\": 1, \"kernel_size\": 0, \"bias\": true}, ",
                  "config.layers[0].head.kernel_size"},
             Case{"\"head_scale\"", "\"head\": {\"channels\": 2}, \"head_scale\"", "config.head."},
             Case{"\"condition_size\": 1", "\"condition_size\": 2", "config.layers[0].condition_size"},
             Case{"\"head_scale\"", "\"condition_dsp\": {\"version\": \"0.5.4\"}, \"head_scale\"",
                  "config.condition_dsp"},
         }) {
        CAPTURE(std::string(c.to));
        const std::string problem = problem_of(tiny(kTinyWeights, c.from, c.to));
        CHECK(problem.find(c.names) != std::string::npos);
        MESSAGE(problem);
    }
    CHECK(problem_of(R"({"version": "0.7.0", "architecture": "SlimmableContainer", "weights": [],
        "config": {"submodels": [{"max_value": 0.5, "model": {}}]}})")
              .find("config.submodels[0].model") != std::string::npos);
    // A condition model inside a condition model inside ...: refused past 4 levels.
    std::string nested = tiny(kTinyWeights);
    for (int i = 0; i < 5; ++i) {
        nested = tiny(kTinyWeights, "\"head_scale\"", "\"condition_dsp\": " + nested + ", \"head_scale\"");
    }
    CHECK(problem_of(nested).find("nested") != std::string::npos);
    CHECK(problem_of(R"({"version": "0.7.0", "architecture": "SlimmableContainer", "weights": [],
        "config": {"submodels": []}})")
              .find("config.submodels") != std::string::npos);
}

TEST_CASE("malformed files give a typed error naming file and problem") {
    CHECK(problem_of(tiny(kTinyWeights)).empty()); // the base case is valid
    CHECK(problem_of(tiny(kTinyWeights)).empty());
    const std::string good = tiny(kTinyWeights);
    CHECK(problem_of(good.substr(0, good.size() / 2)).find("JSON") != std::string::npos);
    CHECK(problem_of("").find("JSON") != std::string::npos);
    CHECK(problem_of("[1, 2]").find("object") != std::string::npos);
    CHECK(problem_of(tiny("1, 2, 3")).find("weight count") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights + ", 9")).find("weight count") != std::string::npos);
    CHECK(problem_of(tiny("1, 2, \"x\", 4, 5, 6, 7, 0.25")).find("weights[2]") != std::string::npos);
    CHECK(problem_of(tiny("1, 2, null, 4, 5, 6, 7, 0.25")).find("weights[2]") != std::string::npos);
    CHECK(problem_of(tiny("1, 2, 1e39, 4, 5, 6, 7, 0.25")).find("weights[2]") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"channels\": 1", "\"channels\": -3")).find("channels") !=
          std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"channels\": 1", "\"channels\": 100000000000")).find("channels") !=
          std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"channels\": 1", "\"channels\": 1.5")).find("integer") !=
          std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"dilations\": [1]", "\"dilations\": [0]")).find("dilations[0]") !=
          std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"dilations\": [1]", "\"dilations\": [1e12]")).find("dilations[0]") !=
          std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"kernel_size\": 1,", "")).find("kernel_size") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"gated\": false", "\"gated\": 3")).find("gated") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"head_size\": 1", "\"head_size\": 2")).find("head_size") !=
          std::string::npos);
    CHECK(problem_of(R"({"version": "0.5.4", "architecture": "WaveNet", "config": {}})").find("weights") !=
          std::string::npos);
    CHECK(problem_of(R"({"version": "0.5.4", "architecture": "LSTM", "weights": [],
        "config": {"num_layers": 1, "input_size": 1, "hidden_size": -2}})")
              .find("hidden_size") != std::string::npos);
    CHECK(problem_of(R"({"version": "0.5.4", "architecture": "LSTM", "weights": [],
        "config": {"num_layers": 100000, "input_size": 1, "hidden_size": 100000}})")
              .find("num_layers") != std::string::npos);
    CHECK(problem_of(tiny(kTinyWeights, "\"weights\"", "\"sample_rate\": -1, \"weights\"")).find("sample_rate") !=
          std::string::npos);

    try {
        (void)load_nam_file(shared_dir() / "models" / "no_such_model.nam");
        FAIL("no error for a missing file");
    } catch (const NamLoadError& e) {
        CHECK(e.file().find("no_such_model.nam") != std::string::npos);
        CHECK(e.problem().find("cannot open") != std::string::npos);
    }
}

TEST_CASE("a number beyond double's range is refused as bad JSON, naming the file") {
    // Found by fuzz_nam_file: nlohmann::json throws out_of_range (not
    // parse_error) for it, which escaped the loader untyped.
    // Corpus entry: fixtures/fuzz/nam_file/crash-number-overflow.nam.
    CHECK(problem_of(tiny("1, 2, 1e3928, 4, 5, 6, 7, 0.25")).find("JSON") != std::string::npos);
    CHECK(problem_of(R"({"version": "0.5.4", "architecture": "LSTM", "weights": [],
        "config": {"num_layers": 1, "input_size": 1, "hidden_size": 1e999}})")
              .find("JSON") != std::string::npos);
}

TEST_CASE("a valid tiny model computes what the format says") {
    // One 1-channel layer, K = 1: x0 = 1*x; z = 2*x0 + 3 + 4*x; a = tanh(z);
    // head = 7*a; y = 0.25 * head (the last weight, not config.head_scale).
    const NamFile f = parse_nam_json(tiny(kTinyWeights), "tiny");
    auto model = build_nam_model(f);
    model->prepare(4);
    for (const float x : {0.0f, 0.1f, -0.3f}) {
        const double expected = 0.25 * 7.0 * std::tanh(2.0 * x + 3.0 + 4.0 * x);
        CHECK(model->process_sample(x) == doctest::Approx(expected).epsilon(1e-6));
    }
    CHECK(model->prewarm_samples() == 1);
}

TEST_CASE("truncations of a real file never crash and always give a typed error") {
    const std::string text = file_text(model_path("synthetic_lstm_2x8.nam"));
    for (std::size_t cut = 0; cut < text.size(); cut += text.size() / 97 + 1) {
        CAPTURE(cut);
        CHECK_FALSE(problem_of(text.substr(0, cut)).empty());
    }
}
