// rigd-ctl: send one OSC message to rigd and print the replies.
//
//   rigd-ctl [--host H] [--port N] [--wait-ms MS] ADDRESS [ARG ...]
//
// Arguments are sent as int32 when they look like whole numbers, float when
// they look like numbers, string otherwise (force with i:3, f:3, s:3).
// Unlike oscsend, rigd-ctl listens on its own socket, so replies (and
// /rig/error) come back and are printed, one message a line.
#include "control/lo_arg_read.hpp"

#include <lo/lo.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

int g_replies = 0;
bool g_error = false;

int print_reply(const char* path, const char* types, lo_arg** argv, int argc, lo_message, void*) {
    std::printf("%s", path);
    for (int i = 0; i < argc; ++i) {
        switch (types[i]) {
        case LO_INT32:
            std::printf(" %d", rigd::control::lo_arg_value<std::int32_t>(argv[i]));
            break;
        case LO_INT64:
            std::printf(" %lld", static_cast<long long>(rigd::control::lo_arg_value<std::int64_t>(argv[i])));
            break;
        case LO_FLOAT:
            std::printf(" %g", static_cast<double>(rigd::control::lo_arg_value<float>(argv[i])));
            break;
        case LO_DOUBLE:
            std::printf(" %g", rigd::control::lo_arg_value<double>(argv[i]));
            break;
        case LO_STRING:
        case LO_SYMBOL:
            std::printf(" \"%s\"", rigd::control::lo_arg_string(argv[i]));
            break;
        default:
            std::printf(" <%c>", types[i]);
        }
    }
    std::printf("\n");
    std::fflush(stdout);
    ++g_replies;
    g_error |= std::string(path) == "/rig/error";
    return 0;
}

bool add_arg(lo_message m, const std::string& a) {
    if (a.size() > 2 && a[1] == ':') {
        const std::string v = a.substr(2);
        switch (a[0]) {
        case 'i':
            return lo_message_add_int32(m, std::atoi(v.c_str())) == 0;
        case 'f':
            return lo_message_add_float(m, std::strtof(v.c_str(), nullptr)) == 0;
        case 's':
            return lo_message_add_string(m, v.c_str()) == 0;
        default:
            break;
        }
    }
    char* end = nullptr;
    const long i = std::strtol(a.c_str(), &end, 10);
    if (!a.empty() && *end == '\0') {
        return lo_message_add_int32(m, static_cast<int>(i)) == 0;
    }
    const float f = std::strtof(a.c_str(), &end);
    if (!a.empty() && *end == '\0') {
        return lo_message_add_float(m, f) == 0;
    }
    return lo_message_add_string(m, a.c_str()) == 0;
}

} // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    std::string port = "9000";
    int wait_ms = 500;
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--host") {
            host = argv[i + 1];
        } else if (flag == "--port") {
            port = argv[i + 1];
        } else if (flag == "--wait-ms") {
            wait_ms = std::atoi(argv[i + 1]);
        } else {
            std::fprintf(stderr, "rigd-ctl: unknown option %s\n", flag.c_str());
            return 64;
        }
    }
    if (i >= argc || argv[i][0] != '/') {
        std::fprintf(stderr, "usage: rigd-ctl [--host H] [--port N] [--wait-ms MS] /ADDRESS [ARG ...]\n");
        return 64;
    }
    lo_server server = lo_server_new_with_proto(nullptr, LO_UDP, nullptr);
    if (server == nullptr) {
        std::fprintf(stderr, "rigd-ctl: cannot open a UDP socket\n");
        return 69;
    }
    lo_server_add_method(server, nullptr, nullptr, print_reply, nullptr);
    lo_address target = lo_address_new(host.c_str(), port.c_str());
    lo_message m = lo_message_new();
    for (int k = i + 1; k < argc; ++k) {
        add_arg(m, argv[k]);
    }
    if (lo_send_message_from(target, server, argv[i], m) < 0) {
        std::fprintf(stderr, "rigd-ctl: cannot send to %s:%s: %s\n", host.c_str(), port.c_str(),
                     lo_address_errstr(target));
        return 69;
    }
    lo_message_free(m);
    // Keep printing until the replies stop for wait_ms.
    while (lo_server_recv_noblock(server, wait_ms) > 0) {
    }
    lo_address_free(target);
    lo_server_free(server);
    return g_error ? 1 : 0;
}
