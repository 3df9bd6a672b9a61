#pragma once

// Random format 0.6/0.7 WaveNet files for the fast-vs-naive checks: every
// feature drawn at random within the format's rules (kernel sizes 1-16,
// dilations, channels 1-16, every gating mode and activation, groups, FiLMs,
// head1x1, conv heads, a post-stack head, a condition_dsp). Deterministic
// for a seed.

#include "core/nam/nam_load_error.hpp"
#include "core/nam/nam_loader.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace rigd::test {

class RandomWaveNet {
public:
    // Odd seeds: "plain" layers (no FiLM, gating or head1x1), the fused path.
    explicit RandomWaveNet(std::uint32_t seed) : s_(seed * 2654435761u + 1u), plain_(seed % 2 == 1) {}

    // A whole .nam JSON text (weights included) and what its layers are.
    std::string make(bool allow_condition = true, bool allow_post_head = true) {
        nlohmann::json cfg;
        int cond = 1;
        if (allow_condition && pick(4) == 0) {
            RandomWaveNet inner(next());
            cond = 1 + pick(4);
            cfg["condition_dsp"] = nlohmann::json::parse(inner.make_with_out(cond));
        }
        const int arrays = 1 + pick(2);
        nlohmann::json layers = nlohmann::json::array();
        int prev_channels = 1;
        int next_channels = 1 + pick(16);
        for (int a = 0; a < arrays; ++a) {
            const bool last = a + 1 == arrays;
            const int ch = next_channels;
            next_channels = 1 + pick(8);
            nlohmann::json la;
            la["input_size"] = a == 0 ? 1 : prev_channels;
            la["condition_size"] = cond;
            la["channels"] = ch;
            // Later arrays take the previous head as their skip start: skip width = channels.
            const bool head1x1 = !plain_ && pick(3) == 0;
            int bn = a == 0 || head1x1 ? 1 + pick(16) : ch;
            const bool layer1x1 = bn != ch || pick(5) != 0;
            if (!layer1x1) {
                bn = ch;
            }
            la["bottleneck"] = bn;
            const int n = 1 + pick(4);
            nlohmann::json dil = nlohmann::json::array();
            nlohmann::json ks = nlohmann::json::array();
            nlohmann::json acts = nlohmann::json::array();
            nlohmann::json gates = nlohmann::json::array();
            nlohmann::json secs = nlohmann::json::array();
            bool any_gated = false;
            for (int i = 0; i < n; ++i) {
                dil.push_back(1 + pick(pick(2) == 0 ? 3 : 40));
                ks.push_back(1 + pick(16));
                acts.push_back(activation(bn));
                const int g = pick(3);
                gates.push_back(g == 0 || plain_ ? "none" : (g == 1 ? "gated" : "blended"));
                any_gated = any_gated || (g != 0 && !plain_);
                secs.push_back(activation(bn));
            }
            la["dilations"] = dil;
            la["kernel_sizes"] = ks;
            la["activation"] = acts;
            la["gating_mode"] = gates;
            la["secondary_activation"] = secs;
            const int gb = (any_gated ? 2 : 1) * bn; // groups must divide both widths
            la["groups_input"] = divisor(std::gcd(ch, std::gcd(bn, gb)));
            la["groups_input_mixin"] = divisor(std::gcd(cond, bn));
            la["layer1x1"] = {{"active", layer1x1}, {"groups", divisor(std::gcd(bn, ch))}};
            const int h1 = a == 0 ? 1 + pick(8) : ch;
            la["head1x1"] = {{"active", head1x1}, {"out_channels", h1}, {"groups", divisor(std::gcd(bn, h1))}};
            const int skip = head1x1 ? h1 : bn;
            if (a > 0 && skip != ch) {
                la["head1x1"] = {{"active", true}, {"out_channels", ch}, {"groups", 1}};
            }
            const int head_size = last ? 1 : next_channels;
            if (pick(2) == 0) {
                la["head"] = {{"out_channels", head_size},
                              {"kernel_size", 1 + pick(6)},
                              {"bias", pick(2) == 0},
                              {"head_dilation", 1 + pick(3)}};
            } else {
                la["head_size"] = head_size;
                la["head_bias"] = pick(2) == 0;
            }
            const int h1_now = la["head1x1"]["out_channels"].get<int>();
            const std::pair<const char*, int> films[] = {
                {"conv_pre_film", ch},       {"conv_post_film", bn},       {"input_mixin_pre_film", cond},
                {"input_mixin_post_film", bn}, {"activation_pre_film", bn}, {"activation_post_film", bn},
                {"layer1x1_post_film", ch},  {"head1x1_post_film", h1_now}};
            for (const auto& [key, dim] : films) {
                const std::string k = key;
                const bool allowed = (k != "layer1x1_post_film" || layer1x1) &&
                                     (k != "head1x1_post_film" || la["head1x1"]["active"].get<bool>());
                if (allowed && !plain_ && pick(3) == 0) {
                    la[key] = {{"active", true}, {"shift", pick(2) == 0}, {"groups", divisor(std::gcd(cond, dim))}};
                }
            }
            prev_channels = ch;
            layers.push_back(la);
        }
        cfg["layers"] = layers;
        cfg["head_scale"] = 0.5;
        if (allow_post_head && pick(4) == 0) {
            cfg["head"] = {{"channels", 1 + pick(4)},
                           {"out_channels", 1},
                           {"kernel_sizes", nlohmann::json::array({1 + pick(4), 1 + pick(3)})},
                           {"activation", activation(1)}};
        }
        return with_weights(cfg);
    }

private:
    // A WaveNet with `out` output channels (a condition model).
    std::string make_with_out(int out) {
        nlohmann::json la;
        la["input_size"] = 1;
        la["condition_size"] = 1;
        const int ch = 1 + pick(4);
        const int k = 1 + pick(4);
        const bool gated = pick(2) == 0;
        la["channels"] = ch;
        la["kernel_size"] = k;
        la["dilations"] = nlohmann::json::array({1, 1 + pick(5)});
        la["activation"] = activation(ch);
        la["gated"] = gated;
        la["head_size"] = out;
        la["head_bias"] = true;
        nlohmann::json cfg;
        cfg["layers"] = nlohmann::json::array({la});
        cfg["head_scale"] = 1.0;
        // A multi-channel model is valid only as a condition: count here (A1 formula).
        const int g = gated ? 2 : 1;
        const long long count = ch + 2LL * (ch * g * ch * k + g * ch + g * ch + ch * ch + ch) + ch * out + out + 1;
        return with_weights(cfg, count);
    }

    std::string with_weights(const nlohmann::json& cfg, long long known_count = -1) {
        nlohmann::json root;
        root["version"] = "0.7.0";
        root["architecture"] = "WaveNet";
        root["sample_rate"] = 48000;
        root["config"] = cfg;
        root["weights"] = nlohmann::json::array();
        // The loader names the count the config needs.
        long long count = known_count;
        try {
            if (count >= 0) {
                throw core::nam::NamLoadError("", "needs " + std::to_string(count));
            }
            (void)core::nam::parse_nam_json(root.dump(), "random.nam");
        } catch (const core::nam::NamLoadError& e) {
            const std::string p = e.problem();
            const auto at = p.find("needs ");
            if (at == std::string::npos) {
                throw;
            }
            count = std::stoll(p.substr(at + 6));
        }
        nlohmann::json w = nlohmann::json::array();
        for (long long i = 0; i < count; ++i) {
            w.push_back(i + 1 == count ? 0.5 : 0.6 * (2.0 * uniform() - 1.0));
        }
        root["weights"] = w;
        return root.dump();
    }

    nlohmann::json activation(int channels) {
        switch (pick(11)) {
        case 0: return "Tanh";
        case 1: return "Fasttanh";
        case 2: return "Hardtanh";
        case 3: return {{"type", "LeakyHardtanh"}, {"min_val", -0.5}, {"max_val", 0.7}, {"min_slope", 0.1},
                        {"max_slope", 0.05}};
        case 4: return "ReLU";
        case 5: return {{"type", "LeakyReLU"}, {"negative_slope", 0.2}};
        case 6: {
            nlohmann::json slopes = nlohmann::json::array();
            for (int i = 0; i < channels; ++i) {
                slopes.push_back(0.05 * (i + 1));
            }
            return {{"type", "PReLU"}, {"negative_slopes", slopes}};
        }
        case 7: return "Sigmoid";
        case 8: return "SiLU";
        case 9: return "Hardswish";
        default: return "Softsign";
        }
    }
    int divisor(int n) {
        std::vector<int> d;
        for (int i = 1; i <= n; ++i) {
            if (n % i == 0) {
                d.push_back(i);
            }
        }
        return d[static_cast<std::size_t>(pick(static_cast<int>(d.size())))];
    }
    std::uint32_t next() {
        s_ = s_ * 1664525u + 1013904223u;
        return s_;
    }
    double uniform() { return static_cast<double>(next() >> 8) / 16777216.0; }
    int pick(int n) { return static_cast<int>(uniform() * n); }

    std::uint32_t s_;
    bool plain_ = false;
};

} // namespace rigd::test
