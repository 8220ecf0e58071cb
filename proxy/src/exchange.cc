#include "exchange.h"

#include "gantry/routing/canary.h"
#include "gantry/routing/route_matcher.h"
#include "gantry/routing/source_range.h"
#include "gantry/routing/weighted_pick.h"

namespace gantry::proxy {
namespace {

ExchangePlan error(ExchangePlan plan, ProxyError e, std::string_view detail = {}) {
  plan.answer = Answer::Error;
  plan.error = e;
  plan.detail = detail;
  return plan;
}

}  // namespace

bool is_cors_preflight(const routing::RequestView& view) {
  if (view.method != "OPTIONS") return false;
  bool origin = false, method = false;
  view.find_header("origin", origin);
  view.find_header("access-control-request-method", method);
  return origin && method;
}

ExchangePlan plan_exchange(const routing::Snapshot* snapshot, const routing::Listener* listener,
                           const ExchangeRequest& request, uint64_t pick_draw, uint64_t canary_draw) {
  ExchangePlan plan;
  if (!snapshot || !listener) return error(plan, ProxyError::NoRoute);
  // A connection's certificate was chosen by SNI for one listener; a request whose Host
  // belongs to another one (connection reuse across names) is not served with it
  // (GatewayHTTPSListenerDetectMisdirectedRequests, RFC 9110 421).
  if (!request.sni.empty()) {
    auto by_sni = listener->scope_index.find(request.sni);
    auto by_host = listener->scope_index.find(request.host);
    if (by_sni && by_host && *by_sni != *by_host) return error(plan, ProxyError::Misdirected);
  }
  plan.route = routing::match_route(*listener, request.host, request.view, &plan.scope);
  if (!plan.route) return error(plan, ProxyError::NoRoute);
  const routing::Route& route = *plan.route;

  const int pick = routing::pick_weighted(route.backends, route.total_weight, pick_draw);
  const routing::WeightedCluster* backend = pick < 0 ? nullptr : &route.backends[pick];
  plan.backend_filters = backend && backend->filters ? backend->filters.get() : nullptr;
  plan.cluster_index = backend ? backend->cluster : routing::kInvalidCluster;
  if (route.canary && routing::canary_chosen(*route.canary, request.view, canary_draw)) {
    plan.cluster_index = route.canary->cluster;
    plan.backend_filters = nullptr;
  }

  // A CORS preflight and a redirect are answered here, whatever the backends.
  if (route.filters.cors && is_cors_preflight(request.view)) {
    plan.answer = Answer::Preflight;
    return plan;
  }
  const routing::Redirect* redirect = route.filters.redirect ? &*route.filters.redirect : nullptr;
  if (!redirect && plan.backend_filters && plan.backend_filters->redirect) redirect = &*plan.backend_filters->redirect;
  if (redirect) {
    plan.answer = Answer::Redirect;
    plan.redirect = redirect;
    return plan;
  }
  if (!routing::source_allowed(route.source_ranges, request.client_addr, request.client_addr_len))
    return error(plan, ProxyError::Forbidden);
  if (plan.cluster_index == routing::kInvalidCluster) return error(plan, ProxyError::InvalidBackend);
  plan.cluster = &snapshot->clusters[plan.cluster_index];
  if (plan.cluster->endpoints.empty()) return error(plan, ProxyError::NoEndpoint, plan.cluster->name);
  plan.answer = Answer::Forward;
  return plan;
}

const routing::Listener* find_listener(const routing::Snapshot& s, std::string_view name) {
  for (const auto& l : *s.listeners)
    if (l.name == name) return &l;
  return nullptr;
}

}  // namespace gantry::proxy
