#pragma once

#include <sndfile.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace rigd::test {

// A per-process scratch folder for files the conv tests write.
inline std::filesystem::path conv_temp_dir() {
    static const std::filesystem::path dir = [] {
        auto d = std::filesystem::temp_directory_path() / ("rigd_conv_tests_" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

// Writes interleaved `frames` with libsndfile; format e.g.
// SF_FORMAT_WAV | SF_FORMAT_PCM_24.
inline std::filesystem::path write_sound(const std::string& name, const std::vector<float>& interleaved,
                                         int channels, int rate, int format) {
    const auto path = conv_temp_dir() / name;
    SF_INFO info{};
    info.channels = channels;
    info.samplerate = rate;
    info.format = format;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (f == nullptr) {
        throw std::runtime_error("test could not write " + path.string() + ": " + sf_strerror(nullptr));
    }
    // Keep float data as written (no clipping/normalisation games).
    sf_command(f, SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);
    sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(interleaved.size() / static_cast<std::size_t>(channels)));
    sf_close(f);
    return path;
}

inline std::filesystem::path write_wav(const std::string& name, const std::vector<float>& mono, int rate,
                                       int subformat = SF_FORMAT_FLOAT) {
    return write_sound(name, mono, 1, rate, SF_FORMAT_WAV | subformat);
}

} // namespace rigd::test
