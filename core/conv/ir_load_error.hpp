#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace rigd::core::conv {

// An impulse response file that cannot be used. what() names the file and
// the problem ("cab.wav: not a WAV file (...)"); the stage that threw keeps
// its previous IR.
class IrLoadError : public std::runtime_error {
public:
    IrLoadError(const std::filesystem::path& file, const std::string& problem)
        : std::runtime_error(file.string() + ": " + problem), file_(file) {}

    [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }

private:
    std::filesystem::path file_;
};

} // namespace rigd::core::conv
