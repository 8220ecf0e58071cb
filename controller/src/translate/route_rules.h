// Internal: what the route kinds of HTTP listeners share (HTTPRoute, GRPCRoute): rules
// compiled to routing values once per route, then attached to each parent's listeners
// with the same rules (sectionName, port, allowedRoutes, hostnames) and status.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "context.h"

namespace gantry::controller::translate_detail {

struct CompiledRule {
  std::vector<routing::RouteMatch> matches;
  // GRPCRoute: per match, the lengths of its service and method (its precedence).
  std::vector<std::pair<int64_t, int64_t>> grpc_lengths;
  std::vector<routing::WeightedCluster> backends;
  routing::Filters filters;
  routing::Timeouts timeouts;
  routing::RetryPolicy retry;
};

struct CompiledRoute {
  std::string_view kind;  // "HTTPRoute", "GRPCRoute"
  std::vector<CompiledRule> rules;
  std::string problem;  // Accepted=False, UnsupportedValue
  std::string refs_reason, refs_message;  // ResolvedRefs=False
  bool h2 = false;  // gRPC: HTTP/2 to the backends, whatever their appProtocol
};

// The parts of a route object attachment reads.
struct RouteSource {
  std::string_view kind;
  const ObjectMeta& meta;
  const std::vector<ParentRef>& parent_refs;
  const std::vector<std::string>& hostnames;
};

// Filters of a rule or a backendRef; mirrors resolve their backendRef like any backend.
routing::Filters compile_filters(Context& ctx, const std::vector<HTTPRouteFilter>& in, const std::string& route_ns,
                                 std::string_view route_kind, std::string& problem, std::string& refs_reason,
                                 std::string& refs_message);
routing::ValueMatch value_match(const Context& ctx, const HTTPValueMatch& m, bool header, std::string& problem);
// A regex through the options' cache; null, with `problem` set, when it does not compile.
std::shared_ptr<const re2::RE2> compile(const Context& ctx, const std::string& pattern, std::string& problem);
void compile_backends(Context& ctx, const std::vector<BackendRef>& refs, const std::string& ns, CompiledRoute& route,
                      CompiledRule& rule);
void attach_route(Context& ctx, const RouteSource& route, const CompiledRoute& compiled, RouteRecord& record);

}  // namespace gantry::controller::translate_detail
