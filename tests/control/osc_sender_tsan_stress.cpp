// Built with -fsanitize=thread together with control/osc_sender.cpp: any data
// race between send(), stats(), the sender thread and stop() fails the run
// (TSAN_OPTIONS exitcode=66). Four threads send to two UDP receivers, a TCP
// receiver that reads, one that never reads and a URL nobody listens on,
// while a fifth reads stats(); then the totals must add up.
#include "control/osc_sender.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using rigd::control::OscArg;
using rigd::control::OscMessage;
using rigd::control::OscSender;
using namespace std::chrono_literals;

namespace {

int bound_socket(int type, int& port) {
    const int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::perror("bind");
        std::exit(2);
    }
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return fd;
}

} // namespace

int main() {
    std::atomic<bool> done{false};
    int udp_port_a = 0;
    int udp_port_b = 0;
    int tcp_port = 0;
    int deaf_port = 0;
    const int udp_a = bound_socket(SOCK_DGRAM, udp_port_a);
    const int udp_b = bound_socket(SOCK_DGRAM, udp_port_b);
    const int tcp = bound_socket(SOCK_STREAM, tcp_port);
    const int deaf = bound_socket(SOCK_STREAM, deaf_port);
    listen(tcp, 8);
    listen(deaf, 8);
    std::atomic<std::uint64_t> tcp_bytes{0};
    // Reads both UDP sockets and the TCP connections; `deaf` is never accepted from.
    std::thread reader([&] {
        std::vector<pollfd> fds{{udp_a, POLLIN, 0}, {udp_b, POLLIN, 0}, {tcp, POLLIN, 0}};
        char buf[4096];
        while (!done.load()) {
            if (poll(fds.data(), fds.size(), 20) <= 0) {
                continue;
            }
            for (std::size_t i = 0; i < fds.size(); ++i) {
                if ((fds[i].revents & (POLLIN | POLLHUP)) == 0) {
                    continue;
                }
                if (fds[i].fd == tcp) {
                    const int c = accept(tcp, nullptr, nullptr);
                    if (c >= 0) {
                        fds.push_back({c, POLLIN, 0});
                    }
                } else {
                    const auto n = recv(fds[i].fd, buf, sizeof buf, MSG_DONTWAIT);
                    if (n > 0 && i > 2) {
                        tcp_bytes.fetch_add(static_cast<std::uint64_t>(n));
                    }
                }
            }
        }
        for (std::size_t i = 3; i < fds.size(); ++i) {
            close(fds[i].fd);
        }
    });

    OscSender::Limits limits;
    limits.queue_messages = 64;
    limits.connect_timeout = 200ms;
    limits.stall_timeout = 300ms;
    limits.retry_after = 100ms;
    limits.idle_timeout = 150ms;
    OscSender sender(limits);
    sender.start(udp_a); // sends IPv4 datagrams from a borrowed socket, like the OSC server's
    const std::vector<std::string> urls = {
        "osc.udp://127.0.0.1:" + std::to_string(udp_port_a), "osc.udp://127.0.0.1:" + std::to_string(udp_port_b),
        "osc.tcp://127.0.0.1:" + std::to_string(tcp_port), "osc.tcp://127.0.0.1:" + std::to_string(deaf_port),
        "osc.tcp://127.0.0.1:1", "osc.udp://not-a-host:9000"};
    constexpr int kThreads = 4;
    constexpr int kPerThread = 20000;
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> to_host_name{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < kThreads; ++t) {
        senders.emplace_back([&, t] {
            const std::string filler(static_cast<std::size_t>(100 + 50 * t), 'x');
            for (int i = 0; i < kPerThread; ++i) {
                const OscMessage m{"/stress", {OscArg::of(std::int32_t{i}), OscArg::of(filler)}};
                const std::size_t u = static_cast<std::size_t>(i * 7 + t) % urls.size();
                if (sender.send(urls[u], m)) {
                    accepted.fetch_add(1);
                }
                if (u == urls.size() - 1) {
                    to_host_name.fetch_add(1);
                }
                if (i % 1000 == 0) {
                    std::this_thread::sleep_for(5ms); // let idle pruning and retries happen mid-run
                }
            }
        });
    }
    std::thread watcher([&] {
        while (!done.load()) {
            (void)sender.stats();
            std::this_thread::sleep_for(1ms);
        }
    });
    for (auto& s : senders) {
        s.join();
    }
    // Let the queues drain (the deaf target gets dropped at its stall timeout).
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    OscSender::Stats s;
    do {
        std::this_thread::sleep_for(20ms);
        s = sender.stats();
    } while (s.sent + s.dropped_messages != accepted.load() && std::chrono::steady_clock::now() < deadline);
    const auto t0 = std::chrono::steady_clock::now();
    sender.stop();
    const auto stop_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    // stop() while two threads still send: every send after it is refused.
    {
        OscSender second(limits);
        second.start();
        std::atomic<bool> stopped{false};
        std::atomic<int> accepted_after_stop{0};
        std::vector<std::thread> late;
        for (int t = 0; t < 2; ++t) {
            late.emplace_back([&] {
                for (int i = 0; i < 20000; ++i) {
                    const bool was_stopped = stopped.load();
                    if (second.send(urls[static_cast<std::size_t>(i) % 3], OscMessage{"/late", {}}) && was_stopped) {
                        accepted_after_stop.fetch_add(1);
                    }
                }
            });
        }
        std::this_thread::sleep_for(20ms);
        second.stop();
        stopped = true;
        for (auto& th : late) {
            th.join();
        }
        if (accepted_after_stop.load() != 0) {
            std::fprintf(stderr, "FAIL: %d sends accepted after stop()\n", accepted_after_stop.load());
            return 1;
        }
    }
    done = true;
    watcher.join();
    reader.join();
    for (int fd : {udp_a, udp_b, tcp, deaf}) {
        close(fd);
    }
    const std::uint64_t total = static_cast<std::uint64_t>(kThreads) * kPerThread;
    std::printf("osc sender tsan stress: %llu sends, accepted %llu, sent %llu, queue-full %llu, dropped %llu, "
                "refused urls %llu, refused %llu, slow targets %llu, pruned %llu, TCP bytes read %llu, stop %.2f ms\n",
                static_cast<unsigned long long>(total), static_cast<unsigned long long>(accepted.load()),
                static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.dropped_queue_full),
                static_cast<unsigned long long>(s.dropped_messages), static_cast<unsigned long long>(s.refused_url),
                static_cast<unsigned long long>(s.refused_messages),
                static_cast<unsigned long long>(s.dropped_slow_target), static_cast<unsigned long long>(s.pruned),
                static_cast<unsigned long long>(tcp_bytes.load()), stop_ms);
    int failures = 0;
    if (s.sent + s.dropped_messages != accepted.load()) {
        std::fprintf(stderr, "FAIL: accepted messages not all accounted for (sent + dropped != accepted)\n");
        ++failures;
    }
    if (accepted.load() + s.dropped_queue_full + s.refused_url + s.refused_messages != total) {
        std::fprintf(stderr, "FAIL: send() results do not add up to the calls made\n");
        ++failures;
    }
    if (s.refused_url != to_host_name.load() || s.sent == 0 || tcp_bytes.load() == 0 || s.dropped_slow_target == 0) {
        std::fprintf(stderr, "FAIL: expected refused host names, some sent, TCP bytes read and a dropped target\n");
        ++failures;
    }
    if (stop_ms > 100.0) {
        std::fprintf(stderr, "FAIL: stop() took %.1f ms\n", stop_ms);
        ++failures;
    }
    return failures == 0 ? 0 : 1;
}
