// Routes indexed by header and query value must choose exactly what a scan chooses,
// however the values, regexes, absent names and repeated names fall.
#include "gantry/routing/candidate_set.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include "gantry/routing/route_matcher.h"
#include "gantry/routing/snapshot.h"
#include "gantry/routing/weighted_pick.h"

namespace gantry::routing {
namespace {

const char* kValues[] = {"a", "b", "c", "d", "e", "A", ""};

ValueMatch random_match(FastRandom& rng, const char* name) {
  static const char* kRegexes[] = {"[a-c]", "[A-Za-z]", ".*", "d|e", "x+"};
  if (rng.next() % 4 == 0) {
    std::string re = kRegexes[rng.next() % 5];
    return {ValueMatchType::RegularExpression, name, re, std::make_shared<re2::RE2>(re)};
  }
  return {ValueMatchType::Exact, name, kValues[rng.next() % 7], nullptr};
}

int scan(const std::vector<Route>& routes, const std::vector<uint32_t>& list, const RequestView& req) {
  for (uint32_t i : list)
    if (route_matches(routes[i].match, req)) return static_cast<int>(i);
  return -1;
}

TEST(CandidateSet, AgreesWithALinearScan) {
  FastRandom rng(11);
  for (int round = 0; round < 300; ++round) {
    // Enough routes that the set splits (more than eight share a name), some rounds
    // enough to split three levels deep.
    std::vector<Route> routes(5 + rng.next() % (round % 3 == 0 ? 400 : 60));
    for (Route& r : routes) {
      if (rng.next() % 5 != 0) r.match.headers.push_back(random_match(rng, "x-t"));
      if (rng.next() % 3 == 0) r.match.headers.push_back(random_match(rng, "x-v"));
      if (rng.next() % 8 == 0) r.match.headers.push_back(random_match(rng, "x-t"));  // a repeated name
      if (rng.next() % 3 == 0) r.match.query.push_back(random_match(rng, "q"));
      if (rng.next() % 6 == 0) r.match.method = "POST";
    }
    std::vector<uint32_t> list;
    for (uint32_t i = 0; i < routes.size(); ++i)
      if (rng.next() % 8 != 0) list.push_back(i);
    CandidateSet set;
    set.build(list, routes);
    for (int q = 0; q < 60; ++q) {
      HeaderPairs headers;
      if (rng.next() % 4 != 0) headers.list.push_back({"x-t", kValues[rng.next() % 7]});
      if (rng.next() % 2) headers.list.push_back({"x-v", rng.next() % 5 ? kValues[rng.next() % 7] : "xx"});
      if (rng.next() % 6 == 0) headers.list.push_back({"x-t", "b"});  // a second value: the first counts
      std::string query;
      if (rng.next() % 2) query = std::string("q=") + kValues[rng.next() % 7];
      if (rng.next() % 4 == 0) query = "z=1&" + query;
      RequestView req;
      req.method = rng.next() % 2 ? "GET" : "POST";
      req.path = "/";
      req.query = query;
      headers.attach(req);
      int want = scan(routes, list, req);
      int got = -1;
      set.consider(routes, req, got);
      ASSERT_EQ(got, want) << "round " << round << " query " << query;
      // With a better route already found, the set never answers a worse one.
      int best = want >= 0 ? want : static_cast<int>(routes.size());
      int bounded = best;
      set.consider(routes, req, bounded);
      ASSERT_EQ(bounded, best);
    }
  }
}

TEST(CandidateSet, HundredThousandTenantsAreOneProbe) {
  std::vector<Route> routes(100000);
  std::vector<uint32_t> list;
  for (uint32_t i = 0; i < routes.size(); ++i) {
    routes[i].match.headers.push_back({ValueMatchType::Exact, "x-tenant", "t" + std::to_string(i), nullptr});
    list.push_back(i);
  }
  CandidateSet set;
  set.build(list, routes);
  HeaderPairs headers{{{"x-tenant", "t77777"}}};
  RequestView req;
  req.path = "/";
  headers.attach(req);
  int got = -1;
  set.consider(routes, req, got);
  EXPECT_EQ(got, 77777);
  headers.list[0].second = "t100000";
  got = -1;
  set.consider(routes, req, got);
  EXPECT_EQ(got, -1);
}

}  // namespace
}  // namespace gantry::routing
