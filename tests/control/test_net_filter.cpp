#include "control/net_filter.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using rigd::control::NetFilter;

TEST_CASE("net filter: defaults take loopback, private and link-local sources only") {
    const NetFilter f;
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
