#pragma once

#include <stdexcept>
#include <string>

namespace rigd::core::nam {

// A .nam file that cannot be used: unreadable, malformed, inconsistent or
// using a feature this build does not implement. what() is "<file>: <problem>".
class NamLoadError : public std::runtime_error {
public:
    NamLoadError(std::string file, std::string problem)
        : std::runtime_error(file + ": " + problem), file_(std::move(file)), problem_(std::move(problem)) {}

    [[nodiscard]] const std::string& file() const noexcept { return file_; }
    [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

private:
    std::string file_;
    std::string problem_;
};

} // namespace rigd::core::nam
