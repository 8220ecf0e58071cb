// Gateway API objects (gateway.networking.k8s.io/v1), only the fields Gantry reads.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gantry/controller/objects/meta.h"

namespace gantry::controller {

inline constexpr const char* kGatewayGroup = "gateway.networking.k8s.io";

struct GatewayClass {
  ObjectMeta meta;
  std::string controller_name;
};

struct RouteGroupKind {
  std::string group = kGatewayGroup;
  std::string kind;
};

struct LabelSelectorRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};

struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
};

struct AllowedRoutes {
  std::string from = "Same";  // Same, All, Selector
  LabelSelector selector;
  std::optional<std::vector<RouteGroupKind>> kinds;
};

// SecretObjectReference; group "" and kind Secret by default.
struct SecretObjectReference {
  std::string group;
  std::string kind = "Secret";
  std::string name;
  std::optional<std::string> ns;
};

struct GatewayTLSConfig {
  std::string mode = "Terminate";
  std::vector<SecretObjectReference> certificate_refs;
};

struct GatewayListener {
  std::string name;
  std::optional<std::string> hostname;
  int64_t port = 0;
  std::string protocol;
  std::optional<GatewayTLSConfig> tls;
  AllowedRoutes allowed_routes;
};

struct GatewayAddress {
  std::string type = "IPAddress";
  std::string value;
};

struct LocalParametersReference {
  std::string group;
  std::string kind;
  std::string name;
};

struct Gateway {
  ObjectMeta meta;
  std::string gateway_class_name;
  std::optional<LocalParametersReference> parameters_ref;  // spec.infrastructure.parametersRef
  std::vector<GatewayListener> listeners;
  std::vector<GatewayAddress> addresses;
};

struct ParentRef {
  std::string group = kGatewayGroup;
  std::string kind = "Gateway";
  std::optional<std::string> ns;
  std::string name;
  std::optional<std::string> section_name;
  std::optional<int64_t> port;
  boost::json::object as_written;  // echoed back verbatim in status.parents[].parentRef
};

struct HTTPPathMatch {
  std::string type = "PathPrefix";  // Exact, PathPrefix, RegularExpression
  std::string value = "/";
};

struct HTTPValueMatch {  // HTTPHeaderMatch and HTTPQueryParamMatch
  std::string type = "Exact";
  std::string name;
  std::string value;
};

struct HTTPRouteMatch {
  HTTPPathMatch path;
  std::vector<HTTPValueMatch> headers;
  std::vector<HTTPValueMatch> query_params;
  std::optional<std::string> method;
};

struct HTTPHeaderFilter {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::pair<std::string, std::string>> add;
  std::vector<std::string> remove;
};

struct HTTPPathModifier {
  std::string type;  // ReplaceFullPath, ReplacePrefixMatch
  std::string replace_full_path;
  std::string replace_prefix_match;
};

struct HTTPRequestRedirectFilter {
  std::optional<std::string> scheme;
  std::optional<std::string> hostname;
  std::optional<HTTPPathModifier> path;
  std::optional<int64_t> port;
  std::optional<int64_t> status_code;
};

struct HTTPURLRewriteFilter {
  std::optional<std::string> hostname;
  std::optional<HTTPPathModifier> path;
};

struct BackendObjectReference {
  std::string group;
  std::string kind = "Service";
  std::string name;
  std::optional<std::string> ns;
  std::optional<int64_t> port;
};

struct HTTPRequestMirrorFilter {
  BackendObjectReference backend_ref;
  std::optional<int64_t> percent;
  std::optional<std::pair<int64_t, int64_t>> fraction;  // numerator, denominator
};

struct HTTPCORSFilter {
  std::vector<std::string> allow_origins, allow_methods, allow_headers, expose_headers;
  bool allow_credentials = false;
  std::optional<int64_t> max_age;
};

struct HTTPRouteFilter {
  std::string type;
  std::optional<HTTPCORSFilter> cors;
  HTTPHeaderFilter request_header_modifier;
  HTTPHeaderFilter response_header_modifier;
  std::optional<HTTPRequestRedirectFilter> request_redirect;
  std::optional<HTTPURLRewriteFilter> url_rewrite;
  std::optional<HTTPRequestMirrorFilter> request_mirror;
};

struct BackendRef {
  std::string group;  // "" is the core API group
  std::string kind = "Service";
  std::string name;
  std::optional<std::string> ns;
  std::optional<int64_t> port;
  int64_t weight = 1;
  std::vector<HTTPRouteFilter> filters;
};

struct HTTPRouteTimeouts {
  std::optional<std::string> request;
  std::optional<std::string> backend_request;
};

struct HTTPRouteRetry {
  std::vector<int64_t> codes;
  std::optional<int64_t> attempts;
  std::optional<std::string> backoff;
};

struct HTTPRouteRule {
  std::optional<std::string> name;
  std::vector<HTTPRouteMatch> matches;
  std::vector<HTTPRouteFilter> filters;
  std::vector<BackendRef> backend_refs;
  HTTPRouteTimeouts timeouts;
  std::optional<HTTPRouteRetry> retry;
};

struct HTTPRoute {
  ObjectMeta meta;
  std::vector<ParentRef> parent_refs;
  std::vector<std::string> hostnames;
  std::vector<HTTPRouteRule> rules;
};

// GRPCRoute (gateway.networking.k8s.io/v1, GEP-1016).
struct GRPCMethodMatch {
  std::string type = "Exact";  // Exact, RegularExpression
  std::optional<std::string> service;
  std::optional<std::string> method;
};

struct GRPCRouteMatch {
  std::optional<GRPCMethodMatch> method;
  std::vector<HTTPValueMatch> headers;
};

struct GRPCRouteRule {
  std::optional<std::string> name;
  std::vector<GRPCRouteMatch> matches;
  std::vector<HTTPRouteFilter> filters;  // RequestHeaderModifier, ResponseHeaderModifier, RequestMirror
  std::vector<BackendRef> backend_refs;
};

struct GRPCRoute {
  ObjectMeta meta;
  std::vector<ParentRef> parent_refs;
  std::vector<std::string> hostnames;
  std::vector<GRPCRouteRule> rules;
};

// TLSRoute (gateway.networking.k8s.io/v1; v1alpha2 and v1alpha3 read the same): SNI
// hostnames to backends, for TLS listeners in Passthrough mode.
struct TLSRouteRule {
  std::optional<std::string> name;
  std::vector<BackendRef> backend_refs;
};

struct TLSRoute {
  ObjectMeta meta;
  std::vector<ParentRef> parent_refs;
  std::vector<std::string> hostnames;
  std::vector<TLSRouteRule> rules;
};

struct ReferenceGrantFrom {
  std::string group;
  std::string kind;
  std::string ns;
};

struct ReferenceGrantTo {
  std::string group;
  std::string kind;
  std::optional<std::string> name;
};

struct ReferenceGrant {
  ObjectMeta meta;
  std::vector<ReferenceGrantFrom> from;
  std::vector<ReferenceGrantTo> to;
};

}  // namespace gantry::controller
