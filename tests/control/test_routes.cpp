// The route table is the one declaration of the OSC address space: the
// README's OSC tables, /rig/get's filter and MIDI learn all follow it.
#include "control/address_space.hpp"
#include "control/feedback.hpp"
#include "core/stages/level_stage.hpp"

#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

using namespace rigd::control;

namespace {

// Every address in the first column of the tables in the README's OSC
// section (backticked, starting with /rig).
std::set<std::string> readme_addresses() {
    std::ifstream in(rigd::test::source_dir() / "README.md");
    REQUIRE(in);
    std::set<std::string> out;
    std::string line;
    bool in_osc = false;
    while (std::getline(in, line)) {
        if (line.rfind("## ", 0) == 0) {
            in_osc = line == "## OSC";
            continue;
        }
        if (!in_osc || line.rfind("| `", 0) != 0) {
            continue;
        }
        const std::string first = line.substr(1, line.find('|', 1) - 1);
        std::size_t at = 0;
        while ((at = first.find('`', at)) != std::string::npos) {
            const std::size_t end = first.find('`', at + 1);
            const std::string item = first.substr(at + 1, end - at - 1);
            if (item.rfind("/rig", 0) == 0) {
                out.insert(item);
            }
            at = end + 1;
        }
    }
    return out;
}

struct Fixture {
    rigd::core::StageFactory factory;
    Library library{"/nonexistent/presets", "/nonexistent/models", "/nonexistent/irs"};
    rigd::core::Engine engine{64, 64};
    RigController rig{engine, factory, library};
    PresetManager presets{rig, library, factory, Executors::inline_for_testing()};
    std::vector<std::pair<std::string, OscMessage>> sent;
    std::vector<std::string> learned;
    AddressSpace space{rig, presets, library, nullptr,
                       AddressSpace::Hooks{
                           .status = {},
                           .info = {},
                           .midi_learn = [this](const std::string& a, float, float, bool) { learned.push_back(a); },
                           .midi_list = {},
                           .allowed = [](std::string_view) { return true; },
                           .send = [this](const std::string& url, const OscMessage& m) { sent.emplace_back(url, m); }}};
    Fixture() {
        factory.add("level", [] { return std::make_unique<rigd::core::stages::LevelStage>(); });
        rigd::core::Preset p;
        p.name = "t";
        p.stages.push_back({.id = "vol", .type = "level", .bypass = false, .params = {}, .texts = {}});
        (void)rig.start(p, {48000.0, 64, 1});
    }
    // The address as a client would send it: placeholders filled in.
    static std::string concrete(std::string_view pattern) {
        std::string a(pattern);
        for (const auto& [from, to] : {std::pair<std::string, std::string>{"<id>", "vol"}, {"<param>", "gain_db"}}) {
            const auto at = a.find(from);
            if (at != std::string::npos) {
                a.replace(at, from.size(), to);
            }
        }
        return a;
    }
};

} // namespace

TEST_CASE("routes: the README's OSC tables list exactly the route table's addresses") {
    std::set<std::string> table;
    for (const auto& r : AddressSpace::routes()) {
        table.insert(std::string(r.address));
    }
    const auto readme = readme_addresses();
    for (const auto& a : table) {
        INFO("in the route table, missing from the README: " << a);
        CHECK(readme.count(a) == 1);
    }
    for (const auto& a : readme) {
        INFO("in the README, missing from the route table: " << a);
        CHECK(table.count(a) == 1);
    }
}

TEST_CASE("routes: every address matches its own route, and only that one") {
    for (const auto& r : AddressSpace::routes()) {
        std::vector<std::string> parts;
        const auto* m = AddressSpace::match(Fixture::concrete(r.address), parts);
        REQUIRE(m != nullptr);
        INFO(r.address);
        CHECK(m->address == r.address);
    }
    std::vector<std::string> parts;
    CHECK(AddressSpace::match("/rig/nothing", parts) == nullptr);
    CHECK(AddressSpace::match("/rig/stage//gain", parts) == nullptr);
    CHECK(AddressSpace::match("/rig/stage/vol/gain/", parts) == nullptr);
}

TEST_CASE("routes: /rig/get reads every query and value route and refuses every action") {
    Fixture f;
    for (const auto& r : AddressSpace::routes()) {
        const std::string address = Fixture::concrete(r.address);
        if (address == "/rig/debug/chain" || address == "/rig/midi/list") {
            continue; // answered later / needs MIDI: readable, but not here
        }
        f.sent.clear();
        const OscMessage get{"/rig/get", {OscArg::of(address), OscArg::of(std::string("osc.udp://127.0.0.1:9/"))}};
        INFO(address);
        if (r.access == Access::action) {
            CHECK_THROWS_AS(f.space.handle(get), ControlError);
            CHECK(f.sent.empty());
        } else {
            CHECK_NOTHROW(f.space.handle(get));
            CHECK_FALSE(f.sent.empty());
            for (const auto& [url, m] : f.sent) {
                CHECK(m.path != "/rig/error");
            }
        }
    }
}

TEST_CASE("routes: MIDI learn takes exactly the learnable routes") {
    Fixture f;
    for (const auto& r : AddressSpace::routes()) {
        const std::string address = Fixture::concrete(r.address);
        const OscMessage learn{"/rig/midi/learn", {OscArg::of(address)}};
        INFO(address);
        if (r.learnable) {
            CHECK_NOTHROW(f.space.handle(learn));
        } else {
            CHECK_THROWS_AS(f.space.handle(learn), ControlError);
        }
    }
}

TEST_CASE("routes: the dump holds a reply for every value route") {
    Fixture f;
    std::set<std::string> dumped;
    for (const auto& m : f.space.dump()) {
        dumped.insert(m.path);
    }
    for (const auto& r : AddressSpace::routes()) {
        if (r.access == Access::value) {
            INFO(r.address);
            CHECK(dumped.count(Fixture::concrete(r.address)) == 1);
        }
    }
}

TEST_CASE("routes: reply URLs must be numeric; names are never looked up") {
    Fixture f;
    const OscMessage by_name{"/rig/get", {OscArg::of(std::string("/rig/ping")),
                                          OscArg::of(std::string("osc.udp://localhost:9000/"))}};
    CHECK_THROWS_AS(f.space.handle(by_name), ControlError);
    const OscMessage v6{"/rig/get", {OscArg::of(std::string("/rig/ping")), OscArg::of(std::string("osc.tcp://[::1]:9000"))}};
    CHECK_NOTHROW(f.space.handle(v6));
    REQUIRE(f.sent.size() == 1);
    CHECK(f.sent[0].first == "osc.tcp://[::1]:9000/");
}
