#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rigd::control {

// Which source addresses may control the rig: a list of CIDR networks
// ("192.168.0.0/16", "::1/128"). IPv4-mapped IPv6 sources count as IPv4.
class NetFilter {
public:
    // Loopback, private, link-local and unique-local ranges.
    [[nodiscard]] static std::vector<std::string> default_networks();

    NetFilter(); // default_networks()
    // Throws std::invalid_argument naming the bad entry.
    explicit NetFilter(const std::vector<std::string>& networks);

    [[nodiscard]] bool allows(std::string_view numeric_address) const noexcept;
    [[nodiscard]] static bool is_valid_network(std::string_view cidr) noexcept;

private:
    struct Network {
        std::array<std::uint8_t, 16> bytes{};
        int prefix = 0;
        bool v4 = false;
    };
    static bool parse(std::string_view cidr, Network& out) noexcept;
    std::vector<Network> networks_;
};

} // namespace rigd::control
