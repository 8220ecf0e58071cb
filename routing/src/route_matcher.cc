#include "gantry/routing/route_matcher.h"

namespace gantry::routing {

bool route_matches(const RouteMatch& match, const RequestView& request) {
  if (!path_matches(match.path, request.path)) return false;
  if (!match.method.empty() && match.method != request.method) return false;
  for (const ValueMatch& h : match.headers) {
    bool found = false;
    std::string_view value = request.find_header(h.name, found);
    if (!found || !value_matches(h, value)) return false;
  }
  for (const ValueMatch& q : match.query) {
    std::string_view value;
    if (!find_query_param(request.query, q.name, value) || !value_matches(q, value)) return false;
  }
  return true;
}

const Route* match_route(const Listener& listener, std::string_view host, const RequestView& request,
                         const ListenerScope** scope_out) {
  auto scope_index = listener.scope_index.find(host);
  if (!scope_index) return nullptr;
  const ListenerScope& scope = listener.scopes[*scope_index];
  if (scope_out) *scope_out = &scope;
  auto vhost_index = scope.vhost_index->find(host);
  if (!vhost_index) return nullptr;
  const VirtualHost& vhost = *scope.vhosts[*vhost_index];
  int found = vhost.path_index.find(vhost.routes, request);
  return found < 0 ? nullptr : &vhost.routes[found];
}

}  // namespace gantry::routing
