// Route series ids: one per rule, the same in every snapshot (a worker indexes its metrics
// by them), different for any other kind, namespace, name or rule.
#include "gantry/routing/route_series.h"

#include <gtest/gtest.h>

namespace gantry::routing {
namespace {

SourceRef rule(std::string kind, std::string ns, std::string name, int index) {
  SourceRef s;
  s.kind = std::move(kind);
  s.ns = std::move(ns);
  s.name = std::move(name);
  s.rule = index;
  return s;
}

TEST(RouteSeries, TheSameRuleKeepsItsIdAndOthersGetTheirOwn) {
  const uint32_t a = route_series_id(rule("HTTPRoute", "default", "web", 0));
  EXPECT_EQ(route_series_id(rule("HTTPRoute", "default", "web", 0)), a);
  SourceRef other_match = rule("HTTPRoute", "default", "web", 0);
  other_match.match = 3;  // matches of one rule share the rule's series
  EXPECT_EQ(route_series_id(other_match), a);
  const uint32_t ids[] = {route_series_id(rule("HTTPRoute", "default", "web", 1)),
                          route_series_id(rule("Ingress", "default", "web", 0)),
                          route_series_id(rule("HTTPRoute", "other", "web", 0)),
                          route_series_id(rule("HTTPRoute", "default", "web2", 0)),
                          // no separator ambiguity: "de"+"fault/web" is not "default"+"web"
                          route_series_id(rule("HTTPRoute", "de", "faultweb", 0))};
  for (uint32_t id : ids) EXPECT_NE(id, a);
  for (size_t i = 0; i < std::size(ids); ++i)
    for (size_t j = i + 1; j < std::size(ids); ++j) EXPECT_NE(ids[i], ids[j]);
}

TEST(RouteSeries, MakeVhostNumbersItsRoutes) {
  VirtualHost vh;
  vh.routes.emplace_back().source = rule("HTTPRoute", "ns", "r", 0);
  vh.routes.emplace_back().source = rule("HTTPRoute", "ns", "r", 1);
  VirtualHostPtr made = make_vhost(std::move(vh));
  for (const Route& r : made->routes) {
    ASSERT_NE(r.series, Route::kNoSeries);
    EXPECT_EQ(r.series, route_series_id(r.source));
  }
  EXPECT_NE(made->routes[0].series, made->routes[1].series);
}

}  // namespace
}  // namespace gantry::routing
