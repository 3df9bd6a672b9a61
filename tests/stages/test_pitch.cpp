// The pitch stage: shifted tones land within kCentsTolerance of the target
// (measured with core/tuner's pitch detector, an independent method), a
// chord keeps its intervals (spectral peaks of a Hann-windowed DTFT), the
// level stays within kLevelDb, and the delay through it stays under 10 ms.
// Block-size invariance, reset and no allocation are in
// test_stage_contract.cpp with every other stage.
#include "core/stages/pitch_stage.hpp"
#include "core/tuner/pitch_detector.hpp"

#include "signal_util.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <span>
#include <vector>

using rigd::core::ProcessSpec;
using rigd::core::stages::PitchStage;

namespace {

constexpr double kRate = 48000.0;
constexpr double kCentsTolerance = 3.0; // the bound
constexpr double kLevelDb = 1.0;        // the bound
constexpr double kMaxLatencyMs = 10.0;  // what a guitarist starts to feel

double cents_between(double a_hz, double b_hz) { return 1200.0 * std::log2(a_hz / b_hz); }

// Harmonics 1..n with amplitudes 1/k, fixed phases, exponential decay
// (decay_s 0: none). A plucked string without the inharmonicity.
std::vector<float> pluck(double f0, std::size_t n, double decay_s, int harmonics, double amp = 0.3) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / kRate;
        double v = 0.0;
        for (int k = 1; k <= harmonics; ++k) {
            v += std::sin(2.0 * std::numbers::pi * f0 * k * t + 0.7 * k) / k;
        }
        x[i] = static_cast<float>(amp * v * (decay_s > 0.0 ? std::exp(-t / decay_s) : 1.0));
    }
    return x;
}

std::vector<float> shift(std::vector<float> x, int semitones, std::size_t block = 128) {
    PitchStage s;
    s.set_param(PitchStage::kSemitones, static_cast<float>(semitones));
    s.prepare(ProcessSpec{kRate, 512, 1});
    for (std::size_t i = 0; i < x.size(); i += block) {
        s.process_block(std::span<float>(x.data() + i, std::min(block, x.size() - i)));
    }
    return x;
}

double rms(std::span<const float> x) {
    double acc = 0.0;
    for (const float v : x) {
        acc += static_cast<double>(v) * v;
    }
    return std::sqrt(acc / static_cast<double>(x.size()));
}

// Worst detected pitch error (cents) over several windows of y from
// `from` on, against `target_hz`.
double worst_cents(const std::vector<float>& y, std::size_t from, double target_hz) {
    rigd::core::tuner::PitchDetector detector;
    detector.prepare(kRate);
    const std::size_t w = detector.window_size();
    double worst = 0.0;
    int readings = 0;
    for (std::size_t at = from; at + w <= y.size(); at += w / 2) {
        const auto r = detector.detect(std::span<const float>(y.data() + at, w));
        REQUIRE_MESSAGE(r.has_value(), "no pitch at sample " << at);
        worst = std::max(worst, std::fabs(cents_between(r->frequency_hz, target_hz)));
        ++readings;
    }
    REQUIRE(readings >= 3);
    return worst;
}

// Frequency of the largest peak of the Hann-windowed DTFT of x within
// +-40 cents of near_hz, searched in 0.05-cent steps.
// Hann-windowed DTFT magnitude at f, the oscillator advanced by rotation
// (double: the phase error after 32768 steps is ~1e-12 rad).
double dtft_power(std::span<const double> windowed, double f) {
    const double w = 2.0 * std::numbers::pi * f / kRate;
    const double c = std::cos(w);
    const double s = std::sin(w);
    double osc_re = 1.0;
    double osc_im = 0.0;
    double re = 0.0;
    double im = 0.0;
    for (const double v : windowed) {
        re += v * osc_re;
        im -= v * osc_im;
        const double next_re = osc_re * c - osc_im * s;
        osc_im = osc_re * s + osc_im * c;
        osc_re = next_re;
    }
    return re * re + im * im;
}

// The frequency of the strongest component within +-40 cents of near_hz, to
// 0.05 cent: a 1-cent grid, then 0.05-cent steps within +-1 cent of its best
// (the Hann main lobe spans many cents here, so the grid cannot skip the peak).
double peak_hz(std::span<const float> x, double near_hz) {
    const auto n = x.size();
    std::vector<double> windowed(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double hann = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(n));
        windowed[i] = hann * x[i];
    }
    const auto best_cents = [&](double from, double to, double step) {
        double best_c = from;
        double best_mag = -1.0;
        for (double c = from; c <= to + 1e-9; c += step) {
            const double mag = dtft_power(windowed, near_hz * std::exp2(c / 1200.0));
            if (mag > best_mag) {
                best_mag = mag;
                best_c = c;
            }
        }
        return best_c;
    };
    const double coarse = best_cents(-40.0, 40.0, 1.0);
    return near_hz * std::exp2(best_cents(coarse - 1.0, coarse + 1.0, 0.05) / 1200.0);
}

} // namespace

TEST_CASE("pitch: a 220 Hz sine shifted by +-1, +-5, +-12 semitones lands within 3 cents at the same level") {
    const auto x = rigd::test::sine(static_cast<std::size_t>(kRate * 1.5), 220.0 / kRate, 0.3);
    for (const int st : {1, -1, 5, -5, 12, -12}) {
        CAPTURE(st);
        const auto y = shift(x, st);
        const double target = 220.0 * std::exp2(st / 12.0);
        const double cents = worst_cents(y, static_cast<std::size_t>(0.2 * kRate), target);
        const std::span<const float> tail_y(y.data() + static_cast<std::size_t>(0.2 * kRate), y.size() - static_cast<std::size_t>(0.2 * kRate));
        const std::span<const float> tail_x(x.data() + static_cast<std::size_t>(0.2 * kRate), x.size() - static_cast<std::size_t>(0.2 * kRate));
        const double level_db = 20.0 * std::log10(rms(tail_y) / rms(tail_x));
        MESSAGE(st << " st: worst " << cents << " cents, level " << level_db << " dB");
        CHECK(cents <= kCentsTolerance);
        CHECK(std::fabs(level_db) <= kLevelDb);
    }
}

TEST_CASE("pitch: a plucked 110 Hz string shifted by +-1, +-5, +-12 semitones lands within 3 cents at the same level") {
    const auto x = pluck(110.0, static_cast<std::size_t>(kRate * 1.6), 1.5, 8);
    for (const int st : {1, -1, 5, -5, 12, -12}) {
        CAPTURE(st);
        const auto y = shift(x, st);
        const double target = 110.0 * std::exp2(st / 12.0);
        const double cents = worst_cents(y, static_cast<std::size_t>(0.1 * kRate), target);
        // Level over 0.1..1.5 s; the few ms of delay against a 1.5 s decay
        // is under 0.05 dB.
        const auto from = static_cast<std::size_t>(0.1 * kRate);
        const auto len = static_cast<std::size_t>(1.4 * kRate);
        const double level_db = 20.0 * std::log10(rms(std::span<const float>(y.data() + from, len)) /
                                                  rms(std::span<const float>(x.data() + from, len)));
        MESSAGE(st << " st: worst " << cents << " cents, level " << level_db << " dB");
        CHECK(cents <= kCentsTolerance);
        CHECK(std::fabs(level_db) <= kLevelDb);
    }
}

TEST_CASE("pitch: cents fine-tune the ratio, and semitones are whole steps") {
    PitchStage s;
    s.set_param(PitchStage::kSemitones, 3.4f);
    CHECK(s.ratio() == doctest::Approx(std::exp2(3.0 / 12.0)).epsilon(1e-12)); // the control layer refuses 3.4
    s.set_param(PitchStage::kSemitones, -2.0f);
    s.set_param(PitchStage::kCents, 25.0f);
    CHECK(s.ratio() == doctest::Approx(std::exp2(-1.75 / 12.0)).epsilon(1e-12));
    // The detector hears the cents too.
    const auto x = rigd::test::sine(static_cast<std::size_t>(kRate * 1.2), 330.0 / kRate, 0.3);
    auto y = x;
    s.prepare(ProcessSpec{kRate, 128, 1});
    for (std::size_t i = 0; i < y.size(); i += 128) {
        s.process_block(std::span<float>(y.data() + i, std::min<std::size_t>(128, y.size() - i)));
    }
    CHECK(worst_cents(y, static_cast<std::size_t>(0.2 * kRate), 330.0 * std::exp2(-1.75 / 12.0)) <= kCentsTolerance);
}

TEST_CASE("pitch: a chord keeps its intervals within 3 cents") {
    // A power chord A2 E3 A3 (just fifth) with two harmonics per note.
    const std::size_t n = static_cast<std::size_t>(kRate * 1.2);
    const double notes[] = {110.0, 165.0, 220.0};
    std::vector<float> x(n, 0.0f);
    for (const double f : notes) {
        const auto p = pluck(f, n, 0.0, 2, 0.12);
        for (std::size_t i = 0; i < n; ++i) {
            x[i] += p[i];
        }
    }
    for (const int st : {5, -5, 12, -12}) {
        CAPTURE(st);
        const auto y = shift(x, st);
        const std::span<const float> window(y.data() + static_cast<std::size_t>(0.2 * kRate), 32768);
        const double ratio = std::exp2(st / 12.0);
        double root = 0.0;
        for (const double f : notes) {
            const double found = peak_hz(window, f * ratio);
            if (root == 0.0) {
                root = found;
            }
            const double interval_err = cents_between(found / root, f / notes[0]);
            const double abs_err = cents_between(found, f * ratio);
            MESSAGE(st << " st, " << f << " Hz: " << abs_err << " cents off, interval error " << interval_err);
            CHECK(std::fabs(interval_err) <= kCentsTolerance);
            CHECK(std::fabs(abs_err) <= kCentsTolerance);
        }
    }
}

TEST_CASE("pitch: the delay through the stage stays under 10 ms and latency_samples() reports it") {
    for (const int st : {1, -1, 5, -5, 12, -12}) {
        CAPTURE(st);
        PitchStage s;
        s.set_param(PitchStage::kSemitones, static_cast<float>(st));
        s.prepare(ProcessSpec{kRate, 128, 1});
        CHECK(s.latency_samples() > 0);
        CHECK(s.latency_samples() <= kMaxLatencyMs * 0.001 * kRate);
        // Onset: silence, then a 137 Hz pluck (the note latency_samples()
        // describes); the first output sample above 0.003 (about -50 dBFS).
        const std::size_t start = 4800;
        auto x = std::vector<float>(start, 0.0f);
        const auto p = pluck(137.0, static_cast<std::size_t>(0.2 * kRate), 1.0, 6);
        x.insert(x.end(), p.begin(), p.end());
        const auto y = shift(x, st);
        std::size_t onset = 0;
        while (onset < y.size() && std::fabs(y[onset]) < 0.003f) {
            ++onset;
        }
        const double onset_ms = 1000.0 * static_cast<double>(onset - start) / kRate;
        MESSAGE(st << " st: onset after " << onset_ms << " ms, latency_samples() " << s.latency_samples());
        CHECK(onset >= start);
        CHECK(onset_ms <= kMaxLatencyMs);
    }
}

TEST_CASE("pitch: after a silence as long as its delay line the stage is as if just reset (re-amping a take is exact)") {
    const auto note = pluck(196.0, 24000, 0.5, 6);
    for (const int st : {7, -7}) {
        CAPTURE(st);
        // A used stage: a note, then 0.2 s of digital silence, then the note again.
        auto x = note;
        x.resize(note.size() + 9600, 0.0f);
        x.insert(x.end(), note.begin(), note.end());
        const auto used = shift(x, st, 64);
        const auto fresh = shift(note, st, 64);
        double diff = 0.0;
        for (std::size_t i = 0; i < note.size(); ++i) {
            diff = std::max(diff, static_cast<double>(std::fabs(used[note.size() + 9600 + i] - fresh[i])));
        }
        CHECK(diff == 0.0);
    }
}
