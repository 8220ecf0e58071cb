#include "gantry/routing/shadow.h"

#include <re2/re2.h>

#include <algorithm>
#include <map>
#include <string_view>

namespace gantry::routing {
namespace {

std::string_view trim_slashes(std::string_view p) {
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  return p;
}

bool same_regex(const PathMatch& a, const PathMatch& b) {
  return a.type == PathMatchType::RegularExpression && b.type == PathMatchType::RegularExpression && a.value == b.value;
}

bool path_covers(const PathMatch& a, const PathMatch& b) {
  switch (b.type) {
    case PathMatchType::Exact: return path_matches(a, b.value);  // b holds for one path only
    case PathMatchType::PathPrefix:
      // Every path under b's prefix is under a's when a's prefix is a segment prefix of b's.
      return a.type == PathMatchType::PathPrefix && path_prefix_matches(a.value, trim_slashes(b.value).empty() ? "/" : b.value);
    case PathMatchType::RegularExpression: return same_regex(a, b);
  }
  return false;
}

// Every value b accepts for the name, a accepts too.
bool value_covers(const ValueMatch& a, const ValueMatch& b) {
  if (a.name != b.name) return false;
  if (b.type == ValueMatchType::Exact) return value_matches(a, b.value);
  return a.type == ValueMatchType::RegularExpression && a.value == b.value;
}

bool values_cover(const std::vector<ValueMatch>& a, const std::vector<ValueMatch>& b) {
  // Each condition of a is implied by one of b's: b's requests all satisfy it.
  return std::all_of(a.begin(), a.end(), [&](const ValueMatch& x) {
    return std::any_of(b.begin(), b.end(), [&](const ValueMatch& y) { return value_covers(x, y); });
  });
}

}  // namespace

bool covers(const RouteMatch& a, const RouteMatch& b) {
  if (!path_covers(a.path, b.path)) return false;
  if (!a.method.empty() && a.method != b.method) return false;
  return values_cover(a.headers, b.headers) && values_cover(a.query, b.query);
}

std::vector<Shadowed> shadowed_routes(const VirtualHost& vhost) {
  const auto& routes = vhost.routes;
  // Which earlier routes could cover route j: those whose path holds for j's path value.
  // Exact and prefix routes by their value; regexes are few and all looked at.
  std::map<std::string_view, std::vector<size_t>> exact, prefix;
  std::vector<size_t> regex;
  for (size_t i = 0; i < routes.size(); ++i) {
    const PathMatch& p = routes[i].match.path;
    if (p.type == PathMatchType::Exact) exact[p.value].push_back(i);
    else if (p.type == PathMatchType::PathPrefix) prefix[trim_slashes(p.value)].push_back(i);
    else regex.push_back(i);
  }
  std::vector<Shadowed> out;
  std::vector<size_t> candidates;
  for (size_t j = 0; j < routes.size(); ++j) {
    const PathMatch& p = routes[j].match.path;
    candidates.clear();
    if (p.type == PathMatchType::RegularExpression) {
      candidates = regex;
    } else {
      std::string_view v = p.value;
      if (p.type == PathMatchType::Exact) {
        if (auto it = exact.find(v); it != exact.end()) candidates.insert(candidates.end(), it->second.begin(), it->second.end());
        candidates.insert(candidates.end(), regex.begin(), regex.end());
      }
      // Prefixes at each segment boundary of v ("", "/a", "/a/b", ...).
      std::string_view t = trim_slashes(v);
      for (size_t pos = 0; pos <= t.size(); ++pos) {
        if (pos != t.size() && t[pos] != '/') continue;
        if (auto it = prefix.find(t.substr(0, pos)); it != prefix.end())
          candidates.insert(candidates.end(), it->second.begin(), it->second.end());
      }
    }
    std::sort(candidates.begin(), candidates.end());
    for (size_t i : candidates) {
      if (i >= j) break;
      if (covers(routes[i].match, routes[j].match)) {
        out.push_back({&routes[j], &routes[i]});
        break;
      }
    }
  }
  return out;
}

}  // namespace gantry::routing
