// HostIndex: host name -> value, exact names first, then wildcards by longest suffix,
// then the catch-all. Lookups take a lowercase host without port and never allocate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gantry::routing {

// Gateway API wildcards (`*.example.com`) match any number of labels
// (Listener.hostname, HTTPRoute.hostnames); Ingress wildcards match exactly one
// label (IngressRule.host).
enum class WildcardDepth { AnyLabels, OneLabel };

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class HostIndex {
 public:
  explicit HostIndex(WildcardDepth depth = WildcardDepth::AnyLabels) : depth_(depth) {}

  // pattern: "" or "*" for any host, "*.example.com" or "example.com". Lowercased here.
  // Returns false when the pattern is already present (the first one wins).
  bool add(std::string_view pattern, uint32_t value);
  std::optional<uint32_t> find(std::string_view host) const;
  bool empty() const { return exact_.empty() && wildcard_.empty() && !any_; }

 private:
  WildcardDepth depth_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> exact_;
  // keyed by the suffix with its leading dot: "*.example.com" -> ".example.com"
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> wildcard_;
  std::optional<uint32_t> any_;
};

// Lowercases `host` without its port into `out` (capacity `cap`); returns the view, or
// an empty view when the host does not fit. Host headers are short; 255 is DNS's limit.
std::string_view normalize_host(std::string_view host, char* out, size_t cap);

}  // namespace gantry::routing
