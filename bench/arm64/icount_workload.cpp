// One workload, run for a given number of 128-frame blocks at 48 kHz, for
// counting instructions under qemu-user (scripts/arm64-icount). Everything
// before the first block (load, prepare, prewarm) is the same whatever the
// block count, so the counter runs each workload twice (n1 and n2 blocks)
// and divides the difference by n2 - n1: setup and exit cancel out.
//
//   icount_workload nam <model.nam> <blocks>
//   icount_workload chain <oversample> <blocks>
#include "core/amplifier_chain.hpp"
#include "core/denormals.hpp"
#include "core/nam/nam_loader.hpp"
#include "core/nam/nam_model.hpp"
#include "core/stage_factory.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

using rigd::core::AmplifierChain;
using rigd::core::ProcessSpec;

constexpr std::size_t kFrames = 128;
constexpr double kRate = 48000.0;

// A 110 Hz guitar-like tone: realistic signal levels for the nonlinear
// stages (and no denormal slow paths from silence).
std::vector<float> source_block(std::size_t block) {
    std::vector<float> x(kFrames);
    for (std::size_t i = 0; i < kFrames; ++i) {
        const double t = static_cast<double>(block * kFrames + i) / kRate;
        x[i] = static_cast<float>(0.3 * std::sin(2 * M_PI * 110 * t) + 0.1 * std::sin(2 * M_PI * 330.3 * t));
    }
    return x;
}

// The reference amp simulator's chain (bench/chain): filters, gate, comp,
// pre, tone, power, level.
// only >= 0: just that stage of the chain (its index), for a breakdown.
std::unique_ptr<AmplifierChain> reference_chain(int oversample, int only = -1) {
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
    rigd::core::StageFactory factory;
    rigd::core::register_basic_stages(factory);
    const ProcessSpec spec{kRate, kFrames, oversample};
    auto chain = std::make_unique<AmplifierChain>();
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

int usage() {
    std::fprintf(stderr, "usage: icount_workload nam <model.nam> <blocks> | chain <oversample> <blocks>\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) try {
    if (argc != 4) {
        return usage();
    }
    const std::string kind = argv[1];
    const long blocks = std::strtol(argv[3], nullptr, 10);
    rigd::core::flush_denormals_on_this_thread();
    // Inputs made before the counted loop: its cost must not depend on them.
    std::vector<std::vector<float>> inputs;
    for (std::size_t b = 0; b < 8; ++b) {
        inputs.push_back(source_block(b));
    }
    std::vector<float> out(kFrames);
    float checksum = 0.0f;
    if (kind == "nam") {
        auto model = rigd::core::nam::load_nam_model(argv[2], kFrames);
        model->prewarm();
        for (long b = 0; b < blocks; ++b) {
            model->process_buffer(inputs[static_cast<std::size_t>(b) % 8].data(), out.data(), kFrames);
            checksum += out[kFrames - 1];
        }
    } else if (kind == "chain") {
        auto chain = reference_chain(std::atoi(argv[2]));
        for (long b = 0; b < blocks; ++b) {
            out = inputs[static_cast<std::size_t>(b) % 8];
            chain->process_block(out);
            checksum += out[kFrames - 1];
        }
    } else if (kind.starts_with("stage")) {
        auto chain = reference_chain(std::atoi(argv[2]), std::atoi(kind.c_str() + 5));
        for (long b = 0; b < blocks; ++b) {
            out = inputs[static_cast<std::size_t>(b) % 8];
            chain->process_block(out);
            checksum += out[kFrames - 1];
        }
    } else {
        return usage();
    }
    // The checksum keeps the processing observable (never optimised away).
    std::printf("%s %s %ld blocks, checksum %.9g\n", argv[1], argv[2], blocks, static_cast<double>(checksum));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "icount_workload: %s\n", e.what());
    return 1;
}
