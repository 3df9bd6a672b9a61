#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace rigd::control {

// A bad preset or config file: the message names the file, the stage (for
// presets) and the key.
class FileError : public std::runtime_error {
public:
    FileError(const std::filesystem::path& file, const std::string& what)
        : std::runtime_error(file.string() + ": " + what), file_(file) {}
    [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }

private:
    std::filesystem::path file_;
};

// A control request that was refused; the message goes back to the sender
// as /rig/error.
class ControlError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace rigd::control
