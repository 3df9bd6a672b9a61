// One workload, run for a given number of 128-frame blocks at 48 kHz, for
// counting instructions under qemu-user (scripts/arm64-icount). Everything
// before the first block (load, prepare, prewarm) is the same whatever the
// block count, so the counter runs each workload twice (n1 and n2 blocks)
// and divides the difference by n2 - n1: setup and exit cancel out.
//
//   icount_workload nam <model.nam> <blocks>
//   icount_workload chain <oversample> <blocks>
//   icount_workload stage<N> <oversample> <blocks>   stage N of the chain alone
//   icount_workload cab <ir_seconds> <blocks>        the cab stage, a made-up IR
//   icount_workload preset <preset.toml> <blocks>    as `rigd render` runs it
// For `preset`, RIGD_MODELS_DIR and RIGD_IRS_DIR name the folders its files
// are looked up in (default: the daemon's). RIGD_FFTW_WISDOM names a wisdom
// file, loaded before and saved after set-up: FFTW_MEASURE planning times
// candidate plans, so without wisdom the set-up's instruction count changes
// from run to run and no longer cancels out of the two runs' difference.
#include "control/config.hpp"
#include "control/library.hpp"
#include "control/preset_file.hpp"
#include "control/rig_controller.hpp"
#include "core/amplifier_chain.hpp"
#include "reference_chain.hpp"
#include "core/conv/cab_stage.hpp"
#include "core/conv/real_fft.hpp"
#include "core/engine.hpp"
#include "core/denormals.hpp"
#include "core/nam/nam_loader.hpp"
#include "core/nam/nam_model.hpp"
#include "core/stage_factory.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <random>
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

// A cabinet-like IR made here (nothing to ship): white noise under an
// exponential decay (-60 dB at the end), fixed seed.
rigd::core::conv::ImpulseResponse decaying_noise(double seconds) {
    rigd::core::conv::ImpulseResponse ir;
    ir.sample_rate_hz = kRate;
    ir.samples.resize(static_cast<std::size_t>(seconds * kRate));
    std::mt19937 rng(20261126);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    const double tau = static_cast<double>(ir.samples.size()) / std::log(1000.0);
    for (std::size_t i = 0; i < ir.samples.size(); ++i) {
        ir.samples[i] = noise(rng) * static_cast<float>(std::exp(-static_cast<double>(i) / tau));
    }
    return ir;
}

const char* env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : fallback;
}

int usage() {
    std::fprintf(stderr, "usage: icount_workload nam <model.nam> <blocks> | chain <oversample> <blocks> | stage<N> "
                         "<oversample> <blocks> | cab <ir_seconds> <blocks> | preset <preset.toml> <blocks>\n");
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
    const char* wisdom = std::getenv("RIGD_FFTW_WISDOM");
    if (wisdom != nullptr) {
        (void)rigd::core::conv::RealFft::load_wisdom(wisdom);
    }
    const auto save_wisdom = [wisdom] {
        if (wisdom != nullptr && !rigd::core::conv::RealFft::save_wisdom(wisdom)) {
            std::fprintf(stderr, "icount_workload: cannot write %s\n", wisdom);
        }
    };
    if (kind == "nam") {
        auto model = rigd::core::nam::load_nam_model(argv[2], kFrames);
        model->prewarm();
        for (long b = 0; b < blocks; ++b) {
            model->process_buffer(inputs[static_cast<std::size_t>(b) % 8].data(), out.data(), kFrames);
            checksum += out[kFrames - 1];
        }
    } else if (kind == "chain") {
        auto chain = rigd::bench::reference_chain(ProcessSpec{kRate, kFrames, std::atoi(argv[2])});
        for (long b = 0; b < blocks; ++b) {
            out = inputs[static_cast<std::size_t>(b) % 8];
            chain->process_block(out);
            checksum += out[kFrames - 1];
        }
    } else if (kind.starts_with("stage")) {
        auto chain = rigd::bench::reference_chain(ProcessSpec{kRate, kFrames, std::atoi(argv[2])}, std::atoi(kind.c_str() + 5));
        for (long b = 0; b < blocks; ++b) {
            out = inputs[static_cast<std::size_t>(b) % 8];
            chain->process_block(out);
            checksum += out[kFrames - 1];
        }
    } else if (kind == "cab") {
        // The cab stage at its defaults (normalised), in a chain like any stage.
        auto cab = std::make_unique<rigd::core::conv::CabStage>();
        cab->set_impulse_response(decaying_noise(std::strtod(argv[2], nullptr)), "decaying-noise");
        const ProcessSpec spec{kRate, kFrames, 1};
        cab->prepare(spec);
        auto chain = std::make_unique<AmplifierChain>();
        chain->prepare(spec);
        chain->append(std::move(cab));
        save_wisdom();
        for (long b = 0; b < blocks; ++b) {
            out = inputs[static_cast<std::size_t>(b) % 8];
            chain->process_block(out);
            checksum += out[kFrames - 1];
        }
    } else if (kind == "preset") {
        // What `rigd render` does (daemon/render.cpp): the preset through the
        // rig controller into the engine, one engine.process per period.
        const auto& factory = rigd::core::StageFactory::builtin();
        const rigd::core::Preset preset = rigd::control::load_preset_file(argv[2], factory);
        const rigd::control::Config defaults;
        const rigd::control::Library library(defaults.presets_dir,
                                             env_or("RIGD_MODELS_DIR", defaults.models_dir.c_str()),
                                             env_or("RIGD_IRS_DIR", defaults.irs_dir.c_str()));
        rigd::core::Engine engine;
        rigd::control::RigController rig(engine, factory, library);
        const ProcessSpec spec{kRate, kFrames, preset.oversample};
        const auto warnings = rig.start(preset, spec, {}, true);
        if (!warnings.empty()) {
            for (const auto& w : warnings) {
                std::fprintf(stderr, "icount_workload: %s: %s\n", argv[2], w.c_str());
            }
            return 1; // counting anything but the whole preset would mislead
        }
        save_wisdom();
        std::vector<float> right(kFrames);
        for (long b = 0; b < blocks; ++b) {
            engine.process(inputs[static_cast<std::size_t>(b) % 8], out, right);
            checksum += out[kFrames - 1] + right[kFrames - 1];
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
