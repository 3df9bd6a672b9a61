// WAV impulse responses: the bytes are written to a file and loaded through
// libsndfile (ImpulseResponse::load_wav). A refusal is an IrLoadError naming
// the file; an accepted IR is finite, non-empty, within the length and rate
// limits, and survives our resampling, trimming and normalisation (finite,
// the documented lengths) and a cab stage built from it (finite output).

#include "core/conv/cab_stage.hpp"
#include "core/conv/impulse_response.hpp"
#include "core/conv/ir_load_error.hpp"
#include "fuzz_check.hpp"

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

using rigd::core::conv::ImpulseResponse;
using rigd::fuzz::require;

namespace {

const std::filesystem::path& scratch_file() {
    static const std::filesystem::path p = [] {
        const char* shm = "/dev/shm";
        const std::filesystem::path dir = std::filesystem::is_directory(shm) ? shm : std::filesystem::temp_directory_path();
        return dir / ("rigd-fuzz-ir-" + std::to_string(::getpid()) + ".wav");
    }();
    return p;
}

struct RemoveAtExit {
    ~RemoveAtExit() {
        std::error_code ec;
        std::filesystem::remove(scratch_file(), ec);
    }
} g_remove;

void require_finite(const ImpulseResponse& ir, const char* what) {
    for (const float v : ir.samples) {
        require(std::isfinite(v), what);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto& path = scratch_file();
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    ImpulseResponse ir;
    try {
        ir = ImpulseResponse::load_wav(path);
    } catch (const rigd::core::conv::IrLoadError& e) {
        require(e.file() == path, "IrLoadError::file() is the loaded file");
        rigd::fuzz::require_names(e.what(), path.string(), "refused IR");
        return 0;
    }
    require(!ir.samples.empty(), "an accepted IR has samples");
    require(ir.sample_rate_hz >= ImpulseResponse::kMinRateHz && ir.sample_rate_hz <= ImpulseResponse::kMaxRateHz,
            "an accepted IR's rate is within the limits");
    require(static_cast<double>(ir.samples.size()) <= ImpulseResponse::kMaxSeconds * ir.sample_rate_hz + 1.0,
            "an accepted IR is at most kMaxSeconds long");
    require(ir.source_channels == 1 || ir.source_channels == 2, "mono or stereo");
    require_finite(ir, "an accepted IR is finite");

    // Our shaping, as the cab stage does it: resample to the session rate,
    // trim, normalise.
    const double rate = (size % 2 == 0) ? 48000.0 : 44100.0;
    ImpulseResponse at_rate = ir.sample_rate_hz == rate ? ir : ir.resampled(rate);
    require(at_rate.sample_rate_hz == rate, "resampled IR has the asked rate");
    const double expected = static_cast<double>(ir.samples.size()) * rate / ir.sample_rate_hz;
    require(std::fabs(static_cast<double>(at_rate.samples.size()) - expected) <= 2.0 + 1e-3 * expected,
            "resampled length is the duration at the new rate");
    require_finite(at_rate, "a resampled IR is finite");
    const double max_ms = static_cast<double>(data[size / 2] % 64) * 2.0; // 0 (all) .. 126 ms
    const std::size_t before = at_rate.samples.size();
    at_rate.trim(max_ms);
    if (max_ms > 0.0) {
        const auto keep = static_cast<std::size_t>(std::max(1.0, std::round(max_ms * 0.001 * rate)));
        require(at_rate.samples.size() == std::min(before, keep), "trim keeps max_ms");
    } else {
        require(at_rate.samples.size() == before, "trim(0) keeps everything");
    }
    require_finite(at_rate, "a trimmed IR is finite");
    const double gain = at_rate.energy_normalization_gain();
    require(std::isfinite(gain) && gain > 0.0, "normalisation gain is finite and positive");

    // The whole path of a cab stage: set_text loads and builds; a block runs.
    rigd::core::conv::CabStage cab;
    cab.prepare(rigd::core::ProcessSpec{rate, 64, 1});
    cab.set_text(0, "input.wav", path);
    require(cab.has_ir(), "the cab stage holds the IR");
    std::array<float, 64> block{};
    block[0] = 1.0f;
    cab.process_block(block);
    for (const float v : block) {
        require(std::isfinite(v), "cab output is finite");
    }
    return 0;
}
