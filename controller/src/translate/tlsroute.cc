// TLSRoute: on TLS listeners in Passthrough mode, a route's hostnames are the server
// names (SNI) it takes and its rule's backendRefs where the unopened TLS stream goes.
// Attachment and status as for HTTPRoute (route_rules.h); the first rule with backends
// serves (a TLSRoute has no matches to choose between rules).
#include "route_rules.h"

namespace gantry::controller::translate_detail {
namespace {

void translate_tls_route(Context& ctx, const TLSRoute& route, RouteRecord& record) {
  CompiledRoute compiled;
  compiled.kind = "TLSRoute";
  for (const TLSRouteRule& rule : route.rules) {
    CompiledRule cr;
    cr.matches.push_back(routing::RouteMatch{});
    compile_backends(ctx, rule.backend_refs, route.meta.ns, compiled, cr);
    compiled.rules.push_back(std::move(cr));
  }
  attach_route(ctx, RouteSource{"TLSRoute", route.meta, route.parent_refs, route.hostnames}, compiled, record);
}

}  // namespace

void translate_tls_routes(Context& ctx, StatusItems& out) {
  for (const auto& [key, route] : ctx.store.tls_routes) {
    RouteRecord record;  // not kept: with TLSRoutes in the store, every translation is whole
    translate_tls_route(ctx, route, record);
    if (record.status) out.push_back(record.status);
  }
}

}  // namespace gantry::controller::translate_detail
