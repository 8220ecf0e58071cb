// Route matching: arbitrary method, host, target and headers (one per line) through the
// proxy's own normalization and router, against a snapshot of every match kind.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../proxy/src/request_rules.h"
#include "fuzz_config.h"
#include "gantry/routing/host_index.h"
#include "gantry/routing/route_matcher.h"

namespace {

using Headers = std::vector<std::pair<std::string, std::string_view>>;

std::string_view find_header(const void* h, std::string_view lower_name, bool& found) {
  for (const auto& [name, value] : *static_cast<const Headers*>(h))
    if (name == lower_name) {
      found = true;
      return value;
    }
  found = false;
  return {};
}

std::string_view next_line(std::string_view& in) {
  size_t nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gantry::routing::SnapshotPtr snapshot = gantry::fuzz::fuzz_snapshot(9);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view method = next_line(in);
  const std::string_view raw_host = next_line(in);
  std::string target(next_line(in));
  Headers headers;
  while (!in.empty()) {
    std::string_view line = next_line(in);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    headers.emplace_back(std::move(name), line.substr(colon + 1));
  }
  for (bool merge : {true, false}) {
    std::string normalized;
    if (!gantry::proxy::normalize_target(target, merge, normalized)) continue;
    const std::string& t = normalized.empty() ? target : normalized;
    gantry::routing::RequestView view;
    view.method = method;
    gantry::routing::split_target(t, view.path, view.query);
    view.headers = &headers;
    view.header = &find_header;
    char host_buf[256];
    std::string_view host = gantry::routing::normalize_host(raw_host, host_buf, sizeof host_buf);
    for (const auto& listener : *snapshot->listeners) {
      const gantry::routing::ListenerScope* scope = nullptr;
      if (const auto* route = gantry::routing::match_route(listener, host, view, &scope)) {
        if (!scope) __builtin_trap();  // a route is always found under a listener
        (void)route->backends.size();
      }
    }
  }
  return 0;
}
