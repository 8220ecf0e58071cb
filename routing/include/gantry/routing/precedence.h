// Precedence: the Gateway API tie-break rules (HTTPRouteRule, "matching precedence")
// as one sortable key, computed once at translation. Smaller keys win.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "gantry/routing/path_match.h"

namespace gantry::routing {

struct PrecedenceKey {
  int path_kind = 0;           // Exact 0, PathPrefix 1, RegularExpression 2
  int64_t neg_path_length = 0; // longer prefixes first (GRPCRoute: longer services)
  int64_t neg_grpc_method = 0; // GRPCRoute: longer methods first
  int no_method = 1;           // a method match first
  int64_t neg_headers = 0;     // more header matches first
  int64_t neg_query = 0;       // more query matches first
  std::string created;         // oldest route first (RFC 3339 sorts as text)
  std::string route_id;        // then "namespace/name"
  int rule = 0;                // then rule order
  int match = 0;               // then match order within the rule

  auto operator<=>(const PrecedenceKey&) const = default;
};

struct RouteMatch;
PrecedenceKey make_precedence_key(const RouteMatch& match, std::string created, std::string route_id,
                                  int rule, int match_index);
// GRPCRouteRule.matches: the most characters of service, then of method, then the most
// header matches; then age, name and order as for HTTPRoute.
PrecedenceKey make_grpc_precedence_key(int64_t service_length, int64_t method_length, size_t headers,
                                       std::string created, std::string route_id, int rule, int match_index);

}  // namespace gantry::routing
