#include "control/osc_server.hpp"

#include <lo/lo.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <stdexcept>
#include <string_view>

namespace rigd::control {

namespace {

// Phone apps send floats for buttons and ints for faders as often as the
// other way round: any numeric OSC type is accepted for a number.
std::optional<double> number_arg(char type, const lo_arg* a) {
    switch (type) {
    case LO_FLOAT:
        return a->f;
    case LO_DOUBLE:
        return a->d;
    case LO_INT32:
        return a->i;
    case LO_INT64:
        return static_cast<double>(a->h);
    case LO_TRUE:
        return 1.0;
    case LO_FALSE:
        return 0.0;
    default:
        return std::nullopt;
    }
}

std::string type_name(char type) {
    switch (type) {
    case LO_STRING:
    case LO_SYMBOL:
        return "a string";
    case LO_BLOB:
        return "a blob";
    case LO_NIL:
        return "nil";
    case LO_INFINITUM:
        return "infinitum";
    default:
        return std::string("type '") + type + "'";
    }
}

double one_number(const std::string& path, const char* types, lo_arg** argv) {
    const auto v = number_arg(types[0], argv[0]);
    if (!v) {
        throw ControlError(path + " expects a number, got " + type_name(types[0]));
    }
    return *v;
}

} // namespace

OscServer::OscServer(RigController& rig, StatusSource status) : rig_(rig), status_(std::move(status)) {}

OscServer::~OscServer() { stop(); }

void OscServer::start(int port) {
    const std::string port_text = std::to_string(port);
    thread_ = lo_server_thread_new_with_proto(port_text.c_str(), LO_UDP, [](int num, const char* msg, const char* where) {
        spdlog::warn("OSC: liblo error {} in {}: {}", num, where ? where : "?", msg ? msg : "?");
    });
    if (thread_ == nullptr) {
        throw std::runtime_error("cannot open OSC UDP port " + port_text + " (in use or not permitted)");
    }
    port_ = lo_server_thread_get_port(thread_);
    lo_server_thread_add_method(thread_, nullptr, nullptr, &OscServer::on_message, this);
    if (lo_server_thread_start(thread_) != 0) {
        lo_server_thread_free(thread_);
        thread_ = nullptr;
        throw std::runtime_error("cannot start the OSC server thread");
    }
}

void OscServer::stop() {
    if (thread_ != nullptr) {
        lo_server_thread_stop(thread_);
        lo_server_thread_free(thread_);
        thread_ = nullptr;
    }
}

int OscServer::on_message(const char* path, const char* types, lo_arg** argv, int argc, lo_message msg,
                          void* user) noexcept {
    auto* self = static_cast<OscServer*>(user);
    self->messages_.fetch_add(1, std::memory_order_relaxed);
    const std::string address = path != nullptr ? path : "";
    try {
        self->dispatch(address, types != nullptr ? types : "", argv, argc, msg);
    } catch (const ControlError& e) {
        self->error(msg, address, e.what());
    } catch (const std::exception& e) {
        self->error(msg, address, std::string("internal error: ") + e.what());
    }
    return 0; // handled: liblo stops looking for other methods
}

void OscServer::reply(lo_message to, const char* path, lo_message message) {
    lo_address source = lo_message_get_source(to);
    if (source != nullptr) {
        lo_send_message_from(source, lo_server_thread_get_server(thread_), path, message);
    }
    lo_message_free(message);
}

void OscServer::error(lo_message to, const std::string& path, const std::string& message) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("OSC: refused {}: {}", path, message);
    lo_message m = lo_message_new();
    lo_message_add_string(m, path.c_str());
    lo_message_add_string(m, message.c_str());
    reply(to, "/rig/error", m);
}

void OscServer::dispatch(const std::string& path, const char* types, lo_arg** argv, int argc, lo_message msg) {
    auto no_args = [&] {
        if (argc != 0) {
            throw ControlError(path + " takes no arguments");
        }
    };
    auto at_most_one = [&] {
        if (argc > 1) {
            throw ControlError(path + " takes at most one argument, got " + std::to_string(argc));
        }
    };
    auto reply_float = [&](const std::string& address, float v) {
        lo_message m = lo_message_new();
        lo_message_add_float(m, v);
        reply(msg, address.c_str(), m);
    };
    auto reply_int = [&](const std::string& address, int v) {
        lo_message m = lo_message_new();
        lo_message_add_int32(m, v);
        reply(msg, address.c_str(), m);
    };

    if (path == "/rig/ping") {
        no_args();
        reply(msg, "/rig/pong", lo_message_new());
        return;
    }
    if (path == "/rig/status") {
        no_args();
        const Status s = status_ ? status_() : Status{};
        lo_message m = lo_message_new();
        lo_message_add_float(m, s.dsp_load_percent);
        lo_message_add_int32(m, static_cast<int>(s.xruns));
        lo_message_add_int32(m, s.sample_rate_hz);
        lo_message_add_int32(m, s.period_frames);
        reply(msg, "/rig/status", m);
        return;
    }
    if (path == "/rig/master/volume") {
        at_most_one();
        if (argc == 1) {
            rig_.set_master_db(static_cast<float>(one_number(path, types, argv)));
        } else {
            reply_float(path, rig_.master_db());
        }
        return;
    }
    if (path == "/rig/master/mute") {
        at_most_one();
        if (argc == 1) {
            rig_.set_mute(one_number(path, types, argv) != 0.0);
        } else {
            reply_int(path, rig_.mute() ? 1 : 0);
        }
        return;
    }
    constexpr std::string_view kStage = "/rig/stage/";
    if (path.rfind(kStage, 0) == 0) {
        const std::string rest = path.substr(kStage.size());
        const auto slash = rest.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size() ||
            rest.find('/', slash + 1) != std::string::npos) {
            throw ControlError("expected /rig/stage/<id>/<param>");
        }
        const std::string id = rest.substr(0, slash);
        const std::string param = rest.substr(slash + 1);
        at_most_one();
        if (param == "bypass") {
            if (argc == 1) {
                rig_.set_bypass(id, one_number(path, types, argv) != 0.0);
            } else {
                reply_int(path, rig_.bypass(id) ? 1 : 0);
            }
            return;
        }
        if (argc == 1) {
            rig_.set_param(id, param, static_cast<float>(one_number(path, types, argv)));
        } else {
            reply_float(path, rig_.param(id, param));
        }
        return;
    }
    throw ControlError("unknown address");
}

} // namespace rigd::control
