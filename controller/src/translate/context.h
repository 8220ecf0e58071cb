// Internal: the state one translation pass shares between its steps.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "gantry/controller/translate/translator.h"

namespace re2 { class RE2; }

namespace gantry::controller::translate_detail {

namespace json = boost::json;

struct ListenerState {
  const GatewayListener* spec = nullptr;
  bool attachable = false;     // accepted, not conflicted: routes attach and are counted
  bool valid = false;          // also programmed: attached routes are served
  uint32_t snapshot_listener = 0;
  uint32_t scope = 0;
  int64_t attached_routes = 0;
  std::vector<RouteGroupKind> supported_kinds;
  json::array conditions;
  // The hostnames its HTTPRoutes serve, while GRPCRoutes exist (GEP-1016: not shared).
  std::vector<std::string> http_hostnames;
};

struct GatewayState {
  const Gateway* gateway = nullptr;
  std::string address;  // where it is bound
  std::vector<ListenerState> listeners;
  json::array conditions;
};

// A Gateway listener's virtual host: (listener, scope, hostname).
using VhostKey = std::tuple<uint32_t, uint32_t, std::string>;

// What one HTTPRoute put into a translation: undone and redone when only it changes.
struct RouteRecord {
  std::vector<std::pair<std::string, uint32_t>> attached;  // (Gateway key, listener) it is counted on
  std::set<VhostKey> vhosts;                               // where its routes are
  std::shared_ptr<const json::object> status;  // none: not a route of our Gateways
};

struct Context {
  const ObjectStore& store;
  const TranslateOptions& options;
  routing::Snapshot snapshot;        // its clusters; the listeners are built in `listeners`
  routing::Listeners listeners;
  std::map<std::string, uint32_t> clusters;         // cluster name -> index in snapshot.clusters
  std::map<std::string, uint32_t> bound;            // "address:port" -> index in listeners
  std::map<std::string, std::string> bound_owner;   // "address:port" -> gateway key
  std::map<std::string, std::string> claimed;       // merged Gateways: "address:port hostname" -> "gateway/listener"
  std::map<std::string, GatewayState> gateways;     // our Gateways by "namespace/name"
  std::set<std::string> classes;                    // our GatewayClasses
  // Gateway listeners' virtual hosts being built, in the order they are listed.
  std::map<VhostKey, routing::VirtualHost> vhosts;
  // Routes only (translate_routes): the HTTPRoutes being redone ("namespace/name"); a
  // virtual host they touch starts from the previous one's routes less theirs.
  const std::set<std::string>* redone = nullptr;
  // Kept for the next translation when asked (TranslateOptions::keep_state).
  std::map<std::string, RouteRecord>* records = nullptr;
};

// The virtual host `key` being built (vhosts above), made on first use.
routing::VirtualHost& vhost_for(Context& ctx, const VhostKey& key);

json::object condition(std::string_view type, bool status, std::string_view reason, std::string_view message,
                       int64_t generation);
json::object status_item(std::string_view kind, const ObjectMeta& meta, json::object status);
json::object status_item(std::string_view api_version, std::string_view kind, const ObjectMeta& meta, json::object status);

void translate_gateway_classes(Context& ctx, json::array& out);
void translate_gateways(Context& ctx);
void translate_http_routes(Context& ctx, StatusItems& out);
// One HTTPRoute: attaches it, adds its routes, writes its status into `record`.
void translate_http_route(Context& ctx, const HTTPRoute& route, RouteRecord& record);
// GRPCRoutes, after the HTTPRoutes (grpcroute.cc).
void translate_grpc_routes(Context& ctx, StatusItems& out);
// TLSRoutes, on the TLS passthrough listeners (tlsroute.cc).
void translate_tls_routes(Context& ctx, StatusItems& out);
void write_gateway_status(const Context& ctx, json::array& out);
// Ingresses of our IngressClass on the ingress listeners (ingress.cc); after the Gateways,
// which keep an address and port both would bind.
void translate_ingresses(Context& ctx, json::array& out);

// The hostnames a route serves on a listener (Gateway API, HTTPRoute.hostnames); empty
// when they do not intersect. "" stands for any host.
std::vector<std::string> intersect_hostnames(const std::optional<std::string>& listener,
                                             const std::vector<std::string>& route);

bool reference_granted(const ObjectStore& store, std::string_view from_group, std::string_view from_kind,
                       std::string_view from_ns, std::string_view to_group, std::string_view to_kind,
                       std::string_view to_ns, std::string_view to_name);

// ASCII lowercase: host names and header names compare case-insensitively.
std::string lower(std::string s);

// A compiled regex, from the options' cache when there is one; check ok().
std::shared_ptr<const re2::RE2> compile_regex(const Context& ctx, const std::string& pattern);

bool selector_matches(const LabelSelector& selector, const std::map<std::string, std::string>& labels);

// The addresses status reports (--publish-service's load balancer, else
// --publish-status-address) as {type, value}; nullopt when neither is configured.
std::optional<std::vector<std::pair<std::string, std::string>>> published_addresses(const Context& ctx);

}  // namespace gantry::controller::translate_detail
