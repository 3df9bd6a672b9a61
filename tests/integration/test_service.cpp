// Issue 12: a service that runs unattended — JACK that comes and goes,
// systemd readiness, status and watchdog.
#include "rig_harness.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <functional>
#include <sstream>
#include <thread>

using namespace rigd::test;
using namespace std::chrono_literals;

namespace {

const std::string kPreset = R"(name = "svc"

[[stage]]
id = "drive"
type = "pre"
gain = 3.0

[[stage]]
id = "vol"
type = "level"
gain_db = -6.0
)";

std::vector<float> tone(std::size_t n, double hz, double amp) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        x[i] = static_cast<float>(amp * std::sin(2.0 * M_PI * hz * static_cast<double>(i) / 48000.0) *
                                  std::exp(-static_cast<double>(i) / 30000.0));
    }
    return x;
}

bool wait_until(const std::function<bool()>& ok, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (ok()) {
            return true;
        }
        std::this_thread::sleep_for(50ms);
    }
    return ok();
}

void check_live_equals_render(const TempDir& dir, const std::filesystem::path& preset_file, int period,
                              const std::vector<std::string>& launcher, const std::map<std::string, std::string>& env) {
    const auto r = live_vs_render(dir.path(), preset_file, period, tone(24000, 196.0, 0.4), launcher, env);
    CHECK_MESSAGE(r.judged, "every take had an xrun: the machine is too busy to judge");
    INFO("lag " << r.lag);
    CHECK(r.max_diff <= 1e-6); // same engine, same period, same float operations
}

// PipeWire headless: its dummy driver, no session manager, no session bus,
// its own runtime folder. JACK clients run through pw-jack.
class PipeWireServer {
public:
    explicit PipeWireServer(const std::filesystem::path& dir) : dir_(dir) {
        std::filesystem::create_directories(dir_ / "runtime");
        write_text(dir_ / "pipewire.conf", R"(context.properties = {
    core.daemon = true
    core.name = pipewire-0
    default.clock.rate = 48000
    default.clock.quantum = 1024
    default.clock.min-quantum = 1024
    default.clock.max-quantum = 1024
}
context.spa-libs = { support.* = support/libspa-support }
context.modules = [
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-access args = { access.socket = { pipewire-0 = "unrestricted" } } }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-link-factory }
    { name = libpipewire-module-metadata }
    { name = libpipewire-module-spa-node-factory }
]
context.objects = [
    { factory = spa-node-factory
      args = { factory.name = support.node.driver node.name = Dummy-Driver priority.driver = 20000 } }
]
)");
        start();
    }
    ~PipeWireServer() { stop(); }
    void start() {
        process_ = std::make_unique<Process>(std::vector<std::string>{"pipewire", "-c", (dir_ / "pipewire.conf").string()},
                                             dir_ / "pipewire.log", env());
        wait_until([&] { return std::filesystem::exists(dir_ / "runtime" / "pipewire-0"); }, 5s);
    }
    void stop() {
        if (process_) {
            process_->stop(SIGKILL, 3000ms);
            process_.reset();
        }
        std::error_code ec;
        std::filesystem::remove(dir_ / "runtime" / "pipewire-0", ec);
        std::filesystem::remove(dir_ / "runtime" / "pipewire-0.lock", ec);
    }
    [[nodiscard]] std::map<std::string, std::string> env() const {
        return {{"XDG_RUNTIME_DIR", (dir_ / "runtime").string()}, {"PIPEWIRE_RUNTIME_DIR", (dir_ / "runtime").string()}};
    }

private:
    std::filesystem::path dir_;
    std::unique_ptr<Process> process_;
};

} // namespace

TEST_CASE("service: under PipeWire's JACK the rig plays, survives PipeWire restarting, and plays the same again") {
    if (!std::filesystem::exists("/usr/bin/pw-jack") || !std::filesystem::exists("/usr/bin/pipewire")) {
        FAIL("pipewire and pipewire-jack are not installed (scripts/setup installs them)");
    }
    TempDir dir;
    PipeWireServer pw(dir.path());
    const int port = free_udp_port();
    std::filesystem::create_directories(dir.path() / "presets");
    write_text(dir.path() / "presets" / "start.toml", kPreset);
    write_text(dir.path() / "rigd.toml", "[jack]\nauto_connect = false\n[osc]\nport = " + std::to_string(port) +
                                             "\n[paths]\npresets = \"presets\"\nmodels = \"models\"\nirs = \"irs\"\n"
                                             "midi_map = \"midi.toml\"\n[rig]\npreset = \"start\"\n");
    Process rigd({"pw-jack", rigd_binary().string(), "--config", (dir.path() / "rigd.toml").string()},
                 dir.path() / "rigd.log", pw.env());
    OscClient osc(port);
    REQUIRE(wait_until([&] { return rigd.log_text().find("audio running") != std::string::npos; }, 15s));
    osc.send_float("/rig/stage/vol/gain_db", -4.0f);
    REQUIRE(osc.ask("/rig/stage/vol/gain_db", "/rig/stage/vol/gain_db"));
    pw.stop();
    for (int i = 0; i < 10; ++i) {
        std::this_thread::sleep_for(100ms);
        CHECK(osc.ask("/rig/ping", "/rig/pong"));
    }
    pw.start();
    REQUIRE(wait_until(
        [&] {
            const std::string log = rigd.log_text();
            const auto lost = log.find("keeping the rig and reconnecting");
            return lost != std::string::npos && log.find("JACK client 'rigd' active", lost) != std::string::npos;
        },
        10s));
    CHECK(rigd.running());
    osc.drain();
    lo_message save = lo_message_new();
    lo_message_add_string(save, "live");
    osc.send("/rig/preset/save", save);
    REQUIRE(osc.wait_for("/rig/preset/current", 5000ms));
    check_live_equals_render(dir, dir.path() / "presets" / "live.toml", 1024, {"pw-jack"}, pw.env());
    CHECK(rigd.stop(SIGTERM, 3000ms) == 0);
}

TEST_CASE("service: the JACK server goes away and comes back; state, subscribers and sound are kept") {
    constexpr int kPeriod = 1024;
    TempDir dir;
    JackServer jack(dir.path(), 48000, kPeriod);
    Daemon rigd(jack, dir, {.preset_toml = kPreset, .extra_config = ""});
    OscClient osc(rigd.osc_port());
    OscClient phone(rigd.osc_port());
    phone.send("/rig/subscribe");
    REQUIRE(phone.wait_for("/rig/stage/vol/gain_db"));
    osc.send_float("/rig/stage/vol/gain_db", -9.0f); // a live change before the outage

    jack.stop(/*crash=*/true); // as an interface unplugged: no goodbye
    // Throughout the outage the rig answers and takes changes.
    for (int i = 0; i < 10; ++i) {
        std::this_thread::sleep_for(100ms);
        CHECK(osc.ask("/rig/ping", "/rig/pong"));
    }
    osc.send_float("/rig/stage/drive/gain", 4.5f); // made while the server is gone
    CHECK(osc.ask("/rig/stage/drive/gain", "/rig/stage/drive/gain")->numbers.at(0) == doctest::Approx(4.5));
    REQUIRE(rigd.process().running());
    jack.start();
    REQUIRE(wait_until([&] { return rigd.log_text().find("restored") != std::string::npos ||
                                    rigd.log_text().rfind("JACK client") > rigd.log_text().find("keeping the rig"); },
                       10s));
    REQUIRE(wait_until(
        [&] {
            const auto s = osc.ask("/rig/status", "/rig/status");
            return s && s->numbers.at(3) == kPeriod;
        },
        5s));
    CHECK(rigd.log_text().find("keeping the rig and reconnecting") != std::string::npos);
    // Subscribers did not subscribe again and still hear about changes.
    phone.drain();
    osc.send_float("/rig/master/volume", -1.0f);
    const auto fb = phone.wait_for("/rig/master/volume", 3000ms);
    REQUIRE(fb);
    CHECK(fb->numbers.at(0) == doctest::Approx(-1.0));
    osc.send_float("/rig/master/volume", 0.0f);
    // The sound after the return is the rig with the live changes: save it
    // and render the same file offline.
    osc.drain();
    lo_message save = lo_message_new();
    lo_message_add_string(save, "live");
    osc.send("/rig/preset/save", save);
    REQUIRE(osc.wait_for("/rig/preset/current", 5000ms));
    std::this_thread::sleep_for(300ms); // master ramp
    check_live_equals_render(dir, dir.path() / "presets" / "live.toml", kPeriod, {}, jack.env());
}

TEST_CASE("service: started before any JACK server, the rig waits and plays once one is up") {
    TempDir dir;
    JackServer jack(dir.path(), 48000, 1024, /*start=*/false);
    Daemon rigd(jack, dir, {.preset_toml = kPreset, .extra_config = ""}); // answers OSC without JACK
    OscClient osc(rigd.osc_port());
    std::this_thread::sleep_for(2s);
    CHECK(osc.ask("/rig/ping", "/rig/pong"));
    CHECK(rigd.process().running());
    jack.start();
    REQUIRE(wait_until(
        [&] {
            const auto s = osc.ask("/rig/status", "/rig/status");
            return s && s->numbers.at(3) == 1024 && rigd.log_text().find("audio running") != std::string::npos;
        },
        10s));
    check_live_equals_render(dir, dir.path() / "presets" / "start.toml", 1024, {}, jack.env());
}

TEST_CASE("service: sd_notify READY only once audio runs, STATUS lines, WATCHDOG only while the audio thread runs") {
    TempDir dir;
    JackServer jack(dir.path(), 48000, 1024, /*start=*/false);
    // Our end of the notification socket.
    const std::string socket_path = (dir.path() / "notify.sock").string();
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, socket_path.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    timeval tv{0, 100000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct Note {
        std::chrono::steady_clock::time_point at;
        std::string text;
    };
    std::vector<Note> notes;
    auto collect = [&](std::chrono::milliseconds for_how_long) {
        const auto until = std::chrono::steady_clock::now() + for_how_long;
        char buf[4096];
        while (std::chrono::steady_clock::now() < until) {
            const auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                notes.push_back({std::chrono::steady_clock::now(), std::string(buf, static_cast<std::size_t>(n))});
            }
        }
    };
    auto count = [&](const std::string& what, std::size_t from) {
        std::size_t c = 0;
        for (std::size_t i = from; i < notes.size(); ++i) {
            c += notes[i].text.find(what) != std::string::npos ? 1 : 0;
        }
        return c;
    };
    const int port = free_udp_port();
    std::filesystem::create_directories(dir.path() / "presets");
    write_text(dir.path() / "presets" / "start.toml", kPreset);
    write_text(dir.path() / "rigd.toml", "[jack]\nserver_name = \"" + jack.name() +
                                             "\"\nauto_connect = false\n[osc]\nport = " + std::to_string(port) +
                                             "\n[paths]\npresets = \"presets\"\nmodels = \"models\"\nirs = \"irs\"\n"
                                             "midi_map = \"midi.toml\"\n[rig]\npreset = \"start\"\n");
    auto env = jack.env();
    env["NOTIFY_SOCKET"] = socket_path;
    env["WATCHDOG_USEC"] = "600000"; // 0.6 s: pings every 0.2 s
    env["RIGD_TEST_HOOKS"] = "1";
    Process rigd({rigd_binary().string(), "--config", (dir.path() / "rigd.toml").string()}, dir.path() / "rigd.log", env);
    // No server yet: no READY, but the watchdog is fed (waiting is healthy).
    collect(1500ms);
    CHECK(count("READY=1", 0) == 0);
    CHECK(count("WATCHDOG=1", 0) >= 3);
    jack.start();
    collect(3000ms);
    REQUIRE(count("READY=1", 0) == 1);
    CHECK(count("STATUS=", 0) >= 1);
    bool status_names_preset = false;
    for (const auto& n : notes) {
        status_names_preset |= n.text.find("STATUS=preset 'start'") != std::string::npos &&
                               n.text.find("JACK 48000 Hz, period 1024") != std::string::npos;
    }
    CHECK(status_names_preset);
    const std::size_t before_stall = notes.size();
    collect(1000ms);
    CHECK(count("WATCHDOG=1", before_stall) >= 3);
    // A hung audio thread: the pings stop.
    REQUIRE(::kill(rigd.pid(), SIGUSR2) == 0);
    collect(400ms); // one ping may already be on its way
    const std::size_t stalled = notes.size();
    collect(1500ms);
    CHECK(count("WATCHDOG=1", stalled) == 0);
    REQUIRE(::kill(rigd.pid(), SIGUSR2) == 0); // released
    const std::size_t released = notes.size();
    collect(1000ms);
    CHECK(count("WATCHDOG=1", released) >= 2);
    // SIGHUP: RELOADING=1 then READY=1.
    const std::size_t before_hup = notes.size();
    REQUIRE(::kill(rigd.pid(), SIGHUP) == 0);
    collect(800ms);
    CHECK(count("RELOADING=1", before_hup) == 1);
    CHECK(count("READY=1", before_hup) == 1);
    CHECK(rigd.stop(SIGTERM, 3000ms) == 0);
    ::close(fd);
}
