// CandidateSet: the routes that share one path key (an exact path, a prefix), indexed by
// the header or query parameter most of them match on, so 100,000 routes on "/" that
// differ only by `x-tenant` cost one hash probe instead of a scan.
//
// A short list is scanned. A longer one picks the header or query name that the most of
// its routes match on and splits: routes with an exact value on it go to a bucket per value
// (each bucket split again by the next name), routes with a regular expression on it go to
// one RE2::Set, and the rest form a CandidateSet of their own. A route lands where its first
// match on that name puts it; the full match is still checked, so the index only ever skips
// routes that cannot match. The answer is the lowest-indexed (highest-precedence) route
// whose whole match holds, exactly as a scan of the list would find.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gantry/routing/host_index.h"
#include "gantry/routing/request_view.h"

namespace gantry::routing {

struct Route;
class RegexCache;

// Lowers `best` to the first route of `list` (ascending indices into `routes`) whose whole
// match holds, if one comes before `best`: the scan every index falls back to.
void consider_in_order(const std::vector<uint32_t>& list, const std::vector<Route>& routes, const RequestView& request,
                       int& best);
// The same over the ids whose patterns `regex_set` holds in order (regex_set(),
// build_regex_set()): only the ids whose pattern matches `text` in full are checked. False
// when there is no set or it gave up on this input: then scan `ids` instead.
bool consider_set_matches(const void* regex_set, std::string_view text, const std::vector<uint32_t>& ids,
                          const std::vector<Route>& routes, const RequestView& request, int& best);

class CandidateSet {
 public:
  // `list`: indices into `routes`, ascending.
  void build(std::vector<uint32_t> list, const std::vector<Route>& routes, RegexCache* cache = nullptr);
  // Lowers `best` to the first route of the set whose whole match holds, when one below
  // `best` (or any, when best < 0) does.
  void consider(const std::vector<Route>& routes, const RequestView& request, int& best) const;
  bool empty() const { return scan_.empty() && !split_; }

 private:
  struct Split;
  void build(std::vector<uint32_t> list, const std::vector<Route>& routes, RegexCache* cache, int depth);

  std::vector<uint32_t> scan_;          // unindexed: checked in order
  std::shared_ptr<const Split> split_;  // indexed by one header or query name; immutable
};

}  // namespace gantry::routing
