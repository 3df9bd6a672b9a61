#include "control/net_filter.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace rigd::control {

namespace {

bool parse_address(std::string_view text, std::array<std::uint8_t, 16>& bytes, bool& v4) {
    const std::string s(text);
    in_addr a4{};
    if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
        bytes.fill(0);
        std::memcpy(bytes.data(), &a4, 4);
        v4 = true;
        return true;
    }
    in6_addr a6{};
    if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
        std::memcpy(bytes.data(), &a6, 16);
        static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(bytes.data(), kMapped, 12) == 0) {
            std::memmove(bytes.data(), bytes.data() + 12, 4);
            std::memset(bytes.data() + 4, 0, 12);
            v4 = true;
        } else {
            v4 = false;
        }
        return true;
    }
    return false;
}

bool prefix_matches(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& net, int prefix) {
    int bits = prefix;
    for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
        const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
        if ((a[i] & mask) != (net[i] & mask)) {
            return false;
        }
    }
    return true;
}

} // namespace

std::vector<std::string> NetFilter::default_networks() {
    return {"127.0.0.0/8",    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
            "100.64.0.0/10", "::1/128",    "fe80::/10",     "fc00::/7"};
}

NetFilter::NetFilter() : NetFilter(default_networks()) {}

NetFilter::NetFilter(const std::vector<std::string>& networks) {
    for (const auto& n : networks) {
        Network net;
        if (!parse(n, net)) {
            throw std::invalid_argument("'" + n + "' is not a network like 192.168.1.0/24 or fe80::/10");
        }
        networks_.push_back(net);
    }
}

bool NetFilter::parse(std::string_view cidr, Network& out) noexcept {
    const auto slash = cidr.find('/');
    const std::string_view addr = cidr.substr(0, slash);
    if (!parse_address(addr, out.bytes, out.v4)) {
        return false;
    }
    const int max = out.v4 ? 32 : 128;
    out.prefix = max;
    if (slash != std::string_view::npos) {
        const std::string_view p = cidr.substr(slash + 1);
        const auto r = std::from_chars(p.data(), p.data() + p.size(), out.prefix);
        if (r.ec != std::errc() || r.ptr != p.data() + p.size() || out.prefix < 0 || out.prefix > max) {
            return false;
        }
    }
    return true;
}

bool NetFilter::is_valid_network(std::string_view cidr) noexcept {
    Network n;
    return parse(cidr, n);
}

bool NetFilter::allows(std::string_view numeric_address) const noexcept {
    std::array<std::uint8_t, 16> bytes{};
    bool v4 = false;
    if (!parse_address(numeric_address, bytes, v4)) {
        return false;
    }
    for (const auto& n : networks_) {
        if (n.v4 == v4 && prefix_matches(bytes, n.bytes, n.prefix)) {
            return true;
        }
    }
    return false;
}

} // namespace rigd::control
