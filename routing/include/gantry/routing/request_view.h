// RequestView: what routing may read of a request, so routing never includes Beast.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gantry::routing {

struct RequestView {
  std::string_view method;
  std::string_view path;   // without the query
  std::string_view query;  // without the '?'
  // Returns the first value of a header (name is lowercase), or nullptr-data view when absent.
  const void* headers = nullptr;
  std::string_view (*header)(const void* headers, std::string_view lower_name, bool& found) = nullptr;

  std::string_view find_header(std::string_view lower_name, bool& found) const {
    found = false;
    return header ? header(headers, lower_name, found) : std::string_view{};
  }
};

// Headers as name/value pairs (names lowercase) behind a RequestView: for the tools that
// route a request they made up (explain, diff, migrate's proof), not the proxy.
struct HeaderPairs {
  std::vector<std::pair<std::string, std::string>> list;
  void attach(RequestView& view) const {
    view.headers = this;
    view.header = &find;
  }
  static std::string_view find(const void* self, std::string_view name, bool& found) {
    for (const auto& [k, v] : static_cast<const HeaderPairs*>(self)->list)
      if (k == name) {
        found = true;
        return v;
      }
    found = false;
    return {};
  }
  bool operator<(const HeaderPairs& o) const { return list < o.list; }
};

// Splits a request target into path and query.
inline void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    path = target;
    query = {};
  } else {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
}

}  // namespace gantry::routing
