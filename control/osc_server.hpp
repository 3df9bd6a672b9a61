#pragma once

#include "control/rig_controller.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <lo/lo_osc_types.h>
#include <lo/lo_types.h>

namespace rigd::control {

// What /rig/status reports; filled in by the daemon (JACK side).
struct Status {
    float dsp_load_percent = 0.0f;
    std::uint64_t xruns = 0;
    int sample_rate_hz = 0;
    int period_frames = 0;
};

// The OSC server: a liblo server thread on a UDP port. Every message is
// parsed and validated here; valid ones become RigController calls, refused
// ones are answered with /rig/error s:address s:message. Replies leave from
// the server's own socket to the sender's address.
class OscServer {
public:
    using StatusSource = std::function<Status()>;

    OscServer(RigController& rig, StatusSource status);
    ~OscServer();
    OscServer(const OscServer&) = delete;
    OscServer& operator=(const OscServer&) = delete;

    // Binds the port and starts the thread; throws std::runtime_error naming
    // the port when it cannot.
    void start(int port);
    void stop();
    [[nodiscard]] int port() const noexcept { return port_; }

    [[nodiscard]] std::uint64_t messages() const noexcept { return messages_.load(); }
    [[nodiscard]] std::uint64_t errors() const noexcept { return errors_.load(); }

private:
    static int on_message(const char* path, const char* types, lo_arg** argv, int argc, lo_message msg,
                          void* user) noexcept;
    void dispatch(const std::string& path, const char* types, lo_arg** argv, int argc, lo_message msg);
    void reply(lo_message to, const char* path, lo_message reply);
    void error(lo_message to, const std::string& path, const std::string& message);

    RigController& rig_;
    StatusSource status_;
    lo_server_thread thread_ = nullptr;
    int port_ = 0;
    std::atomic<std::uint64_t> messages_{0};
    std::atomic<std::uint64_t> errors_{0};
};

} // namespace rigd::control
