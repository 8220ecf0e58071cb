// Core Kubernetes objects (v1 Namespace, Service, Secret; discovery.k8s.io/v1 EndpointSlice).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gantry/controller/objects/meta.h"

namespace gantry::controller {

struct Namespace {
  ObjectMeta meta;
};

struct ServicePort {
  std::string name;
  int64_t port = 0;
  std::string target_port;  // a number or a container port name, as written
  std::string app_protocol;
};

struct Service {
  ObjectMeta meta;
  std::string type = "ClusterIP";
  std::string cluster_ip;  // "None" for headless Services
  std::string external_name;
  std::vector<ServicePort> ports;
  // status.loadBalancer.ingress: {"IPAddress", ip} or {"Hostname", name}.
  std::vector<std::pair<std::string, std::string>> load_balancer;
};

// Only what TLS termination reads: the type and the decoded data (`data` is base64 in the
// manifest; `stringData` is merged over it, as the API server does on write).
struct Secret {
  ObjectMeta meta;
  std::string type = "Opaque";
  std::map<std::string, std::string> data;
};

struct SliceEndpoint {
  std::vector<std::string> addresses;
  std::optional<bool> ready;  // unset means ready (EndpointConditions)
  std::optional<bool> serving;      // unset means as ready
  std::optional<bool> terminating;  // unset means not terminating
};

struct SlicePort {
  std::optional<std::string> name;
  std::optional<int64_t> port;
};

struct EndpointSlice {
  ObjectMeta meta;
  std::string service_name;  // label kubernetes.io/service-name
  std::string address_type = "IPv4";
  std::vector<SliceEndpoint> endpoints;
  std::vector<SlicePort> ports;
};

}  // namespace gantry::controller
