// OSC packets (messages and bundles): liblo deserialises the bytes
// (lo_server_dispatch_data), each message goes through the daemon's
// dispatch (the route table, AddressSpace::handle, as the control loop runs
// it for OscServer) into a real RigController, PresetManager and Feedback
// over a temporary library, with the worker and the control loop run inline
// (deterministic), and the fuzzer plays the audio thread: Engine::process
// runs between messages.
//
// Invariants: a refused message is a ControlError with a reason (OscServer
// sends it back as /rig/error with the address); no other exception escapes
// (OscServer would answer "internal error"); the audio thread never refuses
// a command; once the engine is idle, the chain the controller reports
// (/rig/chain/list) is the chain the audio thread runs (asked over the
// report queue), in order, with the same bypass flags.

#include "control/address_space.hpp"
#include "control/feedback.hpp"
#include "control/library.hpp"
#include "control/midi_router.hpp"
#include "control/preset_manager.hpp"
#include "control/rig_controller.hpp"
#include "core/engine.hpp"
#include "core/stage_factory.hpp"
#include "control/lo_arg_read.hpp"
#include "fuzz_check.hpp"
#include "rigd_config.h"

#include <lo/lo.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using rigd::control::OscArg;
using rigd::control::OscMessage;
using rigd::fuzz::require;

namespace {

constexpr std::size_t kPeriod = 64;

// The same conversion as OscServer: every numeric type is a number.
std::optional<OscArg> convert(char type, const lo_arg* a) {
    switch (type) {
    case LO_FLOAT:
        return OscArg::of(rigd::control::lo_arg_value<float>(a));
    case LO_DOUBLE:
        return OscArg::of(static_cast<float>(rigd::control::lo_arg_value<double>(a)));
    case LO_INT32:
        return OscArg::of(rigd::control::lo_arg_value<std::int32_t>(a));
    case LO_INT64:
        return OscArg::of(static_cast<float>(rigd::control::lo_arg_value<std::int64_t>(a)));
    case LO_TRUE:
        return OscArg::of(std::int32_t{1});
    case LO_FALSE:
        return OscArg::of(std::int32_t{0});
    case LO_STRING:
    case LO_SYMBOL:
        return OscArg::of(std::string(rigd::control::lo_arg_string(a)));
    default:
        return std::nullopt;
    }
}

class Rig {
public:
    Rig()
        : dir_(make_dir()), library_(dir_ / "presets", dir_ / "models", dir_ / "irs"),
          rig_(engine_, rigd::core::StageFactory::builtin(), library_),
          presets_(rig_, library_, rigd::core::StageFactory::builtin(), rigd::control::Executors::inline_for_testing()),
          feedback_(rig_, &engine_.counters(), [](const std::string& url, const OscMessage& m) {
              require(!url.empty() && !m.path.empty() && m.path[0] == '/', "feedback goes to a URL, at an address");
          }),
          space_(rig_, presets_, library_, &feedback_, hooks()),
          midi_(space_, presets_, dir_ / "midi.toml", 0) {
        rigd::core::Preset start;
        start.name = "start";
        (void)rig_.start(start, rigd::core::ProcessSpec{48000.0, kPeriod, 1});
        feedback_.set_space(&space_);
        rig_.set_listener(&feedback_);
        for (const auto& e : fs::directory_iterator(dir_ / "presets")) {
            shipped_.push_back(e.path().filename());
        }
        in_.fill(0.0f);
        for (std::size_t i = 0; i < kPeriod; ++i) {
            in_[i] = (i % 16 < 8) ? 0.25f : -0.25f;
        }
    }

    ~Rig() {
        rig_.set_listener(nullptr);
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    // One message, as OscServer posts it to the control loop.
    void dispatch(const char* path, const char* types, lo_arg** argv, int argc) {
        OscMessage in{path != nullptr ? path : "", {}};
        for (int i = 0; i < argc; ++i) {
            auto a = convert(types[i], argv[i]);
            if (!a) {
                return; // OscServer refuses it before dispatch
            }
            in.args.push_back(std::move(*a));
        }
        auto later = [](const OscMessage& m) {
            require(!m.path.empty() && m.path[0] == '/', "a later reply has an OSC address");
            if (m.path == "/rig/error") {
                require(m.args.size() == 2 && !m.args[1].s.empty(), "a late error names the address and a reason");
            }
        };
        try {
            const auto replies = space_.handle(rigd::control::Request{in, "osc.udp://127.0.0.1:9/", "127.0.0.1", later});
            for (const auto& r : replies) {
                require(!r.path.empty() && r.path[0] == '/', "a reply has an OSC address");
            }
        } catch (const rigd::control::ControlError& e) {
            require(std::string(e.what()).size() > 0, "a refusal has a reason");
        } catch (const std::exception& e) {
            rigd::fuzz::fail("'" + in.path + "': an exception other than ControlError (OscServer answers "
                             "'internal error'): " + e.what());
        }
        rig_.pump();
        run_periods(2);
        feedback_.tick(std::chrono::steady_clock::now());
    }

    // Plays the audio thread until it reports itself idle (bounded), then
    // checks that the controller's chain is the audio thread's chain.
    void settle_and_check() {
        std::optional<std::vector<std::string>> audio;
        bool idle = false;
        for (int attempt = 0; attempt < 50 && !idle; ++attempt) {
            audio.reset();
            rig_.query_audio_chain([&](std::vector<std::string> ids, bool is_idle) {
                audio = std::move(ids);
                idle = is_idle;
            });
            for (int i = 0; i < 400 && !audio; ++i) {
                rig_.pump();
                run_periods(1);
                rig_.pump();
            }
            require(audio.has_value(), "the audio thread answers a chain query");
            if (!idle) {
                run_periods(8);
            }
        }
        if (!idle) {
            return; // a fade longer than the bound: nothing to compare yet
        }
        require(engine_.counters().commands_rejected.load() == 0, "the audio thread never refuses a command");
        const auto model = rig_.stage_ids();
        std::string said;
        std::string runs;
        for (const auto& id : model) {
            said += id + " ";
        }
        for (const auto& id : *audio) {
            runs += id + " ";
        }
        require(said == runs, "the chain the controller reports is the chain the audio thread runs:\n  reported: " +
                                  said + "\n  running:  " + runs);
        // Bypass flags, slot by slot.
        const auto* chain = engine_.chain_for_testing();
        for (std::size_t slot = 0; slot < chain->size(); ++slot) {
            for (const auto& s : rig_.stages()) {
                if (s.live && s.handle == chain->handle_at(slot)) {
                    require(s.bypass == chain->bypassed_at(slot), "stage '" + s.id + "': bypass as reported");
                }
            }
        }
    }

    // An empty chain, default master, mute, bypass and tuner.
    void reset() {
        rigd::core::Preset start;
        start.name = "start";
        rig_.load_preset(start, "", {});
        rig_.set_master_db(0.0f);
        rig_.set_mute(false);
        rig_.set_rig_bypass(false);
        rig_.set_tuner(false);
        settle_and_check();
    }

    // Saves may add preset files: keep the library the seed corpus knows.
    void tidy() {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir_ / "presets", ec)) {
            bool keep = false;
            for (const auto& s : shipped_) {
                keep = keep || e.path().filename() == s;
            }
            if (!keep) {
                fs::remove(e.path(), ec);
            }
        }
        for (const auto& s : shipped_) {
            fs::copy_file(source_dir() / "fixtures" / "presets" / s, dir_ / "presets" / s,
                          fs::copy_options::overwrite_existing, ec);
        }
    }

private:
    static fs::path source_dir() { return fs::path(RIGD_SOURCE_DIR); }

    static fs::path make_dir() {
        const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        const fs::path dir = base / ("rigd-fuzz-osc-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir / "presets");
        fs::create_directories(dir / "models");
        fs::create_directories(dir / "irs");
        for (const char* p : {"clean.toml", "crunch.toml", "cab_1x12.toml"}) {
            fs::copy_file(source_dir() / "fixtures" / "presets" / p, dir / "presets" / p);
        }
        fs::copy_file(source_dir() / "fixtures" / "irs" / "cab_1x12.wav", dir / "irs" / "cab_1x12.wav");
        const fs::path model = fs::path(RIGD_SHARED_DIR) / "models" / "namcore_lstm.nam";
        std::error_code ec;
        fs::copy_file(model, dir / "models" / "lstm.nam", ec); // optional
        return dir;
    }

    rigd::control::AddressSpace::Hooks hooks() {
        rigd::control::AddressSpace::Hooks h;
        h.status = [] { return rigd::control::Status{1.0f, 0, 48000, static_cast<int>(kPeriod)}; };
        h.info = [] { return std::vector<OscArg>{OscArg::of(std::string("rigd")), OscArg::of(std::string(RIGD_VERSION))}; };
        h.midi_learn = [this](const std::string& address, float min, float max, bool toggle) {
            midi_.learn(address, min, max, toggle);
        };
        h.midi_list = [this] { return midi_.list(); };
        h.allowed = [](std::string_view) { return true; };
        h.send = [](const std::string& url, const OscMessage& m) {
            require(!url.empty() && !m.path.empty(), "a /rig/get reply goes to a URL");
        };
        return h;
    }

    void run_periods(int n) {
        for (int i = 0; i < n; ++i) {
            engine_.process(in_, out_l_, out_r_);
        }
        rig_.pump();
    }

    fs::path dir_;
    rigd::core::Engine engine_;
    rigd::control::Library library_;
    rigd::control::RigController rig_;
    rigd::control::PresetManager presets_;
    rigd::control::Feedback feedback_;
    rigd::control::AddressSpace space_;
    rigd::control::MidiRouter midi_;
    std::vector<fs::path> shipped_;
    std::array<float, kPeriod> in_{};
    std::array<float, kPeriod> out_l_{};
    std::array<float, kPeriod> out_r_{};
};

Rig* g_rig = nullptr;

int on_message(const char* path, const char* types, lo_arg** argv, int argc, lo_message /*msg*/,
               void* /*user*/) {
    g_rig->dispatch(path, types != nullptr ? types : "", argv, argc);
    return 0;
}

lo_server make_server() {
    lo_server s = lo_server_new_with_proto(nullptr, LO_UDP, [](int, const char*, const char*) {});
    require(s != nullptr, "liblo server");
    lo_server_add_method(s, nullptr, nullptr, on_message, nullptr);
    return s;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    spdlog::set_level(spdlog::level::off);
    static Rig rig;
    g_rig = &rig;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static lo_server server = make_server();
    static std::uint64_t runs = 0;
    // Bundles with future time tags wait in liblo's queue: a fresh server
    // now and then keeps that bounded; saved presets are tidied likewise.
    if (++runs % 256 == 0) {
        lo_server_free(server);
        server = make_server();
        g_rig->tidy();
    }
    g_rig->reset(); // every input starts from the same rig: crashes replay from one file
    std::vector<std::uint8_t> packet(data, data + size); // liblo may write while it parses
    lo_server_dispatch_data(server, packet.data(), packet.size());
    g_rig->settle_and_check();
    return 0;
}
