#include "core/tuner/pitch_detector.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace rigd::core::tuner {

namespace {

constexpr std::array<std::string_view, 12> kNoteNames{"C", "C#", "D", "D#", "E", "F",
                                                      "F#", "G", "G#", "A", "A#", "B"};

std::size_t next_pow2(std::size_t n) {
    std::size_t p = 1;
    while (p < n) {
        p <<= 1;
    }
    return p;
}

} // namespace

void PitchDetector::prepare(double sample_rate_hz) {
    if (!(sample_rate_hz > 0.0) || !std::isfinite(sample_rate_hz)) {
        throw std::invalid_argument("PitchDetector: sample rate must be positive");
    }
    const auto& s = settings_;
    if (!(s.min_hz > 0.0) || !(s.max_hz > s.min_hz) || !(s.max_hz < sample_rate_hz / 4.0) ||
        !(s.reference_hz > 0.0) || !(s.min_clarity > 0.0f && s.min_clarity <= 1.0f) || !(s.silence_rms >= 0.0f)) {
        throw std::invalid_argument("PitchDetector: settings out of range for this sample rate");
    }
    sample_rate_ = sample_rate_hz;
    const double longest_period = sample_rate_hz / s.min_hz;
    window_size_ = next_pow2(static_cast<std::size_t>(std::ceil(2.0 * longest_period)));
    // A little past the longest period so the peak of a min_hz note is seen
    // falling on both sides.
    max_lag_ = std::min(window_size_ / 2, static_cast<std::size_t>(std::ceil(1.2 * longest_period)) + 2);
    // Zero-padding to twice the window makes the circular autocorrelation linear.
    const std::size_t fft_size = 2 * window_size_;
    fft_.prepare(fft_size, conv::RealFft::Effort::estimate);
    time_.resize(fft_size);
    spectrum_.resize(2 * fft_.stride());
    signal_.assign(window_size_, 0.0);
    nsdf_.assign(max_lag_ + 2, 0.0);
}

void PitchDetector::set_reference_hz(double reference_hz) noexcept {
    if (reference_hz > 0.0 && std::isfinite(reference_hz)) {
        settings_.reference_hz = reference_hz;
    }
}

PitchReading PitchDetector::describe(double frequency_hz, float clarity) const noexcept {
    PitchReading r;
    r.frequency_hz = frequency_hz;
    r.clarity = clarity;
    if (!(frequency_hz > 0.0) || !std::isfinite(frequency_hz)) {
        r.note = kNoteNames[0];
        return r; // no note for that; keeps the int conversions below defined
    }
    const double midi = 69.0 + 12.0 * std::log2(frequency_hz / settings_.reference_hz);
    const double nearest = std::round(midi);
    r.midi_note = static_cast<int>(nearest);
    r.cents = 100.0 * (midi - nearest);
    // Floor division keeps negative MIDI numbers (below C-1) well defined.
    const int octave_index = r.midi_note >= 0 ? r.midi_note / 12 : -((11 - r.midi_note) / 12);
    r.note = kNoteNames[static_cast<std::size_t>(r.midi_note - 12 * octave_index)];
    r.octave = octave_index - 1;
    return r;
}

double PitchDetector::nsdf_direct(std::size_t n, std::size_t tau) const noexcept {
    double r = 0.0;
    double m = 0.0;
    const double* x = signal_.data();
    for (std::size_t j = 0; j + tau < n; ++j) {
        r += x[j] * x[j + tau];
        m += x[j] * x[j] + x[j + tau] * x[j + tau];
    }
    return m > 0.0 ? 2.0 * r / m : 0.0;
}

std::optional<PitchReading> PitchDetector::detect(std::span<const float> window) noexcept {
    if (window_size_ == 0) {
        return std::nullopt; // not prepared
    }
    const std::size_t n = std::min(window.size(), window_size_);
    const std::size_t lag_limit = std::min(max_lag_, n / 2);
    const auto shortest_period = static_cast<std::size_t>(std::floor(sample_rate_ / settings_.max_hz));
    if (lag_limit < shortest_period + 2) {
        return std::nullopt;
    }
    const std::span<const float> input = window.last(n);

    // Mean removal: a DC offset would lift every lag of the NSDF.
    double mean = 0.0;
    for (const float v : input) {
        if (!std::isfinite(v)) {
            return std::nullopt;
        }
        mean += v;
    }
    mean /= static_cast<double>(n);
    double energy = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        signal_[i] = static_cast<double>(input[i]) - mean;
        energy += signal_[i] * signal_[i];
    }
    const double rms = std::sqrt(energy / static_cast<double>(n));
    if (rms < static_cast<double>(settings_.silence_rms) || rms == 0.0) {
        return std::nullopt;
    }

    // Autocorrelation r(tau) by FFT. Scaled to unit RMS first so single
    // precision keeps its relative accuracy; the final lags are recomputed
    // in double anyway.
    const double scale = 1.0 / rms;
    float* t = time_.data();
    for (std::size_t i = 0; i < n; ++i) {
        t[i] = static_cast<float>(signal_[i] * scale);
    }
    std::fill(t + n, t + time_.size(), 0.0f);
    fft_.forward(t, spectrum_.data());
    float* re = spectrum_.data();
    float* im = spectrum_.data() + fft_.stride();
    for (std::size_t k = 0; k <= fft_.size() / 2; ++k) {
        re[k] = re[k] * re[k] + im[k] * im[k];
        im[k] = 0.0f;
    }
    fft_.inverse(spectrum_.data(), t);
    const double r_scale = rms * rms / static_cast<double>(fft_.size());

    // m(tau) = sum over the overlap of x[j]^2 + x[j+tau]^2, updated per lag.
    double m = 2.0 * energy;
    for (std::size_t tau = 0; tau <= lag_limit; ++tau) {
        if (tau > 0) {
            m -= signal_[tau - 1] * signal_[tau - 1] + signal_[n - tau] * signal_[n - tau];
        }
        nsdf_[tau] = m > 0.0 ? 2.0 * static_cast<double>(t[tau]) * r_scale / m : 0.0;
    }

    // Key maxima: the highest point of each positive lobe after the NSDF
    // first goes negative. Remember the best and pick the first lobe that
    // comes close to it: later lobes are multiples of the period, earlier
    // weak ones are harmonics.
    constexpr std::size_t kMaxKeys = 128;
    std::array<std::size_t, kMaxKeys> keys{};
    std::size_t key_count = 0;
    double best = 0.0;
    std::size_t tau = 1;
    while (tau <= lag_limit && nsdf_[tau] > 0.0) {
        ++tau;
    }
    while (tau <= lag_limit && key_count < kMaxKeys) {
        while (tau <= lag_limit && nsdf_[tau] <= 0.0) {
            ++tau;
        }
        if (tau > lag_limit) {
            break;
        }
        std::size_t peak = tau;
        while (tau <= lag_limit && nsdf_[tau] > 0.0) {
            if (nsdf_[tau] > nsdf_[peak]) {
                peak = tau;
            }
            ++tau;
        }
        // A lobe cut off by the lag limit counts only if it already fell.
        // Lobes shorter than max_hz's period still count: a note above the
        // range must be refused, not read an octave down.
        if (peak < lag_limit) {
            keys[key_count++] = peak;
            best = std::max(best, nsdf_[peak]);
        }
    }
    if (key_count == 0 || best < static_cast<double>(settings_.min_clarity)) {
        return std::nullopt;
    }
    std::size_t chosen = keys[0];
    for (std::size_t i = 0; i < key_count; ++i) {
        if (nsdf_[keys[i]] >= kKeyMaxRatio * best) {
            chosen = keys[i];
            break;
        }
    }

    // Sub-sample period from a parabola through the three exact NSDF values.
    const double y0 = nsdf_direct(n, chosen - 1);
    const double y1 = nsdf_direct(n, chosen);
    const double y2 = nsdf_direct(n, chosen + 1);
    const double curvature = y0 - 2.0 * y1 + y2;
    double offset = 0.0;
    double peak_value = y1;
    if (curvature < 0.0) {
        offset = std::clamp(0.5 * (y0 - y2) / curvature, -1.0, 1.0);
        peak_value = y1 - 0.25 * (y0 - y2) * offset;
    }
    const float clarity = static_cast<float>(std::clamp(peak_value, 0.0, 1.0));
    if (clarity < settings_.min_clarity) {
        return std::nullopt;
    }
    const double period = static_cast<double>(chosen) + offset;
    const double frequency = sample_rate_ / period;
    if (frequency < settings_.min_hz || frequency > settings_.max_hz) {
        return std::nullopt;
    }
    return describe(frequency, clarity);
}

} // namespace rigd::core::tuner
