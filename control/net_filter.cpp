#include "control/net_filter.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <bit>
#include <charconv>
#include <cstring>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdexcept>

namespace rigd::control {

namespace {

bool parse_address(std::string_view text, std::array<std::uint8_t, 16>& bytes, bool& v4) {
    // A link-local source comes with its zone ("fe80::1%wlan0"): the address
    // is what the networks are matched against.
    if (const auto pct = text.find('%'); pct != std::string_view::npos && text.find(':') != std::string_view::npos) {
        text = text.substr(0, pct);
    }
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

std::vector<std::string> NetFilter::default_entries() { return {"loopback", "local"}; }

std::vector<std::string> NetFilter::private_networks() {
    return {"127.0.0.0/8",    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
            "100.64.0.0/10", "::1/128",    "fe80::/10",     "fc00::/7"};
}

std::vector<std::string> NetFilter::interface_networks() {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        return out;
    }
    for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || i->ifa_netmask == nullptr || (i->ifa_flags & IFF_UP) == 0) {
            continue;
        }
        const int family = i->ifa_addr->sa_family;
        std::array<std::uint8_t, 16> addr{};
        std::array<std::uint8_t, 16> mask{};
        std::size_t bytes = 0;
        if (family == AF_INET) {
            bytes = 4;
            std::memcpy(addr.data(), &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
            std::memcpy(mask.data(), &reinterpret_cast<const sockaddr_in*>(i->ifa_netmask)->sin_addr, 4);
        } else if (family == AF_INET6) {
            bytes = 16;
            std::memcpy(addr.data(), &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr, 16);
            std::memcpy(mask.data(), &reinterpret_cast<const sockaddr_in6*>(i->ifa_netmask)->sin6_addr, 16);
        } else {
            continue;
        }
        int prefix = 0;
        for (std::size_t b = 0; b < bytes; ++b) {
            prefix += std::popcount(mask[b]);
            addr[b] &= mask[b];
        }
        // A default-route-sized "subnet" would let the whole world in.
        if (prefix < (family == AF_INET ? 8 : 16)) {
            continue;
        }
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(family, addr.data(), text, sizeof text);
        std::string cidr = std::string(text) + "/" + std::to_string(prefix);
        if (std::find(out.begin(), out.end(), cidr) == out.end()) {
            out.push_back(std::move(cidr));
        }
    }
    freeifaddrs(list);
    return out;
}

NetFilter::NetFilter() : NetFilter(default_entries()) {}

NetFilter::NetFilter(const std::vector<std::string>& entries)
    : NetFilter(entries, std::find(entries.begin(), entries.end(), "local") != entries.end()
                             ? interface_networks()
                             : std::vector<std::string>{}) {}

NetFilter::NetFilter(const std::vector<std::string>& entries, const std::vector<std::string>& local_networks) {
    for (const auto& e : entries) {
        if (e == "loopback") {
            add("127.0.0.0/8");
            add("::1/128");
        } else if (e == "local") {
            for (const auto& n : local_networks) {
                add(n);
            }
        } else if (e == "private") {
            for (const auto& n : private_networks()) {
                add(n);
            }
        } else {
            add(e);
        }
    }
}

void NetFilter::add(const std::string& cidr) {
    Network net;
    if (!parse(cidr, net)) {
        throw std::invalid_argument("'" + cidr +
                                    "' is not a network like 192.168.1.0/24 or fe80::/10, nor one of the words "
                                    "loopback, local, private");
    }
    networks_.push_back(net);
}

bool NetFilter::is_valid_entry(std::string_view entry) noexcept {
    return entry == "loopback" || entry == "local" || entry == "private" || is_valid_network(entry);
}

std::vector<std::string> NetFilter::networks() const {
    std::vector<std::string> out;
    for (const auto& n : networks_) {
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(n.v4 ? AF_INET : AF_INET6, n.bytes.data(), text, sizeof text);
        out.push_back(std::string(text) + "/" + std::to_string(n.prefix));
    }
    return out;
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
