#include "gantry/controller/translate/translator.h"

#include <arpa/inet.h>

#include <algorithm>

#include "context.h"

namespace gantry::controller {

Result<AddressPool> parse_address_pool(std::string_view cidr) {
  size_t slash = cidr.find('/');
  std::string ip(cidr.substr(0, slash));
  AddressPool pool;
  in_addr a;
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1) return Error{"--address-pool: " + ip + " is not an IPv4 address"};
  if (slash != std::string_view::npos) {
    std::string bits(cidr.substr(slash + 1));
    char* end = nullptr;
    long p = std::strtol(bits.c_str(), &end, 10);
    if (bits.empty() || *end || p < 8 || p > 32) return Error{"--address-pool: prefix /" + bits + " must be 8-32"};
    pool.prefix = static_cast<int>(p);
  }
  uint32_t mask = pool.prefix == 32 ? 0xffffffffu : ~((1u << (32 - pool.prefix)) - 1);
  pool.network = ntohl(a.s_addr) & mask;
  return pool;
}

Result<std::map<uint16_t, uint16_t>> parse_port_map(std::string_view text) {
  std::map<uint16_t, uint16_t> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string item(text.substr(0, comma));
    unsigned from = 0, to = 0;
    char extra = 0;
    if (std::sscanf(item.c_str(), "%u:%u%c", &from, &to, &extra) != 2 || from == 0 || to == 0 || from > 65535 ||
        to > 65535)
      return Error{"--port-map: '" + item + "' is not FROM:TO with ports 1-65535"};
    out[static_cast<uint16_t>(from)] = static_cast<uint16_t>(to);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

namespace translate_detail {

routing::VirtualHost& vhost_for(Context& ctx, const VhostKey& key) {
  auto [it, inserted] = ctx.vhosts.try_emplace(key);
  if (!inserted) return it->second;
  routing::VirtualHost& vhost = it->second;
  vhost.hostname = std::get<2>(key);
  if (!ctx.redone) return vhost;
  // Routes only: the virtual host starts from its previous routes (still in precedence
  // order) less those of the HTTPRoutes being redone, which add theirs again.
  const auto& vhosts = ctx.listeners[std::get<0>(key)].scopes[std::get<1>(key)].vhosts;
  auto old = std::lower_bound(vhosts.begin(), vhosts.end(), vhost.hostname,
                              [](const routing::VirtualHostPtr& v, const std::string& h) { return v->hostname < h; });
  if (old == vhosts.end() || (*old)->hostname != vhost.hostname) return vhost;
  std::string source;
  for (const routing::Route& r : (*old)->routes) {
    source.assign(r.source.ns).append("/").append(r.source.name);
    if (r.source.kind == "HTTPRoute" && ctx.redone->count(source)) continue;
    vhost.routes.push_back(r);
  }
  return vhost;
}

namespace {

// The Gateway listeners' virtual hosts built in `ctx.vhosts` go into their scopes, by
// hostname; empty ones (every route of theirs removed) are dropped. Only the scopes they
// belong to are indexed again.
void place_vhosts(Context& ctx) {
  struct Built {
    std::vector<routing::VirtualHostPtr> vhosts;
    std::set<std::string> names;  // every hostname rebuilt, the emptied ones too
  };
  std::map<std::pair<uint32_t, uint32_t>, Built> built;
  for (auto& [key, vhost] : ctx.vhosts) {
    Built& b = built[{std::get<0>(key), std::get<1>(key)}];
    if (ctx.redone) b.names.insert(std::get<2>(key));
    if (!vhost.routes.empty()) b.vhosts.push_back(routing::make_vhost(std::move(vhost), ctx.options.regex_cache));
  }
  ctx.vhosts.clear();
  for (auto& [where, b] : built) {
    routing::ListenerScope& scope = ctx.listeners[where.first].scopes[where.second];
    if (!scope.vhosts.empty()) {
      // Routes only: the untouched virtual hosts are kept as they are (shared).
      for (const auto& v : scope.vhosts)
        if (!b.names.count(v->hostname)) b.vhosts.push_back(v);
      std::sort(b.vhosts.begin(), b.vhosts.end(), [](const auto& x, const auto& y) { return x->hostname < y->hostname; });
    }
    scope.vhosts = std::move(b.vhosts);
    if (ctx.redone) routing::index_scope(scope);  // a full translation indexes everything after
  }
}

// The HTTPRoutes' status items in the store's order. Both maps are sorted by the same
// key, so one walk of each; a record for every route in the store is there.
void append_route_status(const ObjectStore& store, const std::map<std::string, RouteRecord>& records,
                         StatusItems& out) {
  out.reserve(out.size() + records.size());
  auto r = records.begin();
  for (const auto& [key, route] : store.http_routes) {
    while (r != records.end() && r->first < key) ++r;
    if (r != records.end() && r->first == key && r->second.status) out.push_back(r->second.status);
  }
}

}  // namespace

}  // namespace translate_detail

// What translate_routes needs of the last translation: what one HTTPRoute reads (the
// Gateways' listener states, the clusters met so far) and what it cannot redo (the other
// routes' records, the status items of classes and Ingresses).
struct TranslationState {
  std::map<std::string, translate_detail::GatewayState> gateways;
  std::map<std::string, uint32_t> clusters;
  StatusItems class_status, ingress_status;
  std::map<std::string, translate_detail::RouteRecord> routes;
};

boost::json::array to_array(const StatusItems& items) {
  boost::json::array out;
  out.reserve(items.size());
  for (const auto& item : items) out.push_back(*item);
  return out;
}

TranslateResult translate(const ObjectStore& store, const TranslateOptions& options) {
  using namespace translate_detail;
  Context ctx{store, options, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  auto state = options.keep_state ? std::make_shared<TranslationState>() : nullptr;
  if (state) ctx.records = &state->routes;
  json::array classes, gateways, ingresses;
  StatusItems routes;
  translate_gateway_classes(ctx, classes);
  translate_gateways(ctx);
  translate_http_routes(ctx, routes);
  translate_grpc_routes(ctx, routes);
  translate_tls_routes(ctx, routes);
  write_gateway_status(ctx, gateways);
  translate_ingresses(ctx, ingresses);
  place_vhosts(ctx);

  TranslateResult result;
  auto share = [](json::array& items) {
    StatusItems out;
    for (auto& item : items) out.push_back(std::make_shared<const json::object>(std::move(item.as_object())));
    return out;
  };
  StatusItems class_items = share(classes), ingress_items = share(ingresses);
  result.status = class_items;
  for (auto& item : share(gateways)) result.status.push_back(std::move(item));
  for (auto& item : routes) result.status.push_back(std::move(item));
  for (const auto& item : ingress_items) result.status.push_back(item);
  if (state) {
    state->gateways = ctx.gateways;
    state->clusters = ctx.clusters;
    state->class_status = std::move(class_items);
    state->ingress_status = std::move(ingress_items);
    result.state = state;
  }
  routing::finalize(ctx.listeners);
  if (options.regex_cache) options.regex_cache->sweep();
  result.snapshot = std::move(ctx.snapshot);
  result.snapshot.listeners = std::make_shared<const routing::Listeners>(std::move(ctx.listeners));
  return result;
}

TranslateResult translate_routes(const ObjectStore& store, const TranslateOptions& options, TranslationState& state,
                                 const routing::Snapshot& live, const std::set<std::string>& changed) {
  using namespace translate_detail;
  Context ctx{store, options, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  ctx.snapshot.clusters = live.clusters;
  ctx.listeners = *live.listeners;  // virtual host pointers and indexes: nothing deep is copied
  ctx.clusters = std::move(state.clusters);
  ctx.gateways = std::move(state.gateways);
  ctx.redone = &changed;
  ctx.records = &state.routes;

  for (const std::string& key : changed) {
    auto was = state.routes.find(key);
    if (was == state.routes.end()) continue;
    for (const auto& [gw, listener] : was->second.attached) --ctx.gateways.at(gw).listeners.at(listener).attached_routes;
    for (const VhostKey& v : was->second.vhosts) vhost_for(ctx, v);  // rebuilt without its routes
    state.routes.erase(was);
  }
  for (const std::string& key : changed) {
    auto route = store.http_routes.find(key);
    if (route == store.http_routes.end()) continue;
    RouteRecord record;
    translate_http_route(ctx, route->second, record);
    state.routes[key] = std::move(record);
  }
  place_vhosts(ctx);

  TranslateResult result;
  result.status = state.class_status;
  json::array gateways;
  write_gateway_status(ctx, gateways);
  for (auto& item : gateways) result.status.push_back(std::make_shared<const json::object>(std::move(item.as_object())));
  append_route_status(store, state.routes, result.status);
  for (const auto& item : state.ingress_status) result.status.push_back(item);

  state.gateways = std::move(ctx.gateways);
  state.clusters = std::move(ctx.clusters);
  result.snapshot = std::move(ctx.snapshot);
  result.snapshot.listeners = std::make_shared<const routing::Listeners>(std::move(ctx.listeners));
  return result;
}

}  // namespace gantry::controller
