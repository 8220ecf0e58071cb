#include "gantry/routing/host_index.h"

#include <cctype>

namespace gantry::routing {
namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

bool HostIndex::add(std::string_view pattern, uint32_t value) {
  if (pattern.empty() || pattern == "*") {
    if (any_) return false;
    any_ = value;
    return true;
  }
  if (pattern.starts_with("*.")) return wildcard_.emplace(lower(pattern.substr(1)), value).second;
  return exact_.emplace(lower(pattern), value).second;
}

std::optional<uint32_t> HostIndex::find(std::string_view host) const {
  if (!exact_.empty()) {
    if (auto it = exact_.find(host); it != exact_.end()) return it->second;
  }
  if (!wildcard_.empty()) {
    // The wildcard label must stand for at least one character: "*.a.com" never
    // matches ".a.com" or "a.com".
    size_t dot = host.find('.');
    while (dot != std::string_view::npos && dot > 0) {
      if (auto it = wildcard_.find(host.substr(dot)); it != wildcard_.end()) return it->second;
      if (depth_ == WildcardDepth::OneLabel) break;
      dot = host.find('.', dot + 1);
    }
  }
  return any_;
}

std::string_view normalize_host(std::string_view host, char* out, size_t cap) {
  // Strip the port: "[::1]:80" keeps its brackets, "a.com:80" loses ":80".
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // FQDN form
  if (host.size() > cap) return {};
  for (size_t i = 0; i < host.size(); ++i)
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(host[i])));
  return {out, host.size()};
}

}  // namespace gantry::routing
