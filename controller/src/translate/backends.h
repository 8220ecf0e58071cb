// Internal: one backendRef resolved to a cluster, or the reason it could not be.
#pragma once

#include <optional>

#include "context.h"

namespace gantry::controller::translate_detail {

struct BackendResolution {
  uint32_t cluster = routing::kInvalidCluster;
  std::string reason;  // ResolvedRefs=False reason; empty when resolved
  std::string message;
};

// `route_kind`: the referring route's kind, as a ReferenceGrant's `from` names it.
BackendResolution resolve_backend(Context& ctx, const BackendRef& ref, const std::string& route_ns,
                                  std::string_view route_kind = "HTTPRoute");

// The ready endpoints of one Service port: its EndpointSlices (several merged), else the
// ExternalName, else the cluster IP.
std::vector<routing::Endpoint> endpoints_of(const ObjectStore& store, const Service& svc, const ServicePort& port);
// The port's appProtocol as the proxy speaks it.
routing::UpstreamProtocol protocol_of(const ServicePort& port);

// An Ingress backend: a Service port by number or by name. A Service or port that is not
// there still gets a cluster, with no endpoints (503, as ingress-nginx answers); `problem`
// says what is missing.
uint32_t resolve_ingress_backend(Context& ctx, const std::string& ns, const IngressServiceBackend& backend,
                                 std::string& problem);

// A cluster of fixed endpoints (a mirror target named by address or DNS name).
uint32_t fixed_cluster(Context& ctx, const std::string& name, std::vector<routing::Endpoint> endpoints);

// The Service a cluster is named for ("namespace/name:port", the port a number or an
// unresolved port name); nothing for the fixed clusters ("mirror:host:port").
struct ClusterService {
  std::string ns, name, port;
};
std::optional<ClusterService> cluster_service(const std::string& cluster);

}  // namespace gantry::controller::translate_detail
