// Shadowed rules: the cases the check must find, the ones it must not claim, and a property
// check that no request a random table sends to a route was sent there by a "shadowed" one.
#include "gantry/routing/shadow.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include "gantry/routing/route_matcher.h"
#include "gantry/routing/weighted_pick.h"

namespace gantry::routing {
namespace {

PathMatch path(PathMatchType type, std::string value) {
  PathMatch p;
  p.type = type;
  p.value = std::move(value);
  if (type == PathMatchType::RegularExpression) p.regex = std::make_shared<re2::RE2>(p.value);
  return p;
}

ValueMatch header(std::string name, std::string value, ValueMatchType type = ValueMatchType::Exact) {
  ValueMatch v;
  v.type = type;
  v.name = std::move(name);
  v.value = std::move(value);
  if (type == ValueMatchType::RegularExpression) v.regex = std::make_shared<re2::RE2>(v.value);
  return v;
}

RouteMatch m(PathMatch p, std::string method = "", std::vector<ValueMatch> headers = {}) {
  RouteMatch r;
  r.path = std::move(p);
  r.method = std::move(method);
  r.headers = std::move(headers);
  return r;
}

using T = PathMatchType;

TEST(Shadow, CoversTable) {
  struct Row {
    RouteMatch a, b;
    bool covers;
  } rows[] = {
      {m(path(T::PathPrefix, "/")), m(path(T::PathPrefix, "/api")), true},
      {m(path(T::PathPrefix, "/api")), m(path(T::PathPrefix, "/api/v1")), true},
      {m(path(T::PathPrefix, "/api/")), m(path(T::PathPrefix, "/api")), true},  // the trailing '/' is ignored
      {m(path(T::PathPrefix, "/api")), m(path(T::PathPrefix, "/apis")), false},  // segments, not characters
      {m(path(T::PathPrefix, "/api/v1")), m(path(T::PathPrefix, "/api")), false},
      {m(path(T::PathPrefix, "/api")), m(path(T::Exact, "/api/x")), true},
      {m(path(T::Exact, "/api")), m(path(T::PathPrefix, "/api")), false},
      {m(path(T::Exact, "/a")), m(path(T::Exact, "/a")), true},
      {m(path(T::RegularExpression, "/a/[0-9]+")), m(path(T::Exact, "/a/12")), true},
      {m(path(T::RegularExpression, "/a/.*")), m(path(T::PathPrefix, "/a")), false},  // not claimed: not certain
      {m(path(T::RegularExpression, "/a/.*")), m(path(T::RegularExpression, "/a/.*")), true},
      {m(path(T::PathPrefix, "/"), "GET"), m(path(T::PathPrefix, "/x"), "GET"), true},
      {m(path(T::PathPrefix, "/"), "GET"), m(path(T::PathPrefix, "/x")), false},
      {m(path(T::PathPrefix, "/")), m(path(T::PathPrefix, "/x"), "POST"), true},
      {m(path(T::PathPrefix, "/"), "", {header("x-env", "a")}), m(path(T::PathPrefix, "/"), "", {header("x-env", "a"), header("x-b", "1")}), true},
      {m(path(T::PathPrefix, "/"), "", {header("x-env", "a")}), m(path(T::PathPrefix, "/")), false},
      {m(path(T::PathPrefix, "/"), "", {header("x-env", "a|b", ValueMatchType::RegularExpression)}),
       m(path(T::PathPrefix, "/"), "", {header("x-env", "b")}), true},
      {m(path(T::PathPrefix, "/"), "", {header("x-env", "b")}),
       m(path(T::PathPrefix, "/"), "", {header("x-env", "a|b", ValueMatchType::RegularExpression)}), false},
  };
  for (size_t i = 0; i < std::size(rows); ++i) EXPECT_EQ(covers(rows[i].a, rows[i].b), rows[i].covers) << "row " << i;
}

TEST(Shadow, FindsTheFirstCoverInPrecedenceOrder) {
  VirtualHost v;
  v.routes.resize(4);
  v.routes[0].match = m(path(T::PathPrefix, "/api"));
  v.routes[1].match = m(path(T::PathPrefix, "/api"));          // the same match, later: shadowed
  v.routes[2].match = m(path(T::Exact, "/api/users"));        // under /api: shadowed
  v.routes[3].match = m(path(T::PathPrefix, "/"));             // reachable: "/" itself
  auto found = shadowed_routes(v);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].route, &v.routes[1]);
  EXPECT_EQ(found[0].by, &v.routes[0]);
  EXPECT_EQ(found[1].route, &v.routes[2]);
  EXPECT_EQ(found[1].by, &v.routes[0]);
}

std::string_view headers_of(const void* h, std::string_view name, bool& found) {
  const auto* value = static_cast<const std::string*>(h);
  found = name == "x-env" && !value->empty();
  return found ? std::string_view(*value) : std::string_view{};
}

TEST(Shadow, NoRequestIsEverServedByARouteItCallsShadowed) {
  FastRandom rng(11);
  size_t total = 0;
  static const char* kPaths[] = {"/", "/a", "/a/b", "/a/b/c", "/b", "/ab", "/a/1", "/b/2"};
  static const char* kRegexes[] = {"/a/[0-9]", "/b.*", "/a/b"};
  for (int round = 0; round < 300; ++round) {
    std::vector<Route> routes(2 + rng.next() % 8);
    for (auto& r : routes) {
      int kind = static_cast<int>(rng.next() % 5);
      if (kind == 0) r.match.path = path(T::RegularExpression, kRegexes[rng.next() % 3]);
      else r.match.path = path(kind == 1 ? T::Exact : T::PathPrefix, kPaths[rng.next() % 8]);
      if (rng.next() % 3 == 0) r.match.method = rng.next() % 2 ? "GET" : "POST";
      if (rng.next() % 3 == 0) r.match.headers.push_back(header("x-env", rng.next() % 2 ? "a" : "b"));
    }
    // Sorted as the translator sorts: any fixed order will do for the property.
    VirtualHost v;
    v.routes = routes;
    auto shadowed = shadowed_routes(v);
    total += shadowed.size();
    for (const char* p : kPaths)
      for (const char* method : {"GET", "POST"})
        for (std::string env : {"", "a", "b"}) {
          RequestView req;
          req.method = method;
          req.path = p;
          req.headers = &env;
          req.header = &headers_of;
          const Route* winner = nullptr;
          for (const auto& r : v.routes)
            if (route_matches(r.match, req)) {
              winner = &r;
              break;
            }
          for (const auto& s : shadowed) EXPECT_NE(winner, s.route) << "round " << round << " path " << p;
        }
  }
  EXPECT_GT(total, 100u);  // the tables do hold shadowed routes: the property is not vacuous
}

}  // namespace
}  // namespace gantry::routing
