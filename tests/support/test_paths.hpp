#pragma once

#include "rigd_config.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace rigd::test {

// ../shared beside the checkout (models, golden outputs). CI has it there too.
inline std::filesystem::path shared_dir() { return std::filesystem::path(RIGD_SHARED_DIR); }
inline std::filesystem::path source_dir() { return std::filesystem::path(RIGD_SOURCE_DIR); }

// Raw little-endian float32 file (the golden format).
inline std::vector<float> read_f32(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot open " + path.string());
    }
    in.seekg(0, std::ios::end);
    const auto bytes = static_cast<std::size_t>(in.tellg());
    in.seekg(0);
    std::vector<float> out(bytes / sizeof(float));
    in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size() * sizeof(float)));
    return out;
}

} // namespace rigd::test
