// Gateway API matching precedence, decided at translation by the sort key.
#include "gantry/routing/precedence.h"

#include <gtest/gtest.h>

#include "gantry/routing/route_matcher.h"
#include "gantry/routing/snapshot.h"

namespace gantry::routing {
namespace {

RouteMatch path(PathMatchType t, std::string v) {
  RouteMatch m;
  m.path = {t, std::move(v), nullptr};
  return m;
}

struct Case {
  std::string name;
  RouteMatch a;
  std::string a_created, a_id;
  RouteMatch b;
  std::string b_created, b_id;
  bool a_first;
};

class PrecedenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(PrecedenceTest, Orders) {
  const Case& c = GetParam();
  auto ka = make_precedence_key(c.a, c.a_created, c.a_id, 0, 0);
  auto kb = make_precedence_key(c.b, c.b_created, c.b_id, 0, 0);
  EXPECT_EQ(ka < kb, c.a_first);
}

RouteMatch with_method(RouteMatch m) {
  m.method = "GET";
  return m;
}
RouteMatch with_headers(RouteMatch m, int n) {
  for (int i = 0; i < n; ++i) m.headers.push_back({ValueMatchType::Exact, "h" + std::to_string(i), "v", nullptr});
  return m;
}
RouteMatch with_query(RouteMatch m, int n) {
  for (int i = 0; i < n; ++i) m.query.push_back({ValueMatchType::Exact, "q" + std::to_string(i), "v", nullptr});
  return m;
}

const auto P = PathMatchType::PathPrefix;
const auto E = PathMatchType::Exact;

INSTANTIATE_TEST_SUITE_P(
    Table, PrecedenceTest,
    ::testing::Values(
        Case{"exact_beats_longer_prefix", path(E, "/a"), "", "x/a", path(P, "/a/b/c"), "", "x/b", true},
        Case{"longer_prefix_first", path(P, "/a/b"), "", "x/b", path(P, "/a"), "", "x/a", true},
        Case{"trailing_slash_does_not_lengthen_prefix", path(P, "/a/"), "", "x/b", path(P, "/a"), "", "x/a", false},
        Case{"method_beats_none", with_method(path(P, "/")), "", "x/b", path(P, "/"), "", "x/a", true},
        Case{"more_headers_first", with_headers(path(P, "/"), 2), "", "x/b", with_headers(path(P, "/"), 1), "", "x/a", true},
        Case{"more_query_first", with_query(path(P, "/"), 1), "", "x/b", path(P, "/"), "", "x/a", true},
        Case{"headers_before_query", with_headers(path(P, "/"), 1), "", "x/b", with_query(path(P, "/"), 3), "", "x/a", true},
        Case{"older_route_first", path(P, "/"), "2024-01-01T00:00:00Z", "x/z", path(P, "/"), "2025-01-01T00:00:00Z", "x/a", true},
        Case{"then_namespace_name", path(P, "/"), "", "a/route", path(P, "/"), "", "b/route", true}),
    [](const auto& info) { return info.param.name; });

TEST(RouteMatcher, FirstSortedRouteWins) {
  Snapshot s;
  Listener l;
  ListenerScope scope;
  VirtualHost v;
  Route prefix;
  prefix.match = path(P, "/a");
  prefix.precedence = make_precedence_key(prefix.match, "", "ns/prefix", 0, 0);
  Route exact;
  exact.match = path(E, "/a/b");
  exact.precedence = make_precedence_key(exact.match, "", "ns/exact", 0, 0);
  v.routes = {prefix, exact};
  scope.vhosts.push_back(make_vhost(v));
  l.scopes.push_back(scope);
  Listeners listeners{l};
  finalize(listeners);
  s.listeners = std::make_shared<const Listeners>(std::move(listeners));
  RequestView req;
  req.method = "GET";
  req.path = "/a/b";
  const Route* r = match_route((*s.listeners)[0], "any.host", req);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->match.path.type, E);
  req.path = "/a/c";
  r = match_route((*s.listeners)[0], "any.host", req);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->match.path.type, P);
  req.path = "/b";
  EXPECT_EQ(match_route((*s.listeners)[0], "any.host", req), nullptr);
}

}  // namespace
}  // namespace gantry::routing
