#include "gantry/routing/snapshot.h"

#include <algorithm>

#include "gantry/routing/regex_cache.h"

namespace gantry::routing {

void finalize(Listeners& listeners, RegexCache* cache) {
  for (Listener& listener : listeners) {
    listener.scope_index = HostIndex(WildcardDepth::AnyLabels);
    listener.sni_index = HostIndex(WildcardDepth::OneLabel);
    for (uint32_t i = 0; i < listener.sni_certificates.size(); ++i)
      listener.sni_index.add(listener.sni_certificates[i].host, i);
    for (uint32_t s = 0; s < listener.scopes.size(); ++s) {
      ListenerScope& scope = listener.scopes[s];
      listener.scope_index.add(scope.hostname, s);
      scope.vhost_index = HostIndex(scope.host_depth);
      for (uint32_t v = 0; v < scope.vhosts.size(); ++v) {
        VirtualHost& vhost = scope.vhosts[v];
        std::stable_sort(vhost.routes.begin(), vhost.routes.end(),
                         [](const Route& a, const Route& b) { return a.precedence < b.precedence; });
        for (Route& route : vhost.routes) {
          route.total_weight = 0;
          for (const WeightedCluster& wc : route.backends) route.total_weight += wc.weight;
        }
        vhost.path_index.build(vhost.routes, cache);
        scope.vhost_index.add(vhost.hostname, v);
      }
    }
  }
}

}  // namespace gantry::routing
