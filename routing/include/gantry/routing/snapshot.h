// Snapshot: the immutable routing table the controller publishes and the proxy reads.
//
//   Listener (one bound address:port)
//     -> ListenerScope (one Gateway listener hostname on that port; listener isolation)
//       -> VirtualHost (one effective route hostname)
//         -> Route (one HTTPRoute rule match, pre-sorted by precedence)
//           -> WeightedCluster -> Cluster -> Endpoint
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gantry/routing/canary.h"
#include "gantry/routing/filters.h"
#include "gantry/routing/host_index.h"
#include "gantry/routing/path_index.h"
#include "gantry/routing/path_match.h"
#include "gantry/routing/precedence.h"
#include "gantry/routing/source_range.h"

namespace gantry::routing {

class RegexCache;

struct Endpoint {
  std::string host;  // an IP literal, or a DNS name (ExternalName Services)
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

// How requests reach a cluster's endpoints: HTTP/1.1, or HTTP/2 with prior knowledge
// (the Service port's appProtocol kubernetes.io/h2c, KEP-3726).
enum class UpstreamProtocol : uint8_t { Http1, H2c };

struct Cluster {
  std::string name;  // "namespace/service:port"
  std::vector<Endpoint> endpoints;
  UpstreamProtocol protocol = UpstreamProtocol::Http1;
};

inline constexpr uint32_t kInvalidCluster = std::numeric_limits<uint32_t>::max();

// A share of a route's traffic. cluster == kInvalidCluster marks a backendRef the
// Gateway API says must answer 500 (not found, not permitted, wrong kind).
struct WeightedCluster {
  uint32_t cluster = kInvalidCluster;
  uint32_t weight = 1;
  std::shared_ptr<const Filters> filters;  // backendRef filters, applied after the rule's
};

// Provenance: which object, rule and match produced a route.
struct SourceRef {
  std::string kind;
  std::string ns;
  std::string name;
  int rule = 0;
  int match = 0;
};

struct RouteMatch {
  PathMatch path;
  std::string method;  // empty: any
  std::vector<ValueMatch> headers;
  std::vector<ValueMatch> query;
};

struct Route {
  RouteMatch match;
  std::vector<WeightedCluster> backends;
  uint64_t total_weight = 0;
  Filters filters;
  Timeouts timeouts;
  RetryPolicy retry;
  SourceRef source;
  PrecedenceKey precedence;
  // Ingress (ingress-nginx annotations); Gateway API routes leave these empty.
  Boxed<Canary> canary;                    // an alternative backend chosen per request
  std::vector<SourceRange> source_ranges;  // empty: any client; others get 403
  uint64_t body_limit = 0;                 // request body bytes; beyond it 413; 0: no limit
  bool upstream_tls = false;               // backend-protocol HTTPS or GRPCS: TLS to the endpoints
  bool upstream_h2 = false;                // backend-protocol GRPC or GRPCS: HTTP/2 to the endpoints
  // The rule's metrics series (route_series.h), set by make_vhost.
  static constexpr uint32_t kNoSeries = UINT32_MAX;
  uint32_t series = kNoSeries;
};

struct VirtualHost {
  std::string hostname;  // "" for any host
  std::vector<Route> routes;  // sorted by precedence
  PathIndex path_index;
};

// Made once (make_vhost) and then only read: a virtual host that a change does not touch
// is the same object in the next snapshot.
using VirtualHostPtr = std::shared_ptr<const VirtualHost>;

// TLS termination for an HTTPS listener: the certificate chain and key, PEM, already
// checked by the translator. The proxy picks a scope's certificate by SNI.
struct TlsCertificate {
  std::string cert_pem;
  std::string key_pem;
  std::vector<std::string> dns_names;  // of the leaf, for the config dump
};

struct ListenerScope {
  std::string name;      // "namespace/gateway/listener"
  std::string hostname;  // "" for any host
  uint16_t port = 0;     // the Gateway listener's port (redirects derive from it)
  // Gateway API host wildcards span any number of labels, Ingress ones exactly one.
  WildcardDepth host_depth = WildcardDepth::AnyLabels;
  std::vector<TlsCertificate> certificates;  // HTTPS listeners; empty for HTTP
  // Shared like the virtual hosts: a snapshot whose change is elsewhere copies a pointer,
  // not thousands of host names.
  std::shared_ptr<const HostIndex> vhost_index = std::make_shared<const HostIndex>();
  std::vector<VirtualHostPtr> vhosts;  // by hostname
};

// An Ingress TLS host and the certificate of its Secret.
struct SniCertificate {
  std::string host;  // "app.example.com" or "*.example.com" (one label)
  TlsCertificate certificate;
};

// An Ingress host with ssl-passthrough: its TLS connections go unopened to `cluster`.
struct SniPassthrough {
  std::string host;  // "app.example.com" or "*.example.com" (one label)
  uint32_t cluster = kInvalidCluster;
};

struct Listener {
  std::string name;     // "address:port" as bound
  std::string address;  // IP literal to bind ("0.0.0.0", "127.0.1.1", "::")
  uint16_t port = 0;    // the port to bind (after --port-map)
  bool tls = false;     // HTTPS: every scope has certificates
  // TLS in Passthrough mode: nothing is terminated; the ClientHello's server name picks a
  // scope and virtual host as a Host would, and its TLSRoute's backend gets the bytes.
  bool passthrough = false;
  HostIndex scope_index;
  std::vector<ListenerScope> scopes;
  // Ingress HTTPS: certificates chosen by SNI per host instead of per scope; a name none
  // covers (or no SNI) gets the proxy's self-signed fallback certificate.
  bool ingress = false;
  std::vector<SniCertificate> sni_certificates;
  HostIndex sni_index{WildcardDepth::OneLabel};  // built by finalize
  // Ingress HTTPS: hosts whose connections are passed through (chosen by the ClientHello's
  // server name before any handshake); the rest are terminated as above.
  std::vector<SniPassthrough> sni_passthrough;
  HostIndex passthrough_index{WildcardDepth::OneLabel};  // built by finalize
};

using Listeners = std::vector<Listener>;

// The listeners (routes and certificates) are shared between snapshots that differ only in
// their clusters' endpoints: an EndpointSlice change publishes a new snapshot with the
// same listeners, copying nothing of the route table.
struct Snapshot {
  uint64_t version = 0;
  std::shared_ptr<const Listeners> listeners = std::make_shared<const Listeners>();
  std::vector<Cluster> clusters;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Sorts a virtual host's routes by precedence, sums their weights and builds its path
// index; from here on it is shared. `cache`: regex automata kept across translations.
VirtualHostPtr make_vhost(VirtualHost vhost, RegexCache* cache = nullptr);

// The host indexes: each listener's scopes (by hostname), each scope's virtual hosts, an
// Ingress listener's SNI certificates. Called by the translator once it filled the
// listeners; index_scope again for a scope whose virtual hosts changed.
void finalize(Listeners& listeners);
void index_scope(ListenerScope& scope);
void index_listener(Listener& listener);

}  // namespace gantry::routing
