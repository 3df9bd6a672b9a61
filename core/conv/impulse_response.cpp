#include "core/conv/impulse_response.hpp"

#include "core/conv/ir_load_error.hpp"

#include <samplerate.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <numbers>
#include <string>

namespace rigd::core::conv {

namespace {

struct SndfileCloser {
    void operator()(SNDFILE* f) const noexcept { sf_close(f); }
};

[[nodiscard]] std::string container_name(int format) {
    SF_FORMAT_INFO info{};
    info.format = format & SF_FORMAT_TYPEMASK;
    if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof info) == 0 && info.name != nullptr) {
        return info.name;
    }
    return "unknown format";
}

[[nodiscard]] std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

[[nodiscard]] std::uint64_t little_endian(const unsigned char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
    return v;
}

// libsndfile loads what is there when a header promises more bytes than the
// file holds (a copy cut short, a writer that died): the IR would be silently
// shorter. Walks the RIFF/RF64 chunks and returns the number of whole frames
// the data chunk holds; throws IrLoadError on any inconsistency.
[[nodiscard]] std::uint64_t checked_data_frames(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::error_code ec;
    const std::uint64_t file_bytes = std::filesystem::file_size(path, ec);
    if (!in || ec) {
        throw IrLoadError(path, "cannot be read");
    }
    const auto read_at = [&](std::uint64_t offset, unsigned char* out, std::size_t n) {
        in.seekg(static_cast<std::streamoff>(offset));
        return static_cast<bool>(in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n)));
    };
    std::array<unsigned char, 12> head{};
    if (!read_at(0, head.data(), head.size())) {
        throw IrLoadError(path, "truncated: shorter than a WAV header");
    }
    const std::string riff_id(reinterpret_cast<const char*>(head.data()), 4);
    const bool rf64 = riff_id == "RF64";
    std::uint64_t riff_bytes = little_endian(head.data() + 4, 4);
    std::uint64_t rf64_data_bytes = 0;
    std::uint64_t block_align = 0;
    std::uint64_t offset = 12;
    while (offset + 8 <= file_bytes) {
        std::array<unsigned char, 28> chunk{};
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), file_bytes - offset));
        if (!read_at(offset, chunk.data(), want)) {
            break;
        }
        const std::string id(reinterpret_cast<const char*>(chunk.data()), 4);
        const std::uint64_t size = little_endian(chunk.data() + 4, 4);
        if (id == "ds64" && want >= 24) {
            riff_bytes = little_endian(chunk.data() + 8, 8);
            rf64_data_bytes = little_endian(chunk.data() + 16, 8);
        } else if (id == "fmt " && want >= 22) {
            block_align = little_endian(chunk.data() + 20, 2);
        } else if (id == "data") {
            const std::uint64_t data_bytes = rf64 && size == 0xffffffffu ? rf64_data_bytes : size;
            // A missing pad byte after an odd-sized last chunk is harmless.
            if (riff_bytes + 8 > file_bytes + 1) {
                throw IrLoadError(path, "truncated: the header promises " + std::to_string(riff_bytes + 8) +
                                            " bytes, the file has " + std::to_string(file_bytes));
            }
            if (offset + 8 + data_bytes > file_bytes) {
                throw IrLoadError(path, "truncated: the data chunk promises " + std::to_string(data_bytes) +
                                            " bytes, " + std::to_string(file_bytes - offset - 8) + " follow");
            }
            if (block_align == 0) {
                throw IrLoadError(path, "inconsistent header: no format chunk before the data");
            }
            if (data_bytes % block_align != 0) {
                throw IrLoadError(path, "inconsistent header: a data chunk of " + std::to_string(data_bytes) +
                                            " bytes is not a whole number of " + std::to_string(block_align) +
                                            "-byte frames");
            }
            return data_bytes / block_align;
        }
        offset += 8 + size + (size & 1);
    }
    throw IrLoadError(path, "truncated or inconsistent: no data chunk inside the file");
}

} // namespace

ImpulseResponse ImpulseResponse::load_wav(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        throw IrLoadError(path, "no such file");
    }
    if (std::filesystem::is_directory(path, ec)) {
        throw IrLoadError(path, "is a directory, not a WAV file");
    }
    SF_INFO info{};
    std::unique_ptr<SNDFILE, SndfileCloser> file(sf_open(path.c_str(), SFM_READ, &info));
    if (!file) {
        throw IrLoadError(path, std::string("not a readable WAV file (") + sf_strerror(nullptr) + ")");
    }
    const int container = info.format & SF_FORMAT_TYPEMASK;
    if (container != SF_FORMAT_WAV && container != SF_FORMAT_WAVEX && container != SF_FORMAT_RF64) {
        throw IrLoadError(path, "not a WAV file (" + container_name(info.format) + ")");
    }
    const std::uint64_t header_frames = checked_data_frames(path);
    if (info.frames <= 0) {
        throw IrLoadError(path, "empty: no sample frames");
    }
    if (header_frames != static_cast<std::uint64_t>(info.frames)) {
        throw IrLoadError(path, "inconsistent header: the data chunk holds " + std::to_string(header_frames) +
                                    " frames, the decoder reads " + std::to_string(info.frames));
    }
    if (info.channels < 1 || info.channels > 2) {
        throw IrLoadError(path, std::to_string(info.channels) + " channels; only mono or stereo IRs are supported");
    }
    const auto rate = static_cast<double>(info.samplerate);
    if (rate < kMinRateHz || rate > kMaxRateHz) {
        throw IrLoadError(path, "sample rate " + std::to_string(info.samplerate) + " Hz is outside " +
                                    fixed(kMinRateHz, 0) + ".." + fixed(kMaxRateHz, 0) + " Hz");
    }
    const double seconds = static_cast<double>(info.frames) / rate;
    if (seconds > kMaxSeconds) {
        throw IrLoadError(path, fixed(seconds, 2) + " s long; IRs are limited to " + fixed(kMaxSeconds, 0) + " s");
    }

    const auto frames = static_cast<std::size_t>(info.frames);
    const auto channels = static_cast<std::size_t>(info.channels);
    std::vector<float> interleaved(frames * channels);
    const sf_count_t got = sf_readf_float(file.get(), interleaved.data(), info.frames);
    if (got != info.frames) {
        throw IrLoadError(path, "corrupt or truncated: read " + std::to_string(got) + " of " +
                                    std::to_string(info.frames) + " frames (" + sf_strerror(file.get()) + ")");
    }

    ImpulseResponse ir;
    ir.sample_rate_hz = rate;
    ir.source_channels = info.channels;
    ir.samples.resize(frames);
    float peak = 0.0f;
    for (std::size_t i = 0; i < frames; ++i) {
        float v = interleaved[i * channels];
        if (channels == 2) {
            v = 0.5f * (v + interleaved[i * channels + 1]);
        }
        if (!std::isfinite(v)) {
            throw IrLoadError(path, "sample " + std::to_string(i) + " is not a finite number");
        }
        ir.samples[i] = v;
        peak = std::max(peak, std::abs(v));
    }
    // A float file can hold anything up to 3.4e38: such values overflow the
    // resampler and the convolution to Inf (found by fuzz_wav_ir).
    if (peak > kMaxPeak) {
        throw IrLoadError(path, "peak " + std::to_string(peak) + " is beyond +60 dBFS (corrupt or not audio?)");
    }
    if (peak < kSilenceThreshold) {
        throw IrLoadError(path, "silent (peak below -120 dBFS" +
                                    std::string(channels == 2 ? " after mixing stereo to mono)" : ")"));
    }
    return ir;
}

ImpulseResponse ImpulseResponse::resampled(double rate_hz) const {
    ImpulseResponse out;
    out.sample_rate_hz = rate_hz;
    out.source_channels = source_channels;
    if (rate_hz == sample_rate_hz || samples.empty()) {
        out.samples = samples;
        return out;
    }
    const double ratio = rate_hz / sample_rate_hz;
    // A little room beyond n * ratio for the converter's filter tail.
    const auto capacity = static_cast<std::size_t>(std::ceil(static_cast<double>(samples.size()) * ratio)) + 64;
    out.samples.assign(capacity, 0.0f);
    SRC_DATA data{};
    data.data_in = samples.data();
    data.data_out = out.samples.data();
    data.input_frames = static_cast<long>(samples.size());
    data.output_frames = static_cast<long>(capacity);
    data.end_of_input = 1;
    data.src_ratio = ratio;
    const int err = src_simple(&data, SRC_SINC_BEST_QUALITY, 1);
    if (err != 0) {
        throw std::runtime_error(std::string("resampling the IR failed: ") + src_strerror(err));
    }
    out.samples.resize(static_cast<std::size_t>(data.output_frames_gen));
    if (out.samples.empty()) {
        // Shorter than a sample at the new rate (a few samples at 384 kHz
        // taken to 44.1 kHz): the converter yields nothing. Keep it as one
        // impulse with the same DC gain, sum(h).
        double sum = 0.0;
        for (const float v : samples) {
            sum += v;
        }
        out.samples.assign(1, static_cast<float>(sum));
        return out;
    }
    // Interpolating keeps sample values, so the sum over the (denser) grid
    // would grow with the rate: scale back to the file's frequency response.
    const auto scale = static_cast<float>(sample_rate_hz / rate_hz);
    for (float& v : out.samples) {
        v *= scale;
    }
    return out;
}

void ImpulseResponse::trim(double max_ms) {
    if (max_ms <= 0.0) {
        return;
    }
    const auto keep = static_cast<std::size_t>(std::max(1.0, std::round(max_ms * 0.001 * sample_rate_hz)));
    if (keep >= samples.size()) {
        return;
    }
    samples.resize(keep);
    const auto fade = std::min<std::size_t>(keep / 2, static_cast<std::size_t>(kTrimFadeMs * 0.001 * sample_rate_hz));
    for (std::size_t i = 0; i < fade; ++i) {
        // Runs from just below 1 to just above 0 over the last `fade` samples.
        const double t = static_cast<double>(i + 1) / static_cast<double>(fade + 1);
        samples[keep - fade + i] *= static_cast<float>(0.5 * (1.0 + std::cos(std::numbers::pi * t)));
    }
}

double ImpulseResponse::energy_normalization_gain() const noexcept {
    double energy = 0.0;
    for (float v : samples) {
        energy += static_cast<double>(v) * v;
    }
    energy *= sample_rate_hz / 48000.0;
    return energy > 0.0 ? 1.0 / std::sqrt(energy) : 1.0;
}

ImpulseResponse ImpulseResponse::load(const std::filesystem::path& path, double rate_hz) {
    ImpulseResponse ir = load_wav(path);
    if (ir.sample_rate_hz != rate_hz) {
        return ir.resampled(rate_hz);
    }
    return ir;
}

} // namespace rigd::core::conv
