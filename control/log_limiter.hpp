#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace rigd::control {

// At most one log line per kind of event per period (1 s): a flood of bad
// packets costs a few lines, not one each. Lines held back are counted and
// summarised ("and 1234 more like it in the last 1.0 s") on the next line of
// that kind, or by flush() once the period is over. Kinds are fixed strings
// chosen by the code ("osc.refused"), never untrusted text. Thread-safe.
class LogLimiter {
public:
    using Clock = std::chrono::steady_clock;

    explicit LogLimiter(std::chrono::milliseconds period = std::chrono::seconds(1));

    // Logs `message` (already escaped) through spdlog's default logger unless
    // this kind had a line within the period. Nothing is counted when the
    // logger's level would drop the line anyway. Any thread.
    void log(spdlog::level::level_enum level, std::string_view kind, std::string_view message,
             Clock::time_point now = Clock::now());

    // Logs one summary line per kind whose held-back lines are older than the
    // period. The daemon calls it about once a second. Any thread.
    void flush(Clock::time_point now = Clock::now());

    // Lines held back so far (summarised or not). Any thread.
    [[nodiscard]] std::uint64_t suppressed_total() const;

    // The process-wide limiter that control/ code logs untrusted events through.
    [[nodiscard]] static LogLimiter& shared();

private:
    struct Kind {
        Clock::time_point last{};
        bool logged = false;
        std::uint64_t held = 0;
        spdlog::level::level_enum level = spdlog::level::info;
    };

    std::chrono::milliseconds period_;
    mutable std::mutex mutex_;
    std::map<std::string, Kind, std::less<>> kinds_;
    std::uint64_t suppressed_total_ = 0;
};

} // namespace rigd::control
