#pragma once

#include "core/conv/aligned_buffer.hpp"
#include "core/conv/real_fft.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace rigd::core::tuner {

struct PitchReading {
    double frequency_hz = 0.0;
    std::string_view note;  // "C", "C#", ... "B" (sharps only); static storage
    int octave = 0;         // scientific pitch: A4 = 440 Hz, C4 = middle C
    int midi_note = 0;      // nearest equal-tempered note (69 = A4)
    double cents = 0.0;     // -50..+50 off that note
    float clarity = 0.0f;   // 0..1: height of the normalised autocorrelation peak
};

struct PitchDetectorSettings {
    double min_hz = 30.0;            // drop-tuned low B is 30.87 Hz
    double max_hz = 1500.0;
    double reference_hz = 440.0;     // A4
    float min_clarity = 0.80f;       // below: noise, chords, or a note dying out
    float silence_rms = 1.0e-3f;     // about -60 dBFS
};

// Monophonic pitch detection with the McLeod pitch method: the normalised
// square difference function (NSDF) n(tau) = 2 r(tau) / m(tau) computed with
// an FFT autocorrelation, the first "key maximum" within kKeyMaxRatio of the
// highest one (that choice is what avoids octave errors on tones with a weak
// fundamental), then the three NSDF values around that lag recomputed
// directly in double precision and a parabola through them for the
// sub-sample period.
//
// prepare() allocates and plans the FFT; detect() never allocates, so a
// tuner thread may call it at any rate. Not thread-safe: one detector per
// thread.
class PitchDetector {
public:
    static constexpr double kKeyMaxRatio = 0.90;

    PitchDetector() = default;
    explicit PitchDetector(const PitchDetectorSettings& settings) : settings_(settings) {}

    // Off the RT thread. Throws std::invalid_argument for a non-positive
    // rate or a settings range that cannot work at that rate.
    void prepare(double sample_rate_hz);

    // Changes only the note naming (A4); RT- and detect()-safe.
    void set_reference_hz(double reference_hz) noexcept;
    [[nodiscard]] const PitchDetectorSettings& settings() const noexcept { return settings_; }

    // How many of the most recent input samples detect() wants: two periods
    // of min_hz, rounded up to a power of two (4096 at 44.1 and 48 kHz).
    // Longer windows are cut to their newest window_size() samples; shorter
    // ones work for notes whose period fits twice.
    [[nodiscard]] std::size_t window_size() const noexcept { return window_size_; }
    [[nodiscard]] double sample_rate_hz() const noexcept { return sample_rate_; }

    // nullopt for silence, noise or no clear pitch in min_hz..max_hz.
    [[nodiscard]] std::optional<PitchReading> detect(std::span<const float> window) noexcept;

    // The note naming of detect(), for a known frequency (a non-positive or
    // non-finite one gives midi_note 0, cents 0).
    [[nodiscard]] PitchReading describe(double frequency_hz, float clarity) const noexcept;

private:
    [[nodiscard]] double nsdf_direct(std::size_t n, std::size_t tau) const noexcept;

    PitchDetectorSettings settings_;
    double sample_rate_ = 0.0;
    std::size_t window_size_ = 0;
    std::size_t max_lag_ = 0;
    conv::RealFft fft_;
    conv::AlignedBuffer time_;
    conv::AlignedBuffer spectrum_;
    std::vector<double> signal_; // the window, mean removed, in double
    std::vector<double> nsdf_;
};

} // namespace rigd::core::tuner
