#include "gantry/routing/source_range.h"

#include <arpa/inet.h>

#include <cstring>

namespace gantry::routing {
namespace {

bool prefix_equal(const uint8_t* a, const uint8_t* b, unsigned bits) {
  unsigned whole = bits / 8, rest = bits % 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<SourceRange> parse_source_range(std::string_view text) {
  SourceRange r;
  r.text = std::string(text);
  size_t slash = text.find('/');
  std::string ip(text.substr(0, slash));
  if (inet_pton(AF_INET, ip.c_str(), r.bytes.data()) == 1) {
    r.prefix = 32;
  } else if (inet_pton(AF_INET6, ip.c_str(), r.bytes.data()) == 1) {
    r.v6 = true;
    r.prefix = 128;
  } else {
    return std::nullopt;
  }
  if (slash != std::string_view::npos) {
    std::string_view bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3) return std::nullopt;
    unsigned p = 0;
    for (char c : bits) {
      if (c < '0' || c > '9') return std::nullopt;
      p = p * 10 + static_cast<unsigned>(c - '0');
    }
    if (p > r.prefix) return std::nullopt;
    r.prefix = static_cast<uint8_t>(p);
  }
  return r;
}

bool source_allowed(const std::vector<SourceRange>& ranges, const uint8_t* address, size_t size) {
  if (ranges.empty()) return true;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  bool v6 = size == 16;
  if (v6 && std::memcmp(address, kMapped, 12) == 0) {  // ::ffff:a.b.c.d is an IPv4 client
    address += 12;
    v6 = false;
  }
  for (const SourceRange& r : ranges)
    if (r.v6 == v6 && prefix_equal(r.bytes.data(), address, r.prefix)) return true;
  return false;
}

}  // namespace gantry::routing
