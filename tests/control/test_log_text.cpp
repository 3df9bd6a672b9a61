#include "control/address_space.hpp"
#include "control/log_limiter.hpp"
#include "control/log_text.hpp"
#include "control/osc_server.hpp"
#include "live_space.hpp"
#include "osc_test_util.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <sstream>

using namespace rigd::control;
using namespace rigd::test;

namespace {

// Routes spdlog's default logger into a string (with the daemon's pattern)
// for the life of the object.
class CapturedLog {
public:
    explicit CapturedLog(spdlog::level::level_enum level = spdlog::level::debug) : previous_(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
        auto logger = std::make_shared<spdlog::logger>("captured", sink);
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %v");
        logger->set_level(level);
        spdlog::set_default_logger(logger);
    }
    ~CapturedLog() { spdlog::set_default_logger(previous_); }
    CapturedLog(const CapturedLog&) = delete;
    CapturedLog& operator=(const CapturedLog&) = delete;

    std::vector<std::string> lines() {
        spdlog::default_logger()->flush();
        std::vector<std::string> out;
        std::istringstream in(out_.str());
        for (std::string line; std::getline(in, line);) {
            out.push_back(line);
        }
        return out;
    }

private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> previous_;
};

const std::regex kLogLine(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[\w+\] .*)");

using Space = rigd::test::LiveSpace;

} // namespace

TEST_CASE("log text: control bytes, escapes, backslashes and bad UTF-8 are made visible") {
    CHECK(escape_for_log("/rig/stage/amp/gain") == "/rig/stage/amp/gain");
    CHECK(escape_for_log("a\nb\rc\td") == "a\\nb\\rc\\td");
    CHECK(escape_for_log("back\\slash") == "back\\\\slash");
    CHECK(escape_for_log("\\n") == "\\\\n"); // a literal backslash-n stays distinguishable from a newline
    CHECK(escape_for_log("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
    CHECK(escape_for_log(std::string("nul\0byte", 8)) == "nul\\x00byte");
    CHECK(escape_for_log("del\x7f") == "del\\x7f");
    CHECK(escape_for_log("R\xc3\xb6hre \xf0\x9f\x8e\xb8") == "R\xc3\xb6hre \xf0\x9f\x8e\xb8"); // UTF-8 kept
    CHECK(escape_for_log("bad \xff\xfe end") == "bad \\xff\\xfe end");
    CHECK(escape_for_log("overlong \xc0\xaf") == "overlong \\xc0\\xaf");
    CHECK(escape_for_log("surrogate \xed\xa0\x80") == "surrogate \\xed\\xa0\\x80");
    CHECK(escape_for_log("cut \xe2\x82") == "cut \\xe2\\x82");
    CHECK(escape_for_log("c1 \xc2\x85 nel") == "c1 \\u{0085} nel");
    CHECK(escape_for_log("ls \xe2\x80\xa8 ps") == "ls \\u{2028} ps");
    CHECK(escape_for_log("bidi \xe2\x80\xae evil") == "bidi \\u{202e} evil");
}

TEST_CASE("log text: long input is cut at a whole character with a marker saying how much is left") {
    const std::string long_text(1000, 'a');
    const std::string cut = escape_for_log(long_text, 50);
    CHECK(cut == std::string(50, 'a') + "\\[950 more bytes]");
    // An escape is never split.
    const std::string newlines(100, '\n');
    const std::string cut_nl = escape_for_log(newlines, 11);
    CHECK(cut_nl == "\\n\\n\\n\\n\\n\\[95 more bytes]");
    CHECK(escape_for_log("short", 5) == "short");
}

TEST_CASE("log text: a forged log line inside an OSC address cannot start a line of its own") {
    Space s;
    CapturedLog log(spdlog::level::debug);
    OscServer server(s.loop, s.space, NetFilter({"127.0.0.0/8"}));
    s.server = &server;
    server.start(0, false);
    LoReceiver client(LO_UDP);
    const std::string forged = "/x\n2026-11-25 21:00:00.000 [critical] rigd: forged\r\x1b[2K";
    lo_address to = lo_address_new("127.0.0.1", std::to_string(server.port()).c_str());
    lo_message m = lo_message_new();
    lo_send_message_from(to, client.server(), forged.c_str(), m);
    lo_message_free(m);
    lo_address_free(to);
    REQUIRE(client.wait_for_path("/rig/error", 0, 2000ms));
    server.stop();
    const auto lines = log.lines();
    bool refused_logged = false;
    for (const auto& line : lines) {
        INFO(line);
        CHECK(std::regex_match(line, kLogLine));
        const bool no_forged_level = line.find("[critical]") == std::string::npos || line.find("\\n2026") != std::string::npos;
        CHECK(no_forged_level);
        CHECK(line.find('\x1b') == std::string::npos);
        CHECK(line.find('\r') == std::string::npos);
        refused_logged = refused_logged || line.find("refused '/x\\n2026-11-25 21:00:00.000 [critical]") != std::string::npos;
    }
    CHECK(refused_logged);
}

TEST_CASE("log limiter: one line per kind per period, the rest summarised") {
    CapturedLog log(spdlog::level::info);
    LogLimiter limiter(std::chrono::seconds(1));
    const auto t0 = LogLimiter::Clock::now();
    for (int i = 0; i < 100000; ++i) {
        limiter.log(spdlog::level::warn, "bad", "bad packet " + std::to_string(i), t0 + std::chrono::microseconds(i));
    }
    limiter.log(spdlog::level::warn, "other", "another kind logs at once", t0 + 1ms);
    limiter.log(spdlog::level::debug, "quiet", "below the level: not counted", t0);
    limiter.flush(t0 + 500ms); // period not over: nothing yet
    CHECK(log.lines().size() == 2);
    limiter.flush(t0 + 1100ms);
    auto lines = log.lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].find("bad packet 0") != std::string::npos);
    CHECK(lines[1].find("another kind logs at once") != std::string::npos);
    CHECK(lines[2].find("bad: 99999 more like it in the last 1.1 s") != std::string::npos);
    CHECK(limiter.suppressed_total() == 99999);
    // The next line after a quiet period carries no summary; one within it is held.
    limiter.log(spdlog::level::warn, "bad", "later", t0 + 3s);
    limiter.log(spdlog::level::warn, "bad", "held", t0 + 3s + 10ms);
    limiter.log(spdlog::level::warn, "bad", "next", t0 + 4s + 20ms);
    lines = log.lines();
    REQUIRE(lines.size() == 5);
    CHECK(lines[3].find("later") != std::string::npos);
    CHECK(lines[4].find("next (and 1 more like it in the last 1.0 s)") != std::string::npos);
}

TEST_CASE("log limiter: 100k bad packets at the OSC server make a bounded number of log lines") {
    Space s;
    CapturedLog log(spdlog::level::debug);
    OscServer server(s.loop, s.space, NetFilter({"127.0.0.0/8"}));
    s.server = &server;
    server.start(0, false);
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(static_cast<std::uint16_t>(server.port()));
    const auto t0 = Clock::now();
    const std::uint64_t before = server.messages() + server.errors();
    for (int i = 0; i < 100000; ++i) {
        // Alternately: not OSC at all (liblo's error handler) and an unknown address (refused).
        static const char garbage[] = "\x01\x02\nnot osc at all [critical]";
        static const char unknown[] = "/no/such\0\0\0\0,\0\0\0";
        if (i % 2 == 0) {
            sendto(fd, garbage, sizeof garbage - 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        } else {
            sendto(fd, unknown, sizeof unknown - 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        }
        if (i % 200 == 0) {
            std::this_thread::sleep_for(1ms); // let the server keep up, so most packets are handled
        }
    }
    std::this_thread::sleep_for(200ms);
    server.stop();
    close(fd);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto lines = log.lines();
    const std::uint64_t handled = server.errors();
    std::printf("log limiter: %llu packets refused by the server in %.1f s, %zu log lines\n",
                static_cast<unsigned long long>(handled), seconds, lines.size());
    CHECK(server.messages() + server.errors() - before > 10000); // most reached the handlers
    // One line per kind (liblo error, refusal) per second, plus a summary each.
    CHECK(lines.size() <= static_cast<std::size_t>(2 * 2 * (seconds + 2)));
    for (const auto& line : lines) {
        INFO(line);
        CHECK(std::regex_match(line, kLogLine));
    }
}
