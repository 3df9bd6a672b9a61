#include "control/preset_file.hpp"
#include "conv_reference.hpp"
#include "core/chain_builder.hpp"
#include "core/conv/cab_stage.hpp"
#include "core/conv/impulse_response.hpp"
#include "core/stage_factory.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <string>

using rigd::core::conv::CabStage;
using rigd::core::conv::ImpulseResponse;
using namespace rigd::test;

namespace {

std::filesystem::path irs_dir() { return source_dir() / "fixtures" / "irs"; }

double response_db(const std::vector<float>& h, double rate, double f) {
    std::complex<double> acc = 0.0;
    for (std::size_t n = 0; n < h.size(); ++n) {
        acc += static_cast<double>(h[n]) * std::polar(1.0, -2.0 * std::numbers::pi * f * static_cast<double>(n) / rate);
    }
    return 20.0 * std::log10(std::abs(acc));
}

} // namespace

TEST_CASE("the generated cabinet IRs are 48 kHz mono WAVs with a cabinet-like response") {
    for (const char* name : {"cab_4x12.wav", "cab_1x12.wav"}) {
        CAPTURE(name);
        const ImpulseResponse ir = ImpulseResponse::load_wav(irs_dir() / name);
        CHECK(ir.sample_rate_hz == 48000.0);
        CHECK(ir.source_channels == 1);
        CHECK(ir.samples.size() >= 4800);
        // Guitar band well above the extremes: the speaker's low-end
        // roll-off and the steep top roll-off every cab has.
        const double mid = response_db(ir.samples, 48000.0, 2500.0);
        CHECK(response_db(ir.samples, 48000.0, 40.0) < mid - 5.0);
        CHECK(response_db(ir.samples, 48000.0, 12000.0) < mid - 20.0);
    }
}

TEST_CASE("the cab demo presets load, build with their IRs and render finite, non-silent audio") {
    const auto& factory = rigd::core::StageFactory::builtin();
    const rigd::core::PathResolver resolve = [](std::string_view folder, std::string_view name) {
        REQUIRE(folder == "irs");
        return irs_dir() / std::string(name);
    };
    for (const char* name : {"cab_4x12.toml", "cab_1x12.toml"}) {
        CAPTURE(name);
        const auto preset = rigd::control::load_preset_file(source_dir() / "fixtures" / "presets" / name, factory);
        auto built = rigd::core::build_chain(preset, factory,
                                             rigd::core::ProcessSpec{.sample_rate_hz = 48000.0, .max_block_size = 128},
                                             resolve);
        CHECK(built.warnings.empty());
        const CabStage* cab = nullptr;
        for (auto* stage : built.stages) {
            if (stage->type() == "cab") {
                cab = dynamic_cast<const CabStage*>(stage);
            }
        }
        REQUIRE(cab != nullptr);
        CHECK(cab->has_ir());
        CHECK(cab->text(CabStage::kIrText).find(".wav") != std::string::npos);
        auto x = white_noise(48000, 91);
        for (float& v : x) {
            v *= 0.2f;
        }
        double energy = 0.0;
        bool finite = true;
        for (std::size_t pos = 0; pos < x.size(); pos += 128) {
            std::span<float> block(x.data() + pos, 128);
            built.chain->process_block(block);
            for (float v : block) {
                finite = finite && std::isfinite(v);
                energy += static_cast<double>(v) * v;
            }
        }
        CHECK(finite);
        CHECK(energy > 1.0);
    }
}
