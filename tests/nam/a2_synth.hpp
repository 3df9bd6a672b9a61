#pragma once

// The official A2 layouts (NAM-FORMAT.md section 3) with deterministic random
// weights, as .nam JSON text: the shapes the A2 release files have (the
// release file itself is not in ../shared/models).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace rigd::test {

// One A2 WaveNet: 23 layers, K 6 (15 in layers 15-16), LeakyReLU(0.01),
// head conv K 16 with bias, head_scale 0.01.
inline nlohmann::json a2_wavenet_json(int channels, std::uint32_t seed) {
    nlohmann::json dil = nlohmann::json::array();
    nlohmann::json ks = nlohmann::json::array();
    const int base[] = {1, 3, 7, 17, 41, 101, 239};
    for (int r = 0; r < 2; ++r) {
        for (const int d : base) {
            dil.push_back(d);
            ks.push_back(6);
        }
    }
    for (const int d : {1, 13}) {
        dil.push_back(d);
        ks.push_back(15);
    }
    for (const int d : base) {
        dil.push_back(d);
        ks.push_back(6);
    }
    nlohmann::json la = {{"input_size", 1},
                         {"condition_size", 1},
                         {"channels", channels},
                         {"bottleneck", channels},
                         {"kernel_sizes", ks},
                         {"dilations", dil},
                         {"activation", {{"type", "LeakyReLU"}, {"negative_slope", 0.01}}},
                         {"gating_mode", "none"},
                         {"layer1x1", {{"active", true}, {"groups", 1}}},
                         {"head1x1", {{"active", false}, {"out_channels", channels}, {"groups", 1}}},
                         {"head", {{"out_channels", 1}, {"kernel_size", 16}, {"bias", true}}}};
    // Per array: C + sum_l (C*C*K + 4C... ) computed by the loader; here the count.
    long long count = channels;
    for (const auto& k : ks) {
        count += static_cast<long long>(channels) * channels * k.get<int>() + channels + channels +
                 static_cast<long long>(channels) * channels + channels;
    }
    count += channels * 16 + 1 + 1;
    std::uint32_t s = seed * 2654435761u + 7u;
    nlohmann::json w = nlohmann::json::array();
    for (long long i = 0; i < count; ++i) {
        s = s * 1664525u + 1013904223u;
        const double u = static_cast<double>(s >> 8) / 16777216.0;
        w.push_back(i + 1 == count ? 0.01 : (2.0 * u - 1.0) * 0.9 / channels);
    }
    return {{"version", "0.7.0"},
            {"architecture", "WaveNet"},
            {"sample_rate", 48000},
            {"config", {{"layers", nlohmann::json::array({la})}, {"head", nullptr}, {"head_scale", 0.01}}},
            {"weights", w}};
}

// The release layout: a SlimmableContainer of A2-Lite (3 ch) and A2-Full (8 ch).
inline std::string a2_container_text() {
    nlohmann::json c = {{"version", "0.7.0"},
                        {"architecture", "SlimmableContainer"},
                        {"sample_rate", 48000},
                        {"weights", nlohmann::json::array()},
                        {"config",
                         {{"submodels",
                           nlohmann::json::array({{{"max_value", 0.5}, {"model", a2_wavenet_json(3, 11)}},
                                                  {{"max_value", 1.0}, {"model", a2_wavenet_json(8, 12)}}})}}}};
    return c.dump();
}

} // namespace rigd::test
