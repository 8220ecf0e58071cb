#include "gantry/routing/snapshot.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gantry/routing/regex_cache.h"
#include "gantry/routing/route_series.h"

namespace gantry::routing {
namespace {

// Routes are large: sort their positions, then move each route once.
void sort_by_precedence(std::vector<Route>& routes) {
  std::vector<uint32_t> order(routes.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return routes[a].precedence < routes[b].precedence; });
  bool sorted = true;
  for (uint32_t i = 0; i < order.size() && sorted; ++i) sorted = order[i] == i;
  if (sorted) return;
  std::vector<Route> out;
  out.reserve(routes.size());
  for (uint32_t i : order) out.push_back(std::move(routes[i]));
  routes = std::move(out);
}

}  // namespace

VirtualHostPtr make_vhost(VirtualHost vhost, RegexCache* cache) {
  sort_by_precedence(vhost.routes);
  for (Route& route : vhost.routes) {
    route.total_weight = 0;
    for (const WeightedCluster& wc : route.backends) route.total_weight += wc.weight;
    route.series = route_series_id(route.source);
  }
  vhost.path_index.build(vhost.routes, cache);
  return std::make_shared<const VirtualHost>(std::move(vhost));
}

void index_scope(ListenerScope& scope) {
  auto index = std::make_shared<HostIndex>(scope.host_depth);
  for (uint32_t v = 0; v < scope.vhosts.size(); ++v) index->add(scope.vhosts[v]->hostname, v);
  scope.vhost_index = std::move(index);
}

void index_listener(Listener& listener) {
  listener.scope_index = HostIndex(WildcardDepth::AnyLabels);
  listener.sni_index = HostIndex(WildcardDepth::OneLabel);
  for (uint32_t i = 0; i < listener.sni_certificates.size(); ++i)
    listener.sni_index.add(listener.sni_certificates[i].host, i);
  listener.passthrough_index = HostIndex(WildcardDepth::OneLabel);
  for (uint32_t i = 0; i < listener.sni_passthrough.size(); ++i)
    listener.passthrough_index.add(listener.sni_passthrough[i].host, i);
  for (uint32_t s = 0; s < listener.scopes.size(); ++s) listener.scope_index.add(listener.scopes[s].hostname, s);
}

void finalize(Listeners& listeners) {
  for (Listener& listener : listeners) {
    index_listener(listener);
    for (ListenerScope& scope : listener.scopes) index_scope(scope);
  }
}

}  // namespace gantry::routing
