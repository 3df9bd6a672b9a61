#include "control/osc_server.hpp"

#include "control/log_limiter.hpp"
#include "control/log_text.hpp"
#include "control/lo_arg_read.hpp"

#include <lo/lo.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace rigd::control {

namespace {

// Phone apps send floats for buttons and ints for faders as often as the
// other way round: every numeric OSC type is accepted as a number.
std::optional<OscArg> convert(char type, const lo_arg* a) {
    switch (type) {
    case LO_FLOAT:
        return OscArg::of(lo_arg_value<float>(a));
    case LO_DOUBLE:
        return OscArg::of(static_cast<float>(lo_arg_value<double>(a)));
    case LO_INT32:
        return OscArg::of(lo_arg_value<std::int32_t>(a));
    case LO_INT64:
        return OscArg::of(static_cast<float>(lo_arg_value<std::int64_t>(a)));
    case LO_TRUE:
        return OscArg::of(std::int32_t{1});
    case LO_FALSE:
        return OscArg::of(std::int32_t{0});
    case LO_STRING:
    case LO_SYMBOL:
        return OscArg::of(std::string(lo_arg_string(a)));
    default:
        return std::nullopt;
    }
}

lo_message to_lo(const OscMessage& m) {
    lo_message out = lo_message_new();
    for (const auto& a : m.args) {
        switch (a.type) {
        case OscArg::Type::int32:
            lo_message_add_int32(out, a.i);
            break;
        case OscArg::Type::float32:
            lo_message_add_float(out, a.f);
            break;
        case OscArg::Type::string:
            lo_message_add_string(out, a.s.c_str());
            break;
        }
    }
    return out;
}

std::string numeric_host(lo_address a) {
    const char* host = lo_address_get_hostname(a);
    return host != nullptr ? host : "";
}

} // namespace

OscServer::OscServer(ControlLoop& loop, AddressSpace& space, NetFilter filter)
    : loop_(loop), space_(space), filter_(std::move(filter)) {}

OscServer::~OscServer() { stop(); }

bool OscServer::allows(std::string_view host) const {
    std::lock_guard lock(filter_mutex_);
    return filter_.allows(host);
}

void OscServer::set_filter(NetFilter filter) {
    std::lock_guard lock(filter_mutex_);
    filter_ = std::move(filter);
}

void OscServer::start(int port, bool tcp) {
    const std::string port_text = std::to_string(port);
    // liblo reports each malformed packet here, with the packet's own bytes
    // in `where`: escaped, and one line a second at most.
    auto on_error = [](int num, const char* msg, const char* where) {
        LogLimiter::shared().log(spdlog::level::warn, "osc.liblo_error",
                                 fmt::format("OSC: liblo error {} in '{}': {}", num,
                                             escape_for_log(where != nullptr ? where : "?"),
                                             escape_for_log(msg != nullptr ? msg : "?")));
    };
    // Port 0 asks for any free port (liblo wants no port string for that).
    udp_ = lo_server_thread_new_with_proto(port == 0 ? nullptr : port_text.c_str(), LO_UDP, on_error);
    if (udp_ == nullptr) {
        throw std::runtime_error("cannot open OSC UDP port " + port_text + " (in use or not permitted)");
    }
    port_ = lo_server_thread_get_port(udp_);
    // A burst from one client (a fader script, a flood) must not crowd out
    // the kernel's buffer for everyone else's packets: ask for 4 MB (root
    // may exceed net.core.rmem_max; others get what the limit allows).
    const int fd = lo_server_get_socket_fd(lo_server_thread_get_server(udp_));
    const int bytes = 4 << 20;
    if (fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    }
    lo_server_thread_add_method(udp_, nullptr, nullptr, &OscServer::on_message, this);
    if (tcp) {
        tcp_ = lo_server_thread_new_with_proto(std::to_string(port_).c_str(), LO_TCP, on_error);
        if (tcp_ == nullptr) {
            stop();
            throw std::runtime_error("cannot open OSC TCP port " + std::to_string(port_));
        }
        lo_server_thread_add_method(tcp_, nullptr, nullptr, &OscServer::on_message, this);
    }
    try {
        sender_.start(lo_server_get_socket_fd(udp_server())); // replies leave from the server's port
    } catch (const std::exception&) {
        stop();
        throw;
    }
    if (lo_server_thread_start(udp_) != 0 || (tcp_ != nullptr && lo_server_thread_start(tcp_) != 0)) {
        stop();
        throw std::runtime_error("cannot start the OSC server threads");
    }
}

void OscServer::stop() {
    for (lo_server_thread* t : {&udp_, &tcp_}) {
        if (*t != nullptr) {
            lo_server_thread_stop(*t); // no new requests; the sockets stay open
        }
    }
    // Requests already posted to the control loop name this server (their
    // replies leave through it): let them run before we go. The loop is
    // FIFO, so an empty call is a barrier. (Guarded by the ASan run of
    // "log text: a forged log line..." in tests/control.)
    if (!loop_.on_loop_thread()) {
        try {
            loop_.call([] {});
        } catch (const std::exception&) {
            // The loop has stopped: nothing of ours can run any more.
        }
    }
    sender_.stop(); // after them (they may queue replies), before the socket it sends from closes
    for (lo_server_thread* t : {&udp_, &tcp_}) {
        if (*t != nullptr) {
            lo_server_thread_free(*t);
            *t = nullptr;
        }
    }
}

lo_server OscServer::udp_server() const { return lo_server_thread_get_server(udp_); }

bool OscServer::send_to(const std::string& url, const OscMessage& message) {
    return sender_.send(url, message);
}

int OscServer::on_message(const char* path, const char* types, lo_arg** argv, int argc, lo_message msg,
                          void* user) noexcept {
    auto* self = static_cast<OscServer*>(user);
    lo_address source = lo_message_get_source(msg);
    if (source == nullptr || !self->allows(numeric_host(source))) {
        self->dropped_.fetch_add(1, std::memory_order_relaxed);
        return 0;
    }
    self->messages_.fetch_add(1, std::memory_order_relaxed);
    // Which server received it decides where replies leave from.
    lo_server server = lo_address_get_protocol(source) == LO_TCP && self->tcp_ != nullptr
                           ? lo_server_thread_get_server(self->tcp_)
                           : self->udp_server();
    const std::string address = path != nullptr ? path : "";
    try {
        self->handle(server, address.c_str(), types != nullptr ? types : "", argv, argc, msg);
    } catch (const ControlError& e) {
        self->error(server, msg, address, e.what());
    } catch (const std::exception& e) {
        self->error(server, msg, address, std::string("internal error: ") + e.what());
    }
    return 0; // handled: liblo looks no further
}

void OscServer::reply(lo_server server, lo_message to, const OscMessage& message) {
    lo_address source = lo_message_get_source(to);
    if (source == nullptr) {
        return;
    }
    if (lo_address_get_protocol(source) != LO_TCP) {
        // A UDP sender gets its replies through the sender's queue, so a
        // full socket buffer or a slow peer never holds this thread.
        const std::string host = numeric_host(source);
        const char* port = lo_address_get_port(source);
        (void)sender_.send(std::string("osc.udp://") + (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                               ":" + (port != nullptr ? port : "0") + "/",
                           message);
        return;
    }
    // On the client's own TCP connection, as liblo's server thread owns it.
    lo_message m = to_lo(message);
    lo_send_message_from(source, server, message.path.c_str(), m);
    lo_message_free(m);
}

void OscServer::error(lo_server server, lo_message to, const std::string& path, const std::string& message) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    LogLimiter::shared().log(spdlog::level::debug, "osc.refused",
                             fmt::format("OSC: refused '{}': {}", escape_for_log(path), escape_for_log(message)));
    reply(server, to, OscMessage{"/rig/error", {OscArg::of(path), OscArg::of(message)}});
}

void OscServer::handle(lo_server server, const char* path, const char* types, lo_arg** argv, int argc,
                       lo_message msg) {
    OscMessage in{path, {}};
    for (int i = 0; i < argc; ++i) {
        auto a = convert(types[i], argv[i]);
        if (!a) {
            throw ControlError(std::string("argument ") + std::to_string(i + 1) + " has an unsupported OSC type '" +
                               types[i] + "'");
        }
        in.args.push_back(std::move(*a));
    }
    lo_address source = lo_message_get_source(msg);
    const std::string host = numeric_host(source);
    const char* source_port = lo_address_get_port(source);
    const std::string sender_url = std::string("osc.udp://") +
                                   (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                                   (source_port != nullptr ? source_port : "0") + "/";
    const bool tcp = lo_address_get_protocol(source) == LO_TCP;
    if (!tcp) {
        // Handled on the control loop; replies leave through the sender.
        // The OSC thread goes back to reading at once.
        auto later = [this, sender_url](const OscMessage& m) {
            if (m.path == "/rig/error" && m.args.size() == 2) {
                errors_.fetch_add(1, std::memory_order_relaxed);
                LogLimiter::shared().log(spdlog::level::debug, "osc.refused",
                                         fmt::format("OSC: refused '{}': {}", escape_for_log(m.args[0].s),
                                                     escape_for_log(m.args[1].s)));
            }
            send_to(sender_url, m);
        };
        const bool queued = loop_.post([this, in = std::move(in), sender_url, host, later] {
            try {
                for (const auto& r : space_.handle(Request{in, sender_url, host, later})) {
                    send_to(sender_url, r);
                }
            } catch (const ControlError& e) {
                later(OscMessage{"/rig/error", {OscArg::of(in.path), OscArg::of(std::string(e.what()))}});
            } catch (const std::exception& e) {
                later(OscMessage{"/rig/error",
                                 {OscArg::of(in.path), OscArg::of(std::string("internal error: ") + e.what())}});
            }
        });
        if (!queued) {
            throw ControlError("the rig is busy (control queue full); message dropped");
        }
        return;
    }
    // TCP: the reply goes back on the client's own connection, from this
    // thread; the control loop answers in microseconds (it never blocks).
    const auto replies = loop_.call([this, &in, &sender_url, &host] {
        return space_.handle(Request{in, sender_url, host, {}});
    });
    for (const auto& r : replies) {
        reply(server, msg, r);
    }
}

} // namespace rigd::control
