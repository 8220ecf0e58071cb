// The path index must choose exactly what a scan of the sorted routes chooses.
#include "gantry/routing/path_index.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include "gantry/routing/route_matcher.h"
#include "gantry/routing/snapshot.h"
#include "gantry/routing/weighted_pick.h"

namespace gantry::routing {
namespace {

std::string_view no_headers(const void*, std::string_view name, bool& found) {
  found = name == "x-v";
  return found ? "1" : "";
}

std::string random_path(FastRandom& rng, bool trailing) {
  static const char* kSegments[] = {"a", "ab", "b", "svc1", "svc10", "x"};
  std::string p;
  int depth = static_cast<int>(rng.next() % 4);
  for (int i = 0; i < depth; ++i) p += std::string("/") + kSegments[rng.next() % 6];
  if (p.empty() || trailing) p += "/";
  return p;
}

TEST(PathIndex, AgreesWithALinearScan) {
  FastRandom rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<Route> routes(1 + rng.next() % 12);
    for (size_t i = 0; i < routes.size(); ++i) {
      Route& r = routes[i];
      static const char* kRegexes[] = {"/a.*", "/[ab]+/.*", "/svc[0-9]+/?", ".*x", "/b"};
      switch (rng.next() % 4) {
        case 0: r.match.path.type = PathMatchType::Exact; break;
        case 1: r.match.path.type = PathMatchType::RegularExpression; break;
        default: r.match.path.type = PathMatchType::PathPrefix; break;
      }
      r.match.path.value = random_path(rng, rng.next() % 4 == 0);
      if (r.match.path.type == PathMatchType::RegularExpression) {
        r.match.path.value = kRegexes[rng.next() % 5];
        r.match.path.regex = std::make_shared<re2::RE2>(r.match.path.value);
      }
      if (rng.next() % 4 == 0) r.match.method = "POST";
      if (rng.next() % 4 == 0) r.match.headers.push_back({ValueMatchType::Exact, "x-v", "1", nullptr});
      r.precedence = make_precedence_key(r.match, "", "ns/r" + std::to_string(i), 0, 0);
    }
    std::sort(routes.begin(), routes.end(), [](const Route& a, const Route& b) { return a.precedence < b.precedence; });
    PathIndex index;
    index.build(routes);
    for (int q = 0; q < 50; ++q) {
      std::string path = random_path(rng, rng.next() % 3 == 0);
      if (rng.next() % 5 == 0) path += "x";  // "/abx": not a segment boundary
      RequestView req;
      req.method = rng.next() % 2 ? "GET" : "POST";
      req.path = path;
      if (rng.next() % 2) req.header = &no_headers;
      int want = -1;
      for (size_t i = 0; i < routes.size(); ++i)
        if (route_matches(routes[i].match, req)) {
          want = static_cast<int>(i);
          break;
        }
      ASSERT_EQ(index.find(routes, req), want) << "path " << path << " method " << req.method;
    }
  }
}

}  // namespace
}  // namespace gantry::routing
