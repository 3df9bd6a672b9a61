#pragma once

#include "control/address_space.hpp"
#include "control/control_loop.hpp"
#include "control/net_filter.hpp"
#include "control/osc_sender.hpp"

#include <lo/lo_osc_types.h>
#include <lo/lo_types.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace rigd::control {

// The OSC transport: liblo server threads on one port number over UDP and
// TCP. Messages from sources outside the allowed networks are dropped and
// counted. Everything else is posted to the control loop, where the
// AddressSpace handles it; replies to UDP senders leave through send_to
// (which never blocks), replies to TCP senders on their own connection;
// refusals come back as /rig/error s:address s:message.
class OscServer {
public:
    OscServer(ControlLoop& loop, AddressSpace& space, NetFilter filter);
    ~OscServer();
    OscServer(const OscServer&) = delete;
    OscServer& operator=(const OscServer&) = delete;

    // Binds UDP (and TCP when asked) and starts the threads; throws
    // std::runtime_error naming the port when it cannot.
    void start(int port, bool tcp);
    void stop();
    [[nodiscard]] int port() const noexcept { return port_; }

    // Queues a message for a numeric osc.udp:// (sent from the UDP server
    // socket) or osc.tcp:// URL; never blocks (see OscSender). Returns false
    // when it was refused or dropped (counted in sender_stats()). Any thread.
    bool send_to(const std::string& url, const OscMessage& message);
    [[nodiscard]] OscSender::Stats sender_stats() const { return sender_.stats(); }
    // Any thread; the allow list (numeric hosts), replaceable at run time.
    [[nodiscard]] bool allows(std::string_view host) const;
    void set_filter(NetFilter filter);

    [[nodiscard]] std::uint64_t messages() const noexcept { return messages_.load(); }
    [[nodiscard]] std::uint64_t errors() const noexcept { return errors_.load(); }
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(); }

private:
    static int on_message(const char* path, const char* types, lo_arg** argv, int argc, lo_message msg,
                          void* user) noexcept;
    void handle(lo_server server, const char* path, const char* types, lo_arg** argv, int argc, lo_message msg);
    void reply(lo_server server, lo_message to, const OscMessage& message);
    void error(lo_server server, lo_message to, const std::string& path, const std::string& message);
    [[nodiscard]] lo_server udp_server() const;

    ControlLoop& loop_;
    AddressSpace& space_;
    mutable std::mutex filter_mutex_;
    NetFilter filter_;
    lo_server_thread udp_ = nullptr;
    lo_server_thread tcp_ = nullptr;
    int port_ = 0;
    OscSender sender_; // everything but replies on a client's own TCP connection
    std::atomic<std::uint64_t> messages_{0};
    std::atomic<std::uint64_t> errors_{0};
    std::atomic<std::uint64_t> dropped_{0};
};

} // namespace rigd::control
