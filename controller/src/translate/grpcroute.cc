// GRPCRoute (GEP-1016): each match becomes a path match on the gRPC method's URI
// ("/<service>/<method>", the table of GEP-1016 "Matcher Types"), its headers as
// HTTPRoute's, always over HTTP/2 to the backends; attachment and status as HTTPRoute's
// (route_rules.h), except that a hostname an HTTPRoute serves on the listener is refused.
#include <re2/re2.h>

#include "route_rules.h"

namespace gantry::controller::translate_detail {
namespace {

// GRPCMethodMatch's validation for type Exact: a service is dotted identifiers, a method one.
const re2::RE2& service_name() {
  static const re2::RE2 re(R"(\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*)");
  return re;
}
const re2::RE2& method_name() {
  static const re2::RE2 re(R"([A-Za-z_][A-Za-z_0-9]*)");
  return re;
}

routing::RouteMatch grpc_match(const Context& ctx, const GRPCRouteMatch& m, std::pair<int64_t, int64_t>& lengths,
                               std::string& problem) {
  routing::RouteMatch out;
  out.path.type = routing::PathMatchType::PathPrefix;
  out.path.value = "/";
  if (m.method) {
    const std::string service = m.method->service.value_or(""), method = m.method->method.value_or("");
    lengths = {static_cast<int64_t>(service.size()), static_cast<int64_t>(method.size())};
    if (m.method->type == "Exact") {
      if (service.empty() && method.empty()) problem = "a method match of type Exact needs a service or a method";
      if (!service.empty() && !re2::RE2::FullMatch(service, service_name()))
        problem = "service " + service + " is not a gRPC service name";
      if (!method.empty() && !re2::RE2::FullMatch(method, method_name()))
        problem = "method " + method + " is not a gRPC method name";
      if (!service.empty() && !method.empty()) {
        out.path.type = routing::PathMatchType::Exact;
        out.path.value = "/" + service + "/" + method;
      } else if (!service.empty()) {
        out.path.value = "/" + service;  // PathPrefix matches whole segments: "/svc/..." only
      } else if (!method.empty()) {
        out.path.type = routing::PathMatchType::RegularExpression;
        out.path.value = "/[^/]+/" + re2::RE2::QuoteMeta(method);
      }
    } else if (m.method->type == "RegularExpression") {
      if (!service.empty() || !method.empty()) {
        out.path.type = routing::PathMatchType::RegularExpression;
        out.path.value = "/" + (service.empty() ? std::string("[^/]+") : "(?:" + service + ")") + "/" +
                         (method.empty() ? std::string("[^/]+") : "(?:" + method + ")");
      }
    } else {
      problem = "method match type " + m.method->type + " is not supported";
    }
    if (out.path.type == routing::PathMatchType::RegularExpression) out.path.regex = compile(ctx, out.path.value, problem);
  }
  for (const auto& h : m.headers) out.headers.push_back(value_match(ctx, h, true, problem));
  return out;
}

void translate_grpc_route(Context& ctx, const GRPCRoute& route, RouteRecord& record) {
  CompiledRoute compiled;
  compiled.kind = "GRPCRoute";
  compiled.h2 = true;  // gRPC is HTTP/2 end to end
  for (const GRPCRouteRule& rule : route.rules) {
    CompiledRule cr;
    if (rule.matches.empty()) {
      cr.matches.push_back(routing::RouteMatch{});
      cr.grpc_lengths.emplace_back(0, 0);
    }
    for (const auto& m : rule.matches) {
      std::pair<int64_t, int64_t> lengths{0, 0};
      cr.matches.push_back(grpc_match(ctx, m, lengths, compiled.problem));
      cr.grpc_lengths.push_back(lengths);
    }
    for (const HTTPRouteFilter& f : rule.filters)
      if (f.type != "RequestHeaderModifier" && f.type != "ResponseHeaderModifier" && f.type != "RequestMirror")
        compiled.problem = "filter type " + f.type + " is not supported on a GRPCRoute";
    cr.filters = compile_filters(ctx, rule.filters, route.meta.ns, compiled.kind, compiled.problem,
                                 compiled.refs_reason, compiled.refs_message);
    compile_backends(ctx, rule.backend_refs, route.meta.ns, compiled, cr);
    compiled.rules.push_back(std::move(cr));
  }
  attach_route(ctx, RouteSource{"GRPCRoute", route.meta, route.parent_refs, route.hostnames}, compiled, record);
}

}  // namespace

void translate_grpc_routes(Context& ctx, StatusItems& out) {
  for (const auto& [key, route] : ctx.store.grpc_routes) {
    RouteRecord record;  // not kept: with GRPCRoutes in the store, every translation is whole
    translate_grpc_route(ctx, route, record);
    if (record.status) out.push_back(record.status);
  }
}

}  // namespace gantry::controller::translate_detail
