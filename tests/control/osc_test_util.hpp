#pragma once

#include "control/lo_arg_read.hpp"

// Loopback OSC peers for the sender and server tests: liblo receivers, a
// UDP socket that timestamps arrivals, TCP listeners that never read or
// never accept.
#include "control/osc_message.hpp"

#include <doctest/doctest.h>
#include <lo/lo.h>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace rigd::test {

using control::OscArg;
using control::OscMessage;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A liblo server thread (UDP or TCP) on a free loopback port that records
// what it receives.
class LoReceiver {
public:
    struct Got {
        std::string path;
        std::string types;
        std::vector<OscArg> args;
        std::string source_port;
    };

    explicit LoReceiver(int proto) {
        thread_ = lo_server_thread_new_with_proto(nullptr, proto, nullptr);
        REQUIRE(thread_ != nullptr);
        lo_server_thread_add_method(thread_, nullptr, nullptr, &LoReceiver::on_message, this);
        REQUIRE(lo_server_thread_start(thread_) == 0);
    }
    ~LoReceiver() {
        lo_server_thread_stop(thread_);
        lo_server_thread_free(thread_);
    }
    LoReceiver(const LoReceiver&) = delete;
    LoReceiver& operator=(const LoReceiver&) = delete;

    [[nodiscard]] int port() const { return lo_server_thread_get_port(thread_); }
    [[nodiscard]] lo_server server() const { return lo_server_thread_get_server(thread_); }
    [[nodiscard]] int socket_fd() const { return lo_server_get_socket_fd(lo_server_thread_get_server(thread_)); }

    bool wait_for(std::size_t count, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return got_.size() >= count; });
    }
    std::vector<Got> got() {
        std::lock_guard lock(mutex_);
        return got_;
    }
    // Waits for a message with this path received after the first `skip`.
    bool wait_for_path(const std::string& path, std::size_t skip, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] {
            for (std::size_t i = skip; i < got_.size(); ++i) {
                if (got_[i].path == path) {
                    return true;
                }
            }
            return false;
        });
    }
    std::size_t count() {
        std::lock_guard lock(mutex_);
        return got_.size();
    }

private:
    static int on_message(const char* path, const char* types, lo_arg** argv, int argc, lo_message msg,
                          void* user) {
        auto* self = static_cast<LoReceiver*>(user);
        Got g{path, types, {}, {}};
        for (int i = 0; i < argc; ++i) {
            switch (types[i]) {
            // lo_arg members are 8-aligned, OSC arguments only 4: read bytes.
            case LO_INT32:
                g.args.push_back(OscArg::of(rigd::control::lo_arg_value<std::int32_t>(argv[i])));
                break;
            case LO_FLOAT:
                g.args.push_back(OscArg::of(rigd::control::lo_arg_value<float>(argv[i])));
                break;
            case LO_STRING:
                g.args.push_back(OscArg::of(std::string(rigd::control::lo_arg_string(argv[i]))));
                break;
            default:
                break;
            }
        }
        lo_address src = lo_message_get_source(msg);
        if (src != nullptr && lo_address_get_port(src) != nullptr) {
            g.source_port = lo_address_get_port(src);
        }
        {
            std::lock_guard lock(self->mutex_);
            self->got_.push_back(std::move(g));
        }
        self->cv_.notify_all();
        return 0;
    }

    lo_server_thread thread_ = nullptr;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Got> got_;
};

// A plain UDP socket on 127.0.0.1 whose thread timestamps each datagram.
class UdpTimestamps {
public:
    UdpTimestamps() {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] {
            std::uint8_t buf[2048];
            while (!stop_.load()) {
                pollfd p{fd_, POLLIN, 0};
                if (poll(&p, 1, 20) == 1 && recv(fd_, buf, sizeof buf, 0) > 0) {
                    std::lock_guard lock(mutex_);
                    arrivals_.push_back(Clock::now());
                }
            }
        });
    }
    ~UdpTimestamps() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    UdpTimestamps(const UdpTimestamps&) = delete;
    UdpTimestamps& operator=(const UdpTimestamps&) = delete;
    [[nodiscard]] std::string url() const { return "osc.udp://127.0.0.1:" + std::to_string(port_) + "/"; }
    std::vector<Clock::time_point> arrivals() {
        std::lock_guard lock(mutex_);
        return arrivals_;
    }

private:
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::vector<Clock::time_point> arrivals_;
};

// A TCP listener on 127.0.0.1. accept_and_never_read: takes the connection
// and never reads it. Otherwise a listener with backlog 0 whose single queue
// slot is taken: further connects are never answered.
class BadTcpListener {
public:
    explicit BadTcpListener(bool accept_and_never_read) {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int small = 4096;
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small); // inherited by accepted sockets
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        REQUIRE(listen(fd_, accept_and_never_read ? 8 : 0) == 0);
        if (accept_and_never_read) {
            acceptor_ = std::thread([this] {
                pollfd p{fd_, POLLIN, 0};
                while (!stop_.load()) {
                    if (poll(&p, 1, 20) == 1) {
                        const int c = accept(fd_, nullptr, nullptr);
                        if (c >= 0) {
                            accepted_.push_back(c);
                        }
                    }
                }
            });
        } else {
            // Fill the accept queue: the kernel drops every further SYN.
            for (int i = 0; i < 2; ++i) {
                const int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
                fillers_.push_back(c);
            }
            std::this_thread::sleep_for(50ms);
        }
    }
    ~BadTcpListener() {
        stop_ = true;
        if (acceptor_.joinable()) {
            acceptor_.join();
        }
        for (int c : accepted_) {
            close(c);
        }
        for (int c : fillers_) {
            close(c);
        }
        close(fd_);
    }
    BadTcpListener(const BadTcpListener&) = delete;
    BadTcpListener& operator=(const BadTcpListener&) = delete;
    [[nodiscard]] std::string url() const { return "osc.tcp://127.0.0.1:" + std::to_string(port_) + "/"; }

private:
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread acceptor_;
    std::vector<int> accepted_;
    std::vector<int> fillers_;
};

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
    const auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(5ms);
    }
    return pred();
}

} // namespace rigd::test
