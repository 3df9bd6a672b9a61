#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rigd::control {

// Which source addresses may control the rig. Entries are CIDR networks
// ("192.168.0.0/16", "::1/128"; a bare address is a /32 or /128) or words:
//   "loopback"  127.0.0.0/8 and ::1
//   "local"     the subnets of this machine's own interfaces, IPv4 and IPv6
//               with their prefix lengths (read when the filter is made):
//               a phone on the same Wi-Fi, not the rest of the private ranges
//   "private"   every private, link-local, CGNAT and unique-local range
// IPv4-mapped IPv6 sources count as IPv4. Immutable once made: any thread.
class NetFilter {
public:
    // {"loopback", "local"}: what an empty osc.allow means.
    [[nodiscard]] static std::vector<std::string> default_entries();
    // The networks "private" stands for (loopback included).
    [[nodiscard]] static std::vector<std::string> private_networks();
    // The subnets of this machine's interfaces that are up (getifaddrs), as
    // CIDR strings; prefixes shorter than /8 (IPv4) or /16 (IPv6) are left out.
    [[nodiscard]] static std::vector<std::string> interface_networks();

    NetFilter(); // default_entries()
    // Throws std::invalid_argument naming the bad entry.
    explicit NetFilter(const std::vector<std::string>& entries);
    // As above with "local" standing for `local_networks` (tests).
    NetFilter(const std::vector<std::string>& entries, const std::vector<std::string>& local_networks);

    [[nodiscard]] bool allows(std::string_view numeric_address) const noexcept;
    // A CIDR network or address (no words).
    [[nodiscard]] static bool is_valid_network(std::string_view cidr) noexcept;
    // What osc.allow accepts: a network or one of the words.
    [[nodiscard]] static bool is_valid_entry(std::string_view entry) noexcept;
    // The networks allowed, as CIDR text, for the start-up log.
    [[nodiscard]] std::vector<std::string> networks() const;

private:
    struct Network {
        std::array<std::uint8_t, 16> bytes{};
        int prefix = 0;
        bool v4 = false;
    };
    static bool parse(std::string_view cidr, Network& out) noexcept;
    void add(const std::string& cidr);
    std::vector<Network> networks_;
};

} // namespace rigd::control
