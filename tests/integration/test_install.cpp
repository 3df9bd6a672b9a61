// Issue 12: `meson install` lays out everything a service needs, the units
// verify, and the first start fills an empty state folder (and leaves a
// user's alone).
#include "rig_harness.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

using namespace rigd::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The unit with its binaries pointed into the DESTDIR tree, for verify.
fs::path rooted_copy(const fs::path& unit, const fs::path& dest, const fs::path& out_dir, const std::string& name) {
    std::string text = slurp(unit);
    for (const std::string key : {"ExecStart=/usr/local/", "ExecStart=/usr/bin/pw-jack /usr/local/"}) {
        std::size_t at = 0;
        while ((at = text.find(key, at)) != std::string::npos) {
            const std::size_t path_at = at + key.size() - std::string("/usr/local/").size();
            text.insert(path_at, dest.string());
            at = path_at + dest.string().size();
        }
    }
    const fs::path out = out_dir / name;
    write_text(out, text);
    return out;
}

} // namespace

TEST_CASE("install: meson install lays out the service, the units verify, first start fills an empty state folder") {
    const char* build = std::getenv("RIGD_BUILD_DIR");
    REQUIRE(build != nullptr);
    TempDir dir;
    const fs::path dest = dir.path() / "dest";
    REQUIRE(run_command({"meson", "install", "-C", build, "--destdir", dest.string(), "--no-rebuild", "--quiet"},
                        dir.path() / "install.log") == 0);
    // Where the default prefix puts them (/usr/local; --prefix=/usr --sysconfdir=/etc for a package).
    const fs::path root = dest / "usr" / "local";
    for (const fs::path& f :
         {root / "bin" / "rigd", root / "bin" / "rigd-ctl", root / "lib/systemd/system/rigd.service",
          root / "lib/systemd/system/jack.service", root / "lib/systemd/user/rigd.service", root / "etc/rigd/rigd.toml",
          root / "lib/sysusers.d/rigd.conf", root / "lib/tmpfiles.d/rigd.conf", root / "etc/avahi/services/rigd.service",
          root / "share/rigd/presets/demo.toml", root / "share/rigd/irs/cab_4x12.wav", root / "share/doc/rigd/README.md"}) {
        INFO(f.string());
        CHECK(fs::is_regular_file(f));
    }
    // The installed units point at the installed binary and config.
    const std::string unit = slurp(root / "lib/systemd/system/rigd.service");
    CHECK(unit.find("ExecStart=/usr/local/bin/rigd --config /usr/local/etc/rigd/rigd.toml") != std::string::npos);
    CHECK(unit.find("Type=notify") != std::string::npos);
    CHECK(unit.find("WatchdogSec=") != std::string::npos);
    // The shipped config parses (rigd refuses a bad one with exit 78).
    const int rc = run_command({rigd_binary().string(), "render", "--config", (root / "etc/rigd/rigd.toml").string(),
                                "--preset", (root / "share/rigd/presets/clean.toml").string(),
                                (source_dir() / "fixtures/di/pluck_di.wav").string(), (dir.path() / "o.wav").string()},
                               dir.path() / "render.log");
    CHECK(rc == 0);
    // systemd-analyze verify on the units (binaries looked up in DESTDIR).
    if (run_command({"systemd-analyze", "--version"}, dir.path() / "sa.log") == 0) {
        const fs::path units = dir.path() / "units";
        fs::create_directories(units);
        const auto rigd = rooted_copy(root / "lib/systemd/system/rigd.service", dest, units, "rigd.service");
        const auto jack = rooted_copy(root / "lib/systemd/system/jack.service", dest, units, "jack.service");
        CHECK(run_command({"systemd-analyze", "verify", rigd.string(), jack.string()}, dir.path() / "verify.log") == 0);
        INFO(slurp(dir.path() / "verify.log"));
        CHECK(slurp(dir.path() / "verify.log").empty());
        if (fs::exists("/usr/bin/pw-jack")) {
            const fs::path user_units = dir.path() / "user";
            fs::create_directories(user_units);
            fs::create_directories(dir.path() / "xdg");
            const auto user = rooted_copy(root / "lib/systemd/user/rigd.service", dest, user_units, "rigd.service");
            CHECK(run_command({"systemd-analyze", "--user", "verify", user.string()}, dir.path() / "verify_user.log",
                              {{"XDG_RUNTIME_DIR", (dir.path() / "xdg").string()}}) == 0);
            INFO(slurp(dir.path() / "verify_user.log"));
        }
    }

    // First start: an empty presets folder gets the shipped presets, a
    // user's IR folder is left as it is.
    fs::create_directories(dir.path() / "state" / "irs");
    write_text(dir.path() / "state" / "irs" / "mine.wav", "not touched");
    const int port = free_udp_port();
    write_text(dir.path() / "rigd.toml", "[jack]\nserver_name = \"nobody_here_" + std::to_string(port) +
                                             "\"\n[osc]\nport = " + std::to_string(port) +
                                             "\n[paths]\npresets = \"state/presets\"\nmodels = \"state/models\"\n"
                                             "irs = \"state/irs\"\nmidi_map = \"state/midi.toml\"\n");
    Process daemon({rigd_binary().string(), "--config", (dir.path() / "rigd.toml").string()}, dir.path() / "rigd.log",
                   {{"RIGD_DATA_DIR", (root / "share" / "rigd").string()}});
    OscClient osc(port);
    std::optional<OscClient::Message> pong;
    for (int i = 0; i < 50 && !pong; ++i) {
        pong = osc.ask("/rig/ping", "/rig/pong");
    }
    REQUIRE(pong); // no JACK server at all: it still answers
    CHECK(fs::is_regular_file(dir.path() / "state" / "presets" / "demo.toml"));
    CHECK_FALSE(fs::exists(dir.path() / "state" / "irs" / "cab_4x12.wav"));
    CHECK(slurp(dir.path() / "state" / "irs" / "mine.wav") == "not touched");
    CHECK(daemon.stop(SIGTERM, 3000ms) == 0);
}

