#include "conv_reference.hpp"
#include "core/conv/impulse_response.hpp"
#include "core/conv/ir_load_error.hpp"
#include "wav_writer.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <numbers>
#include <string>

using rigd::core::conv::ImpulseResponse;
using rigd::core::conv::IrLoadError;
using namespace rigd::test;

namespace {

// A band-limited test response sampled at `rate`: tones at kToneHz under a
// 50 ms Hann window (its spectrum falls off fast, so every rate resolves it
// without aliasing and the DTFT at each tone is well away from any notch).
constexpr double kToneHz[] = {100.0, 400.0, 1000.0, 2500.0, 6000.0, 12000.0};

std::vector<float> sampled_response(double rate, double seconds) {
    const auto n = static_cast<std::size_t>(seconds * rate);
    const double window_s = 0.05;
    std::vector<float> h(n, 0.0f);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / rate;
        if (t >= window_s) {
            break;
        }
        const double w = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * t / window_s);
        double v = 0.0;
        for (double f : kToneHz) {
            if (f < 0.4 * rate) {
                v += std::sin(2 * std::numbers::pi * f * t);
            }
        }
        h[i] = static_cast<float>(0.1 * w * v);
    }
    return h;
}

// |H(f)| in dB of a sampled response, by direct DTFT in double.
double response_db(const std::vector<float>& h, double rate, double f) {
    std::complex<double> acc = 0.0;
    for (std::size_t n = 0; n < h.size(); ++n) {
        acc += static_cast<double>(h[n]) * std::polar(1.0, -2.0 * std::numbers::pi * f * static_cast<double>(n) / rate);
    }
    return 20.0 * std::log10(std::abs(acc));
}

// Runs `fn`, expecting IrLoadError whose message names `file` and contains
// `problem`.
template <typename Fn>
void check_load_error(Fn fn, const std::filesystem::path& file, const std::string& problem) {
    CAPTURE(file.string());
    CAPTURE(problem);
    try {
        fn();
        FAIL("no error thrown");
    } catch (const IrLoadError& e) {
        const std::string msg = e.what();
        CAPTURE(msg);
        CHECK(msg.find(file.filename().string()) != std::string::npos);
        CHECK(msg.find(problem) != std::string::npos);
        CHECK(e.file() == file);
    }
}

} // namespace

TEST_CASE("WAV sample formats load at their stored values") {
    std::vector<float> h = decaying_noise(4800, 600.0, 5);
    for (float& v : h) {
        v *= 0.9f;
    }
    struct Format {
        int subformat;
        double tolerance; // two quantisation steps (libsndfile writes x * (2^(b-1) - 1), reads / 2^(b-1))
        std::string name;
    };
    const Format formats[] = {
        {SF_FORMAT_PCM_16, 2.0 / 32768.0, "pcm16"},
        {SF_FORMAT_PCM_24, 2.0 / 8388608.0, "pcm24"},
        {SF_FORMAT_PCM_32, 1e-7, "pcm32"},
        {SF_FORMAT_FLOAT, 0.0, "float"},
        {SF_FORMAT_DOUBLE, 0.0, "double"},
    };
    for (const Format& f : formats) {
        CAPTURE(f.name);
        const auto path = write_wav(std::string("fmt_") + f.name + ".wav", h, 48000, f.subformat);
        const ImpulseResponse ir = ImpulseResponse::load_wav(path);
        REQUIRE(ir.samples.size() == h.size());
        CHECK(ir.sample_rate_hz == 48000.0);
        double err = 0.0;
        for (std::size_t i = 0; i < h.size(); ++i) {
            err = std::max(err, std::abs(static_cast<double>(ir.samples[i]) - h[i]));
        }
        CHECK(err <= f.tolerance);
    }
    // WAVE_FORMAT_EXTENSIBLE too.
    const auto wavex = write_sound("fmt_wavex.wav", h, 1, 48000, SF_FORMAT_WAVEX | SF_FORMAT_PCM_24);
    CHECK(ImpulseResponse::load_wav(wavex).samples.size() == h.size());
}

TEST_CASE("a stereo IR is mixed to mono as the mean of both channels") {
    const auto l = decaying_noise(1000, 200.0, 6);
    const auto r = decaying_noise(1000, 300.0, 7);
    std::vector<float> inter(2000);
    for (std::size_t i = 0; i < 1000; ++i) {
        inter[2 * i] = l[i];
        inter[2 * i + 1] = r[i];
    }
    const auto path = write_sound("stereo.wav", inter, 2, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const ImpulseResponse ir = ImpulseResponse::load_wav(path);
    CHECK(ir.source_channels == 2);
    REQUIRE(ir.samples.size() == 1000);
    for (std::size_t i = 0; i < 1000; ++i) {
        CHECK(ir.samples[i] == doctest::Approx(0.5 * (l[i] + r[i])).epsilon(1e-6));
    }
}

TEST_CASE("resampling to the session rate keeps the file's frequency response (0.05 dB, 100 Hz..12 kHz)") {
    for (int rate : {44100, 88200, 96000, 192000, 32000}) {
        CAPTURE(rate);
        const auto h = sampled_response(rate, 0.1);
        const auto path = write_wav("rate_" + std::to_string(rate) + ".wav", h, rate);
        const ImpulseResponse ir = ImpulseResponse::load(path, 48000.0);
        CHECK(ir.sample_rate_hz == 48000.0);
        CHECK(std::abs(static_cast<double>(ir.samples.size()) - 0.1 * 48000.0) <= 2.0);
        for (double f : kToneHz) {
            if (f >= 0.4 * rate) {
                continue;
            }
            CAPTURE(f);
            CHECK(std::abs(response_db(ir.samples, 48000.0, f) - response_db(h, rate, f)) <= 0.05);
        }
    }
}

TEST_CASE("an IR shorter than one sample at the session rate resamples to one impulse, not to nothing") {
    // Found by fuzz_wav_ir: 4 samples at 310 kHz came back empty at 44.1 kHz
    // and the cab stage silently held no IR. Corpus entry:
    // fixtures/fuzz/wav_ir/crash-short-ir-resamples-empty.wav.
    ImpulseResponse ir;
    ir.sample_rate_hz = 384000.0;
    ir.samples = {0.5f, 0.25f, -0.125f};
    const ImpulseResponse at_44k1 = ir.resampled(44100.0);
    REQUIRE(at_44k1.samples.size() == 1);
    CHECK(at_44k1.sample_rate_hz == 44100.0);
    CHECK(at_44k1.samples[0] == doctest::Approx(0.625).epsilon(1e-6)); // sum(h): the DC gain is kept
}

TEST_CASE("energy normalisation gives unit energy referred to 48 kHz, the same at every session rate") {
    const auto h = sampled_response(48000, 0.2);
    ImpulseResponse ir;
    ir.samples = h;
    ir.sample_rate_hz = 48000.0;
    const double g = ir.energy_normalization_gain();
    double e = 0.0;
    for (float v : h) {
        e += (g * v) * (g * v);
    }
    CHECK(e == doctest::Approx(1.0).epsilon(1e-9));
    // At 96 kHz the normalised response is the same filter (0.05 dB).
    const ImpulseResponse up = ir.resampled(96000.0);
    const double g96 = up.energy_normalization_gain();
    for (double f : kToneHz) {
        std::vector<float> a = ir.samples;
        std::vector<float> b = up.samples;
        for (float& v : a) {
            v = static_cast<float>(v * g);
        }
        for (float& v : b) {
            v = static_cast<float>(v * g96);
        }
        CHECK(std::abs(response_db(a, 48000.0, f) - response_db(b, 96000.0, f)) <= 0.05);
    }
}

TEST_CASE("trim keeps max_ms with a short fade-out") {
    ImpulseResponse ir;
    ir.sample_rate_hz = 48000.0;
    ir.samples.assign(48000, 1.0f);
    ir.trim(100.0);
    REQUIRE(ir.samples.size() == 4800);
    const std::size_t fade = static_cast<std::size_t>(ImpulseResponse::kTrimFadeMs * 48.0);
    for (std::size_t i = 0; i < 4800 - fade; ++i) {
        REQUIRE(ir.samples[i] == 1.0f);
    }
    for (std::size_t i = 4800 - fade + 1; i < 4800; ++i) {
        CHECK(ir.samples[i] <= ir.samples[i - 1]); // monotone fade
    }
    CHECK(ir.samples.back() < 1e-4f);
    ir.trim(0.0); // 0 = keep all
    CHECK(ir.samples.size() == 4800);
    ir.trim(1000.0); // longer than the IR: unchanged
    CHECK(ir.samples.size() == 4800);
}

TEST_CASE("bad IR files give an IrLoadError that names the file and the problem") {
    const auto dir = conv_temp_dir();
    check_load_error([&] { (void)ImpulseResponse::load_wav(dir / "missing.wav"); }, dir / "missing.wav", "no such file");
    check_load_error([&] { (void)ImpulseResponse::load_wav(dir); }, dir, "directory");

    const auto garbage = dir / "garbage.wav";
    {
        std::ofstream out(garbage, std::ios::binary);
        for (int i = 0; i < 4096; ++i) {
            out.put(static_cast<char>((i * 7919) & 0xff));
        }
    }
    check_load_error([&] { (void)ImpulseResponse::load_wav(garbage); }, garbage, "not a readable WAV file");

    const auto text = dir / "notes.wav";
    {
        std::ofstream out(text);
        out << "this is not audio\n";
    }
    check_load_error([&] { (void)ImpulseResponse::load_wav(text); }, text, "not a readable WAV file");

    const auto aiff = write_sound("cab.aiff", decaying_noise(1000, 100.0, 8), 1, 48000, SF_FORMAT_AIFF | SF_FORMAT_PCM_16);
    check_load_error([&] { (void)ImpulseResponse::load_wav(aiff); }, aiff, "not a WAV file (AIFF");

    const auto empty = write_wav("empty.wav", {}, 48000);
    check_load_error([&] { (void)ImpulseResponse::load_wav(empty); }, empty, "empty");

    const auto silent = write_wav("silent.wav", std::vector<float>(4800, 0.0f), 48000);
    check_load_error([&] { (void)ImpulseResponse::load_wav(silent); }, silent, "silent");

    // Stereo whose channels cancel is silent too.
    std::vector<float> cancel(2000);
    for (std::size_t i = 0; i < 1000; ++i) {
        cancel[2 * i] = 0.5f;
        cancel[2 * i + 1] = -0.5f;
    }
    const auto cancelled = write_sound("cancel.wav", cancel, 2, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    check_load_error([&] { (void)ImpulseResponse::load_wav(cancelled); }, cancelled, "silent");

    const auto too_long = write_wav("long.wav", std::vector<float>(8000 * 11, 0.1f), 8000, SF_FORMAT_PCM_16);
    check_load_error([&] { (void)ImpulseResponse::load_wav(too_long); }, too_long, "limited to 10 s");

    const auto three = write_sound("three.wav", std::vector<float>(300, 0.1f), 3, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    check_load_error([&] { (void)ImpulseResponse::load_wav(three); }, three, "3 channels");

    std::vector<float> with_nan = decaying_noise(100, 30.0, 9);
    with_nan[50] = std::nanf("");
    const auto nan = write_wav("nan.wav", with_nan, 48000);
    check_load_error([&] { (void)ImpulseResponse::load_wav(nan); }, nan, "not a finite number");

}

namespace {

// Offset of a chunk's size field in a RIFF file written by libsndfile.
std::size_t chunk_size_offset(const std::filesystem::path& path, const char* id) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = bytes.find(id, 12);
    REQUIRE(at != std::string::npos);
    return at + 4;
}

void patch_u32(const std::filesystem::path& path, std::size_t offset, std::uint32_t v) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(offset));
    for (int i = 0; i < 4; ++i) {
        f.put(static_cast<char>((v >> (8 * i)) & 0xff));
    }
}

} // namespace

TEST_CASE("truncated and header-inconsistent WAV files are refused, naming the file") {
    const auto ir = decaying_noise(48000, 9000.0, 10);
    // Every format the loader accepts, cut short by a third: the header promises more than follows.
    for (const int format : {SF_FORMAT_WAV | SF_FORMAT_PCM_16, SF_FORMAT_WAV | SF_FORMAT_PCM_24,
                             SF_FORMAT_WAV | SF_FORMAT_FLOAT, SF_FORMAT_WAVEX | SF_FORMAT_PCM_24,
                             SF_FORMAT_RF64 | SF_FORMAT_FLOAT}) {
        const auto cut = write_sound("cut-" + std::to_string(format) + ".wav", ir, 1, 48000, format);
        REQUIRE_NOTHROW((void)ImpulseResponse::load_wav(cut)); // whole, it loads
        std::filesystem::resize_file(cut, std::filesystem::file_size(cut) * 2 / 3);
        INFO(format);
        check_load_error([&] { (void)ImpulseResponse::load_wav(cut); }, cut, "truncated");
    }
    // Cut inside the header itself.
    const auto stub = write_wav("stub.wav", ir, 48000, SF_FORMAT_PCM_16);
    std::filesystem::resize_file(stub, 30);
    CHECK_THROWS_AS((void)ImpulseResponse::load_wav(stub), IrLoadError);

    // A data chunk size larger than the file, the RIFF size right.
    const auto big = write_wav("data-too-big.wav", ir, 48000, SF_FORMAT_PCM_16);
    patch_u32(big, chunk_size_offset(big, "data"), 48000 * 2 + 4000);
    check_load_error([&] { (void)ImpulseResponse::load_wav(big); }, big, "truncated: the data chunk promises 100000 bytes");

    // A data chunk size that is not a whole number of frames.
    const auto odd = write_wav("data-odd.wav", ir, 48000, SF_FORMAT_PCM_24);
    patch_u32(odd, chunk_size_offset(odd, "data"), 48000 * 3 - 1);
    check_load_error([&] { (void)ImpulseResponse::load_wav(odd); }, odd, "not a whole number of 3-byte frames");

    // A data chunk that claims less than the file holds: the decoder and the header disagree.
    const auto small = write_wav("data-small.wav", ir, 48000, SF_FORMAT_PCM_16);
    patch_u32(small, chunk_size_offset(small, "data"), 1000 * 2);
    bool refused = false;
    try {
        const ImpulseResponse r = ImpulseResponse::load_wav(small);
        refused = r.samples.size() == 1000; // libsndfile honoured the header: consistent, not an error
    } catch (const IrLoadError& e) {
        refused = std::string(e.what()).find("data-small.wav") != std::string::npos;
    }
    CHECK(refused);

    // A RIFF size larger than the file.
    const auto riff = write_wav("riff-too-big.wav", ir, 48000, SF_FORMAT_PCM_16);
    patch_u32(riff, 4, static_cast<std::uint32_t>(std::filesystem::file_size(riff) + 1000));
    check_load_error([&] { (void)ImpulseResponse::load_wav(riff); }, riff, "truncated: the header promises");
    // Found by fuzz_wav_ir: a float sample of 3.4e38 loaded and the resampler
    // made Inf of it. Corpus entry: fixtures/fuzz/wav_ir/crash-huge-float-peak.wav.
    std::vector<float> huge = decaying_noise(100, 30.0, 11);
    huge[40] = 3.0e38f;
    const auto loud = write_sound("huge.wav", huge, 1, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    check_load_error([&] { (void)ImpulseResponse::load_wav(loud); }, loud, "beyond +60 dBFS");
    std::vector<float> hot = decaying_noise(100, 30.0, 12);
    hot[40] = 900.0f; // +59 dBFS is still a (very hot) response
    const auto hot_file = write_sound("hot.wav", hot, 1, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    CHECK(ImpulseResponse::load_wav(hot_file).samples.size() == 100);

    // A valid file cut short: the header promises more frames than follow.
    const auto full = write_wav("truncated.wav", decaying_noise(48000, 9000.0, 10), 48000, SF_FORMAT_PCM_24);
    std::filesystem::resize_file(full, std::filesystem::file_size(full) / 2);
    bool refused_or_short = false;
    try {
        const ImpulseResponse ir = ImpulseResponse::load_wav(full);
        refused_or_short = ir.samples.size() < 48000; // libsndfile may trust the file size instead
    } catch (const IrLoadError& e) {
        refused_or_short = std::string(e.what()).find("truncated.wav") != std::string::npos;
    }
    CHECK(refused_or_short);
}
