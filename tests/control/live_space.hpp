#pragma once

// The control plane as the daemon wires it, without JACK: a control loop
// and a worker thread around the controller, the presets and the address
// space; an OSC server can be attached.
#include "control/address_space.hpp"
#include "control/control_loop.hpp"
#include "control/osc_server.hpp"
#include "control/worker.hpp"

#include <chrono>

namespace rigd::test {

struct LiveSpace {
    core::StageFactory factory;
    control::Library library{"/nonexistent/presets", "/nonexistent/models", "/nonexistent/irs"};
    core::Engine engine{64, 64};
    control::Worker worker;
    control::ControlLoop loop;
    control::Executors exec{[this](std::function<void()> f) { worker.post(std::move(f)); },
                            [this](std::function<void()> f) { (void)loop.post(std::move(f)); }};
    control::RigController rig{engine, factory, library, exec};
    control::PresetManager presets{rig, library, factory, exec};
    control::OscServer* server = nullptr; // set by the test once it made one
    control::AddressSpace space{rig, presets, library, nullptr,
                                control::AddressSpace::Hooks{
                                    .status = {},
                                    .info = {},
                                    .midi_learn = {},
                                    .midi_list = {},
                                    .allowed = [this](std::string_view h) { return server != nullptr && server->allows(h); },
                                    .send = [this](const std::string& url, const control::OscMessage& m) {
                                        if (server != nullptr) {
                                            server->send_to(url, m);
                                        }
                                    }}};

    LiveSpace() {
        (void)rig.start(core::Preset{}, {48000.0, 64, 1});
        loop.start([this] { rig.pump(); }, std::chrono::milliseconds(1));
    }
    ~LiveSpace() {
        loop.stop();
        (void)worker.stop(std::chrono::seconds(5));
    }
};

} // namespace rigd::test
