#include "gantry/routing/path_index.h"

#include "gantry/routing/regex_cache.h"
#include "gantry/routing/route_matcher.h"
#include "gantry/routing/snapshot.h"

namespace gantry::routing {
namespace {

std::string_view trim_slashes(std::string_view p) {
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  return p;
}

}  // namespace

void PathIndex::build(const std::vector<Route>& routes, RegexCache* cache) {
  exact_.clear();
  prefix_.clear();
  other_.clear();
  using Lists = std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>>;
  Lists exact, prefix;
  for (uint32_t i = 0; i < routes.size(); ++i) {
    const PathMatch& p = routes[i].match.path;
    switch (p.type) {
      case PathMatchType::Exact: exact[p.value].push_back(i); break;
      case PathMatchType::PathPrefix: prefix[std::string(trim_slashes(p.value))].push_back(i); break;
      case PathMatchType::RegularExpression: other_.push_back(i); break;
    }
  }
  for (auto& [key, list] : exact) exact_[key].build(std::move(list), routes, cache);
  for (auto& [key, list] : prefix) prefix_[key].build(std::move(list), routes, cache);
  regex_set_.reset();
  if (!other_.empty()) {
    std::vector<const std::string*> patterns;
    for (uint32_t i : other_) patterns.push_back(&routes[i].match.path.value);
    regex_set_ = cache ? cache->regex_set(patterns) : build_regex_set(patterns);
  }
}

int PathIndex::find(const std::vector<Route>& routes, const RequestView& request) const {
  int best = -1;
  std::string_view path = request.path;
  if (!exact_.empty()) {
    if (auto it = exact_.find(path); it != exact_.end()) it->second.consider(routes, request, best);
  }
  if (!prefix_.empty()) {
    // A prefix matches at a segment boundary: probe "", then every "/a", "/a/b", ... and
    // the whole path without its trailing slashes.
    for (size_t pos = 0; pos <= path.size(); ++pos) {
      if (pos != path.size() && path[pos] != '/') continue;
      std::string_view key = pos == path.size() ? trim_slashes(path) : path.substr(0, pos);
      if (pos != path.size() && pos > 0 && path[pos - 1] == '/') continue;  // "//": same key as before
      if (auto it = prefix_.find(key); it != prefix_.end()) it->second.consider(routes, request, best);
      if (pos == path.size()) break;
    }
  }
  if (other_.empty()) return best;
  // One automaton pass finds every regex route the path matches; the plain scan only when
  // there is no automaton or it gave up on this input.
  if (!consider_set_matches(regex_set_.get(), path, other_, routes, request, best))
    consider_in_order(other_, routes, request, best);
  return best;
}

}  // namespace gantry::routing
