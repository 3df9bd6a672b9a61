#include "daemon/render.hpp"

#include "control/library.hpp"
#include "control/preset_file.hpp"
#include "control/rig_controller.hpp"
#include "core/engine.hpp"
#include "core/stage_factory.hpp"

#include <sndfile.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

namespace rigd::daemon {

namespace {

struct SndfileCloser {
    void operator()(SNDFILE* f) const noexcept { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

class RenderError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::vector<float> read_mono(const std::string& path, int& rate) {
    SF_INFO info{};
    SndfilePtr f(sf_open(path.c_str(), SFM_READ, &info));
    if (!f) {
        throw RenderError(path + ": " + sf_strerror(nullptr));
    }
    if (info.frames <= 0 || info.channels <= 0) {
        throw RenderError(path + ": no audio frames");
    }
    if (info.frames > static_cast<sf_count_t>(3600) * 768000) {
        throw RenderError(path + ": longer than an hour; split it");
    }
    std::vector<float> interleaved(static_cast<std::size_t>(info.frames) * static_cast<std::size_t>(info.channels));
    const sf_count_t got = sf_readf_float(f.get(), interleaved.data(), info.frames);
    if (got != info.frames) {
        throw RenderError(path + ": read " + std::to_string(got) + " of " + std::to_string(info.frames) +
                          " frames (truncated file?)");
    }
    if (info.channels > 1) {
        spdlog::warn("{}: {} channels; rendering channel 1", path, info.channels);
    }
    std::vector<float> mono(static_cast<std::size_t>(info.frames));
    for (std::size_t i = 0; i < mono.size(); ++i) {
        mono[i] = interleaved[i * static_cast<std::size_t>(info.channels)];
    }
    rate = info.samplerate;
    return mono;
}

void write_stereo_atomically(const std::string& path, const std::vector<float>& left,
                             const std::vector<float>& right, int rate) {
    // Written beside the target and renamed: never a half-written OUT.wav.
    const std::filesystem::path target(path);
    const std::filesystem::path tmp =
        target.parent_path() / ("." + target.filename().string() + ".rendering");
    {
        SF_INFO info{};
        info.samplerate = rate;
        info.channels = 2;
        info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
        SndfilePtr f(sf_open(tmp.c_str(), SFM_WRITE, &info));
        if (!f) {
            throw RenderError(path + ": cannot write: " + sf_strerror(nullptr));
        }
        std::vector<float> frames(left.size() * 2);
        for (std::size_t i = 0; i < left.size(); ++i) {
            frames[2 * i] = left[i];
            frames[2 * i + 1] = right[i];
        }
        const auto n = static_cast<sf_count_t>(left.size());
        if (sf_writef_float(f.get(), frames.data(), n) != n) {
            const std::string why = sf_strerror(f.get());
            f.reset();
            std::filesystem::remove(tmp);
            throw RenderError(path + ": write failed: " + why);
        }
        sf_write_sync(f.get());
    }
    std::error_code ec;
    std::filesystem::rename(tmp, target, ec);
    if (ec) {
        std::filesystem::remove(tmp);
        throw RenderError(path + ": " + ec.message());
    }
}

} // namespace

int render(const Options& options, const control::Config& config) {
    try {
        const auto& factory = core::StageFactory::builtin();
        const core::Preset preset = control::load_preset_file(options.preset, factory);
        int file_rate = 0;
        const std::vector<float> input = read_mono(options.input, file_rate);
        const double rate = options.rate_hz.value_or(file_rate);
        if (rate != file_rate) {
            throw RenderError(options.input + ": sample rate is " + std::to_string(file_rate) +
                              " Hz but --rate asks for " + std::to_string(static_cast<int>(rate)) +
                              " Hz (render does not resample the input)");
        }
        core::Engine engine;
        const control::Library library(config.presets_dir, config.models_dir, config.irs_dir);
        control::RigController rig(engine, factory, library);
        const core::ProcessSpec spec{rate, options.block, preset.oversample};
        // A preset named on the command line may use absolute file paths.
        const auto warnings = rig.start(preset, spec, {}, true);
        if (!warnings.empty()) {
            for (const auto& w : warnings) {
                spdlog::error("{}: {}", options.preset, w);
            }
            return 2; // a render must be exactly the preset: no silent passthrough
        }
        std::vector<float> left(input.size());
        std::vector<float> right(input.size());
        for (std::size_t i = 0; i < input.size(); i += options.block) {
            const std::size_t n = std::min(options.block, input.size() - i);
            engine.process(std::span<const float>(input.data() + i, n), std::span<float>(left.data() + i, n),
                           std::span<float>(right.data() + i, n));
        }
        write_stereo_atomically(options.output, left, right, static_cast<int>(rate));
        const auto& c = engine.counters();
        if (c.nonfinite_stage.load() != 0 || c.nonfinite_input.load() != 0) {
            spdlog::warn("render: {} non-finite input samples, {} stage resets after non-finite output",
                         c.nonfinite_input.load(), c.nonfinite_stage.load());
        }
        spdlog::info("rendered {} frames at {} Hz, block {}: {} -> {}", input.size(), rate, options.block,
                     options.input, options.output);
        return 0;
    } catch (const std::exception& e) {
        spdlog::error("render: {}", e.what());
        return 2;
    }
}

} // namespace rigd::daemon
