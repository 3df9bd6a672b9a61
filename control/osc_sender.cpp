#include "control/osc_sender.hpp"

#include <lo/lo.h>

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <unistd.h>

namespace rigd::control {

struct OscSender::Target {
    Endpoint endpoint;
    // Guarded by mutex_:
    std::deque<std::vector<std::uint8_t>> queue;
    std::size_t queued_bytes = 0;
    Clock::time_point last_used;
    Clock::time_point dropped_until{}; // refuses messages until then
    // Sender thread only:
    enum class State { idle, connecting, connected };
    State state = State::idle;
    int fd = -1;
    Clock::time_point connect_deadline{};
    Clock::time_point last_progress{};
    std::vector<std::uint8_t> out; // length-prefixed frames not yet written
    std::size_t out_pos = 0;
    std::deque<std::size_t> out_ends; // end offset in out of each message
    int udp_waiting_fd = -1; // UDP: the socket whose full buffer holds the queue back

    [[nodiscard]] bool out_pending() const noexcept { return out_pos < out.size(); }
};

namespace {

constexpr std::string_view kUdpScheme = "osc.udp://";
constexpr std::string_view kTcpScheme = "osc.tcp://";

bool fail(std::string* reason, std::string text) {
    if (reason != nullptr) {
        *reason = std::move(text);
    }
    return false;
}

bool looks_like_name(std::string_view host) {
    for (const char c : host) {
        if ((c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z') || c == '-' || c == '_') {
            return true;
        }
    }
    return false;
}

} // namespace

std::optional<OscSender::Endpoint> OscSender::parse_url(std::string_view url, std::string* reason) {
    const std::string shown = "'" + std::string(url.substr(0, 200)) + (url.size() > 200 ? "...'" : "'");
    const auto refuse = [&](const std::string& why) -> std::optional<Endpoint> {
        fail(reason, shown + " " + why);
        return std::nullopt;
    };
    Endpoint ep;
    std::string_view rest;
    if (url.substr(0, kUdpScheme.size()) == kUdpScheme) {
        ep.protocol = Protocol::udp;
        rest = url.substr(kUdpScheme.size());
    } else if (url.substr(0, kTcpScheme.size()) == kTcpScheme) {
        ep.protocol = Protocol::tcp;
        rest = url.substr(kTcpScheme.size());
    } else {
        return refuse("is not an OSC URL like osc.udp://192.168.1.20:9001 or osc.tcp://[::1]:9001");
    }
    if (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
    }
    std::string_view host;
    std::string_view port_text;
    bool bracketed = false;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
            return refuse("is not an OSC URL: expected [IPv6 address]:port after the scheme");
        }
        host = rest.substr(1, close - 1);
        port_text = rest.substr(close + 2);
        bracketed = true;
    } else {
        const auto colon = rest.find(':');
        if (colon == std::string_view::npos) {
            return refuse("has no port: expected host:port after the scheme");
        }
        host = rest.substr(0, colon);
        port_text = rest.substr(colon + 1);
        if (port_text.find(':') != std::string_view::npos) {
            return refuse("is not an OSC URL: an IPv6 address goes in brackets, e.g. osc.udp://[::1]:9001");
        }
    }
    if (host.empty()) {
        return refuse("has no host");
    }
    int port = 0;
    const auto pr = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || pr.ec != std::errc() || pr.ptr != port_text.data() + port_text.size()) {
        return refuse("has no valid port number after the host (and nothing may follow it but '/')");
    }
    if (port < 1 || port > 65535) {
        return refuse("has port " + std::to_string(port) + ": ports are 1-65535");
    }
    if (!bracketed) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        if (inet_pton(AF_INET, std::string(host).c_str(), &a.sin_addr) != 1) {
            if (looks_like_name(host)) {
                return refuse("names a host: give its numeric address (e.g. osc.udp://192.168.1.20:9001); "
                              "names are not looked up, that would block");
            }
            return refuse("does not hold a numeric IPv4 address (IPv6 goes in brackets)");
        }
        std::memcpy(&ep.address, &a, sizeof a);
        ep.length = sizeof a;
        char text[INET_ADDRSTRLEN] = {};
        inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
        ep.url = std::string(ep.protocol == Protocol::udp ? kUdpScheme : kTcpScheme) + text + ":" +
                 std::to_string(port) + "/";
        return ep;
    }
    // IPv6, with an optional zone for link-local addresses (fe80::1%wlan0).
    std::string_view zone;
    if (const auto pct = host.find('%'); pct != std::string_view::npos) {
        zone = host.substr(pct + 1);
        host = host.substr(0, pct);
    }
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a.sin6_addr) != 1) {
        return refuse("does not hold a numeric IPv6 address inside the brackets");
    }
    if (!zone.empty()) {
        unsigned scope = 0;
        const auto zr = std::from_chars(zone.data(), zone.data() + zone.size(), scope);
        if (zr.ec != std::errc() || zr.ptr != zone.data() + zone.size()) {
            scope = if_nametoindex(std::string(zone).c_str()); // a local table lookup, no network
        }
        if (scope == 0) {
            return refuse("names an unknown network interface after '%'");
        }
        a.sin6_scope_id = scope;
    }
    std::memcpy(&ep.address, &a, sizeof a);
    ep.length = sizeof a;
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
    ep.url = std::string(ep.protocol == Protocol::udp ? kUdpScheme : kTcpScheme) + "[" + text +
             (zone.empty() ? "" : "%" + std::to_string(a.sin6_scope_id)) + "]:" + std::to_string(port) + "/";
    return ep;
}

std::vector<std::uint8_t> OscSender::serialise(const OscMessage& message) {
    lo_message m = lo_message_new();
    if (m == nullptr) {
        throw std::bad_alloc();
    }
    for (const auto& a : message.args) {
        switch (a.type) {
        case OscArg::Type::int32:
            lo_message_add_int32(m, a.i);
            break;
        case OscArg::Type::float32:
            lo_message_add_float(m, a.f);
            break;
        case OscArg::Type::string:
            lo_message_add_string(m, a.s.c_str());
            break;
        }
    }
    std::size_t size = lo_message_length(m, message.path.c_str());
    std::vector<std::uint8_t> out(size);
    lo_message_serialise(m, message.path.c_str(), out.data(), &size);
    lo_message_free(m);
    out.resize(size);
    return out;
}

OscSender::OscSender(Limits limits) : limits_(limits) {}
OscSender::OscSender() : OscSender(Limits{}) {}

OscSender::~OscSender() { stop(); }

void OscSender::start(int udp_fd) {
    std::lock_guard lock(mutex_);
    if (running_) {
        return;
    }
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        throw std::runtime_error(std::string("OSC sender: eventfd: ") + std::strerror(errno));
    }
    udp_fd_ = udp_fd;
    udp_family_ = AF_UNSPEC;
    if (udp_fd_ >= 0) {
        sockaddr_storage local{};
        socklen_t len = sizeof local;
        if (getsockname(udp_fd_, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
            udp_family_ = local.ss_family;
        }
    }
    stopping_ = false;
    running_ = true;
    thread_ = std::thread(&OscSender::run, this);
}

void OscSender::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!running_ || stopping_) {
            return;
        }
        stopping_ = true;
        wake();
    }
    thread_.join();
    std::lock_guard lock(mutex_);
    for (auto& [url, t] : targets_) {
        close_socket(*t);
    }
    targets_.clear();
    stats_.live_targets = 0;
    for (int* fd : {&own_udp4_, &own_udp6_, &wake_fd_}) {
        if (*fd >= 0) {
            ::close(*fd);
            *fd = -1;
        }
    }
    udp_fd_ = -1;
    running_ = false;
    stopping_ = false;
}

bool OscSender::send(const std::string& url, const OscMessage& message) {
    auto endpoint = parse_url(url);
    if (!endpoint) {
        std::lock_guard lock(mutex_);
        ++stats_.refused_url;
        return false;
    }
    std::vector<std::uint8_t> bytes = serialise(message);
    const auto now = Clock::now();
    {
        std::lock_guard lock(mutex_);
        if (!running_ || stopping_ || bytes.size() > limits_.max_message_bytes) {
            ++stats_.refused_messages;
            return false;
        }
        auto it = targets_.find(endpoint->url);
        if (it == targets_.end()) {
            if (targets_.size() >= limits_.max_targets) {
                ++stats_.refused_url;
                return false;
            }
            auto t = std::make_unique<Target>();
            t->endpoint = std::move(*endpoint);
            it = targets_.emplace(t->endpoint.url, std::move(t)).first;
            stats_.live_targets = targets_.size();
        }
        Target& t = *it->second;
        t.last_used = now;
        if (now < t.dropped_until) {
            ++stats_.refused_messages;
            return false;
        }
        if (t.queue.size() >= limits_.queue_messages || t.queued_bytes + bytes.size() > limits_.queue_bytes) {
            ++stats_.dropped_queue_full;
            return false;
        }
        const bool was_empty = t.queue.empty();
        t.queued_bytes += bytes.size();
        t.queue.push_back(std::move(bytes));
        if (was_empty) {
            wake(); // under the lock: stop() closes wake_fd_ under it
        }
    }
    return true;
}

OscSender::Stats OscSender::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void OscSender::wake() {
    // Called with mutex_ held.
    const std::uint64_t one = 1;
    // Non-blocking eventfd: a full counter already means "wake up".
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

int OscSender::udp_socket_for(int family) {
    if (udp_fd_ >= 0 && udp_family_ == family) {
        return udp_fd_;
    }
    int& own = family == AF_INET6 ? own_udp6_ : own_udp4_;
    if (own < 0) {
        own = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    return own;
}

void OscSender::close_socket(Target& t) {
    if (t.fd >= 0) {
        ::close(t.fd);
        t.fd = -1;
    }
    t.state = Target::State::idle;
    t.out.clear();
    t.out_pos = 0;
    t.out_ends.clear();
}

void OscSender::drop(Target& t, Clock::time_point now) {
    const std::size_t lost_out = t.out_ends.size();
    close_socket(t);
    std::lock_guard lock(mutex_);
    ++stats_.dropped_slow_target;
    stats_.dropped_messages += lost_out + t.queue.size();
    t.queue.clear();
    t.queued_bytes = 0;
    t.dropped_until = now + limits_.retry_after;
}

void OscSender::run() {
    std::vector<pollfd> fds;
    std::vector<Target*> live;
    for (;;) {
        const auto now = Clock::now();
        live.clear();
        {
            std::lock_guard lock(mutex_);
            if (stopping_) {
                return;
            }
            // Only this thread erases targets, so the pointers stay valid
            // outside the lock.
            for (auto it = targets_.begin(); it != targets_.end();) {
                Target& t = *it->second;
                if (now - t.last_used > limits_.idle_timeout && t.queue.empty() && !t.out_pending()) {
                    close_socket(t);
                    ++stats_.pruned;
                    it = targets_.erase(it);
                } else {
                    live.push_back(&t);
                    ++it;
                }
            }
            stats_.live_targets = targets_.size();
        }
        for (Target* t : live) {
            service(*t, now);
        }
        fds.clear();
        fds.push_back(pollfd{wake_fd_, POLLIN, 0});
        for (const Target* t : live) {
            if (t->udp_waiting_fd >= 0) {
                fds.push_back(pollfd{t->udp_waiting_fd, POLLOUT, 0});
            }
            if (t->fd >= 0) {
                const bool want_out = t->state == Target::State::connecting || t->out_pending();
                fds.push_back(pollfd{t->fd, static_cast<short>(POLLIN | (want_out ? POLLOUT : 0)), 0});
            }
        }
        // Timers (connect, stall, idle, retry) are checked at least this often.
        const int timeout_ms = live.empty() ? 1000 : 50;
        ::poll(fds.data(), fds.size(), timeout_ms);
        if ((fds[0].revents & POLLIN) != 0) {
            std::uint64_t count = 0;
            [[maybe_unused]] const auto n = ::read(wake_fd_, &count, sizeof count);
        }
    }
}

void OscSender::service(Target& t, Clock::time_point now) {
    if (t.endpoint.protocol == Protocol::udp) {
        service_udp(t, now);
    } else {
        service_tcp(t, now);
    }
}

void OscSender::service_udp(Target& t, Clock::time_point now) {
    std::deque<std::vector<std::uint8_t>> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(t.queue);
        t.queued_bytes = 0;
    }
    if (batch.empty()) {
        t.udp_waiting_fd = -1;
        return;
    }
    const int family = t.endpoint.address.ss_family;
    int fd = udp_socket_for(family);
    sockaddr_storage to = t.endpoint.address;
    socklen_t to_len = t.endpoint.length;
    // A dual-stack IPv6 server socket reaches IPv4 targets as mapped addresses.
    if (family == AF_INET && udp_fd_ >= 0 && udp_family_ == AF_INET6) {
        int v6only = 1;
        socklen_t len = sizeof v6only;
        if (getsockopt(udp_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) == 0 && v6only == 0) {
            const auto* v4 = reinterpret_cast<const sockaddr_in*>(&t.endpoint.address);
            sockaddr_in6 mapped{};
            mapped.sin6_family = AF_INET6;
            mapped.sin6_port = v4->sin_port;
            mapped.sin6_addr.s6_addr[10] = 0xff;
            mapped.sin6_addr.s6_addr[11] = 0xff;
            std::memcpy(&mapped.sin6_addr.s6_addr[12], &v4->sin_addr, 4);
            std::memset(&to, 0, sizeof to);
            std::memcpy(&to, &mapped, sizeof mapped);
            to_len = sizeof mapped;
            fd = udp_fd_;
        }
    }
    std::uint64_t sent = 0;
    std::uint64_t lost = 0;
    std::size_t i = 0;
    for (; i < batch.size(); ++i) {
        const auto& m = batch[i];
        const auto n = fd < 0 ? -1
                              : ::sendto(fd, m.data(), m.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                                         reinterpret_cast<const sockaddr*>(&to), to_len);
        if (n == static_cast<ssize_t>(m.size())) {
            ++sent;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
            break; // the socket buffer is full: the rest waits for POLLOUT (a dump over Wi-Fi)
        } else {
            ++lost; // unreachable and the like: a datagram is not retried
        }
    }
    if (i == batch.size()) {
        t.udp_waiting_fd = -1;
    } else {
        if (t.udp_waiting_fd < 0 || sent > 0) {
            t.last_progress = now;
        }
        t.udp_waiting_fd = fd;
        if (now - t.last_progress > limits_.stall_timeout) {
            lost += batch.size() - i; // the buffer has not moved for that long: give these up
            t.udp_waiting_fd = -1;
        } else {
            std::lock_guard lock(mutex_);
            for (std::size_t k = i; k < batch.size(); ++k) {
                t.queued_bytes += batch[k].size();
            }
            t.queue.insert(t.queue.begin(), std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(i)),
                           std::make_move_iterator(batch.end()));
        }
    }
    std::lock_guard lock(mutex_);
    stats_.sent += sent;
    stats_.dropped_messages += lost;
}

void OscSender::service_tcp(Target& t, Clock::time_point now) {
    if (t.state == Target::State::idle) {
        {
            std::lock_guard lock(mutex_);
            if (t.queue.empty()) {
                return;
            }
        }
        const int family = t.endpoint.address.ss_family;
        t.fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (t.fd < 0) {
            drop(t, now);
            return;
        }
        // A small kernel buffer bounds what a target that never reads can hold.
        const int sndbuf = static_cast<int>(limits_.tcp_buffer_bytes);
        setsockopt(t.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        const int one = 1;
        setsockopt(t.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const int rc = ::connect(t.fd, reinterpret_cast<const sockaddr*>(&t.endpoint.address), t.endpoint.length);
        if (rc == 0) {
            t.state = Target::State::connected;
            t.last_progress = now;
        } else if (errno == EINPROGRESS) {
            t.state = Target::State::connecting;
            t.connect_deadline = now + limits_.connect_timeout;
        } else {
            drop(t, now);
            return;
        }
    }
    if (t.state == Target::State::connecting) {
        pollfd p{t.fd, POLLOUT, 0};
        if (::poll(&p, 1, 0) == 1) {
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(t.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
                drop(t, now); // refused or unreachable
                return;
            }
            t.state = Target::State::connected;
            t.last_progress = now;
        } else if (now >= t.connect_deadline) {
            drop(t, now);
            return;
        } else {
            return;
        }
    }
    // Connected. Whatever the peer sends is read and discarded; its EOF ends
    // the connection (the next message reconnects).
    std::uint8_t scratch[512];
    for (;;) {
        const auto n = ::recv(t.fd, scratch, sizeof scratch, MSG_DONTWAIT);
        if (n > 0) {
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            const std::size_t lost = t.out_ends.size();
            close_socket(t);
            std::lock_guard lock(mutex_);
            stats_.dropped_messages += lost;
            return;
        }
        break;
    }
    // Frame queued messages into the output buffer while they fit: a 32-bit
    // big-endian length, then the OSC packet (what liblo's TCP server reads).
    {
        std::lock_guard lock(mutex_);
        if (t.out_pos > 0 && t.out_pos * 2 >= t.out.size()) {
            t.out.erase(t.out.begin(), t.out.begin() + static_cast<std::ptrdiff_t>(t.out_pos));
            for (auto& end : t.out_ends) {
                end -= t.out_pos;
            }
            t.out_pos = 0;
        }
        while (!t.queue.empty() &&
               t.out.size() - t.out_pos + 4 + t.queue.front().size() <= limits_.tcp_buffer_bytes) {
            if (!t.out_pending()) {
                t.last_progress = now; // the stall clock starts when bytes are waiting
            }
            const auto& m = t.queue.front();
            const auto size = static_cast<std::uint32_t>(m.size());
            const std::uint8_t prefix[4] = {static_cast<std::uint8_t>(size >> 24), static_cast<std::uint8_t>(size >> 16),
                                            static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size)};
            t.out.insert(t.out.end(), prefix, prefix + 4);
            t.out.insert(t.out.end(), m.begin(), m.end());
            t.out_ends.push_back(t.out.size());
            t.queued_bytes -= m.size();
            t.queue.pop_front();
        }
    }
    std::uint64_t sent = 0;
    while (t.out_pending()) {
        const auto n = ::send(t.fd, t.out.data() + t.out_pos, t.out.size() - t.out_pos, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            t.out_pos += static_cast<std::size_t>(n);
            t.last_progress = now;
            while (!t.out_ends.empty() && t.out_ends.front() <= t.out_pos) {
                t.out_ends.pop_front();
                ++sent;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            break;
        }
        const std::size_t lost = t.out_ends.size();
        close_socket(t); // reset by the peer: the next message reconnects
        std::lock_guard lock(mutex_);
        stats_.sent += sent;
        stats_.dropped_messages += lost;
        return;
    }
    if (sent > 0) {
        std::lock_guard lock(mutex_);
        stats_.sent += sent;
    }
    bool waiting = t.out_pending();
    if (!waiting) {
        std::lock_guard lock(mutex_);
        waiting = !t.queue.empty();
    }
    if (waiting && now - t.last_progress > limits_.stall_timeout) {
        drop(t, now);
    }
}

} // namespace rigd::control
