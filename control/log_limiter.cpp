#include "control/log_limiter.hpp"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

namespace rigd::control {

namespace {

std::string seconds_text(LogLimiter::Clock::duration d) {
    return fmt::format("{:.1f} s", std::chrono::duration<double>(d).count());
}

} // namespace

LogLimiter::LogLimiter(std::chrono::milliseconds period) : period_(period) {}

LogLimiter& LogLimiter::shared() {
    static LogLimiter limiter;
    return limiter;
}

void LogLimiter::log(spdlog::level::level_enum level, std::string_view kind, std::string_view message,
                     Clock::time_point now) {
    auto logger = spdlog::default_logger();
    if (!logger->should_log(level)) {
        return;
    }
    std::string line;
    {
        std::lock_guard lock(mutex_);
        auto it = kinds_.find(kind);
        if (it == kinds_.end()) {
            it = kinds_.emplace(std::string(kind), Kind{}).first;
        }
        Kind& k = it->second;
        if (k.logged && now - k.last < period_) {
            ++k.held;
            ++suppressed_total_;
            k.level = level;
            return;
        }
        line = std::string(message);
        if (k.held > 0) {
            line += fmt::format(" (and {} more like it in the last {})", k.held, seconds_text(now - k.last));
        }
        k.last = now;
        k.logged = true;
        k.held = 0;
    }
    logger->log(level, "{}", line);
}

void LogLimiter::flush(Clock::time_point now) {
    std::vector<std::pair<spdlog::level::level_enum, std::string>> lines;
    {
        std::lock_guard lock(mutex_);
        for (auto& [name, k] : kinds_) {
            if (k.held > 0 && now - k.last >= period_) {
                lines.emplace_back(k.level, fmt::format("{}: {} more like it in the last {}", name, k.held,
                                                        seconds_text(now - k.last)));
                k.held = 0;
                k.last = now;
            }
        }
    }
    for (const auto& [level, line] : lines) {
        spdlog::default_logger()->log(level, "{}", line);
    }
}

std::uint64_t LogLimiter::suppressed_total() const {
    std::lock_guard lock(mutex_);
    return suppressed_total_;
}

} // namespace rigd::control
