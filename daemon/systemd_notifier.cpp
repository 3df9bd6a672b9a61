#include "daemon/systemd_notifier.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace rigd::daemon {

SystemdNotifier::SystemdNotifier() {
    const char* socket_name = std::getenv("NOTIFY_SOCKET");
    if (socket_name == nullptr || socket_name[0] == '\0') {
        return;
    }
    address_ = socket_name;
    if ((address_[0] != '/' && address_[0] != '@') || address_.size() >= sizeof(sockaddr_un::sun_path)) {
        spdlog::warn("NOTIFY_SOCKET is not a unix socket path: not notifying systemd");
        return;
    }
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (const char* usec = std::getenv("WATCHDOG_USEC"); usec != nullptr) {
        const char* pid = std::getenv("WATCHDOG_PID");
        if (pid == nullptr || std::strtol(pid, nullptr, 10) == ::getpid()) {
            watchdog_ = std::chrono::microseconds(std::strtoll(usec, nullptr, 10));
        }
    }
}

SystemdNotifier::~SystemdNotifier() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void SystemdNotifier::send(const std::string& message) {
    if (fd_ < 0) {
        return;
    }
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, address_.data(), address_.size());
    if (a.sun_path[0] == '@') {
        a.sun_path[0] = '\0'; // abstract namespace
    }
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
    // A datagram to a local socket: it does not block (MSG_DONTWAIT) and a
    // lost status line is harmless.
    (void)::sendto(fd_, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                   reinterpret_cast<const sockaddr*>(&a), len);
}

} // namespace rigd::daemon
