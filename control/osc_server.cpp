#include "control/osc_server.hpp"

#include "control/lo_arg_read.hpp"

#include <lo/lo.h>
#include <spdlog/spdlog.h>

#include <netdb.h>
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

// /rig/get answers questions only: an address that acts when sent without
// arguments (next/prev/save a preset...) must not be reachable through it.
bool is_query(const std::string& address) {
    static constexpr std::string_view kQueries[] = {
        "/rig/ping", "/rig/status", "/rig/info", "/rig/dump", "/rig/master/volume", "/rig/master/mute",
        "/rig/bypass", "/rig/oversample", "/rig/tuner", "/rig/chain/list", "/rig/models/list", "/rig/irs/list",
        "/rig/presets/list", "/rig/preset/list", "/rig/preset/current", "/rig/midi/list"};
    for (const auto q : kQueries) {
        if (address == q) {
            return true;
        }
    }
    return address.rfind("/rig/stage/", 0) == 0;
}

std::string numeric_host(lo_address a) {
    const char* host = lo_address_get_hostname(a);
    return host != nullptr ? host : "";
}

} // namespace

OscServer::OscServer(AddressSpace& space, Feedback* feedback, NetFilter filter)
    : space_(space), feedback_(feedback), filter_(std::move(filter)) {}

OscServer::~OscServer() { stop(); }

void OscServer::start(int port, bool tcp) {
    const std::string port_text = std::to_string(port);
    auto on_error = [](int num, const char* msg, const char* where) {
        spdlog::warn("OSC: liblo error {} in {}: {}", num, where ? where : "?", msg ? msg : "?");
    };
    // Port 0 asks for any free port (liblo wants no port string for that).
    udp_ = lo_server_thread_new_with_proto(port == 0 ? nullptr : port_text.c_str(), LO_UDP, on_error);
    if (udp_ == nullptr) {
        throw std::runtime_error("cannot open OSC UDP port " + port_text + " (in use or not permitted)");
    }
    port_ = lo_server_thread_get_port(udp_);
    lo_server_thread_add_method(udp_, nullptr, nullptr, &OscServer::on_message, this);
    if (tcp) {
        tcp_ = lo_server_thread_new_with_proto(std::to_string(port_).c_str(), LO_TCP, on_error);
        if (tcp_ == nullptr) {
            stop();
            throw std::runtime_error("cannot open OSC TCP port " + std::to_string(port_));
        }
        lo_server_thread_add_method(tcp_, nullptr, nullptr, &OscServer::on_message, this);
    }
    if (lo_server_thread_start(udp_) != 0 || (tcp_ != nullptr && lo_server_thread_start(tcp_) != 0)) {
        stop();
        throw std::runtime_error("cannot start the OSC server threads");
    }
}

void OscServer::stop() {
    for (lo_server_thread* t : {&udp_, &tcp_}) {
        if (*t != nullptr) {
            lo_server_thread_stop(*t);
            lo_server_thread_free(*t);
            *t = nullptr;
        }
    }
    std::lock_guard lock(send_mutex_);
    for (auto& [url, a] : targets_) {
        lo_address_free(a);
    }
    targets_.clear();
}

lo_server OscServer::udp_server() const { return lo_server_thread_get_server(udp_); }

void OscServer::send_to(const std::string& url, const OscMessage& message) {
    std::lock_guard lock(send_mutex_);
    if (udp_ == nullptr) {
        return;
    }
    auto it = targets_.find(url);
    if (it == targets_.end()) {
        lo_address a = lo_address_new_from_url(url.c_str());
        if (a == nullptr) {
            return;
        }
        it = targets_.emplace(url, a).first;
    }
    const bool tcp = lo_address_get_protocol(it->second) == LO_TCP;
    lo_message m = to_lo(message);
    if (tcp) {
        lo_send_message(it->second, message.path.c_str(), m); // its own connection
    } else {
        lo_send_message_from(it->second, udp_server(), message.path.c_str(), m);
    }
    lo_message_free(m);
}

int OscServer::on_message(const char* path, const char* types, lo_arg** argv, int argc, lo_message msg,
                          void* user) noexcept {
    auto* self = static_cast<OscServer*>(user);
    lo_address source = lo_message_get_source(msg);
    if (source == nullptr || !self->filter_.allows(numeric_host(source))) {
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
    lo_message m = to_lo(message);
    lo_send_message_from(source, server, message.path.c_str(), m);
    lo_message_free(m);
}

void OscServer::error(lo_server server, lo_message to, const std::string& path, const std::string& message) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("OSC: refused {}: {}", path, message);
    reply(server, to, OscMessage{"/rig/error", {OscArg::of(path), OscArg::of(message)}});
}

std::string OscServer::checked_url(const std::string& url) const {
    lo_address a = lo_address_new_from_url(url.c_str());
    if (a == nullptr) {
        throw ControlError("'" + url + "' is not an OSC URL like osc.udp://192.168.1.20:9001");
    }
    const std::string host = lo_address_get_hostname(a) ? lo_address_get_hostname(a) : "";
    const std::string port = lo_address_get_port(a) ? lo_address_get_port(a) : "";
    const int proto = lo_address_get_protocol(a);
    lo_address_free(a);
    // Replies go only to the networks we take orders from.
    addrinfo hints{};
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* res = nullptr;
    if (host.empty() || port.empty() || getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) {
        throw ControlError("cannot resolve the host of '" + url + "'");
    }
    char numeric[NI_MAXHOST] = {};
    const int rc = getnameinfo(res->ai_addr, res->ai_addrlen, numeric, sizeof numeric, nullptr, 0, NI_NUMERICHOST);
    freeaddrinfo(res);
    if (rc != 0 || !filter_.allows(numeric)) {
        throw ControlError("'" + url + "' is outside the allowed networks");
    }
    return std::string(proto == LO_TCP ? "osc.tcp://" : "osc.udp://") +
           (std::string(numeric).find(':') != std::string::npos ? "[" + std::string(numeric) + "]" : numeric) + ":" +
           port + "/";
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

    if (in.path == "/rig/subscribe" || in.path == "/rig/unsubscribe") {
        if (feedback_ == nullptr) {
            throw ControlError("feedback is not enabled");
        }
        std::string url = sender_url;
        int lease = Feedback::kDefaultLeaseS;
        const std::size_t max_args = in.path == "/rig/subscribe" ? 2 : 1;
        if (in.args.size() > max_args) {
            throw ControlError(in.path + " takes at most " + std::to_string(max_args) + " arguments");
        }
        if (!in.args.empty()) {
            if (in.args[0].type == OscArg::Type::string) {
                url = checked_url(in.args[0].s);
            } else {
                const int p = in.args[0].type == OscArg::Type::int32 ? in.args[0].i : -1;
                if (p < 1 || p > 65535) {
                    throw ControlError(in.path + ": expected a port 1-65535 (int) or an osc.udp:// URL");
                }
                url = std::string("osc.udp://") + (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                      ":" + std::to_string(p) + "/";
            }
        }
        if (in.path == "/rig/unsubscribe") {
            if (!feedback_->unsubscribe(url)) {
                throw ControlError("'" + url + "' is not subscribed");
            }
            return;
        }
        if (in.args.size() == 2) {
            if (in.args[1].type != OscArg::Type::int32 || in.args[1].i < 1 || in.args[1].i > Feedback::kMaxLeaseS) {
                throw ControlError("/rig/subscribe: lease must be a whole number of seconds 1.." +
                                   std::to_string(Feedback::kMaxLeaseS));
            }
            lease = in.args[1].i;
        }
        feedback_->subscribe(url, lease);
        return;
    }
    if (in.path == "/rig/get") {
        if (in.args.size() != 2 || in.args[0].type != OscArg::Type::string ||
            in.args[1].type != OscArg::Type::string) {
            throw ControlError("/rig/get takes s:address s:reply_url");
        }
        const std::string target = checked_url(in.args[1].s);
        const std::string address = in.args[0].s;
        if (!is_query(address)) {
            throw ControlError("/rig/get: '" + address + "' is not a value that can be read");
        }
        try {
            for (const auto& r : space_.handle(OscMessage{address, {}}, nullptr)) {
                send_to(target, r);
            }
        } catch (const ControlError& e) {
            errors_.fetch_add(1, std::memory_order_relaxed);
            send_to(target, OscMessage{"/rig/error", {OscArg::of(address), OscArg::of(std::string(e.what()))}});
        }
        return;
    }
    // Errors that surface later (a preset failing on the loader thread) go
    // back to the sender's UDP address.
    const std::string error_url = lo_address_get_protocol(source) == LO_TCP ? std::string() : sender_url;
    const std::string address = in.path;
    auto late = [this, error_url, address](const std::string& message) {
        errors_.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("{}: {}", address, message);
        if (!error_url.empty()) {
            send_to(error_url, OscMessage{"/rig/error", {OscArg::of(address), OscArg::of(message)}});
        }
    };
    for (const auto& r : space_.handle(in, late)) {
        reply(server, msg, r);
    }
}

} // namespace rigd::control
