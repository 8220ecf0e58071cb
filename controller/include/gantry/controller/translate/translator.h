// translate(): objects -> (routing snapshot, status). A pure function: no sockets, no
// clocks, no globals; the same store gives the same output byte for byte.
#pragma once

#include <boost/json/array.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "gantry/common/result.h"
#include "gantry/controller/store/object_store.h"
#include "gantry/routing/regex_cache.h"
#include "gantry/routing/snapshot.h"

namespace gantry::controller {

inline constexpr const char* kDefaultControllerName = "gantry.dev/gateway-controller";

struct AddressPool {
  uint32_t network = 0;  // IPv4, host order
  int prefix = 32;
};
Result<AddressPool> parse_address_pool(std::string_view cidr);
Result<std::map<uint16_t, uint16_t>> parse_port_map(std::string_view text);  // "80:18080,443:18443"

struct TranslateOptions {
  std::string controller_name = kDefaultControllerName;  // GatewayClass and IngressClass
  std::string ingress_class = "gantry";                  // the IngressClass name we serve
  std::string ingress_http = "0.0.0.0:80";               // where Ingresses are served (before --port-map)
  std::string ingress_https = "0.0.0.0:443";
  std::string publish_status_address;                    // Ingress status address; "": the listener's
  std::map<uint16_t, uint16_t> port_map;
  std::optional<AddressPool> address_pool;
  // Cluster mode: every Gateway of our classes is served by the same replicas, so Gateways
  // bind the wildcard address and those on one port are merged (a hostname claimed twice
  // on a port is Conflicted on the younger listener).
  bool merge_gateways = false;
  // "namespace/name" of the Service whose status.loadBalancer addresses are written into
  // Gateway and Ingress status (ingress-nginx's --publish-service); it wins over
  // publish_status_address.
  std::string publish_service;
  // Compiled regexes kept across translations (the serve loop's); null compiles afresh.
  // The output is the same either way.
  routing::RegexCache* regex_cache = nullptr;
  // Keep what translate_routes needs to redo only the HTTPRoutes that change next.
  bool keep_state = false;
};

// What a translation leaves for the next one (translate_routes): each HTTPRoute's share of
// the listeners, virtual hosts and status, the Gateways' listener states, the clusters.
struct TranslationState;

// Status items, each shared by the translations that did not change it: a routes-only
// pass copies no other route's status.
using StatusItems = std::vector<std::shared_ptr<const boost::json::object>>;
boost::json::array to_array(const StatusItems& items);

struct TranslateResult {
  routing::Snapshot snapshot;  // finalized: routes sorted, indexes built
  StatusItems status;          // Kubernetes-style items: GatewayClass, Gateway, HTTPRoute, Ingress
  std::shared_ptr<TranslationState> state;  // with options.keep_state
};

TranslateResult translate(const ObjectStore& store, const TranslateOptions& options);

// Cost proportional to the change: `store` differs from the one `state` was made from in
// the HTTPRoutes named in `changed` ("namespace/name": added, changed or removed) and in
// nothing else but EndpointSlices; `live` is the snapshot made then (its endpoints may have
// been refreshed since). Only those routes are translated again and only the virtual hosts
// they are or were in are rebuilt; every other virtual host, listener index and status item
// is shared with `live` or reused. The result routes and reports exactly as translate() of
// the same store would (snapshot_to_json and the status are the same); clusters that no
// route uses any more stay until the next full translation. `state` is updated in place.
TranslateResult translate_routes(const ObjectStore& store, const TranslateOptions& options, TranslationState& state,
                                 const routing::Snapshot& live, const std::set<std::string>& changed);

// Endpoints only: every Service cluster of `snapshot` ("namespace/name:port") takes its
// endpoints from `store` again. An EndpointSlice change needs nothing more: routes and
// status do not depend on which endpoints are ready. Returns how many clusters changed.
size_t refresh_endpoints(const ObjectStore& store, routing::Snapshot& snapshot);

// `status` with the listeners the data plane could not bind ("address:port" -> why)
// reported: Gateway listeners Accepted=False and Programmed=False (PortUnavailable),
// Ingresses a ListenerNotBound warning.
StatusItems mark_unbound(StatusItems status, const routing::Listeners& listeners,
                         const std::map<std::string, std::string>& failures);

// Route rules no request can reach (an earlier rule matches all their requests), by
// "Kind/namespace/name", one message each; and `status` with them reported: a
// gantry.dev/ShadowedRules condition on each HTTPRoute parent, a warning on an Ingress.
// Whether an Ingress is of the IngressClass we serve (the translator's own test).
bool ingress_is_ours(const ObjectStore& store, const TranslateOptions& options, const Ingress& ingress);

std::map<std::string, std::vector<std::string>> shadowed_rules(const routing::Listeners& listeners);
StatusItems mark_shadowed(StatusItems status, const routing::Listeners& listeners);

}  // namespace gantry::controller
