#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace rigd::daemon {

// systemd's notification protocol (sd_notify(3)) spoken directly: one
// datagram per state change to the unix socket named by $NOTIFY_SOCKET
// (a path, or '@' for the abstract namespace). Without it (not started by
// systemd with Type=notify) every call does nothing. Main thread only.
class SystemdNotifier {
public:
    // Reads NOTIFY_SOCKET and WATCHDOG_USEC (honouring WATCHDOG_PID).
    SystemdNotifier();
    ~SystemdNotifier();
    SystemdNotifier(const SystemdNotifier&) = delete;
    SystemdNotifier& operator=(const SystemdNotifier&) = delete;

    [[nodiscard]] bool enabled() const noexcept { return fd_ >= 0; }
    // How often systemd wants WATCHDOG=1 (zero: no watchdog).
    [[nodiscard]] std::chrono::microseconds watchdog_interval() const noexcept { return watchdog_; }

    void ready() { send("READY=1"); }
    void reloading() { send("RELOADING=1"); }
    void stopping() { send("STOPPING=1"); }
    void status(std::string_view text) { send("STATUS=" + std::string(text)); }
    void watchdog() { send("WATCHDOG=1"); }
    void send(const std::string& message);

private:
    int fd_ = -1;
    std::string address_;
    std::chrono::microseconds watchdog_{0};
};

} // namespace rigd::daemon
