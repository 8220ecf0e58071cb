// translate(): objects -> (routing snapshot, status). A pure function: no sockets, no
// clocks, no globals; the same store gives the same output byte for byte.
#pragma once

#include <boost/json/array.hpp>
#include <cstdint>
#include <map>
#include <optional>
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
  // Compiled regexes kept across translations (the serve loop's); null compiles afresh.
  // The output is the same either way.
  routing::RegexCache* regex_cache = nullptr;
};

struct TranslateResult {
  routing::Snapshot snapshot;  // finalized: routes sorted, indexes built
  boost::json::array status;   // Kubernetes-style items: GatewayClass, Gateway, HTTPRoute, Ingress
};

TranslateResult translate(const ObjectStore& store, const TranslateOptions& options);

// Endpoints only: every Service cluster of `snapshot` ("namespace/name:port") takes its
// endpoints from `store` again. An EndpointSlice change needs nothing more: routes and
// status do not depend on which endpoints are ready. Returns how many clusters changed.
size_t refresh_endpoints(const ObjectStore& store, routing::Snapshot& snapshot);

// `status` with the listeners the data plane could not bind ("address:port" -> why)
// reported: Gateway listeners Accepted=False and Programmed=False (PortUnavailable),
// Ingresses a ListenerNotBound warning.
boost::json::array mark_unbound(boost::json::array status, const routing::Listeners& listeners,
                                const std::map<std::string, std::string>& failures);

}  // namespace gantry::controller
