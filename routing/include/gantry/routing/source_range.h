// SourceRange: a CIDR block of client addresses (ingress-nginx whitelist-source-range /
// allowlist-source-range). Addresses are raw network-order bytes, so routing needs no
// socket library; IPv4 and IPv4-mapped IPv6 clients compare as IPv4.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::routing {

struct SourceRange {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // the first 4 for IPv4
  uint8_t prefix = 0;
  std::string text;  // as written, for the config dump
};

// "10.0.0.0/8", "192.168.1.7" (a /32), "2001:db8::/32"; nullopt when malformed.
std::optional<SourceRange> parse_source_range(std::string_view text);

// `address` is 4 or 16 bytes. An empty list admits every client.
bool source_allowed(const std::vector<SourceRange>& ranges, const uint8_t* address, size_t size);

}  // namespace gantry::routing
