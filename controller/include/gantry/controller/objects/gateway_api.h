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

struct GatewayListener {
  std::string name;
  std::optional<std::string> hostname;
  int64_t port = 0;
  std::string protocol;
  AllowedRoutes allowed_routes;
};

struct GatewayAddress {
  std::string type = "IPAddress";
  std::string value;
};

struct Gateway {
  ObjectMeta meta;
  std::string gateway_class_name;
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

struct BackendRef {
  std::string group;  // "" is the core API group
  std::string kind = "Service";
  std::string name;
  std::optional<std::string> ns;
  std::optional<int64_t> port;
  int64_t weight = 1;
};

struct HTTPRouteRule {
  std::optional<std::string> name;
  std::vector<HTTPRouteMatch> matches;
  std::vector<BackendRef> backend_refs;
};

struct HTTPRoute {
  ObjectMeta meta;
  std::vector<ParentRef> parent_refs;
  std::vector<std::string> hostnames;
  std::vector<HTTPRouteRule> rules;
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
