// networking.k8s.io/v1 Ingress and IngressClass, in the API's own vocabulary.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gantry/controller/objects/meta.h"

namespace gantry::controller {

inline constexpr const char* kNetworkingGroup = "networking.k8s.io";

struct IngressServiceBackend {
  std::string name;
  std::optional<int64_t> port_number;
  std::string port_name;
};

// IngressBackend: a Service, or a `resource` (a TypedLocalObjectReference), which Gantry
// does not route.
struct IngressBackend {
  std::optional<IngressServiceBackend> service;
  std::optional<std::string> resource;  // "group/Kind name" as written, for the report
};

struct HTTPIngressPath {
  std::string path;
  std::string path_type;  // Exact, Prefix, ImplementationSpecific
  IngressBackend backend;
};

struct IngressRule {
  std::string host;  // "" for any host
  std::vector<HTTPIngressPath> paths;
};

struct IngressTLS {
  std::vector<std::string> hosts;
  std::string secret_name;
};

struct Ingress {
  ObjectMeta meta;
  std::optional<std::string> ingress_class_name;
  std::optional<IngressBackend> default_backend;
  std::vector<IngressRule> rules;
  std::vector<IngressTLS> tls;
};

struct IngressClass {
  ObjectMeta meta;
  std::string controller;
};

}  // namespace gantry::controller
