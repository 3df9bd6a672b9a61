#pragma once

#include "control/osc_message.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <vector>

namespace rigd::control {

// All outbound OSC that is not a direct reply on a client's own TCP
// connection (feedback, /rig/get reply URLs, late errors, replies to UDP
// senders). send() only queues: one sender thread does every socket call,
// non-blocking, so a target that never reads (or never answers a connect)
// stalls nobody. Each target has a bounded queue; a TCP target that takes no
// byte for stall_timeout is dropped; idle targets are pruned.
class OscSender {
public:
    struct Limits {
        // Per target; when either is reached the new message is dropped. A
        // full /rig/dump of a 64-stage chain is ~1,200 messages, ~80 kB: it
        // must fit whole, since a UDP target's burst outruns the drain.
        std::size_t queue_messages = 4096;
        std::size_t queue_bytes = 256 * 1024;
        std::size_t max_targets = 128;              // distinct URLs at once; more are refused
        std::size_t tcp_buffer_bytes = 64 * 1024;   // per TCP target, beside the kernel's (also capped)
        std::size_t max_message_bytes = 60 * 1024;  // larger messages are dropped (a UDP datagram's limit)
        std::chrono::milliseconds connect_timeout{1000};
        std::chrono::milliseconds stall_timeout{2000}; // a TCP target with bytes pending and no progress
        std::chrono::milliseconds idle_timeout{60000}; // no message for this long: socket closed, target pruned
        std::chrono::milliseconds retry_after{5000};   // a dropped target refuses messages for this long
    };

    struct Stats {
        std::uint64_t sent = 0;                // messages handed whole to the kernel
        std::uint64_t dropped_queue_full = 0;  // messages refused by a full per-target queue
        std::uint64_t dropped_slow_target = 0; // TCP targets dropped: stalled, connect timed out or failed
        std::uint64_t dropped_messages = 0;    // queued messages lost: with a dropped or closed target, or
                                               // refused by the kernel (a datagram on a full socket buffer)
        std::uint64_t refused_messages = 0;    // send() refused: the target was dropped lately, the message
                                               // is too large or the sender is not running
        std::uint64_t refused_url = 0;         // send() with a URL that is not numeric, malformed, or one
                                               // target too many
        std::uint64_t pruned = 0;              // idle targets closed
        std::size_t live_targets = 0;
    };

    enum class Protocol { udp, tcp };
    struct Endpoint {
        Protocol protocol = Protocol::udp;
        sockaddr_storage address{};
        socklen_t length = 0;
        std::string url; // canonical: osc.udp://1.2.3.4:9001/ or osc.tcp://[::1]:9001/
    };

    // Parses osc.udp:// or osc.tcp:// URLs with a numeric host (IPv4, or IPv6
    // in brackets) and a port 1-65535, an optional trailing '/'. Host names
    // are refused: resolving them blocks. On failure returns nullopt and,
    // when reason is given, says why. Any thread.
    [[nodiscard]] static std::optional<Endpoint> parse_url(std::string_view url, std::string* reason = nullptr);

    // Any thread.
    explicit OscSender(Limits limits);
    OscSender();
    // Any thread except the sender's own; stops it first.
    ~OscSender();
    OscSender(const OscSender&) = delete;
    OscSender& operator=(const OscSender&) = delete;

    // Starts the sender thread. udp_fd: a bound UDP socket to send from (the
    // OSC server's, so replies come from its port; not owned, must outlive
    // stop()); -1 or a socket of the other address family: the sender's own.
    // Throws std::runtime_error when the thread's resources cannot be made.
    // Any thread, not concurrently with stop().
    void start(int udp_fd = -1);
    // Stops and joins the sender thread and closes every target's socket
    // within ~100 ms whatever the targets do; queued messages are discarded.
    // Idempotent. Any thread except the sender's own.
    void stop();

    // Queues `message` for `url`. Never blocks on the network: no lookup,
    // connect or send happens here. Returns false (and counts) when the URL is
    // refused, the target's queue is full, the target was dropped lately, the
    // message is too large or the sender is not running. Any thread.
    bool send(const std::string& url, const OscMessage& message);

    // Any thread.
    [[nodiscard]] Stats stats() const;

    // OSC wire bytes of a message (liblo's serialiser). Any thread.
    [[nodiscard]] static std::vector<std::uint8_t> serialise(const OscMessage& message);

private:
    using Clock = std::chrono::steady_clock;
    struct Target;

    void run();
    void service(Target& t, Clock::time_point now);
    void service_udp(Target& t, Clock::time_point now);
    void service_tcp(Target& t, Clock::time_point now);
    void drop(Target& t, Clock::time_point now);
    void close_socket(Target& t);
    void wake();
    [[nodiscard]] int udp_socket_for(int family);

    Limits limits_;
    mutable std::mutex mutex_; // guards targets_' membership, each queue and stats_
    std::map<std::string, std::unique_ptr<Target>> targets_;
    Stats stats_;
    bool running_ = false;
    bool stopping_ = false;
    int wake_fd_ = -1;  // eventfd: send() and stop() wake the poll
    int udp_fd_ = -1;   // not owned
    int udp_family_ = AF_UNSPEC;
    int own_udp4_ = -1; // owned, made on first need
    int own_udp6_ = -1;
    std::thread thread_;
};

} // namespace rigd::control
