#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rigd::daemon {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Options {
    enum class Mode { run, render, import_preset, help, version };
    Mode mode = Mode::run;
    std::string config;                 // --config FILE
    std::string preset;                 // --preset NAME|FILE
    std::optional<int> osc_port;        // --osc-port N
    std::optional<std::string> log_level; // --log-level L
    // render
    std::optional<double> rate_hz;  // --rate
    std::size_t block = 128;        // --block
    std::string input;
    std::string output; // render: OUT.wav; import-preset: --out (empty: standard output)
};

// Throws UsageError with a message naming the bad argument.
[[nodiscard]] Options parse_command_line(const std::vector<std::string>& args);
[[nodiscard]] std::string usage_text();

} // namespace rigd::daemon
