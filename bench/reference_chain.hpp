#pragma once

// The reference amp simulator's chain, the one every chain figure in
// bench/README.md is measured on (bench/chain, bench/arm64): filter HP
// 100 Hz -> filter LP 8 kHz -> gate -40 dB -> comp (2 ms, 100 ms, -15 dB,
// 3:1, +3 dB) -> pre (gain 6, soft) -> tone (british 0.6/0.7/0.6/0.5) ->
// power (0.5, ab, 0.3, 120 ms) -> level.
#include "core/amplifier_chain.hpp"
#include "core/stage_factory.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rigd::bench {

// only >= 0: just the stage at that index, for a stage-by-stage breakdown.
inline std::unique_ptr<core::AmplifierChain> reference_chain(const core::ProcessSpec& spec, int only = -1) {
    using P = std::vector<std::pair<std::string, float>>;
    const std::vector<std::pair<std::string, P>> stages{
        {"filter", {{"mode", 0}, {"cutoff_hz", 100}, {"order", 2}}},
        {"filter", {{"mode", 1}, {"cutoff_hz", 8000}, {"order", 2}}},
        {"gate", {{"threshold_db", -40}}},
        {"comp", {{"attack_ms", 2}, {"release_ms", 100}, {"threshold_db", -15}, {"ratio", 3}, {"makeup_db", 3}}},
        {"pre", {{"gain", 6}, {"clipper", 0}}},
        {"tone", {{"model", 1}, {"bass", 0.6f}, {"mid", 0.7f}, {"treble", 0.6f}, {"presence", 0.5f}}},
        {"power", {{"drive", 0.5f}, {"class", 1}, {"sag", 0.3f}, {"sag_release_ms", 120}}},
        {"level", {}},
    };
    core::StageFactory factory;
    core::register_basic_stages(factory);
    auto chain = std::make_unique<core::AmplifierChain>();
    chain->prepare(spec);
    int index = -1;
    for (const auto& [type, params] : stages) {
        if (++index != only && only >= 0) {
            continue;
        }
        auto s = factory.create(type);
        for (const auto& [name, value] : params) {
            s->set_param(s->find_param(name), value);
        }
        s->prepare(spec);
        chain->append(std::move(s));
    }
    return chain;
}

} // namespace rigd::bench
