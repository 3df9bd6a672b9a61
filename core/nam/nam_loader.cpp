#include "core/nam/nam_loader.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>

namespace rigd::core::nam {

namespace {

using nlohmann::json;

// Generous bounds: far above any trained model, low enough that sizes can
// never overflow the weight count or make prepare() allocate gigabytes.
constexpr long long kMaxChannels = 256;
constexpr long long kMaxKernel = 64;
constexpr long long kMaxDilation = 65536;
constexpr long long kMaxLayers = 64;
constexpr long long kMaxArrays = 16;
constexpr long long kMaxHidden = 512;
constexpr long long kMaxLstmLayers = 16;
constexpr double kMaxSampleRate = 768000.0;

class Reader {
public:
    explicit Reader(const std::string& label) : label_(label) {}

    [[noreturn]] void fail(const std::string& problem) const { throw NamLoadError(label_, problem); }

    const json& need(const json& obj, const char* key, const std::string& where) const {
        const auto it = obj.find(key);
        if (it == obj.end()) {
            fail("missing key '" + where + key + "'");
        }
        return *it;
    }

    long long int_in(const json& v, const std::string& what, long long lo, long long hi) const {
        long long out = 0;
        if (v.is_number_integer()) {
            out = v.get<long long>();
        } else if (v.is_number_float() && std::isfinite(v.get<double>()) &&
                   v.get<double>() == std::floor(v.get<double>()) && std::fabs(v.get<double>()) < 1e15) {
            out = static_cast<long long>(v.get<double>());
        } else {
            fail(what + " must be an integer, got " + v.dump());
        }
        if (out < lo || out > hi) {
            fail(what + " = " + std::to_string(out) + " is outside " + std::to_string(lo) + ".." +
                 std::to_string(hi));
        }
        return out;
    }

    int int_key(const json& obj, const char* key, const std::string& where, long long lo, long long hi) const {
        return static_cast<int>(int_in(need(obj, key, where), where + key, lo, hi));
    }

    bool bool_key(const json& obj, const char* key, const std::string& where) const {
        const json& v = need(obj, key, where);
        if (!v.is_boolean()) {
            fail(where + key + " must be true or false, got " + v.dump());
        }
        return v.get<bool>();
    }

private:
    const std::string& label_;
};

// Keys of later format versions (0.6 / 0.7) that change the computation.
constexpr std::array kUnsupportedLayerKeys{
    "bottleneck",         "gating_mode",          "secondary_activation", "kernel_sizes",
    "head",               "layer1x1",             "1x1",                  "head1x1",
    "groups_input",       "groups_input_mixin",   "groups",               "conv_pre_film",
    "conv_post_film",     "input_mixin_pre_film", "input_mixin_post_film", "activation_pre_film",
    "activation_post_film", "layer1x1_post_film", "head1x1_post_film",    "slimmable",
};

void parse_activation(const Reader& r, const json& v, const std::string& where, WaveNetLayerArrayConfig& out) {
    std::string name;
    if (v.is_string()) {
        name = v.get<std::string>();
    } else if (v.is_object() && v.contains("type") && v["type"].is_string()) {
        name = v["type"].get<std::string>();
        if (v.contains("negative_slope")) {
            if (!v["negative_slope"].is_number()) {
                r.fail(where + "activation.negative_slope must be a number");
            }
            out.negative_slope = v["negative_slope"].get<float>();
        }
    } else if (v.is_array()) {
        r.fail(where + "activation: per-layer activation arrays (format 0.6 A2) are not supported");
    } else {
        r.fail(where + "activation must be a name, got " + v.dump());
    }
    if (name == "Tanh") {
        out.activation = Activation::tanh;
    } else if (name == "ReLU") {
        out.activation = Activation::relu;
    } else if (name == "Hardtanh") {
        out.activation = Activation::hardtanh;
    } else if (name == "Sigmoid") {
        out.activation = Activation::sigmoid;
    } else if (name == "LeakyReLU") {
        out.activation = Activation::leaky_relu;
    } else {
        r.fail(where + "activation '" + name + "' is not supported (supported: Tanh, ReLU, Hardtanh, Sigmoid, "
                       "LeakyReLU)");
    }
}

WaveNetConfig parse_wavenet(const Reader& r, const json& config, long long& expected_weights) {
    if (config.contains("condition_dsp") && !config["condition_dsp"].is_null()) {
        r.fail("config.condition_dsp (a nested conditioning model, format 0.6 A2) is not supported");
    }
    if (config.contains("head") && !config["head"].is_null()) {
        r.fail("config.head (a post-stack head, format 0.7) is not supported");
    }
    if (config.contains("in_channels") && r.int_in(config["in_channels"], "config.in_channels", 1, 1) != 1) {
        r.fail("config.in_channels must be 1");
    }
    const json& layers = r.need(config, "layers", "config.");
    if (!layers.is_array() || layers.empty()) {
        r.fail("config.layers must be a non-empty array of layer arrays");
    }
    if (static_cast<long long>(layers.size()) > kMaxArrays) {
        r.fail("config.layers has " + std::to_string(layers.size()) + " layer arrays (at most " +
               std::to_string(kMaxArrays) + ")");
    }
    WaveNetConfig out;
    long long count = 0;
    for (std::size_t a = 0; a < layers.size(); ++a) {
        const std::string where = "config.layers[" + std::to_string(a) + "].";
        const json& la = layers[a];
        if (!la.is_object()) {
            r.fail(where.substr(0, where.size() - 1) + " must be an object");
        }
        for (const char* key : kUnsupportedLayerKeys) {
            if (la.contains(key) && !la[key].is_null() && !(la[key].is_boolean() && !la[key].get<bool>())) {
                r.fail(where + key + " (an A2 layer feature of format 0.6/0.7) is not supported");
            }
        }
        WaveNetLayerArrayConfig c;
        c.input_size = r.int_key(la, "input_size", where, 1, kMaxChannels);
        c.condition_size = r.int_key(la, "condition_size", where, 1, kMaxChannels);
        c.head_size = r.int_key(la, "head_size", where, 1, kMaxChannels);
        c.channels = r.int_key(la, "channels", where, 1, kMaxChannels);
        c.kernel_size = r.int_key(la, "kernel_size", where, 1, kMaxKernel);
        c.gated = r.bool_key(la, "gated", where);
        c.head_bias = r.bool_key(la, "head_bias", where);
        parse_activation(r, r.need(la, "activation", where), where, c);
        const json& dil = r.need(la, "dilations", where);
        if (!dil.is_array() || dil.empty()) {
            r.fail(where + "dilations must be a non-empty array");
        }
        if (static_cast<long long>(dil.size()) > kMaxLayers) {
            r.fail(where + "dilations has " + std::to_string(dil.size()) + " layers (at most " +
                   std::to_string(kMaxLayers) + ")");
        }
        for (std::size_t i = 0; i < dil.size(); ++i) {
            c.dilations.push_back(
                static_cast<int>(r.int_in(dil[i], where + "dilations[" + std::to_string(i) + "]", 1, kMaxDilation)));
        }
        if (c.condition_size != 1) {
            r.fail(where + "condition_size = " + std::to_string(c.condition_size) +
                   ": only the raw input (1) is supported as condition");
        }
        if (a == 0 && c.input_size != 1) {
            r.fail(where + "input_size must be 1 for the first layer array (mono input)");
        }
        if (a > 0) {
            const auto& prev = out.layer_arrays.back();
            if (c.input_size != prev.channels) {
                r.fail(where + "input_size = " + std::to_string(c.input_size) +
                       " does not match the previous array's channels (" + std::to_string(prev.channels) + ")");
            }
            if (prev.head_size != c.channels) {
                r.fail("config.layers[" + std::to_string(a - 1) + "].head_size = " +
                       std::to_string(prev.head_size) + " does not match the next array's channels (" +
                       std::to_string(c.channels) + ")");
            }
        }
        const long long ch = c.channels;
        const long long g = c.gated ? 2 : 1;
        count += c.input_size * ch;
        for (std::size_t l = 0; l < c.dilations.size(); ++l) {
            count += ch * g * ch * c.kernel_size + g * ch + c.condition_size * g * ch + ch * ch + ch;
        }
        count += ch * c.head_size + (c.head_bias ? c.head_size : 0);
        out.layer_arrays.push_back(std::move(c));
    }
    if (out.layer_arrays.back().head_size != 1) {
        r.fail("config.layers[" + std::to_string(out.layer_arrays.size() - 1) +
               "].head_size must be 1 (mono output)");
    }
    if (config.contains("head_scale") && !config["head_scale"].is_number()) {
        r.fail("config.head_scale must be a number");
    }
    expected_weights = count + 1; // + the head scale
    return out;
}

LstmConfig parse_lstm(const Reader& r, const json& config, long long& expected_weights) {
    LstmConfig c;
    c.num_layers = r.int_key(config, "num_layers", "config.", 1, kMaxLstmLayers);
    c.input_size = r.int_key(config, "input_size", "config.", 1, 1);
    c.hidden_size = r.int_key(config, "hidden_size", "config.", 1, kMaxHidden);
    for (const char* key : {"in_channels", "out_channels"}) {
        if (config.contains(key) && r.int_in(config[key], std::string("config.") + key, 1, 1) != 1) {
            r.fail(std::string("config.") + key + " must be 1");
        }
    }
    const long long h = c.hidden_size;
    long long count = 0;
    for (int l = 0; l < c.num_layers; ++l) {
        const long long in = l == 0 ? c.input_size : h;
        count += 4 * h * (in + h) + 4 * h + 2 * h;
    }
    expected_weights = count + h + 1;
    return c;
}

std::optional<double> optional_number(const Reader& r, const json& md, const char* key) {
    const auto it = md.find(key);
    if (it == md.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_number() || !std::isfinite(it->get<double>())) {
        r.fail(std::string("metadata.") + key + " must be a number or null, got " + it->dump());
    }
    return it->get<double>();
}

std::string optional_string(const json& md, const char* key) {
    const auto it = md.find(key);
    return it != md.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

NamFile parse_nam_json(std::string_view text, const std::string& label) {
    const Reader r(label);
    json root;
    try {
        root = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        // parse_error, and out_of_range for a number beyond double (1e400).
        r.fail(std::string("not valid JSON (truncated or corrupt?): ") + e.what());
    }
    if (!root.is_object()) {
        r.fail("the top level is not a JSON object");
    }
    for (const char* key : {"version", "architecture", "config", "weights"}) {
        (void)r.need(root, key, "");
    }
    if (!root["architecture"].is_string()) {
        r.fail("architecture must be a string");
    }
    const std::string arch = root["architecture"].get<std::string>();
    if (arch == "SlimmableContainer" || arch == "ConvNet" || arch == "Linear") {
        r.fail("architecture '" + arch + "' is not supported (supported: WaveNet, LSTM)");
    }
    if (arch != "WaveNet" && arch != "LSTM") {
        r.fail("unknown architecture '" + arch + "' (supported: WaveNet, LSTM)");
    }
    if (!root["config"].is_object()) {
        r.fail("config must be an object");
    }

    NamFile out;
    out.path = label;
    long long expected = 0;
    // Features first, so that a 0.6/0.7 file is refused naming what it uses.
    if (arch == "WaveNet") {
        out.config = parse_wavenet(r, root["config"], expected);
    } else {
        out.config = parse_lstm(r, root["config"], expected);
    }

    const json& version = root["version"];
    if (!version.is_string()) {
        r.fail("version must be a string like \"0.5.4\"");
    }
    out.version = version.get<std::string>();
    static const std::regex kSemver(R"(^(\d+)\.(\d+)\.(\d+)$)");
    std::smatch m;
    if (!std::regex_match(out.version, m, kSemver)) {
        r.fail("version '" + out.version + "' is not of the form X.Y.Z");
    }
    if (m[1].str() != "0" || m[2].str() != "5") {
        r.fail("format version " + out.version + " is not supported (this build reads 0.5.x)");
    }

    const json& weights = root["weights"];
    if (!weights.is_array()) {
        r.fail("weights must be an array of numbers");
    }
    if (static_cast<long long>(weights.size()) != expected) {
        r.fail("weight count mismatch: the file has " + std::to_string(weights.size()) +
               " weights, its config needs " + std::to_string(expected));
    }
    out.weights.reserve(weights.size());
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const json& w = weights[i];
        if (!w.is_number()) {
            r.fail("weights[" + std::to_string(i) + "] is not a number: " + w.dump());
        }
        const double v = w.get<double>();
        if (!std::isfinite(v) || std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
            r.fail("weights[" + std::to_string(i) + "] is not a finite float");
        }
        out.weights.push_back(static_cast<float>(v));
    }
    if (auto* wn = std::get_if<WaveNetConfig>(&out.config)) {
        wn->head_scale = out.weights.back();
    }

    if (const auto it = root.find("sample_rate"); it != root.end() && !it->is_null()) {
        if (!it->is_number() || !(it->get<double>() > 0.0) || it->get<double>() > kMaxSampleRate) {
            r.fail("sample_rate must be a positive number up to 768000, got " + it->dump());
        }
        out.sample_rate_hz = it->get<double>();
        out.sample_rate_given = true;
    }

    if (const auto it = root.find("metadata"); it != root.end() && !it->is_null()) {
        if (!it->is_object()) {
            r.fail("metadata must be an object or null");
        }
        const json& md = *it;
        out.metadata.loudness_db = optional_number(r, md, "loudness");
        out.metadata.input_level_dbu = optional_number(r, md, "input_level_dbu");
        out.metadata.output_level_dbu = optional_number(r, md, "output_level_dbu");
        out.metadata.name = optional_string(md, "name");
        out.metadata.modeled_by = optional_string(md, "modeled_by");
        out.metadata.gear_type = optional_string(md, "gear_type");
        out.metadata.gear_make = optional_string(md, "gear_make");
        out.metadata.gear_model = optional_string(md, "gear_model");
        out.metadata.tone_type = optional_string(md, "tone_type");
    }
    return out;
}

NamFile load_nam_file(const std::filesystem::path& path) {
    const std::string label = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw NamLoadError(label, std::string("cannot open: ") + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        throw NamLoadError(label, "read error");
    }
    return parse_nam_json(text.str(), label);
}

} // namespace rigd::core::nam
