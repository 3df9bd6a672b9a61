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
    // `context` ("config.condition_dsp.") locates a nested model in messages.
    Reader(const std::string& label, const std::string& context)
        : label_(label), prefix_(context.empty() ? std::string() : context.substr(0, context.size() - 1) + ": ") {}

    [[noreturn]] void fail(const std::string& problem) const { throw NamLoadError(label_, prefix_ + problem); }

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
    std::string prefix_;
};


[[nodiscard]] bool is_false_or_null(const json& v) { return v.is_null() || (v.is_boolean() && !v.get<bool>()); }

float number_in(const Reader& r, const json& v, const std::string& what) {
    if (!v.is_number() || !std::isfinite(v.get<double>())) {
        r.fail(what + " must be a number, got " + v.dump());
    }
    return v.get<float>();
}

// "Tanh", or {"type": "LeakyReLU", "negative_slope": 0.01}, ...
ActivationSpec parse_activation_spec(const Reader& r, const json& v, const std::string& what) {
    std::string name;
    const json* obj = nullptr;
    if (v.is_string()) {
        name = v.get<std::string>();
    } else if (v.is_object() && v.contains("type") && v["type"].is_string()) {
        name = v["type"].get<std::string>();
        obj = &v;
    } else {
        r.fail(what + " must be an activation name or {\"type\": ...}, got " + v.dump());
    }
    ActivationSpec s;
    static constexpr std::array<std::pair<const char*, Activation>, 11> kNames{{
        {"Tanh", Activation::tanh},
        {"Fasttanh", Activation::fast_tanh},
        {"Hardtanh", Activation::hardtanh},
        {"LeakyHardtanh", Activation::leaky_hardtanh},
        {"ReLU", Activation::relu},
        {"LeakyReLU", Activation::leaky_relu},
        {"PReLU", Activation::prelu},
        {"Sigmoid", Activation::sigmoid},
        {"SiLU", Activation::silu},
        {"Hardswish", Activation::hardswish},
        {"Softsign", Activation::softsign},
    }};
    bool found = false;
    for (const auto& [n, a] : kNames) {
        if (name == n) {
            s.type = a;
            found = true;
        }
    }
    if (!found) {
        r.fail(what + " '" + name +
               "' is not supported (supported: Tanh, Fasttanh, Hardtanh, LeakyHardtanh, ReLU, LeakyReLU, PReLU, "
               "Sigmoid, SiLU, Hardswish, Softsign)");
    }
    auto opt = [&](const char* key, float& out) {
        if (obj != nullptr && obj->contains(key) && !(*obj)[key].is_null()) {
            out = number_in(r, (*obj)[key], what + "." + key);
        }
    };
    if (s.type == Activation::leaky_relu) {
        opt("negative_slope", s.negative_slope);
    } else if (s.type == Activation::prelu) {
        if (obj != nullptr && obj->contains("negative_slope") && !(*obj)["negative_slope"].is_null()) {
            s.negative_slopes = {number_in(r, (*obj)["negative_slope"], what + ".negative_slope")};
        } else if (obj != nullptr && obj->contains("negative_slopes") && !(*obj)["negative_slopes"].is_null()) {
            const json& a = (*obj)["negative_slopes"];
            if (!a.is_array() || a.empty() || static_cast<long long>(a.size()) > kMaxChannels) {
                r.fail(what + ".negative_slopes must be a non-empty array of numbers");
            }
            for (std::size_t i = 0; i < a.size(); ++i) {
                s.negative_slopes.push_back(number_in(r, a[i], what + ".negative_slopes[" + std::to_string(i) + "]"));
            }
        } else {
            s.negative_slopes = {0.01f};
        }
    } else if (s.type == Activation::leaky_hardtanh) {
        opt("min_val", s.min_val);
        opt("max_val", s.max_val);
        opt("min_slope", s.min_slope);
        opt("max_slope", s.max_slope);
    }
    return s;
}

// A per-layer key: one value for all layers, or an array with one per layer.
template <class F>
void per_layer(const Reader& r, const json& v, const std::string& what, std::size_t layers, F&& parse_one) {
    if (v.is_array()) {
        if (v.size() != layers) {
            r.fail(what + " has " + std::to_string(v.size()) + " entries, the array has " + std::to_string(layers) +
                   " layers (dilations)");
        }
        for (std::size_t i = 0; i < layers; ++i) {
            parse_one(v[i], what + "[" + std::to_string(i) + "]", i);
        }
    } else {
        for (std::size_t i = 0; i < layers; ++i) {
            parse_one(v, what, i);
        }
    }
}

[[nodiscard]] bool is_a1_activation(const ActivationSpec& a) {
    switch (a.type) {
    case Activation::tanh:
    case Activation::relu:
    case Activation::hardtanh:
    case Activation::sigmoid:
    case Activation::leaky_relu:
        return true;
    default:
        return false;
    }
}

[[nodiscard]] bool same_activation(const ActivationSpec& a, const ActivationSpec& b) {
    return a.type == b.type && a.negative_slope == b.negative_slope && a.negative_slopes == b.negative_slopes &&
           a.min_val == b.min_val && a.max_val == b.max_val && a.min_slope == b.min_slope && a.max_slope == b.max_slope;
}

void check_groups(const Reader& r, const std::string& what, long long groups, long long in, long long out) {
    if (groups < 1 || in % groups != 0 || out % groups != 0) {
        r.fail(what + " = " + std::to_string(groups) + " does not divide the channel counts (" + std::to_string(in) +
               " in, " + std::to_string(out) + " out)");
    }
}

void check_prelu(const Reader& r, const ActivationSpec& a, int rows, const std::string& what) {
    if (a.type == Activation::prelu && a.negative_slopes.size() != 1 &&
        static_cast<int>(a.negative_slopes.size()) != rows) {
        r.fail(what + ": PReLU has " + std::to_string(a.negative_slopes.size()) + " negative_slopes for " +
               std::to_string(rows) + " channels");
    }
}

NamFile parse_root(const json& root, const std::string& label, const std::string& context);

WaveNetConfig parse_wavenet(const Reader& r, const json& config, long long& expected_weights, double sample_rate,
                            const std::string& label, const std::string& context) {
    WaveNetConfig out;
    int condition_dim = 1;
    if (config.contains("condition_dsp") && !config["condition_dsp"].is_null()) {
        const json& nested = config["condition_dsp"];
        std::size_t depth = 0;
        for (std::size_t at = context.find("condition_dsp"); at != std::string::npos;
             at = context.find("condition_dsp", at + 1)) {
            ++depth;
        }
        if (depth >= 4) {
            r.fail("config.condition_dsp: condition models nested more than 4 deep are not supported");
        }
        if (!nested.is_object()) {
            r.fail("config.condition_dsp must be a complete .nam object");
        }
        auto cond = std::make_shared<NamFile>(parse_root(nested, label, context + "config.condition_dsp."));
        if (std::holds_alternative<ContainerConfig>(cond->config)) {
            r.fail("config.condition_dsp: a SlimmableContainer as a condition model is not supported");
        }
        if (const auto* cw = std::get_if<WaveNetConfig>(&cond->config); cw != nullptr && cw->slimmable()) {
            r.fail("config.condition_dsp: a slimmable condition model is not supported");
        }
        if (cond->sample_rate_hz != sample_rate) {
            r.fail("config.condition_dsp.sample_rate (" + std::to_string(cond->sample_rate_hz) +
                   ") differs from the model's (" + std::to_string(sample_rate) + ")");
        }
        if (const auto* cw = std::get_if<WaveNetConfig>(&cond->config)) {
            condition_dim = cw->post_head ? cw->post_head->out_channels : cw->layer_arrays.back().head_size;
        }
        out.condition_dsp = std::move(cond);
        out.a1 = false;
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
    long long count = 0;
    for (std::size_t a = 0; a < layers.size(); ++a) {
        const std::string where = "config.layers[" + std::to_string(a) + "].";
        const json& la = layers[a];
        if (!la.is_object()) {
            r.fail(where.substr(0, where.size() - 1) + " must be an object");
        }
        WaveNetLayerArrayConfig c;
        bool a1 = true;
        c.input_size = r.int_key(la, "input_size", where, 1, kMaxChannels);
        c.condition_size = r.int_key(la, "condition_size", where, 1, kMaxChannels);
        c.channels = r.int_key(la, "channels", where, 1, kMaxChannels);
        c.bottleneck = c.channels;
        if (la.contains("bottleneck") && !la["bottleneck"].is_null()) {
            c.bottleneck = static_cast<int>(r.int_in(la["bottleneck"], where + "bottleneck", 1, kMaxChannels));
            a1 = a1 && c.bottleneck == c.channels;
        }

        // Head rechannel: a 0.7 head object, or A1 head_size + head_bias.
        if (la.contains("head") && !la["head"].is_null()) {
            const json& h = la["head"];
            if (!h.is_object()) {
                r.fail(where + "head must be an object {out_channels, kernel_size, bias}");
            }
            c.head_size = r.int_key(h, "out_channels", where + "head.", 1, kMaxChannels);
            c.head_kernel_size = r.int_key(h, "kernel_size", where + "head.", 1, kMaxKernel);
            c.head_bias = r.bool_key(h, "bias", where + "head.");
            if (h.contains("head_dilation") && !h["head_dilation"].is_null()) {
                c.head_dilation =
                    static_cast<int>(r.int_in(h["head_dilation"], where + "head.head_dilation", 1, kMaxDilation));
            }
            a1 = a1 && c.head_kernel_size == 1;
        } else {
            c.head_size = r.int_key(la, "head_size", where, 1, kMaxChannels);
            c.head_bias = r.bool_key(la, "head_bias", where);
        }

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
        const std::size_t n_layers = c.dilations.size();

        const bool has_k = la.contains("kernel_size");
        const bool has_ks = la.contains("kernel_sizes") && !la["kernel_sizes"].is_null();
        if (has_k && has_ks) {
            r.fail(where + "kernel_size and kernel_sizes: give only one");
        }
        if (has_ks) {
            const json& ks = la["kernel_sizes"];
            if (!ks.is_array() || ks.size() != n_layers) {
                r.fail(where + "kernel_sizes must be an array with one entry per dilation (" +
                       std::to_string(n_layers) + ")");
            }
            for (std::size_t i = 0; i < n_layers; ++i) {
                c.kernel_sizes.push_back(static_cast<int>(
                    r.int_in(ks[i], where + "kernel_sizes[" + std::to_string(i) + "]", 1, kMaxKernel)));
            }
        } else {
            const int k = r.int_key(la, "kernel_size", where, 1, kMaxKernel);
            c.kernel_sizes.assign(n_layers, k);
        }
        c.kernel_size = c.kernel_sizes[0];
        for (const int k : c.kernel_sizes) {
            a1 = a1 && k == c.kernel_size;
        }

        per_layer(r, r.need(la, "activation", where), where + "activation", n_layers,
                  [&](const json& v, const std::string& what, std::size_t) {
                      c.activations.push_back(parse_activation_spec(r, v, what));
                  });

        // Gating: gating_mode (0.6) wins over the A1 boolean.
        if (la.contains("gating_mode") && !la["gating_mode"].is_null()) {
            per_layer(r, la["gating_mode"], where + "gating_mode", n_layers,
                      [&](const json& v, const std::string& what, std::size_t) {
                          const std::string m = v.is_string() ? v.get<std::string>() : std::string();
                          if (m == "none") {
                              c.gating.push_back(GatingMode::none);
                          } else if (m == "gated") {
                              c.gating.push_back(GatingMode::gated);
                          } else if (m == "blended") {
                              c.gating.push_back(GatingMode::blended);
                          } else {
                              r.fail(what + " must be \"none\", \"gated\" or \"blended\", got " + v.dump());
                          }
                      });
        } else {
            c.gated = r.bool_key(la, "gated", where);
            c.gating.assign(n_layers, c.gated ? GatingMode::gated : GatingMode::none);
        }
        ActivationSpec sigmoid;
        sigmoid.type = Activation::sigmoid;
        c.secondary.assign(n_layers, sigmoid);
        const bool has_secondary = la.contains("secondary_activation") && !la["secondary_activation"].is_null();
        for (std::size_t i = 0; i < n_layers; ++i) {
            if (c.gating[i] == GatingMode::none || !has_secondary) {
                continue;
            }
            const json& s = la["secondary_activation"];
            if (s.is_array()) {
                if (s.size() != n_layers) {
                    r.fail(where + "secondary_activation has " + std::to_string(s.size()) +
                           " entries, the array has " + std::to_string(n_layers) + " layers");
                }
                c.secondary[i] =
                    parse_activation_spec(r, s[i], where + "secondary_activation[" + std::to_string(i) + "]");
            } else {
                c.secondary[i] = parse_activation_spec(r, s, where + "secondary_activation");
            }
        }
        for (std::size_t i = 0; i < n_layers; ++i) {
            a1 = a1 && is_a1_activation(c.activations[i]) && same_activation(c.activations[i], c.activations[0]) &&
                 c.gating[i] == c.gating[0] && c.gating[i] != GatingMode::blended &&
                 (c.gating[i] == GatingMode::none || c.secondary[i].type == Activation::sigmoid);
            check_prelu(r, c.activations[i], c.bottleneck, where + "activation[" + std::to_string(i) + "]");
            if (c.gating[i] != GatingMode::none) {
                check_prelu(r, c.secondary[i], c.bottleneck,
                            where + "secondary_activation[" + std::to_string(i) + "]");
            }
        }
        c.activation = c.activations[0].type;
        c.negative_slope = c.activations[0].negative_slope;
        c.gated = c.gating[0] == GatingMode::gated;

        auto opt_int = [&](const char* key, int& v, long long lo, long long hi) {
            if (la.contains(key) && !la[key].is_null()) {
                v = static_cast<int>(r.int_in(la[key], where + key, lo, hi));
            }
        };
        opt_int("groups_input", c.groups_input, 1, kMaxChannels);
        opt_int("groups_input_mixin", c.groups_input_mixin, 1, kMaxChannels);
        a1 = a1 && c.groups_input == 1 && c.groups_input_mixin == 1;
        if (la.contains("1x1") && !la.contains("layer1x1")) {
            r.fail(where + "1x1: the pre-0.6 spelling of layer1x1 is not read by the reference; use layer1x1");
        }
        if (la.contains("layer1x1") && !la["layer1x1"].is_null()) {
            const json& l = la["layer1x1"];
            if (!l.is_object()) {
                r.fail(where + "layer1x1 must be an object {active, groups}");
            }
            c.layer1x1_active = r.bool_key(l, "active", where + "layer1x1.");
            c.layer1x1_groups = r.int_key(l, "groups", where + "layer1x1.", 1, kMaxChannels);
            a1 = a1 && c.layer1x1_active && c.layer1x1_groups == 1;
        }
        c.head1x1_out_channels = c.channels;
        if (la.contains("head1x1") && !la["head1x1"].is_null()) {
            const json& h = la["head1x1"];
            if (!h.is_object()) {
                r.fail(where + "head1x1 must be an object {active, out_channels, groups}");
            }
            c.head1x1_active = r.bool_key(h, "active", where + "head1x1.");
            c.head1x1_out_channels = r.int_key(h, "out_channels", where + "head1x1.", 1, kMaxChannels);
            c.head1x1_groups = r.int_key(h, "groups", where + "head1x1.", 1, kMaxChannels);
            a1 = a1 && !c.head1x1_active;
        }
        static constexpr std::array<const char*, kFilmSlots> kFilmKeys{
            "conv_pre_film",        "conv_post_film",       "input_mixin_pre_film", "input_mixin_post_film",
            "activation_pre_film",  "activation_post_film", "layer1x1_post_film",   "head1x1_post_film"};
        for (std::size_t f = 0; f < kFilmSlots; ++f) {
            const char* key = kFilmKeys[f];
            if (!la.contains(key) || is_false_or_null(la[key])) {
                continue;
            }
            const json& fj = la[key];
            if (!fj.is_object()) {
                r.fail(where + key + " must be false or an object {active, shift, groups}");
            }
            FilmConfig fc;
            fc.active = fj.contains("active") ? r.bool_key(fj, "active", where + key + ".") : true;
            fc.shift = fj.contains("shift") ? r.bool_key(fj, "shift", where + key + ".") : true;
            if (fj.contains("groups")) {
                fc.groups = r.int_key(fj, "groups", where + key + ".", 1, kMaxChannels);
            }
            c.films[f] = fc;
            a1 = a1 && !fc.active;
        }
        if (c.films[kLayer1x1PostFilm].active && !c.layer1x1_active) {
            r.fail(where + "layer1x1_post_film is active while layer1x1.active is false");
        }
        if (c.films[kHead1x1PostFilm].active && !c.head1x1_active) {
            r.fail(where + "head1x1_post_film is active while head1x1.active is false");
        }
        if (la.contains("slimmable") && la["slimmable"].is_object()) {
            const json& s = la["slimmable"];
            const std::string method = s.contains("method") && s["method"].is_string() ? s["method"].get<std::string>()
                                                                                        : std::string();
            if (method != "slice_channels_uniform") {
                r.fail(where + "slimmable.method '" + method +
                       "' is not supported (supported: slice_channels_uniform)");
            }
            const json* allowed = nullptr;
            if (s.contains("kwargs") && s["kwargs"].is_object() && s["kwargs"].contains("allowed_channels")) {
                allowed = &s["kwargs"]["allowed_channels"];
            }
            if (allowed == nullptr || !allowed->is_array() || allowed->empty()) {
                r.fail(where + "slimmable.kwargs.allowed_channels must be a non-empty array");
            }
            for (std::size_t i = 0; i < allowed->size(); ++i) {
                const int v = static_cast<int>(r.int_in((*allowed)[i],
                                                        where + "slimmable.kwargs.allowed_channels[" +
                                                            std::to_string(i) + "]",
                                                        1, c.channels));
                if (!c.slimmable_channels.empty() && v <= c.slimmable_channels.back()) {
                    r.fail(where + "slimmable.kwargs.allowed_channels must be strictly ascending");
                }
                c.slimmable_channels.push_back(v);
            }
            if (c.slimmable_channels.back() != c.channels) {
                r.fail(where + "slimmable.kwargs.allowed_channels must end with the array's channels (" +
                       std::to_string(c.channels) + ")");
            }
            if (c.groups_input != 1 || c.groups_input_mixin != 1 || (c.layer1x1_active && c.layer1x1_groups != 1) ||
                (c.head1x1_active && c.head1x1_groups != 1)) {
                r.fail(where + "slimmable with grouped convolutions is not supported (the reference refuses it)");
            }
            if (c.head_kernel_size != 1) {
                r.fail(where + "slimmable with head.kernel_size > 1 is not supported (the reference refuses it)");
            }
            for (const auto& act : c.activations) {
                if (act.type == Activation::prelu && act.negative_slopes.size() != 1) {
                    r.fail(where + "slimmable with per-channel PReLU slopes is not supported");
                }
            }
            a1 = false;
        } else if (la.contains("slimmable") && !la["slimmable"].is_null()) {
            r.fail(where + "slimmable must be an object {method, kwargs{allowed_channels}}");
        }

        // Shapes and groups.
        const long long ch = c.channels;
        const long long bn = c.bottleneck;
        const long long cond = c.condition_size;
        if (c.condition_size != condition_dim) {
            r.fail(where + "condition_size = " + std::to_string(c.condition_size) + " but the condition has " +
                   std::to_string(condition_dim) +
                   (out.condition_dsp ? " channels (the condition_dsp output)" : " channel (the raw input)"));
        }
        for (std::size_t l = 0; l < n_layers; ++l) {
            const long long gb = (c.gating[l] == GatingMode::none ? 1 : 2) * bn;
            check_groups(r, where + "groups_input", c.groups_input, ch, gb);
            check_groups(r, where + "groups_input_mixin", c.groups_input_mixin, cond, gb);
        }
        if (c.layer1x1_active) {
            check_groups(r, where + "layer1x1.groups", c.layer1x1_groups, bn, ch);
        } else if (c.bottleneck != c.channels) {
            r.fail(where + "bottleneck != channels needs layer1x1 active");
        }
        if (c.head1x1_active) {
            check_groups(r, where + "head1x1.groups", c.head1x1_groups, bn, c.head1x1_out_channels);
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
            if (prev.head_size != c.head_input_size()) {
                r.fail("config.layers[" + std::to_string(a - 1) + "].head_size = " +
                       std::to_string(prev.head_size) + " does not match the next array's skip width (" +
                       std::to_string(c.head_input_size()) + ", its head1x1 out_channels or bottleneck)");
            }
        }

        // Weight count, in file order.
        count += c.input_size * ch;
        for (std::size_t l = 0; l < n_layers; ++l) {
            const long long gb = (c.gating[l] == GatingMode::none ? 1 : 2) * bn;
            count += ch * gb * c.kernel_sizes[l] / c.groups_input + gb;
            count += cond * gb / c.groups_input_mixin;
            if (c.layer1x1_active) {
                count += bn * ch / c.layer1x1_groups + ch;
            }
            if (c.head1x1_active) {
                count += bn * c.head1x1_out_channels / c.head1x1_groups + c.head1x1_out_channels;
            }
            const std::array<long long, kFilmSlots> dims{ch, gb, cond, gb, gb, bn, ch, c.head1x1_out_channels};
            for (std::size_t f = 0; f < kFilmSlots; ++f) {
                const FilmConfig& fc = c.films[f];
                if (!fc.active) {
                    continue;
                }
                const long long o = (fc.shift ? 2 : 1) * dims[f];
                check_groups(r, where + kFilmKeys[f] + ".groups", fc.groups, cond, o);
                count += cond * o / fc.groups + o;
            }
        }
        count += static_cast<long long>(c.head_input_size()) * c.head_size * c.head_kernel_size +
                 (c.head_bias ? c.head_size : 0);
        out.a1 = out.a1 && a1;
        out.layer_arrays.push_back(std::move(c));
    }

    int out_channels = out.layer_arrays.back().head_size;
    if (config.contains("head") && !config["head"].is_null()) {
        const json& h = config["head"];
        if (!h.is_object()) {
            r.fail("config.head must be null or an object {channels, out_channels, kernel_sizes, activation}");
        }
        WaveNetPostHead ph;
        ph.in_channels = out.layer_arrays.back().head_size;
        if (h.contains("in_channels") && !h["in_channels"].is_null() &&
            r.int_in(h["in_channels"], "config.head.in_channels", 1, kMaxChannels) != ph.in_channels) {
            r.fail("config.head.in_channels must equal the last layer array's head_size (" +
                   std::to_string(ph.in_channels) + ")");
        }
        ph.channels = r.int_key(h, "channels", "config.head.", 1, kMaxChannels);
        ph.out_channels = r.int_key(h, "out_channels", "config.head.", 1, kMaxChannels);
        const json& ks = r.need(h, "kernel_sizes", "config.head.");
        if (!ks.is_array() || ks.empty() || static_cast<long long>(ks.size()) > kMaxLayers) {
            r.fail("config.head.kernel_sizes must be a non-empty array");
        }
        for (std::size_t i = 0; i < ks.size(); ++i) {
            ph.kernel_sizes.push_back(static_cast<int>(
                r.int_in(ks[i], "config.head.kernel_sizes[" + std::to_string(i) + "]", 1, kMaxKernel)));
        }
        ph.activation = parse_activation_spec(r, r.need(h, "activation", "config.head."), "config.head.activation");
        int cin = ph.in_channels;
        for (std::size_t i = 0; i < ph.kernel_sizes.size(); ++i) {
            const int cout = i + 1 == ph.kernel_sizes.size() ? ph.out_channels : ph.channels;
            check_prelu(r, ph.activation, cin, "config.head.activation");
            count += static_cast<long long>(cin) * cout * ph.kernel_sizes[i] + cout;
            cin = cout;
        }
        out_channels = ph.out_channels;
        if (out.slimmable()) {
            r.fail("config.head: a post-stack head on a slimmable WaveNet is not supported (the reference refuses it)");
        }
        out.post_head = std::move(ph);
        out.a1 = false;
    }
    if (out_channels != 1 && context.find("condition_dsp") == std::string::npos) {
        r.fail(out.post_head ? "config.head.out_channels must be 1 (mono output)"
                             : "config.layers[" + std::to_string(out.layer_arrays.size() - 1) +
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

ContainerConfig parse_container(const Reader& r, const json& config, double sample_rate, const std::string& label,
                                const std::string& context);


NamFile parse_root(const json& root, const std::string& label, const std::string& context) {
    const Reader r(label, context);
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
    if (arch == "ConvNet" || arch == "Linear") {
        r.fail("architecture '" + arch + "' is not supported (supported: WaveNet, LSTM, SlimmableContainer)");
    }
    if (arch != "WaveNet" && arch != "LSTM" && arch != "SlimmableContainer") {
        r.fail("unknown architecture '" + arch + "' (supported: WaveNet, LSTM, SlimmableContainer)");
    }
    if (!root["config"].is_object()) {
        r.fail("config must be an object");
    }

    NamFile out;
    out.path = label;
    if (const auto it = root.find("sample_rate"); it != root.end() && !it->is_null()) {
        if (!it->is_number() || !(it->get<double>() > 0.0) || it->get<double>() > kMaxSampleRate) {
            r.fail("sample_rate must be a positive number up to 768000, got " + it->dump());
        }
        out.sample_rate_hz = it->get<double>();
        out.sample_rate_given = true;
    }
    long long expected = 0;
    // Features first, so that a file is refused naming what it uses.
    if (arch == "WaveNet") {
        out.config = parse_wavenet(r, root["config"], expected, out.sample_rate_hz, label, context);
    } else if (arch == "LSTM") {
        out.config = parse_lstm(r, root["config"], expected);
    } else {
        out.config = parse_container(r, root["config"], out.sample_rate_hz, label, context);
        expected = 0;
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
    // 0.5.0 .. 0.7.x, as the reference (a higher 0.7 patch is its "partial support").
    if (m[1].str() != "0" || (m[2].str() != "5" && m[2].str() != "6" && m[2].str() != "7")) {
        r.fail("format version " + out.version + " is not supported (this build reads 0.5.x to 0.7.x)");
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

ContainerConfig parse_container(const Reader& r, const json& config, double sample_rate, const std::string& label,
                                const std::string& context) {
    if (!context.empty()) {
        r.fail("a SlimmableContainer nested inside another model is not supported");
    }
    const json& subs = r.need(config, "submodels", "config.");
    if (!subs.is_array() || subs.empty() || subs.size() > 16) {
        r.fail("config.submodels must be a non-empty array (at most 16)");
    }
    ContainerConfig out;
    for (std::size_t i = 0; i < subs.size(); ++i) {
        const std::string where = "config.submodels[" + std::to_string(i) + "].";
        const json& s = subs[i];
        if (!s.is_object()) {
            r.fail(where.substr(0, where.size() - 1) + " must be an object {max_value, model}");
        }
        const json& mv = r.need(s, "max_value", where);
        if (!mv.is_number() || !std::isfinite(mv.get<double>())) {
            r.fail(where + "max_value must be a number");
        }
        ContainerConfig::Submodel sub;
        sub.max_value = mv.get<double>();
        if (!out.submodels.empty() && sub.max_value <= out.submodels.back().max_value) {
            r.fail(where + "max_value: submodels must be sorted by ascending max_value");
        }
        auto model = std::make_shared<NamFile>(parse_root(r.need(s, "model", where), label, where + "model."));
        if (model->sample_rate_given && model->sample_rate_hz != sample_rate) {
            r.fail(where + "model.sample_rate (" + std::to_string(model->sample_rate_hz) +
                   ") differs from the container's (" + std::to_string(sample_rate) + ")");
        }
        if (const auto* wn = std::get_if<WaveNetConfig>(&model->config); wn != nullptr && wn->slimmable()) {
            r.fail(where + "model: a slimmable WaveNet inside a container is not supported");
        }
        sub.model = std::move(model);
        out.submodels.push_back(std::move(sub));
    }
    if (out.submodels.back().max_value < 1.0) {
        r.fail("config.submodels: the last max_value must be >= 1.0");
    }
    return out;
}

} // namespace

NamFile parse_nam_json(std::string_view text, const std::string& label) {
    json root;
    try {
        root = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        // parse_error, and out_of_range for a number beyond double (1e400).
        throw NamLoadError(label, std::string("not valid JSON (truncated or corrupt?): ") + e.what());
    }
    return parse_root(root, label, "");
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
