#include "control/address_space.hpp"
#include "control/osc_server.hpp"
#include "live_space.hpp"
#include "osc_test_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>

using namespace rigd::control;
using namespace rigd::test;

namespace {

// The address space with no JACK behind it: enough for queries.
using Space = rigd::test::LiveSpace;

void send_from(const LoReceiver& client, int server_port, const char* path, lo_message m) {
    lo_address to = lo_address_new("127.0.0.1", std::to_string(server_port).c_str());
    lo_send_message_from(to, client.server(), path, m);
    lo_address_free(to);
    lo_message_free(m);
}

} // namespace

TEST_CASE("osc server: /rig/get to a TCP listener that never reads stalls neither pings nor replies") {
    Space s;
    OscServer server(s.loop, s.space, NetFilter({"127.0.0.0/8"}));
    s.server = &server;
    server.start(0, true);
    BadTcpListener never_reads(true);
    BadTcpListener never_accepts(false);
    LoReceiver client(LO_UDP);

    Clock::duration worst_ping{};
    for (int round = 0; round < 100; ++round) {
        for (const auto& url : {never_reads.url(), never_accepts.url()}) {
            lo_message get = lo_message_new();
            lo_message_add_string(get, "/rig/dump");
            lo_message_add_string(get, url.c_str());
            send_from(client, server.port(), "/rig/get", get);
        }
        const std::size_t before = client.count();
        const auto t0 = Clock::now();
        send_from(client, server.port(), "/rig/ping", lo_message_new());
        REQUIRE(client.wait_for_path("/rig/pong", before, 1000ms));
        worst_ping = std::max(worst_ping, Clock::now() - t0);
    }
    const auto got = client.got();
    const auto pong = std::find_if(got.begin(), got.end(), [](const auto& g) { return g.path == "/rig/pong"; });
    REQUIRE(pong != got.end());
    CHECK(pong->source_port == std::to_string(server.port())); // replies leave from the server's port
    // The listener that never accepts is dropped at its connect timeout (the
    // one that never reads has room in its socket buffers for these few kB).
    CHECK(eventually([&] { return server.sender_stats().dropped_slow_target >= 1; }, 3000ms));
    std::printf("osc server: worst /rig/ping round trip %.3f ms with /rig/get to two dead TCP targets; sender: "
                "sent %llu, queue-full %llu, slow targets %llu\n",
                std::chrono::duration<double, std::milli>(worst_ping).count(),
                static_cast<unsigned long long>(server.sender_stats().sent),
                static_cast<unsigned long long>(server.sender_stats().dropped_queue_full),
                static_cast<unsigned long long>(server.sender_stats().dropped_slow_target));
    CHECK(worst_ping < 50ms);
    const auto t0 = Clock::now();
    server.stop();
    CHECK(Clock::now() - t0 < 500ms);
}

TEST_CASE("osc server: reply URLs must be numeric and inside the allowed networks") {
    Space s;
    OscServer server(s.loop, s.space, NetFilter({"127.0.0.0/8"}));
    s.server = &server;
    server.start(0, false);
    LoReceiver client(LO_UDP);
    const auto error_for = [&](const char* url) {
        const std::size_t before = client.count();
        lo_message get = lo_message_new();
        lo_message_add_string(get, "/rig/ping");
        lo_message_add_string(get, url);
        send_from(client, server.port(), "/rig/get", get);
        REQUIRE(client.wait_for_path("/rig/error", before, 1000ms));
        const auto got = client.got();
        for (std::size_t i = before; i < got.size(); ++i) {
            if (got[i].path == "/rig/error") {
                return got[i].args.at(1).s;
            }
        }
        return std::string();
    };
    CHECK(error_for("osc.udp://localhost:9001").find("names a host") != std::string::npos);
    CHECK(error_for("osc.udp://10.1.2.3:9001").find("outside the allowed networks") != std::string::npos);
    CHECK(error_for("osc.udp://127.0.0.1:0").find("ports are 1-65535") != std::string::npos);
    // A good one: the pong arrives at the URL given.
    LoReceiver other(LO_UDP);
    lo_message get = lo_message_new();
    lo_message_add_string(get, "/rig/ping");
    lo_message_add_string(get, ("osc.udp://127.0.0.1:" + std::to_string(other.port())).c_str());
    send_from(client, server.port(), "/rig/get", get);
    CHECK(other.wait_for_path("/rig/pong", 0, 1000ms));
}
