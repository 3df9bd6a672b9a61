#include "control/net_filter.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>

using rigd::control::NetFilter;

TEST_CASE("net filter: 'private' takes loopback, private and link-local sources only") {
    const NetFilter f({"private"});
    for (const char* ok : {"127.0.0.1", "127.3.2.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.20",
                           "169.254.9.9", "100.64.0.5", "::1", "fe80::1", "fd12:3456::1", "::ffff:192.168.0.7"}) {
        INFO(ok);
        CHECK(f.allows(ok));
    }
    for (const char* no : {"8.8.8.8", "172.32.0.1", "192.169.0.1", "1.1.1.1", "2001:db8::1", "::ffff:8.8.8.8",
                           "not an address", ""}) {
        INFO(no);
        CHECK_FALSE(f.allows(no));
    }
}

TEST_CASE("net filter: configured networks, exact prefixes, bad entries refused") {
    const NetFilter f({"192.168.7.0/24", "2001:db8::/32", "203.0.113.9"});
    CHECK(f.allows("192.168.7.200"));
    CHECK_FALSE(f.allows("192.168.8.1"));
    CHECK_FALSE(f.allows("127.0.0.1"));
    CHECK(f.allows("2001:db8:1::5"));
    CHECK(f.allows("203.0.113.9"));
    CHECK_FALSE(f.allows("203.0.113.10"));
    CHECK_THROWS_WITH_AS(NetFilter({"10.0.0.0/40"}), doctest::Contains("'10.0.0.0/40' is not a network"),
                         std::invalid_argument);
    CHECK_THROWS_AS(NetFilter({"example.com/8"}), std::invalid_argument);
    CHECK_THROWS_AS(NetFilter({"10.0.0.0/x"}), std::invalid_argument);
}

TEST_CASE("net filter: the default is loopback plus the subnets of this machine's interfaces") {
    CHECK(NetFilter::default_entries() == std::vector<std::string>{"loopback", "local"});
    // A machine on a home Wi-Fi (IPv4 /24, a ULA /64 and link-local /64).
    const std::vector<std::string> wifi = {"192.168.1.0/24", "fd12:3456:789a:1::/64", "fe80::/64"};
    const NetFilter f(NetFilter::default_entries(), wifi);
    for (const char* ok : {"127.0.0.1", "::1", "192.168.1.57", "::ffff:192.168.1.57", "fd12:3456:789a:1::99",
                           "fe80::1234", "fe80::1234%wlan0"}) {
        INFO(ok);
        CHECK(f.allows(ok));
    }
    // The rest of the private ranges are not the machine's own network.
    for (const char* no : {"192.168.2.1", "10.0.0.5", "172.16.0.1", "100.64.0.5", "169.254.1.1", "fd00::1",
                           "fd12:3456:789a:2::1", "8.8.8.8"}) {
        INFO(no);
        CHECK_FALSE(f.allows(no));
    }
    CHECK(f.networks() == std::vector<std::string>{"127.0.0.0/8", "::1/128", "192.168.1.0/24",
                                                   "fd12:3456:789a:1::/64", "fe80::/64"});
}

TEST_CASE("net filter: words and networks mix; 'private' is the wide setting") {
    const NetFilter lo({"loopback"}, {"192.168.1.0/24"});
    CHECK(lo.allows("127.0.0.1"));
    CHECK_FALSE(lo.allows("192.168.1.5")); // "local" not asked for
    const NetFilter mixed({"loopback", "10.8.0.0/16"}, {});
    CHECK(mixed.allows("10.8.3.4"));
    CHECK_FALSE(mixed.allows("10.9.0.1"));
    const NetFilter wide({"private"}, {});
    CHECK(wide.allows("10.9.0.1"));
    CHECK(wide.allows("fd00::1"));
    CHECK(NetFilter::is_valid_entry("local"));
    CHECK(NetFilter::is_valid_entry("private"));
    CHECK(NetFilter::is_valid_entry("192.168.0.0/16"));
    CHECK_FALSE(NetFilter::is_valid_entry("everyone"));
    CHECK_FALSE(NetFilter::is_valid_network("local"));
    CHECK_THROWS_WITH_AS(NetFilter({"lan"}), doctest::Contains("nor one of the words loopback, local, private"),
                         std::invalid_argument);
}

TEST_CASE("net filter: this machine's interfaces are read with their prefix lengths") {
    const auto nets = NetFilter::interface_networks();
    // Loopback is up wherever tests run.
    CHECK(std::find(nets.begin(), nets.end(), "127.0.0.0/8") != nets.end());
    for (const auto& n : nets) {
        INFO(n);
        CHECK(NetFilter::is_valid_network(n));
        CHECK(n.find('/') != std::string::npos);
    }
    const NetFilter f; // the default
    CHECK(f.allows("127.0.0.1"));
    CHECK(f.allows("::1"));
    CHECK_FALSE(f.allows("8.8.8.8"));
}
