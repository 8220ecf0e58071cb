#include "gantry/routing/candidate_set.h"

#include <re2/set.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "gantry/routing/regex_cache.h"
#include "gantry/routing/route_matcher.h"
#include "gantry/routing/snapshot.h"

namespace gantry::routing {
namespace {

// Lists this short are scanned: a few route_matches calls cost less than a probe.
constexpr size_t kScanLimit = 8;
// Each level of splitting adds one header lookup per request; three cover the shapes seen
// (tenant header, then version header, then a query flag) and bound the build.
constexpr int kMaxDepth = 3;

enum class Source { Header, Query };

struct Key {
  Source source;
  std::string name;
  bool operator<(const Key& o) const { return std::tie(source, name) < std::tie(o.source, o.name); }
};

// A route's first match on `key`'s name, or nullptr.
const ValueMatch* first_on(const Route& route, const Key& key) {
  const auto& list = key.source == Source::Header ? route.match.headers : route.match.query;
  for (const ValueMatch& m : list)
    if (m.name == key.name) return &m;
  return nullptr;
}

bool lookup(const RequestView& request, const Key& key, std::string_view& value) {
  if (key.source == Source::Query) return find_query_param(request.query, key.name, value);
  bool found = false;
  value = request.find_header(key.name, found);
  return found;
}

}  // namespace

void consider_in_order(const std::vector<uint32_t>& list, const std::vector<Route>& routes, const RequestView& request,
                       int& best) {
  for (uint32_t i : list) {
    if (best >= 0 && static_cast<int>(i) >= best) return;
    if (route_matches(routes[i].match, request)) {
      best = static_cast<int>(i);
      return;
    }
  }
}

bool consider_set_matches(const void* regex_set, std::string_view text, const std::vector<uint32_t>& ids,
                          const std::vector<Route>& routes, const RequestView& request, int& best) {
  if (!regex_set) return false;
  // Reused across calls on this thread: no allocation per request once warm. Only
  // route_matches runs while it is in use, never another set.
  thread_local std::vector<int> hits;
  hits.clear();
  re2::RE2::Set::ErrorInfo info;
  const auto* set = static_cast<const re2::RE2::Set*>(regex_set);
  if (!set->Match(re2::StringPiece(text.data(), text.size()), &hits, &info))
    return info.kind == re2::RE2::Set::kNoError;  // nothing matched, unless the automaton ran out of memory
  std::sort(hits.begin(), hits.end());
  for (int h : hits) {
    uint32_t i = ids[static_cast<size_t>(h)];
    if (best >= 0 && static_cast<int>(i) >= best) break;
    if (route_matches(routes[i].match, request)) {
      best = static_cast<int>(i);
      break;
    }
  }
  return true;
}

struct CandidateSet::Split {
  Key key;
  std::unordered_map<std::string, CandidateSet, StringHash, std::equal_to<>> by_value;
  std::vector<uint32_t> regex_routes;   // routes whose first match on key is a regex, ascending
  std::shared_ptr<const void> regex_set;  // their patterns; null: scan regex_routes
  CandidateSet rest;                    // routes with no match on key
};

void CandidateSet::build(std::vector<uint32_t> list, const std::vector<Route>& routes, RegexCache* cache) {
  build(std::move(list), routes, cache, 0);
}

void CandidateSet::build(std::vector<uint32_t> list, const std::vector<Route>& routes, RegexCache* cache,
                         int depth) {
  split_.reset();
  scan_.clear();
  if (list.size() <= kScanLimit || depth >= kMaxDepth) {
    scan_ = std::move(list);
    return;
  }
  // The name the most routes match on; a name only a few use would not pay for its probe.
  std::map<Key, size_t> uses;
  for (uint32_t i : list) {
    const RouteMatch& m = routes[i].match;
    for (const ValueMatch& h : m.headers) ++uses[{Source::Header, h.name}];
    for (const ValueMatch& q : m.query) ++uses[{Source::Query, q.name}];
  }
  auto top = std::max_element(uses.begin(), uses.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  if (top == uses.end() || top->second <= kScanLimit) {
    scan_ = std::move(list);
    return;
  }
  auto split = std::make_shared<Split>();
  split->key = top->first;
  std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>> buckets;
  std::vector<uint32_t> rest;
  for (uint32_t i : list) {
    const ValueMatch* m = first_on(routes[i], split->key);
    if (!m) rest.push_back(i);
    else if (m->type == ValueMatchType::Exact) buckets[m->value].push_back(i);
    else split->regex_routes.push_back(i);
  }
  for (auto& [value, bucket] : buckets) split->by_value[value].build(std::move(bucket), routes, cache, depth + 1);
  if (!split->regex_routes.empty()) {
    std::vector<const std::string*> patterns;
    for (uint32_t i : split->regex_routes) patterns.push_back(&first_on(routes[i], split->key)->value);
    split->regex_set = cache ? cache->regex_set(patterns) : build_regex_set(patterns);
  }
  split->rest.build(std::move(rest), routes, cache, depth + 1);
  split_ = std::move(split);
}

void CandidateSet::consider(const std::vector<Route>& routes, const RequestView& request, int& best) const {
  if (!split_) {
    consider_in_order(scan_, routes, request, best);
    return;
  }
  const Split& s = *split_;
  std::string_view value;
  if (lookup(request, s.key, value)) {
    if (auto it = s.by_value.find(value); it != s.by_value.end()) it->second.consider(routes, request, best);
    if (!s.regex_routes.empty() && !consider_set_matches(s.regex_set.get(), value, s.regex_routes, routes, request, best))
      consider_in_order(s.regex_routes, routes, request, best);
  }
  // Routes with neither an exact nor a regex match on the name match with or without it.
  s.rest.consider(routes, request, best);
}

}  // namespace gantry::routing
