#include "gantry/routing/path_match.h"

#include <re2/re2.h>

namespace gantry::routing {

bool path_prefix_matches(std::string_view prefix, std::string_view path) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix == "/" || prefix.empty()) return true;
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

bool path_matches(const PathMatch& m, std::string_view path) {
  switch (m.type) {
    case PathMatchType::Exact: return path == m.value;
    case PathMatchType::PathPrefix: return path_prefix_matches(m.value, path);
    case PathMatchType::RegularExpression:
      return m.regex && re2::RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *m.regex);
  }
  return false;
}

bool value_matches(const ValueMatch& m, std::string_view value) {
  if (m.type == ValueMatchType::Exact) return value == m.value;
  return m.regex && re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *m.regex);
}

bool find_query_param(std::string_view query, std::string_view name, std::string_view& value) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key == name) {
      value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

}  // namespace gantry::routing
