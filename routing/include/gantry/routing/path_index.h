// PathIndex: a virtual host's routes indexed by path, so a lookup costs a few hash probes
// instead of a scan: exact paths in one map, prefixes in another (probed at every segment
// boundary of the request path), regexes and the rest in a list. The routes under one path
// key are a CandidateSet (indexed again by header or query when there are many). The route
// chosen is the lowest-indexed (highest-precedence) candidate whose whole match holds,
// exactly as a scan of the sorted routes would choose.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gantry/routing/candidate_set.h"
#include "gantry/routing/host_index.h"
#include "gantry/routing/request_view.h"

namespace re2 { class RE2; }

namespace gantry::routing {

struct Route;
class RegexCache;

class PathIndex {
 public:
  // `cache`, when given, supplies the regex automaton (shared with earlier snapshots).
  void build(const std::vector<Route>& routes, RegexCache* cache = nullptr);
  // The index into `routes` of the route that serves the request, or -1.
  int find(const std::vector<Route>& routes, const RequestView& request) const;

 private:
  using Map = std::unordered_map<std::string, CandidateSet, StringHash, std::equal_to<>>;
  Map exact_;
  Map prefix_;                  // keyed by the prefix without trailing '/'; "/" is ""
  std::vector<uint32_t> other_;  // regular expressions, in order
  // All of other_'s patterns in one automaton: one pass over the path finds every regex
  // route that matches it. Null when it could not be built; then other_ is scanned.
  std::shared_ptr<const void> regex_set_;
};

}  // namespace gantry::routing
