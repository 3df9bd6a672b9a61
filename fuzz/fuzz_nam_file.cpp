// .nam files: parse_nam_json either refuses with a NamLoadError naming the
// file, or returns a model description the builder accepts (a file the
// loader validated never fails to build), and the built model runs a block.

#include "core/nam/nam_loader.hpp"
#include "core/nam/nam_model.hpp"
#include "fuzz_check.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

using rigd::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string label = "/fuzz/models/input.nam";
    rigd::core::nam::NamFile file;
    try {
        file = rigd::core::nam::parse_nam_json(text, label);
    } catch (const rigd::core::nam::NamLoadError& e) {
        require(e.file() == label, "NamLoadError::file() is the parsed file");
        require(!e.problem().empty(), "a refusal says what is wrong");
        rigd::fuzz::require_names(e.what(), label, "refused .nam");
        return 0;
    }
    require(file.path == label, "NamFile::path is the label");
    require(file.sample_rate_hz > 0.0 && std::isfinite(file.sample_rate_hz), "sample rate positive");
    for (const float w : file.weights) {
        require(std::isfinite(w), "weights are finite");
    }
    std::unique_ptr<rigd::core::nam::NamModel> model;
    try {
        model = rigd::core::nam::build_nam_model(file);
    } catch (const std::exception& e) {
        rigd::fuzz::fail(std::string("a validated .nam file does not build: ") + e.what());
    }
    require(model != nullptr, "build returns a model");
    constexpr std::size_t kBlock = 32;
    model->prepare(kBlock);
    std::array<float, kBlock> in{};
    std::array<float, kBlock> out{};
    for (std::size_t i = 0; i < kBlock; ++i) {
        in[i] = 0.5f * std::sin(0.2f * static_cast<float>(i));
    }
    model->process_buffer(in.data(), out.data(), kBlock);
    // In place gives the same result as out of place after a reset.
    model->reset();
    std::array<float, kBlock> inplace = in;
    model->process_buffer(inplace.data(), inplace.data(), kBlock);
    for (std::size_t i = 0; i < kBlock; ++i) {
        require((std::isnan(out[i]) && std::isnan(inplace[i])) || out[i] == inplace[i],
                "in-place processing equals out-of-place after reset");
    }
    return 0;
}
