// Issue 9: every finding of the control-plane review as a regression test
// against the real daemon on `jackd -d dummy`, the way a phone or a script
// would hit it.
#include "rig_harness.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

using namespace rigd::test;
using namespace std::chrono_literals;

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string level_preset(const std::string& name, int stages, float gain_db) {
    std::string t = "name = \"" + name + "\"\n";
    for (int i = 0; i < stages; ++i) {
        t += "\n[[stage]]\nid = \"" + name + std::to_string(i) + "\"\ntype = \"level\"\ngain_db = " +
             std::to_string(gain_db) + "\n";
    }
    return t;
}

struct Live {
    TempDir dir;
    JackServer jack{dir.path(), 48000, 1024};
    std::unique_ptr<Daemon> daemon;
    std::unique_ptr<OscClient> osc;

    explicit Live(const std::string& preset, const std::string& extra_config = "") {
        daemon = std::make_unique<Daemon>(jack, dir, Daemon::Options{.preset_toml = preset, .extra_config = extra_config});
        osc = std::make_unique<OscClient>(daemon->osc_port());
    }

    std::vector<std::string> chain_list() {
        osc->drain();
        osc->send("/rig/chain/list");
        const auto head = osc->wait_for("/rig/chain/list");
        REQUIRE(head);
        std::vector<std::string> ids(static_cast<std::size_t>(head->numbers.at(0)));
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const auto item = osc->wait_for("/rig/chain/item");
            REQUIRE(item);
            ids.at(static_cast<std::size_t>(item->numbers.at(0))) = item->strings.at(0);
        }
        return ids;
    }

    // The order the audio thread runs, once it is idle (no ramps pending).
    std::vector<std::string> audio_chain(std::chrono::milliseconds timeout = 10000ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto m = osc->ask("/rig/debug/chain", "/rig/debug/chain");
            REQUIRE(m);
            if (m->numbers.at(0) == 1 || std::chrono::steady_clock::now() > deadline) {
                CHECK(m->numbers.at(0) == 1);
                return m->strings;
            }
            std::this_thread::sleep_for(50ms);
        }
    }

    double ping_ms() {
        osc->drain();
        const auto t0 = std::chrono::steady_clock::now();
        const auto pong = osc->ask("/rig/ping", "/rig/pong");
        REQUIRE(pong);
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
};

} // namespace

TEST_CASE("issue 9: remove the first stage and add one at full speed, 20 and 64 stages, a subscriber watching") {
    for (const int size : {20, 64}) {
        INFO(size << " stages");
        Live live(level_preset("s", size, -1.0f));
        live.osc->send("/rig/subscribe"); // feedback dumps the chain while it changes
        std::deque<std::string> ids;
        for (int i = 0; i < size; ++i) {
            ids.push_back("s" + std::to_string(i));
        }
        int next = 0;
        const auto until = std::chrono::steady_clock::now() + 3s;
        int pairs = 0;
        double worst_ping = 0.0;
        while (std::chrono::steady_clock::now() < until) {
            if (pairs % 250 == 0) {
                worst_ping = std::max(worst_ping, live.ping_ms()); // answered in the middle of the storm
            }
            live.osc->send_string("/rig/chain/remove", ids.front());
            ids.pop_front();
            const std::string id = "n" + std::to_string(next++);
            lo_message add = lo_message_new();
            lo_message_add_string(add, "level");
            lo_message_add_string(add, id.c_str());
            live.osc->send("/rig/chain/add", add);
            live.osc->send_float("/rig/stage/" + id + "/gain_db", -2.0f);
            ids.push_back(id);
            ++pairs;
            if (pairs % 4 == 0) {
                std::this_thread::sleep_for(4ms); // ~1000 pairs a second
            }
        }
        MESSAGE(size << " stages: " << pairs << " remove+add pairs in 3 s; worst /rig/ping during it " << worst_ping
                      << " ms");
        CHECK(worst_ping < 100.0 * timing_scale());
        REQUIRE(live.daemon->process().running());
        CHECK(live.ping_ms() < 1000.0);
        const auto audio = live.audio_chain();
        const auto model = live.chain_list();
        CHECK(model.size() == static_cast<std::size_t>(size));
        CHECK(audio == model);
        CHECK(live.daemon->log_text().find("refused a chain edit") == std::string::npos);
    }
}

TEST_CASE("issue 9: next then save at once writes every preset into its own file, current names what plays") {
    TempDir scratch;
    Live live(level_preset("a", 2, -3.0f));
    const auto presets = live.dir.path() / "presets";
    write_text(presets / "b.toml", level_preset("b", 3, -6.0f));
    write_text(presets / "c.toml", level_preset("c", 4, -9.0f));
    // start.toml is the "a" preset; folder order: b, c, start.
    for (int attempt = 0; attempt < 6; ++attempt) {
        live.osc->drain();
        live.osc->send("/rig/preset/next");
        live.osc->send("/rig/preset/save");
        const auto current = live.osc->wait_for("/rig/preset/current", 5000ms);
        INFO("attempt " << attempt << "; daemon log:\n" << live.daemon->log_text());
        REQUIRE(current);
        const std::string file = current->strings.at(0);
        // The file saved is the preset that now plays, with its own chain.
        const std::string text = slurp(presets / (file + ".toml"));
        const std::string expected_name = file == "start" ? "a" : file;
        INFO("attempt " << attempt << ", current " << file << ":\n" << text);
        CHECK(text.find("name = \"" + expected_name + "\"") != std::string::npos);
        CHECK(text.find("id = \"" + expected_name + "0\"") != std::string::npos);
        const auto chain = live.chain_list();
        REQUIRE_FALSE(chain.empty());
        CHECK(chain.front() == expected_name + "0");
    }
    // Every file still holds its own chain and name.
    for (const auto& [file, name, stages] :
         std::vector<std::tuple<std::string, std::string, int>>{{"b", "b", 3}, {"c", "c", 4}, {"start", "a", 2}}) {
        const std::string text = slurp(presets / (file + ".toml"));
        INFO(file << ":\n" << text);
        CHECK(text.find("name = \"" + name + "\"") != std::string::npos);
        CHECK(text.find("id = \"" + name + std::to_string(stages - 1) + "\"") != std::string::npos);
        CHECK(text.find("id = \"" + name + std::to_string(stages) + "\"") == std::string::npos);
    }
}

TEST_CASE("issue 9: quick moves leave the audio in the order /rig/chain/list reports") {
    Live live(level_preset("m", 8, 0.0f));
    for (int round = 0; round < 5; ++round) {
        for (int k = 0; k < 6; ++k) {
            lo_message move = lo_message_new();
            lo_message_add_string(move, ("m" + std::to_string((k * 3 + round) % 8)).c_str());
            lo_message_add_int32(move, (k * 5 + round) % 8);
            live.osc->send("/rig/chain/move", move);
        }
        const auto audio = live.audio_chain();
        CHECK(audio == live.chain_list());
    }
}

TEST_CASE("issue 9: a burst of 2,000 sets is never refused and ends on the last value sent") {
    Live live(level_preset("k", 2, 0.0f));
    OscClient pinger(live.daemon->osc_port());
    double worst_ping = 0.0;
    for (int i = 0; i < 2000; ++i) {
        live.osc->send_float("/rig/stage/k0/gain_db", -static_cast<float>(i % 60));
        live.osc->send_float("/rig/master/volume", -static_cast<float>(i % 50));
        if (i % 400 == 0) {
            const auto t0 = std::chrono::steady_clock::now();
            REQUIRE(pinger.ask("/rig/ping", "/rig/pong"));
            worst_ping = std::max(
                worst_ping, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
    }
    MESSAGE("4,000 sets in a burst; worst /rig/ping during it " << worst_ping << " ms");
    CHECK(worst_ping < 100.0 * timing_scale());
    live.osc->send_float("/rig/stage/k0/gain_db", -7.5f);
    live.osc->send_float("/rig/master/volume", -3.25f);
    std::this_thread::sleep_for(300ms);
    live.osc->drain();
    CHECK(live.osc->ask("/rig/stage/k0/gain_db", "/rig/stage/k0/gain_db")->numbers.at(0) == doctest::Approx(-7.5));
    CHECK(live.osc->ask("/rig/master/volume", "/rig/master/volume")->numbers.at(0) == doctest::Approx(-3.25));
    const std::string log = live.daemon->log_text();
    CHECK(log.find("queue full") == std::string::npos);
    CHECK(log.find("not taking commands") == std::string::npos);
}

TEST_CASE("issue 9: model and IR names over OSC stay inside their folders after a start-up preset given by path") {
    TempDir dir;
    JackServer jack(dir.path(), 48000, 1024);
    std::filesystem::create_directories(dir.path() / "irs");
    std::filesystem::copy_file(source_dir() / "fixtures" / "irs" / "cab_1x12.wav", dir.path() / "outside.wav");
    const auto preset = dir.path() / "by_path.toml";
    write_text(preset, "name = \"p\"\n\n[[stage]]\nid = \"cab\"\ntype = \"cab\"\nir = \"" +
                           (dir.path() / "outside.wav").string() + "\"\n");
    const int port = free_udp_port();
    write_text(dir.path() / "rigd.toml", "[jack]\nserver_name = \"" + jack.name() +
                                             "\"\nauto_connect = false\n[osc]\nport = " + std::to_string(port) +
                                             "\n[paths]\npresets = \"presets\"\nmodels = \"models\"\nirs = \"irs\"\n"
                                             "midi_map = \"midi.toml\"\n");
    Process rigd({rigd_binary().string(), "--config", (dir.path() / "rigd.toml").string(), "--preset", preset.string()},
                 dir.path() / "rigd.log", jack.env());
    OscClient osc(port);
    std::optional<OscClient::Message> pong;
    for (int i = 0; i < 100 && !pong; ++i) {
        pong = osc.ask("/rig/ping", "/rig/pong");
    }
    REQUIRE(pong);
    // The start-up preset's own path is fine; a path sent over OSC is not,
    // and the answer is the same whether the file exists or not.
    std::string answers[2];
    int k = 0;
    for (const auto& path : {(dir.path() / "outside.wav").string(), (dir.path() / "missing.wav").string()}) {
        osc.drain();
        osc.send_string("/rig/stage/cab/ir", path);
        const auto e = osc.wait_for("/rig/error");
        REQUIRE(e);
        answers[k] = e->strings.at(1);
        ++k;
        CHECK(e->strings.at(1).find("folder") != std::string::npos);
    }
    CHECK(answers[0].find("no such file") == std::string::npos);
    REQUIRE(answers[0].find("' ") != std::string::npos);
    REQUIRE(answers[1].find("' ") != std::string::npos);
    CHECK(answers[0].substr(answers[0].find("' ")) == answers[1].substr(answers[1].find("' ")));
    CHECK(osc.ask("/rig/stage/cab/ir", "/rig/stage/cab/ir")->strings.at(0) == (dir.path() / "outside.wav").string());
    CHECK(rigd.stop(SIGTERM, 3000ms) == 0);
}

TEST_CASE("issue 9: SIGTERM while a big model is being parsed exits 0 within 2 s") {
    TempDir scratch;
    Live live("name = \"n\"\n\n[[stage]]\nid = \"amp\"\ntype = \"nam\"\n");
    // A large (valid) LSTM file: the parse takes a while.
    {
        std::ofstream out(live.dir.path() / "models" / "big.nam", std::ios::binary);
        out << R"({"version":"0.5.4","architecture":"LSTM","config":{"input_size":1,"hidden_size":16,"num_layers":1},"weights":[)";
        const std::size_t n = 4 * 16 * (1 + 16) + 4 * 16 + 2 * 16 + 16 + 1;
        for (std::size_t i = 0; i < 4'000'000; ++i) {
            out << (i == 0 ? "" : ",") << "0.0001";
        }
        (void)n;
        out << "],\"sample_rate\":48000}";
    }
    live.osc->send_string("/rig/stage/amp/model", "big.nam");
    std::this_thread::sleep_for(100ms);
    CHECK(live.ping_ms() < 100.0 * timing_scale()); // the control loop does not wait on the parse
    const auto t0 = std::chrono::steady_clock::now();
    const auto status = live.daemon->process().stop(SIGTERM, 5000ms);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(status);
    CHECK(*status == 0);
    CHECK(seconds < 2.0);
}

TEST_CASE("issue 9: SIGTERM during a preset load exits 0 within 2 s; SIGHUP re-reads the config and is not fatal") {
    Live live(level_preset("h", 2, 0.0f));
    write_text(live.dir.path() / "presets" / "other.toml", level_preset("o", 30, -1.0f));
    REQUIRE(::kill(live.daemon->process().pid(), SIGHUP) == 0);
    std::this_thread::sleep_for(300ms);
    REQUIRE(live.daemon->process().running());
    CHECK(live.daemon->log_text().find("SIGHUP: configuration re-read") != std::string::npos);
    CHECK(live.ping_ms() < 1000.0);
    for (int i = 0; i < 20; ++i) {
        live.osc->send_string("/rig/preset/load", i % 2 == 0 ? "other" : "start");
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto status = live.daemon->process().stop(SIGTERM, 5000ms);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(status);
    CHECK(*status == 0);
    CHECK(seconds < 2.0);
}

TEST_CASE("issue 9: a JACK period change with a 10 s IR loaded holds the graph for no longer than a period") {
    // The rebuild (IR resampling, FFT planning) runs on the control side;
    // JACK's buffer-size callback only records the new size. jack_bufsize
    // returns once every client's callback did: it measures ours.
    TempDir dir;
    JackServer jack(dir.path(), 48000, 256);
    std::filesystem::create_directories(dir.path() / "irs");
    std::vector<float> ir(480000);
    std::uint32_t seed = 99;
    for (std::size_t i = 0; i < ir.size(); ++i) {
        seed = seed * 1664525u + 1013904223u;
        const float noise = static_cast<float>((seed >> 8) & 0xFFFF) / 32768.0f - 1.0f;
        ir[i] = noise * std::exp(-static_cast<float>(i) / 96000.0f) * 0.5f;
    }
    write_wav_mono(dir.path() / "irs" / "long.wav", ir, 48000);
    Daemon rigd(jack, dir,
                {.preset_toml = "name = \"long\"\n\n[[stage]]\nid = \"cab\"\ntype = \"cab\"\nir = \"long.wav\"\n",
                 .extra_config = ""});
    OscClient osc(rigd.osc_port());
    REQUIRE(osc.ask("/rig/stage/cab/ir", "/rig/stage/cab/ir")->strings.at(0) == "long.wav");
    for (const int frames : {1024, 128, 512}) {
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE(run_command({"jack_bufsize", std::to_string(frames)}, dir.path() / "bufsize.log", jack.env()) == 0);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        MESSAGE("jack_bufsize " << frames << " took " << ms << " ms with a 10 s IR loaded");
        CHECK(ms < 250.0 * timing_scale()); // the old in-callback rebuild took 0.5-1.7 s here
        std::optional<OscClient::Message> status;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        do {
            std::this_thread::sleep_for(50ms);
            status = osc.ask("/rig/status", "/rig/status");
        } while ((!status || status->numbers.at(3) != frames) && std::chrono::steady_clock::now() < deadline);
        REQUIRE(status);
        CHECK(status->numbers.at(3) == frames);
    }
    // The rebuilt chain plays: a tone comes out through the long cab.
    std::vector<float> tone(24000);
    for (std::size_t i = 0; i < tone.size(); ++i) {
        tone[i] = static_cast<float>(0.3 * std::sin(2.0 * M_PI * 220.0 * static_cast<double>(i) / 48000.0));
    }
    const auto rec = play_through(dir.path(), jack, tone);
    float peak = 0.0f;
    for (const float v : rec) {
        peak = std::max(peak, std::fabs(v));
    }
    CHECK(peak > 0.01f);
    CHECK(rigd.process().running());
}

TEST_CASE("issue 9: /rig/get to a TCP listener that never reads keeps /rig/ping under 50 ms") {
    Live live(level_preset("g", 4, 0.0f));
    // A listener that accepts and never reads, and one that never accepts.
    const int never_reads = ::socket(AF_INET, SOCK_STREAM, 0);
    const int never_accepts = ::socket(AF_INET, SOCK_STREAM, 0);
    int ports[2] = {0, 0};
    int k = 0;
    for (const int fd : {never_reads, never_accepts}) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, fd == never_accepts ? 0 : 8) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        ports[k++] = ntohs(a.sin_port);
    }
    std::atomic<bool> done{false};
    std::thread acceptor([&] {
        while (!done.load()) {
            pollfd p{never_reads, POLLIN, 0};
            if (::poll(&p, 1, 50) > 0) {
                (void)::accept(never_reads, nullptr, nullptr); // and never read
            }
        }
    });
    double worst = 0.0;
    for (int round = 0; round < 60; ++round) {
        for (const int port : ports) {
            lo_message get = lo_message_new();
            lo_message_add_string(get, "/rig/dump");
            lo_message_add_string(get, ("osc.tcp://127.0.0.1:" + std::to_string(port)).c_str());
            live.osc->send("/rig/get", get);
        }
        worst = std::max(worst, live.ping_ms());
    }
    done = true;
    acceptor.join();
    ::close(never_reads);
    ::close(never_accepts);
    MESSAGE("worst /rig/ping " << worst << " ms while /rig/get dumps went to two dead TCP listeners");
    CHECK(worst < 50.0 * timing_scale());
    CHECK(live.daemon->process().running());
}

TEST_CASE("issue 9: forged log lines and floods of bad packets reach the log escaped and throttled") {
    Live live(level_preset("l", 1, 0.0f));
    const std::string forged = "/x\n2026-11-25 21:00:00.000 [critical] rigd: forged\x1b[2K";
    for (int i = 0; i < 5000; ++i) {
        live.osc->send(forged);
    }
    std::this_thread::sleep_for(1500ms);
    CHECK(live.ping_ms() < 1000.0);
    const std::string log = live.daemon->log_text();
    CHECK(log.find("\n2026-11-25 21:00:00.000 [critical]") == std::string::npos);
    CHECK(log.find('\x1b') == std::string::npos);
    std::size_t lines = 0;
    for (const char c : log) {
        lines += c == '\n' ? 1 : 0;
    }
    MESSAGE(lines << " log lines after 5000 forged packets");
    CHECK(lines < 200);
}
