#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

namespace rigd::core::conv {

// A mono impulse response at a known rate. Loading, conversion and shaping
// run off the RT thread only.
struct ImpulseResponse {
    static constexpr double kMaxSeconds = 10.0;        // longer files are refused
    static constexpr double kMinRateHz = 8000.0;       // accepted file rates
    static constexpr double kMaxRateHz = 384000.0;
    static constexpr float kSilenceThreshold = 1e-6f;  // peak below this (-120 dBFS): silent
    static constexpr float kMaxPeak = 1000.0f;          // +60 dBFS: beyond this a float file is corrupt
    static constexpr double kTrimFadeMs = 5.0;         // fade-out at a max_ms trim

    std::vector<float> samples;
    double sample_rate_hz = 48000.0;
    int source_channels = 1; // channels in the file (stereo is mixed to mono)

    // Reads a WAV file (RIFF/WAVE, WAVE_FORMAT_EXTENSIBLE or RF64; 8/16/24/32-
    // bit integer, 32/64-bit float; mono, or stereo mixed to mono as the mean
    // of both channels) through libsndfile. Throws IrLoadError naming the file
    // when it is missing, unreadable, not WAV, corrupt, empty, longer than
    // kMaxSeconds, has more than two channels, holds NaN/Inf, peaks beyond
    // kMaxPeak or is silent.
    [[nodiscard]] static ImpulseResponse load_wav(const std::filesystem::path& path);

    // The same response at `rate_hz` (libsamplerate, best sinc quality).
    // Values are scaled by old/new rate so the frequency response (not the
    // sample values) is preserved.
    [[nodiscard]] ImpulseResponse resampled(double rate_hz) const;

    // Keeps the first max_ms milliseconds (0 = all) with a kTrimFadeMs
    // raised-cosine fade-out at the cut so it does not click.
    void trim(double max_ms);

    // Gain that gives the response unit energy referred to 48 kHz:
    // sum(h^2) * sample_rate / 48000 == 1, i.e. a full-band (white) signal
    // keeps its RMS level and the result is the same at every session rate.
    [[nodiscard]] double energy_normalization_gain() const noexcept;

    // load_wav + resampled(rate_hz) (skipped when the rates match).
    [[nodiscard]] static ImpulseResponse load(const std::filesystem::path& path, double rate_hz);
};

} // namespace rigd::core::conv
